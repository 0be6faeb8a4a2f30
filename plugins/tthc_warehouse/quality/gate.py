"""Audit: run an entity's GX suite against its staging table inside PostgreSQL, then act on it.

Suites live in ``expectations/<entity>.json`` (GX's own suite format). Each expectation carries a
``severity`` and a ``meta.reason``. A failed ``critical`` expectation stops the batch's publish
(``DataQualityError``, listing every failure and its counts); a failed row-level ``warning`` moves
the offending rows, found by their ``(_file, _row)`` key, to ``quarantine.rejected_row``; a failed
table-level warning is recorded. Row-level expectations are folded into one pass over the batch
(``quality.fold``) before GX evaluates them. GX objects are built at run time only (once per
process, ``quality.gx_runtime``); nothing happens at import.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.load.staging import staging_identifier
from tthc_warehouse.paths import EXPECTATIONS_DIR, data_dir, read_sql
from tthc_warehouse.quality import fold, gx_runtime

log = logging.getLogger(__name__)


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
    flagged: bool = False  # a row-level expectation: its rows are in the folded flags table

    @property
    def row_level(self) -> bool:
        return self.flagged

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


def _label(item: dict) -> str:
    kwargs = item["kwargs"]
    target = (kwargs.get("column") or kwargs.get("column_list") or item.get("description")
              or kwargs.get("description"))
    if target is None and "min_value" in kwargs:
        target = f"min {kwargs['min_value']}"
    if isinstance(target, list):
        target = ", ".join(target)
    if kwargs.get("column_A"):
        target = f"{kwargs['column_A']} >= {kwargs['column_B']}"
    return f"{item['type']}({target})" if target else item["type"]


def _outcome(index: int, item: dict, result) -> Outcome:
    """One expectation's result, reported as the suite wrote it (folded or not)."""
    details = result.result or {}
    observed = details.get("observed_value")
    folded = fold.row_level(item)
    column_map = folded and item["type"] != "unexpected_rows_expectation"
    return Outcome(
        index=index, expectation=_label(item), severity=item.get("severity", "critical"),
        reason=(item.get("meta") or {}).get("reason", ""), success=bool(result.success),
        # column-map expectations report an unexpected count, the others an observed value
        unexpected_count=observed if column_map else details.get("unexpected_count"),
        observed_value=None if column_map or observed is None else str(observed),
        flagged=folded,
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


def _folded_item(table: str, index: int, item: dict) -> dict:
    """What GX runs for a row-level expectation: its rows, read from the folded flags."""
    if not fold.row_level(item):
        # GX drops an expectation equal to one already in the suite; the two row-count checks
        # can be equal once their runtime bounds are filled in. A description keeps each its own.
        return {**item, "kwargs": {**item["kwargs"], "description": f"{_label(item)} (#{index + 1})"}}
    meta = {**(item.get("meta") or {}), "checks": {"type": item["type"], "kwargs": item["kwargs"]}}
    kwargs = {"unexpected_rows_query": fold.flagged_rows_query(table, index), "description": _label(item)}
    return {"type": "unexpected_rows_expectation", "kwargs": kwargs, "severity": item.get("severity"),
            "meta": meta}


def validate(warehouse: Warehouse, table: str, entity: str, runtime: dict[str, object]) -> Report:
    """Run the suite in the database against ``staging.<table>``; build the batch's Data Docs page.

    The row-level expectations are first folded into one pass (``fold.build_flags``); GX then
    evaluates each of them on the flagged rows, and the table-level ones on the staging table.
    GX connects as the warehouse's role (the loader), never as the login.
    """
    spec = load_suite(entity, runtime)
    items = spec["expectations"]
    with warehouse.connect() as conn:
        check_staging_table(conn, table)
        fold.build_flags(conn, table, items)
        conn.commit()
    folded = [_folded_item(table, i, item) for i, item in enumerate(items)]
    results, url = gx_runtime.run_suite(warehouse, docs_dir(), table, spec, folded)
    _raise_on_errors(results, table)
    return Report([_outcome(i, item, r) for i, (item, r) in enumerate(zip(items, results, strict=True))], url)


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

    Set-based, through the folded flags: one insert records every (row, failed expectation) pair,
    so a row failing two checks carries both reasons; one delete then removes the rows.
    """
    failed = [o for o in outcomes if not o.success and o.severity == "warning" and o.row_level]
    flags = staging_identifier(fold.flags_table(table))
    if failed:
        params = {"batch": batch_id, "entity": entity, "indexes": [o.index for o in failed],
                  "labels": [o.expectation for o in failed], "reasons": [o.reason for o in failed]}
        conn.execute(sql.SQL(read_sql("quality/quarantine_flagged.sql")).format(
            staging=staging_identifier(table), flags=flags), params)
        moved = conn.execute(sql.SQL(
            "delete from {} as s using {} as d where d._file = s._file and d._row = s._row "
            "and d.failed && %(indexes)s::int[]").format(staging_identifier(table), flags),
            {"indexes": params["indexes"]}).rowcount
    else:
        moved = 0
    conn.execute(sql.SQL("drop table if exists {}").format(flags))
    return moved


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
