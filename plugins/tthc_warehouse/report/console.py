"""Plain-text tables for the terminal: the demo's result and `tthc status`."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import psycopg

from tthc_warehouse.paths import read_sql

LATEST_BATCHES = """
    select batch_id, status, rows_read, rows_staged, rows_quarantined, rows_published,
           to_char(finished_at, 'YYYY-MM-DD HH24:MI') as finished
    from ops.batch order by started_at desc, batch_id limit %s
"""
# Whole messages, one block each: a critical failure lists every expectation on its own line.
BATCH_ERRORS = """
    select batch_id, error from ops.batch where error is not null
    order by started_at desc, batch_id limit %s
"""
QUARANTINE = """
    select entity, expectation, count(*) as rows, min(reason) as example
    from quarantine.rejected_row group by entity, expectation order by rows desc
"""
FAILED_EXPECTATIONS = """
    select batch_id, expectation, severity, unexpected_count, action
    from ops.dq_result where not success order by checked_at desc limit 20
"""
ALERTS = """
    select raised_at, dag_id, task_id, kind, message
    from ops.alert where not acknowledged order by raised_at desc limit 20
"""


def frame(conn: psycopg.Connection, query: str, params=None) -> pd.DataFrame:
    cursor = conn.execute(query, params)
    return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


def table(df: pd.DataFrame, empty: str = "(none)") -> str:
    return empty if df.empty else df.to_string(index=False)


def digitization_period(conn: psycopg.Connection, start: dt.date, end: dt.date) -> pd.DataFrame:
    return frame(conn, read_sql("reports/digitization_period.sql"), {"start": start, "end": end})


def errors(conn: psycopg.Connection, limit: int) -> str:
    rows = conn.execute(BATCH_ERRORS, (limit,)).fetchall()
    return "\n".join(f"{batch}:\n  " + error.replace("\n", "\n  ") for batch, error in rows) or "(none)"


def status(conn: psycopg.Connection, limit: int = 20) -> str:
    parts = [
        "Latest batches (ops.batch):", table(frame(conn, LATEST_BATCHES, (limit,))),
        "", "Errors of the latest batches:", errors(conn, limit),
        "", "Quarantined rows (quarantine.rejected_row):", table(frame(conn, QUARANTINE)),
        "", "Failed expectations (ops.dq_result):", table(frame(conn, FAILED_EXPECTATIONS)),
        "", "Open alerts (ops.alert):", table(frame(conn, ALERTS)),
    ]
    return "\n".join(parts)
