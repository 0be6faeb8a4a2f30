"""Audit: run an entity's GX suite against its staging table inside PostgreSQL, then act on it.

Suites live in ``expectations/<entity>.json`` (GX's own suite format). Each expectation carries a
``severity`` and a ``meta.reason``. A failed ``critical`` expectation stops the batch's publish
(``DataQualityError``, listing every failure and its counts); a failed row-level ``warning`` moves
the offending rows, found by their ``(_file, _row)`` key, to ``quarantine.rejected_row``; a failed
table-level warning is recorded. GX objects are built at run time only; nothing happens at import.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.load.staging import staging_identifier
from tthc_warehouse.paths import EXPECTATIONS_DIR, data_dir

log = logging.getLogger(__name__)
KEY = ["_file", "_row"]  # identifies one staged row: the file and its row number


class DataQualityError(Exception):
    """Critical expectations failed: the batch must not be published (no retry will help)."""


@dataclass
class Outcome:
    index: int
    expectation: str
    severity: str
    reason: str
    success: bool
    unexpected_count: int | None = None
    observed_value: str | None = None
    keys: list[tuple[str, int]] = field(default_factory=list)
    query: str | None = None  # for unexpected-rows expectations: the query that finds them

    @property
    def row_level(self) -> bool:
        return bool(self.keys) or self.query is not None

    def describe(self) -> str:
        count = self.unexpected_count if self.unexpected_count is not None else self.observed_value
        return f"{self.expectation} [{self.severity}]: {count} unexpected — {self.reason}"


@dataclass
class Report:
    outcomes: list[Outcome]
    docs_url: str | None

    @property
    def critical_failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]


def docs_dir() -> Path:
    return Path(os.environ.get("TTHC_GX_DOCS_DIR", data_dir() / "gx-docs"))


def load_suite(entity: str, runtime: dict[str, object]) -> dict:
    """The suite as JSON, with ``$name`` placeholders filled from ``runtime`` (values from code)."""
    text = (EXPECTATIONS_DIR / f"{entity}.json").read_text(encoding="utf-8")
    suite = json.loads(text)
    for expectation in suite["expectations"]:
        expectation["kwargs"] = _fill(expectation["kwargs"], runtime)
    return suite


def _fill(value, runtime: dict[str, object]):
    if isinstance(value, dict):
        return {k: _fill(v, runtime) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, runtime) for v in value]
    if isinstance(value, str) and value.startswith("$") and value[1:] in runtime:
        return runtime[value[1:]]
    if isinstance(value, str):
        for name, filled in runtime.items():
            value = value.replace(f"${name}", str(filled))
    return value


def _label(config) -> str:
    kwargs = config.kwargs
    target = (kwargs.get("column") or kwargs.get("column_list") or getattr(config, "description", None)
              or kwargs.get("description"))
    if target is None and "min_value" in kwargs:
        target = f"min {kwargs['min_value']}"
    if isinstance(target, list):
        target = ", ".join(target)
    if kwargs.get("column_A"):
        target = f"{kwargs['column_A']} >= {kwargs['column_B']}"
    return f"{config.type}({target})" if target else config.type


def _outcome(index: int, result) -> Outcome:
    config = result.expectation_config
    details = result.result or {}
    keys = [(r["_file"], int(r["_row"])) for r in details.get("unexpected_index_list") or []]
    observed = details.get("observed_value")
    return Outcome(
        index=index, expectation=_label(config), severity=str(config.severity.value),
        reason=(config.meta or {}).get("reason", ""), success=bool(result.success),
        unexpected_count=details.get("unexpected_count"),
        observed_value=None if observed is None else str(observed), keys=keys,
        query=config.kwargs.get("unexpected_rows_query"),
    )


def check_staging_table(conn: psycopg.Connection, table: str) -> None:
    """Refuse to validate anything but a plain table owned by the role the pipeline runs as.

    GX reads ``staging.<table>`` by name: a view or a foreign table put there instead could run
    code while being validated.
    """
    row = conn.execute(
        "select c.relkind, pg_get_userbyid(c.relowner), current_user from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'staging' and c.relname = %s",
        (table,)).fetchone()
    if row is None:
        raise RuntimeError(f"staging.{table} does not exist: stage the batch again")
    kind, owner, user = row
    if kind != "r" or owner != user:
        raise RuntimeError(f"staging.{table} is not a plain table owned by {user} (kind {kind!r}, owner "
                           f"{owner}): refusing to validate it")


def validate(warehouse: Warehouse, table: str, entity: str, runtime: dict[str, object]) -> Report:
    """Run the suite in the database against ``staging.<table>``; build the batch's Data Docs page.

    GX connects as the warehouse's role (the loader), never as the login.
    """
    with warehouse.connect() as conn:
        check_staging_table(conn, table)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    site = {"class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir())}}
    context.add_data_docs_site("tthc", site)
    asset = context.data_sources.add_postgres("warehouse", connection_string=warehouse.sqlalchemy_url()) \
        .add_table_asset(table, table_name=table, schema_name="staging")
    spec = load_suite(entity, runtime)
    suite = gx.ExpectationSuite(name=entity, meta=spec.get("meta"))
    for item in spec["expectations"]:
        # add_expectation appends; add_expectation_configuration would upsert by domain and silently
        # merge two table-level checks (e.g. both row-count expectations) into one.
        suite.add_expectation(ExpectationConfiguration(**item).to_domain_obj())
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(gx.ValidationDefinition(
        name=table, data=asset.add_batch_definition_whole_table("whole"), suite=suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=table, validation_definitions=[definition],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=["tthc"])],
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": KEY,
                       "return_unexpected_index_query": False}))
    run = checkpoint.run()
    key, result = next(iter(run.run_results.items()))
    urls = [u["site_url"] for u in context.get_docs_sites_urls(resource_identifier=key, site_names=["tthc"])]
    outcomes = [_outcome(i, r) for i, r in enumerate(result.results)]
    _raise_on_errors(result.results, table)
    return Report(outcomes, urls[0] if urls else None)


def _raise_on_errors(results, table: str) -> None:
    """An expectation that could not run (bad SQL, missing column) is a defect, not a pass."""
    broken = [r for r in results if r.exception_info and any(
        (info or {}).get("raised_exception") for info in _infos(r.exception_info))]
    if broken:
        first = _infos(broken[0].exception_info)[0].get("exception_message", "")
        raise RuntimeError(f"GX could not evaluate {len(broken)} expectation(s) on staging.{table}: {first}")


def _infos(info) -> list[dict]:
    if "raised_exception" in info:
        return [info]
    return list(info.values())


def quarantine_failures(conn: psycopg.Connection, *, table: str, batch_id: str, entity: str,
                        outcomes: list[Outcome]) -> int:
    """Move the rows of failed row-level warnings out of staging into quarantine; return how many.

    Every failed expectation records its rows first, so a row failing two checks carries both
    reasons; only then are the rows removed from staging.
    """
    failed = [o for o in outcomes if not o.success and o.severity == "warning" and o.row_level]
    target = staging_identifier(table)
    for outcome in failed:
        conn.execute(sql.SQL(
            "insert into quarantine.rejected_row (batch_id, entity, source_file, row_number, column_name,"
            " expectation, reason, raw) select %(batch)s, %(entity)s, s._file, s._row, '', %(exp)s,"
            " %(reason)s, to_jsonb(s) - '_file' - '_row' from {} s join ({}) bad using (_file, _row)"
            " on conflict do nothing").format(target, _bad_rows_sql(table, outcome)),
            {"batch": batch_id, "entity": entity, "exp": outcome.expectation, "reason": outcome.reason})
    moved = 0
    for outcome in failed:
        cursor = conn.execute(sql.SQL("delete from {} s using ({}) bad where s._file = bad._file "
                                      "and s._row = bad._row").format(target, _bad_rows_sql(table, outcome)))
        moved += cursor.rowcount
    return moved


def _bad_rows_sql(table: str, outcome: Outcome) -> sql.Composable:
    if outcome.query is not None:
        staged = sql.SQL("(select * from {}) as subselect").format(staging_identifier(table))
        before, after = outcome.query.split("{batch}", 1)
        return sql.SQL("{}{}{}").format(sql.SQL(before), staged, sql.SQL(after))
    values = sql.SQL(", ").join(sql.SQL("({}, {}::bigint)").format(sql.Literal(f), sql.Literal(r))
                                for f, r in outcome.keys)
    return sql.SQL("select * from (values {}) as bad (_file, _row)").format(values)


def record(conn: psycopg.Connection, *, batch_id: str, entity: str, report: Report) -> None:
    """Replace the batch's rows in ops.dq_result."""
    conn.execute("delete from ops.dq_result where batch_id = %s", (batch_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "insert into ops.dq_result (batch_id, entity, expectation_index, expectation, severity, reason,"
            " success, unexpected_count, observed_value, action, docs_url)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(batch_id, entity, o.index, o.expectation, o.severity, o.reason, o.success, o.unexpected_count,
              o.observed_value, _action(o), report.docs_url) for o in report.outcomes])


def _action(outcome: Outcome) -> str:
    if outcome.success:
        return "none"
    if outcome.severity == "critical":
        return "stopped"
    return "quarantined" if outcome.row_level else "recorded"


def failure_message(batch_id: str, report: Report) -> str:
    lines = [f"{batch_id}: {len(report.critical_failures)} critical expectation(s) failed; nothing published"]
    lines += [f"  - {o.describe()}" for o in report.critical_failures]
    if report.docs_url:
        lines.append(f"  Data Docs: {report.docs_url}")
    return "\n".join(lines)


def previous_row_count(conn: psycopg.Connection, entity: str, province_code: str,
                       interval_start: dt.datetime) -> int | None:
    row = conn.execute(
        "select rows_staged from ops.batch where entity = %s and province_code = %s "
        "and interval_end = %s and status = 'published'", (entity, province_code, interval_start)).fetchone()
    return row[0] if row else None
