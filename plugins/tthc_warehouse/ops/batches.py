"""Run bookkeeping in ``ops``: one row per batch, replaced (never added to) on a rerun."""

from __future__ import annotations

import datetime as dt
import json

import psycopg

START_BATCH = """
    insert into ops.batch (batch_id, source, entity, province_code, interval_start, interval_end,
                           dag_run_id, status, started_at)
    values (%(batch_id)s, %(source)s, %(entity)s, %(province_code)s, %(interval_start)s,
            %(interval_end)s, %(dag_run_id)s, 'running', now())
    on conflict (batch_id) do update set
        source = excluded.source, dag_run_id = excluded.dag_run_id, status = 'running',
        landing_path = null, landing_checksum = null, rows_read = null, rows_staged = null,
        rows_quarantined = null, rows_published = null, months_touched = '{}', timings = '{}',
        error = null, started_at = now(), finished_at = null
"""

UPDATE_BATCH = """
    update ops.batch set
        landing_path = coalesce(%(landing_path)s, landing_path),
        landing_checksum = coalesce(%(landing_checksum)s, landing_checksum),
        rows_read = coalesce(%(rows_read)s, rows_read),
        rows_staged = coalesce(%(rows_staged)s, rows_staged),
        rows_quarantined = coalesce(%(rows_quarantined)s, rows_quarantined),
        rows_published = coalesce(%(rows_published)s, rows_published),
        months_touched = coalesce(%(months_touched)s, months_touched),
        timings = timings || %(timings)s::jsonb,
        status = coalesce(%(status)s, status),
        error = coalesce(%(error)s, error),
        finished_at = case when %(status)s in ('published', 'failed') then now()
                      else finished_at end
    where batch_id = %(batch_id)s
"""

FIELDS = (
    "landing_path",
    "landing_checksum",
    "rows_read",
    "rows_staged",
    "rows_quarantined",
    "rows_published",
    "months_touched",
    "status",
    "error",
)


def batch_id(entity: str, province_code: str, start: dt.datetime, end: dt.datetime) -> str:
    """Deterministic per entity, province and interval, so a rerun finds and replaces its batch."""
    return f"{entity}:{province_code}:{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}"


def start_batch(conn: psycopg.Connection, **values) -> None:
    conn.execute(START_BATCH, values)
    conn.commit()


def update_batch(
    conn: psycopg.Connection,
    batch_id: str,
    *,
    stage: str | None = None,
    seconds: float | None = None,
    commit: bool = True,
    **values,
) -> None:
    """Set the given fields; ``commit=False`` leaves it to the caller's transaction (publish)."""
    params = {f: values.get(f) for f in FIELDS}
    params["batch_id"] = batch_id
    params["timings"] = json.dumps({stage: round(seconds, 3)} if stage else {})
    conn.execute(UPDATE_BATCH, params)
    if commit:
        conn.commit()


def mark_failed(conn: psycopg.Connection, batch_id: str, error: str) -> None:
    """Record the error; a batch whose publish committed stays ``published`` (its rows are in core)."""
    conn.execute("update ops.batch set status = 'failed', error = %s, finished_at = now() "
                 "where batch_id = %s and status <> 'published'", (error, batch_id))
    conn.commit()


def months_touched_by_run(conn: psycopg.Connection, run_id: str) -> list[dt.date]:
    rows = conn.execute(
        "select distinct unnest(months_touched) from ops.batch "
        "where dag_run_id = %s and status = 'published' order by 1",
        (run_id,),
    ).fetchall()
    return [r[0] for r in rows]


def advance_watermark(conn: psycopg.Connection, *, source: str, province_code: str, entity: str,
                      loaded_through: dt.datetime, commit: bool = True) -> None:
    """The source is loaded through ``loaded_through`` (Vietnam time); a watermark never moves back."""
    conn.execute(
        "insert into ops.watermark (source, province_code, entity, high_water) "
        "values (%s, %s, %s, %s::timestamp at time zone 'Asia/Ho_Chi_Minh') "
        "on conflict (source, province_code, entity) do update "
        "set high_water = greatest(ops.watermark.high_water, excluded.high_water)",
        (source, province_code, entity, loaded_through))
    if commit:
        conn.commit()


def record_alert(
    conn: psycopg.Connection,
    *,
    kind: str,
    message: str,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
) -> None:
    conn.execute(
        "insert into ops.alert (dag_id, run_id, task_id, kind, message) "
        "values (%s, %s, %s, %s, %s)",
        (dag_id, run_id, task_id, kind, message),
    )
    conn.commit()
