"""The nightly load's steps as plain functions over JSON-able dicts (what the DAG passes by XCom).

Each step reads what the previous one returned, does one thing against the warehouse, records it
in ``ops.batch``, and returns a small dict. Resources come in as arguments: the ``Warehouse`` and
the feed's ``Source``, built by the caller (the DAG task through ``orchestration.resources``, or a
test), so the same functions run anywhere and import no Airflow.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from tthc_warehouse.contract import ENTITIES
from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.extract import landing
from tthc_warehouse.extract.base import Source
from tthc_warehouse.extract.feeds import ProvinceFeed, load_feeds
from tthc_warehouse.extract.landing import Landed
from tthc_warehouse.load import publish, staging
from tthc_warehouse.ops import batches, claims
from tthc_warehouse.quality import gate, keys

log = logging.getLogger(__name__)

# A delivery smaller than this share of the previous interval's is flagged (warning) as a collapse.
COLLAPSE_SHARE = 0.2


@contextmanager
def failure_recorded(warehouse: Warehouse, batch_id: str, step: str) -> Iterator[None]:
    """Mark the batch failed in ops.batch, with the step and error, when the step raises.

    A batch taken over by another run is not failed: that run loads it.
    """
    try:
        yield
    except (claims.BatchSuperseded, claims.BatchBusy):
        raise
    except Exception as exc:
        mark_failed(warehouse, batch_id, f"{step}: {type(exc).__name__}: {exc}")
        raise


@contextmanager
def batch_locked(warehouse: Warehouse, batch_id: str, step: str) -> Iterator[psycopg.Connection]:
    """A connection holding the batch's lock for the step; failures are recorded after release."""
    with failure_recorded(warehouse, batch_id, step), warehouse.connect() as conn, \
            claims.batch_lock(conn, batch_id):
        yield conn


def plan_batches(
    start: dt.datetime,
    end: dt.datetime,
    provinces: list[str] | None = None,
    feeds: list[ProvinceFeed] | None = None,
) -> list[dict]:
    """One entry per configured province (optionally only ``provinces``) for the interval."""
    feeds = feeds if feeds is not None else load_feeds()
    wanted = set(provinces or [])
    unknown = wanted - {f.province_code for f in feeds}
    if unknown:
        raise ValueError(f"no feed configured for province(s) {sorted(unknown)}")
    return [
        {
            "province_code": f.province_code,
            "province_name": f.province_name,
            "interval_start": start.isoformat(),
            "interval_end": end.isoformat(),
        }
        for f in feeds
        if not wanted or f.province_code in wanted
    ]


def has_feed(province_code: str, entity: str) -> bool:
    return any(f.province_code == province_code and entity in f.entities for f in load_feeds())


def _interval(batch: dict) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.fromisoformat(batch["interval_start"]), dt.datetime.fromisoformat(
        batch["interval_end"]
    )


def extract(batch: dict, entity: str, *, warehouse: Warehouse, source: Source,
            run_id: str | None = None) -> dict:
    """Land the source payload for the batch's interval; the same payload twice is recognised."""
    began = time.monotonic()
    start, end = _interval(batch)
    code = batch["province_code"]
    batch_key = batches.batch_id(entity, code, start, end)
    with warehouse.connect() as conn:
        batches.start_batch(conn, batch_id=batch_key, source=source.label, entity=entity, province_code=code,
                            interval_start=start, interval_end=end, dag_run_id=run_id)
    with failure_recorded(warehouse, batch_key, "extract"):
        landed = source.land(start, end, landing.interval_folder(entity, code, start, end))
        with warehouse.connect() as conn:
            batches.update_batch(conn, batch_key, stage="extract", seconds=time.monotonic() - began,
                                 landing_path=landed.folder, landing_checksum=landed.checksum)
    log.info("%s: landed %d file(s) in %s%s", batch_key, len(landed.files), landed.folder,
             " (same payload as before, reused)" if landed.reused else "")
    return {**batch, "entity": entity, "batch_id": batch_key, "landed": landed.to_dict()}


def stage(extracted: dict, *, warehouse: Warehouse, source: Source) -> dict:
    """COPY the landed files into a staging table of this attempt's own; parse failures go to quarantine.

    The new table and the claim on the batch commit with the staged rows: a stage that dies
    leaves the previous attempt's table and claim untouched.
    """
    began = time.monotonic()
    batch_key = extracted["batch_id"]
    start, end = _interval(extracted)
    attempt = claims.new_attempt()
    table = f"{batch_key.replace(':', '_').replace('-', '_').lower()}_{attempt}"
    paths = Landed.from_dict(extracted["landed"]).paths()
    with batch_locked(warehouse, batch_key, "stage") as conn:
        previous = claims.claim(conn, batch_key, attempt, table)
        if previous:
            staging.drop_staging_table(conn, previous)
        result = staging.stage_files(conn, batch_id=batch_key, table=table,
                                     entity=ENTITIES[extracted["entity"]], source=source, paths=paths,
                                     start=start, end=end)
        batches.update_batch(conn, batch_key, stage="stage", seconds=time.monotonic() - began,
                             rows_read=result.rows_read, rows_staged=result.rows_staged,
                             rows_quarantined=result.rows_rejected)
    log.info("%s: %d rows read, %d staged, %d quarantined (parse)", batch_key, result.rows_read,
             result.rows_staged, result.rows_rejected)
    return {**extracted, "attempt": attempt, "staging": result.to_dict()}


def validate(staged: dict, *, warehouse: Warehouse) -> dict:
    """Run the entity's GX suite on the staging table; quarantine warnings, stop on critical."""
    began = time.monotonic()
    batch_key, entity, table = staged["batch_id"], staged["entity"], staged["staging"]["table"]
    start, end = _interval(staged)
    with batch_locked(warehouse, batch_key, "validate") as conn:
        claims.check_owner(conn, batch_key, staged["attempt"])
        previous = gate.previous_row_count(conn, entity, staged["province_code"], start)
        conn.commit()
        runtime = {"interval_end": end.isoformat(sep=" "), "province_code": staged["province_code"],
                   "min_rows": math.ceil((previous or 0) * COLLAPSE_SHARE)}
        report = gate.validate(warehouse, table, entity, runtime)
        log.info("%s: Data Docs page for this batch: %s", batch_key, report.docs_url)
        gate.record(conn, batch_id=batch_key, entity=entity, report=report)
        if report.critical_failures:
            conn.commit()
            raise gate.DataQualityError(gate.failure_message(batch_key, report))
        moved = gate.quarantine_failures(conn, table=table, batch_id=batch_key, entity=entity,
                                         outcomes=report.outcomes)
        moved += keys.quarantine_moved_keys(conn, table=table, batch_id=batch_key, entity=entity)
        claims.mark_validated(conn, batch_key, staged["attempt"], table)
        conn.commit()
        batches.update_batch(conn, batch_key, stage="validate", seconds=time.monotonic() - began,
                             rows_quarantined=staged["staging"]["rows_rejected"] + moved)
    failed = [o.describe() for o in report.outcomes if not o.success]
    for line in failed:
        log.warning("%s: %s", batch_key, line)
    return {**staged, "quality": {"docs_url": report.docs_url, "quarantined": moved, "failed": failed}}


def publish_batch(validated: dict, *, warehouse: Warehouse, source_label: str) -> dict:
    """Merge the validated batch into core and mark it published, in one transaction.

    A retry after that commit finds the batch published by its own attempt and returns what
    was recorded; a table this attempt did not validate is refused.
    """
    began = time.monotonic()
    batch_key, table = validated["batch_id"], validated["staging"]["table"]
    summary = {"batch_id": batch_key, "province_code": validated["province_code"],
               "entity": validated["entity"]}
    with batch_locked(warehouse, batch_key, "publish") as conn:
        earlier = claims.published_earlier(conn, batch_key, validated["attempt"], table)
        if earlier is not None:
            log.info("%s: already published by this attempt (a retry after the commit)", batch_key)
            return {**summary, **earlier}
        result = publish.publish_batch(conn, entity=validated["entity"], batch_id=batch_key, table=table)
        rows = result.rows_in_batch  # counted by the merge, not by another pass over the batch
        batches.update_batch(conn, batch_key, stage="publish", seconds=time.monotonic() - began,
                             rows_published=rows, status="published", commit=False,
                             months_touched=[dt.date.fromisoformat(m) for m in result.months_touched])
        batches.advance_watermark(conn, source=source_label, province_code=validated["province_code"],
                                  entity=validated["entity"], loaded_through=_interval(validated)[1],
                                  commit=False)
        conn.commit()
    return {**summary, "rows_published": rows, "months_touched": result.months_touched}


def mark_failed(warehouse: Warehouse, batch_id: str, error: str) -> None:
    with warehouse.connect() as conn:
        batches.mark_failed(conn, batch_id, error)


def failed_batches_message(warehouse: Warehouse, run_id: str) -> str:
    with warehouse.connect() as conn:
        rows = conn.execute("select batch_id, error from ops.batch where dag_run_id = %s "
                            "and status <> 'published' order by batch_id", (run_id,)).fetchall()
    lines = [f"{len(rows)} batch(es) of this run were not published; the others were:"]
    return "\n".join(lines + [f"  - {batch}: {error}" for batch, error in rows])
