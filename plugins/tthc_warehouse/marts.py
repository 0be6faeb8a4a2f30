"""Marts: rebuild the BI tables for the months a publish touched, one transaction per month."""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql

from tthc_warehouse.paths import read_sql

# mart table -> the SELECT (in sql/marts/) that produces one month of it
MONTHLY_MARTS = {"mart.monthly_compliance": "marts/monthly_compliance.sql"}


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = %s "
        "and table_name = %s order by ordinal_position",
        (schema, name),
    ).fetchall()
    return [r[0] for r in rows]


def rebuild_month(conn: psycopg.Connection, month: dt.date) -> dict[str, int]:
    """Replace one month of every monthly mart atomically: readers see old or new, never half."""
    counts = {}
    with conn.transaction():
        for table, path in MONTHLY_MARTS.items():
            target = sql.Identifier(*table.split("."))
            columns = sql.SQL(", ").join(map(sql.Identifier, _columns(conn, table)))
            conn.execute(
                sql.SQL("delete from {} where month = %(month)s").format(target), {"month": month}
            )
            cursor = conn.execute(
                sql.SQL("insert into {} ({}) select {} from ({}) as built").format(
                    target, columns, columns, sql.SQL(read_sql(path))
                ),
                {"month": month},
            )
            counts[table] = cursor.rowcount
    return counts


def rebuild_months(conn: psycopg.Connection, months: list[dt.date]) -> dict[str, dict[str, int]]:
    return {m.isoformat(): rebuild_month(conn, m) for m in sorted(set(months))}
