"""The nightly load's steps as plain functions over JSON-able dicts (what the DAG passes by XCom).

Each step reads what the previous one returned, does one thing against the warehouse, records it
in ``batches.batch``, and returns a small dict. No Airflow imports here: the same functions run from
the DAG, the CLI and the tests.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from tthc_warehouse.contract import ENTITIES
from tthc_warehouse.db import warehouse
from tthc_warehouse.extract import landing
from tthc_warehouse.extract.feeds import (
    EntityFeed,
    ProvinceFeed,
    days_in,
    file_periods,
    inbox_dir,
    load_feeds,
)
from tthc_warehouse.extract.landing import Landed
from tthc_warehouse.load import publish, staging
from tthc_warehouse.ops import batches
from tthc_warehouse.quality import gate

log = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # sources write Vietnam wall-clock time

# A delivery smaller than this share of the previous interval's is flagged (warning) as a collapse.
COLLAPSE_SHARE = 0.2


@contextmanager
def failure_recorded(batch_id: str, step: str) -> Iterator[None]:
    """Mark the batch failed in batches.batch, with the step and error, when the step raises."""
    try:
        yield
    except Exception as exc:
        mark_failed(batch_id, f"{step}: {type(exc).__name__}: {exc}")
        raise


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


def _feed(province_code: str, entity: str) -> EntityFeed:
    feed = next(f for f in load_feeds() if f.province_code == province_code)
    return feed.entities[entity]


def has_feed(province_code: str, entity: str) -> bool:
    return any(f.province_code == province_code and entity in f.entities for f in load_feeds())


def _interval(batch: dict) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.fromisoformat(batch["interval_start"]), dt.datetime.fromisoformat(
        batch["interval_end"]
    )


def _land(feed: EntityFeed, province_code: str, start: dt.datetime, end: dt.datetime,
          target: Path) -> Landed:
    """Land the interval's files (daily or monthly, per the feed's template) or fetch its API pages."""
    if feed.format != "http":
        names = file_periods(feed, province_code, days_in(start, end))  # a monthly file once
        folder = inbox_dir() / Path(feed.paths_for(start.date(), province_code)[0]).parent
        return landing.land([folder / name for name in names], target, feed.source)
    from airflow.sdk import BaseHook

    from tthc_warehouse.extract import http_api

    connection = BaseHook.get_connection(feed.options["conn_id"])
    api = http_api.HttpFeed.from_airflow_connection(connection, feed.options["endpoint"])
    pages = target / ".fetching"  # resumable: pages already fetched are not asked for again
    http_api.land_pages(api, start, end, pages)
    return landing.land_folder(pages, target, feed.source)


def extract(batch: dict, entity: str, run_id: str | None = None) -> dict:
    """Land the source payload for the batch's interval; the same payload twice is recognised."""
    began = time.monotonic()
    start, end = _interval(batch)
    code = batch["province_code"]
    feed = _feed(code, entity)
    batch_key = batches.batch_id(entity, code, start, end)
    with warehouse.connect() as conn:
        batches.start_batch(conn, batch_id=batch_key, source=feed.source, entity=entity, province_code=code,
                        interval_start=start, interval_end=end, dag_run_id=run_id)
    with failure_recorded(batch_key, "extract"):
        landed = _land(feed, code, start, end, landing.interval_folder(entity, code, start, end))
        with warehouse.connect() as conn:
            batches.update_batch(conn, batch_key, stage="extract", seconds=time.monotonic() - began,
                             landing_path=landed.folder, landing_checksum=landed.checksum)
    log.info("%s: landed %d file(s) in %s%s", batch_key, len(landed.files), landed.folder,
             " (same payload as before, reused)" if landed.reused else "")
    return {**batch, "entity": entity, "batch_id": batch_key, "landed": landed.to_dict()}


def stage(extracted: dict) -> dict:
    """COPY the landed files into the batch's staging table; parse failures go to quarantine."""
    began = time.monotonic()
    batch_key = extracted["batch_id"]
    entity = ENTITIES[extracted["entity"]]
    table = batch_key.replace(":", "_").replace("-", "_").lower()
    paths = Landed.from_dict(extracted["landed"]).paths()
    feed = _feed(extracted["province_code"], entity.name)
    with failure_recorded(batch_key, "stage"), warehouse.connect() as conn:
        result = staging.stage_files(conn, batch_id=batch_key, table=table, entity=entity, paths=paths,
                                     feed=feed, context=_read_context(extracted, feed))
        batches.update_batch(conn, batch_key, stage="stage", seconds=time.monotonic() - began,
                         rows_read=result.rows_read, rows_staged=result.rows_staged,
                         rows_quarantined=result.rows_rejected)
    log.info("%s: %d rows read, %d staged, %d quarantined (parse)", batch_key, result.rows_read,
             result.rows_staged, result.rows_rejected)
    return {**extracted, "staging": result.to_dict()}


def _read_context(extracted: dict, feed: EntityFeed) -> dict:
    """What a portal snapshot file does not say itself: its period, capture time and province."""
    if feed.format != "dvcqg":
        return {}
    start, end = _interval(extracted)
    periods = file_periods(feed, extracted["province_code"], days_in(start, end))
    return {"province_code": extracted["province_code"],
            "periods": {name: day.replace(day=1) for name, day in periods.items()},
            "captured_at": end.replace(tzinfo=LOCAL_TZ)}


def validate(staged: dict) -> dict:
    """Run the entity's GX suite on the staging table; quarantine warnings, stop on critical."""
    began = time.monotonic()
    batch_key, entity, table = staged["batch_id"], staged["entity"], staged["staging"]["table"]
    start, end = _interval(staged)
    with failure_recorded(batch_key, "validate"):
        with warehouse.connect() as conn:
            previous = gate.previous_row_count(conn, entity, staged["province_code"], start)
        runtime = {"interval_end": end.isoformat(sep=" "), "province_code": staged["province_code"],
                   "min_rows": math.ceil((previous or 0) * COLLAPSE_SHARE)}
        report = gate.validate(warehouse.url(), table, entity, runtime)
        log.info("%s: Data Docs page for this batch: %s", batch_key, report.docs_url)
        with warehouse.connect() as conn:
            gate.record(conn, batch_id=batch_key, entity=entity, report=report)
            if report.critical_failures:
                conn.commit()
                raise gate.DataQualityError(gate.failure_message(batch_key, report))
            moved = gate.quarantine_failures(conn, table=table, batch_id=batch_key, entity=entity,
                                                outcomes=report.outcomes)
            conn.commit()
            batches.update_batch(conn, batch_key, stage="validate", seconds=time.monotonic() - began,
                             rows_quarantined=staged["staging"]["rows_rejected"] + moved)
    failed = [o.describe() for o in report.outcomes if not o.success]
    for line in failed:
        log.warning("%s: %s", batch_key, line)
    return {**staged, "quality": {"docs_url": report.docs_url, "quarantined": moved, "failed": failed}}


def publish_batch(validated: dict) -> dict:
    """Merge the validated batch into core (one transaction) and report the months it touched."""
    began = time.monotonic()
    batch_key = validated["batch_id"]
    with failure_recorded(batch_key, "publish"), warehouse.connect() as conn:
        result = publish.publish_batch(conn, entity=validated["entity"], batch_id=batch_key,
                                       table=validated["staging"]["table"])
        batches.update_batch(conn, batch_key, stage="publish", seconds=time.monotonic() - began,
                         rows_published=result.rows_published, status="published",
                         months_touched=[dt.date.fromisoformat(m) for m in result.months_touched])
        feed = _feed(validated["province_code"], validated["entity"])
        batches.advance_watermark(conn, source=feed.source, province_code=validated["province_code"],
                              entity=validated["entity"], loaded_through=_interval(validated)[1])
    return {"batch_id": batch_key, "province_code": validated["province_code"],
            "entity": validated["entity"], **result.to_dict()}


def mark_failed(batch_id: str, error: str) -> None:
    with warehouse.connect() as conn:
        batches.update_batch(conn, batch_id, status="failed", error=error[:2000])


def failed_batches_message(run_id: str) -> str:
    with warehouse.connect() as conn:
        rows = conn.execute("select batch_id, left(error, 300) from batches.batch where dag_run_id = %s "
                            "and status <> 'published' order by batch_id", (run_id,)).fetchall()
    lines = [f"{len(rows)} batch(es) of this run were not published; the others were:"]
    return "\n".join(lines + [f"  - {batch}: {error}" for batch, error in rows])
