"""One batch, one owner: a per-batch lock and the attempt that staged, validated and publishes it.

The steps of a batch run as separate tasks (possibly of two runs of the same interval), so the
lock is taken by each step for its whole duration (a session advisory lock, released when the
step ends or its process dies), and ownership across steps is the ``attempt_id`` recorded in
``ops.batch`` by the stage that created the batch's staging table. A later stage of another run
takes the batch over; the earlier run's validate or publish then sees it no longer owns the
batch and leaves it to the other run instead of publishing rows nobody validated.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import pq

# How long a step waits for another run's step on the same batch before giving up cleanly.
LOCK_WAIT = dt.timedelta(minutes=20)


class BatchSuperseded(Exception):
    """Another attempt (another run) staged the batch since: it validates and publishes it."""


class BatchBusy(Exception):
    """Another run held the batch's lock for longer than ``LOCK_WAIT``."""


class NotValidated(Exception):
    """Publish was handed a staging table this batch's attempt did not validate."""


def new_attempt() -> str:
    return uuid.uuid4().hex[:8]


@contextmanager
def batch_lock(conn: psycopg.Connection, batch_id: str, wait: dt.timedelta = LOCK_WAIT) -> Iterator[None]:
    """Hold the batch's advisory lock on ``conn`` (waiting for another run's step to finish)."""
    conn.execute(f"set lock_timeout = {int(wait.total_seconds() * 1000)}")
    try:
        conn.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (f"tthc.batch:{batch_id}",))
    except psycopg.errors.LockNotAvailable as exc:
        conn.rollback()
        raise BatchBusy(f"{batch_id}: another run has held this batch for over {wait}; "
                        "this run leaves it to that one") from exc
    conn.execute("set lock_timeout = 0")
    try:
        yield
    finally:
        _unlock(conn, batch_id)


def _unlock(conn: psycopg.Connection, batch_id: str) -> None:
    if conn.closed or conn.broken:
        return  # the server released it with the session
    if conn.info.transaction_status == pq.TransactionStatus.INERROR:
        conn.rollback()
    conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (f"tthc.batch:{batch_id}",))
    conn.commit()


def claim(conn: psycopg.Connection, batch_id: str, attempt: str, table: str) -> str | None:
    """Make ``attempt`` the batch's owner with ``table``; return the previous attempt's table.

    Not committed: it commits with the staged rows, so a stage that dies leaves the previous
    owner (and its validated table) as they were.
    """
    row = conn.execute(
        "with old as (select staging_table from ops.batch where batch_id = %s for update) "
        "update ops.batch b set attempt_id = %s, staging_table = %s, validated_oid = null "
        "from old where b.batch_id = %s returning old.staging_table",
        (batch_id, attempt, table, batch_id)).fetchone()
    if row is None:
        raise RuntimeError(f"{batch_id}: no ops.batch row; extract the batch first")
    return row[0]


def check_owner(conn: psycopg.Connection, batch_id: str, attempt: str) -> tuple[str, int | None]:
    """The batch's row (locked until commit) when ``attempt`` still owns it, else BatchSuperseded."""
    row = conn.execute("select attempt_id, status, dag_run_id, validated_oid, rows_published, "
                       "months_touched from ops.batch where batch_id = %s for update",
                       (batch_id,)).fetchone()
    if row is None or row[0] != attempt:
        owner = f"run {row[2]}" if row else "nobody"
        raise BatchSuperseded(f"{batch_id}: staged again since by another attempt ({owner}); "
                              "that attempt validates and publishes it, this one stops here")
    return row


def table_oid(conn: psycopg.Connection, table: str) -> int | None:
    query = "select to_regclass(format('staging.%%I', %s::text))::oid::bigint"
    return conn.execute(query, (table,)).fetchone()[0]


def mark_validated(conn: psycopg.Connection, batch_id: str, attempt: str, table: str) -> None:
    """Record that ``attempt`` validated exactly this table (its oid); not committed."""
    check_owner(conn, batch_id, attempt)
    conn.execute("update ops.batch set validated_oid = %s where batch_id = %s",
                 (table_oid(conn, table), batch_id))


def published_earlier(conn: psycopg.Connection, batch_id: str, attempt: str,
                      table: str) -> dict | None:
    """The recorded result when this attempt already published (a retry after the commit).

    Otherwise checks that ``table`` is the one this attempt validated (NotValidated if not)
    and returns None, with the batch's row locked until the publish commits.
    """
    _, status, _, validated, rows, months = check_owner(conn, batch_id, attempt)
    if status == "published" and validated is not None:
        return {"rows_published": rows or 0, "months_touched": [m.isoformat() for m in months]}
    if validated is None or validated != table_oid(conn, table):
        raise NotValidated(f"{batch_id}: staging.{table} is not the table this attempt validated; "
                           "refusing to publish it (run the batch again from stage)")
    return None
