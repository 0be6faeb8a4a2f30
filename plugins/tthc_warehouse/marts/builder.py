"""Marts: rebuild the BI tables for the months a publish touched, one transaction per month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from tthc_warehouse.db import objects
from tthc_warehouse.db.settings import local_settings, set_local

# mart table -> the SELECTs (in sql/marts/) that produce one month of it, in dependency order:
# the province mart sums the agency rows, the summary counts the issues, the reconciliation
# reads the province mart. Views (mart.agency_monthly_compliance, mart.overdue_dossiers_current,
# the *_by_2025_unit views) derive from these tables or from core and need no rebuild.
MONTHLY_MARTS: dict[str, tuple[str, ...]] = {
    "mart.agency_monthly_counts": ("marts/agency_monthly_counts.sql",),
    "mart.monthly_compliance": ("marts/monthly_compliance.sql",),
    "mart.overdue_dossiers": ("marts/overdue_dossiers.sql",),
    "mart.payment_refund_issues": (
        "marts/payment_refund_issues_refunds.sql",
        "marts/payment_refund_issues_payments.sql",
    ),
    "mart.payment_refund_summary": ("marts/payment_refund_summary.sql",),
    "mart.index766_reconciliation": ("marts/index766_reconciliation.sql",),
    # group and metric rows first; the 100-point totals sum them
    "mart.index766_scorecard": ("marts/index766_scorecard.sql", "marts/index766_scorecard_totals.sql"),
}
# Year-to-date and overdue marts sort and hash a few hundred thousand rows per month; the default
# 4 MB sends those to disk. Set for the rebuild's transaction only.
WORK_MEM = "128MB"
# The mart queries cost millions in the planner's units, so PostgreSQL would JIT-compile them
# with LLVM's inlining and optimisation passes: seconds per query, more than executing them. Plain
# JIT-compiled expressions (tens of milliseconds) still halve the counting over millions of rows.
# Set for the rebuild's transaction only, as the loader may (user-level settings).
SETTINGS = {"work_mem": WORK_MEM, "jit_inline_above_cost": "-1", "jit_optimize_above_cost": "-1"}
# For the year to date, on top of SETTINGS. It reads every dossier of the year so far
# through the receipt-time index; once statistics see the index's correlation with the heap, the
# planner walks it row by row in index order (2.5M of 6M facts: 3.6 s of random heap reads where
# a bitmap scan or a sequential one takes 1.1-1.4 s). Without plain index scans it still has both.
YEAR_TO_DATE_SQL = "marts/year_to_date_counts.sql"
YEAR_TO_DATE_SETTINGS = {"enable_indexscan": "off"}
# The month's dossiers with their flags and their state at the month end (marts/dossier_month_end.sql),
# computed once per rebuild into a temporary table that the marts needing them (agency counts,
# overdue dossiers) read instead of core; dropped when the month's transaction ends. The loader may
# create temporary tables (migration 0009).
MONTH_END_SQL = "marts/dossier_month_end.sql"
MONTH_END_TABLE = "pg_temp.dossier_month_end"
ANALYZE_SETTINGS = {"default_statistics_target": "10"}
# The year-to-date flows per province (YEAR_TO_DATE_SQL), which monthly_compliance.sql reads: the
# rebuild's longest statement, as it reads every dossier of the year so far (2.3-2.5 s of a month
# over 5M facts). Given a way to connect, the rebuild counts them on a second connection that
# imports this transaction's snapshot (pg_export_snapshot) while this one builds the month's
# dossiers and agency counts, and copies the few rows in; otherwise here, in turn.
YEAR_TO_DATE_TABLE = "pg_temp.year_to_date_counts"
# The second connection only reads, so it waits for a lock only when a third session has asked for
# an exclusive one (DDL on core) behind the rebuild's own shared locks; the rebuild would then wait
# for it in Python, where PostgreSQL's deadlock check cannot see. The wait is cut short instead: the
# rebuild fails and its task is retried.
SIDE_SETTINGS = {"lock_timeout": "1min"}
Connect = Callable[[], AbstractContextManager[psycopg.Connection]]
# ref.setting rows the mart SQL reads (inserted by migrations 0003, 0005 and 0008).
REQUIRED_SETTINGS = ("refund_time_limit_days", "payment_excessive_steps", "reconciliation_tolerance_pp",
                     "index766_score_tolerance", "supplement_days_unit", "weak_min_dossiers",
                     "refund_request_grace_days")


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    """Columns an insert must fill: all but the generated ones (the rates)."""
    schema, name = table.split(".")
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = %s "
        "and table_name = %s and is_generated = 'NEVER' order by ordinal_position",
        (schema, name),
    ).fetchall()
    return [r[0] for r in rows]


def check_settings(conn: psycopg.Connection) -> None:
    """Fail with the missing names rather than build marts that silently flag nothing."""
    found = {r[0] for r in conn.execute(
        "select name from ref.setting where name = any(%s) "
        "and coalesce(value::text, text_value) is not null",
        (list(REQUIRED_SETTINGS),),
    ).fetchall()}
    missing = sorted(set(REQUIRED_SETTINGS) - found)
    if missing:
        raise ValueError(f"ref.setting lacks {', '.join(missing)}: "
                         "run `tthc migrate` (revisions 0003, 0005, 0008)")


def prepare_month(conn: psycopg.Connection, month: dt.date) -> int:
    """Fill the month's temporary table (``MONTH_END_TABLE``) in the caller's transaction; returns
    its rows. Dropped at commit, and first if a savepoint left one behind."""
    table = sql.SQL(MONTH_END_TABLE)
    conn.execute(sql.SQL("drop table if exists {}").format(table))
    rows = conn.execute(sql.SQL("create temporary table {} on commit drop as {}").format(
        table, objects.sql_text(MONTH_END_SQL)), {"month": month}).rowcount
    # The marts' plans need its size and group counts. A sample of 3,000 rows (statistics target
    # 10) gives them; the default 30,000 reads nearly every page of the table (0.4-0.6 s at 1M).
    with local_settings(conn, ANALYZE_SETTINGS):
        conn.execute(sql.SQL("analyze {}").format(table))
    return rows


def _count_year_to_date(connect: Connect, snapshot: str, month: dt.date) -> list[tuple]:
    """The year-to-date rows, counted on a connection of its own in the rebuild's snapshot."""
    with connect() as side:
        side.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # to import a snapshot
        with side.transaction():
            side.execute(sql.SQL("set transaction snapshot {}").format(sql.Literal(snapshot)))
            set_local(side, {**SETTINGS, **SIDE_SETTINGS, **YEAR_TO_DATE_SETTINGS})
            return side.execute(objects.sql_text(YEAR_TO_DATE_SQL), {"month": month}).fetchall()


def fill_year_to_date(conn: psycopg.Connection, month: dt.date, counted: Future | None = None) -> None:
    """Fill ``YEAR_TO_DATE_TABLE`` (dropped at commit): with the rows ``counted`` on a second
    connection, or by counting them here."""
    table, query = sql.SQL(YEAR_TO_DATE_TABLE), objects.sql_text(YEAR_TO_DATE_SQL)
    conn.execute(sql.SQL("drop table if exists {}").format(table))
    if counted is None:
        with local_settings(conn, YEAR_TO_DATE_SETTINGS):
            conn.execute(sql.SQL("create temporary table {} on commit drop as {}").format(table, query),
                         {"month": month})
        return
    conn.execute(sql.SQL("create temporary table {} on commit drop as {} with no data").format(table, query),
                 {"month": month})
    with conn.cursor() as cursor, cursor.copy(sql.SQL("copy {} from stdin").format(table)) as copy:
        for row in counted.result():
            copy.write_row(row)


def _rebuild_table(conn: psycopg.Connection, table: str, month: dt.date) -> int:
    target = sql.Identifier(*table.split("."))
    columns = sql.SQL(", ").join(map(sql.Identifier, _columns(conn, table)))
    conn.execute(sql.SQL("delete from {} where month = %(month)s").format(target), {"month": month})
    rows = 0
    for path in MONTHLY_MARTS[table]:
        statement = sql.SQL("insert into {} ({}) select {} from ({}) as built").format(
            target, columns, columns, objects.sql_text(path))
        rows += conn.execute(statement, {"month": month}).rowcount
    return rows


def rebuild_month(conn: psycopg.Connection, month: dt.date, connect: Connect | None = None) -> dict[str, int]:
    """Replace one month of every monthly mart atomically: readers see old or new, never half.

    A month is computed from core alone (and the same month of the marts before it in
    MONTHLY_MARTS), so months can be rebuilt in any order or in parallel. Which months are stale
    after a load is ``months_to_rebuild``'s business. ``connect`` (the warehouse's) lets the year
    to date be counted on a second connection meanwhile; not while ``conn`` holds uncommitted
    work, which another connection cannot see.
    """
    month = month.replace(day=1)
    if conn.info.transaction_status != TransactionStatus.IDLE:
        connect = None
    with conn.transaction(), ThreadPoolExecutor(max_workers=1) as side:
        set_local(conn, SETTINGS)
        check_settings(conn)
        counted = None
        if connect is not None:
            snapshot = conn.execute("select pg_export_snapshot()").fetchone()[0]
            counted = side.submit(_count_year_to_date, connect, snapshot, month)
        prepare_month(conn, month)
        rows = {}
        for table in MONTHLY_MARTS:
            if table == "mart.monthly_compliance":
                fill_year_to_date(conn, month, counted)
            rows[table] = _rebuild_table(conn, table, month)
        return rows


def months_to_rebuild(conn: psycopg.Connection, months: list[dt.date]) -> list[dt.date]:
    """The given months and every later one through the newest month of data in core.

    A dossier received in a month also counts where it finishes, in later month-end stocks and in
    later year-to-date sums, so a change to it can move any later month's figures.
    """
    if not months:
        return []
    with conn.transaction():
        rows = conn.execute(
            objects.sql_text("marts/months_to_rebuild.sql"), {"months": [m.replace(day=1) for m in months]}
        ).fetchall()
    return [r[0] for r in rows]


def rebuild_months(conn: psycopg.Connection, months: list[dt.date], connect: Connect | None = None
                   ) -> dict[str, dict[str, int]]:
    """Rebuild the months a load touched and every later one (``months_to_rebuild``), one
    transaction per month; returns the rows written per month and table."""
    return {m.isoformat(): rebuild_month(conn, m, connect) for m in months_to_rebuild(conn, months)}
