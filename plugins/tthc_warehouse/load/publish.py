"""Publish: merge a staged batch into core in one transaction, then drop the staging table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tthc_warehouse.contract import ENTITIES
from tthc_warehouse.load.staging import drop_staging_table, staging_identifier
from tthc_warehouse.paths import read_sql

# entity -> statements run in order inside the publish transaction. Dossiers take the fast path:
# find the codes staged twice, write the history and reference rows from every version, drop the
# older versions (only when there are duplicates), then update the codes core already has and
# insert the new ones. The others merge in one upsert (small tables).
PUBLISH_STATEMENTS = {
    "dossier": (
        "publish/dossier_duplicates.sql",
        "publish/fact_dossier_status_event.sql",
        "publish/ref_procedure.sql",
        "publish/ref_agency.sql",
        "publish/dossier_older_versions.sql",
        "publish/fact_dossier_update.sql",
        "publish/fact_dossier_insert.sql",
    ),
    "payment": ("publish/fact_payment.sql",),
    "refund": ("publish/fact_refund.sql",),
    "index766_snapshot": ("publish/fact_index766_snapshot.sql",),
}
# statements whose row counts are the rows published (inserted or updated in core)
COUNTED = {"publish/fact_dossier_update.sql", "publish/fact_dossier_insert.sql", "publish/fact_payment.sql",
           "publish/fact_refund.sql", "publish/fact_index766_snapshot.sql"}
FINDS_DUPLICATES = "publish/dossier_duplicates.sql"
NEEDS_DUPLICATES = {"publish/dossier_older_versions.sql"}  # skipped when the batch has none
# Sorting and hashing a million staged keys in the default 4 MB spills to disk; one publish at a
# time per connection can afford more.
WORK_MEM = "128MB"
MONTHS_TOUCHED = {entity: f"publish/{entity}_months_touched.sql" for entity in PUBLISH_STATEMENTS}


@dataclass
class PublishResult:
    rows_published: int
    months_touched: list[str]

    def to_dict(self) -> dict:
        return dict(vars(self))


def _statement(path: str, table: str) -> sql.Composed:
    text = read_sql(path)
    names = {"staging": staging_identifier(table)}
    if "{duplicates}" in text:  # a temporary table, dropped when the publish commits
        names["duplicates"] = sql.Identifier(f"{table}_duplicates")
    return sql.SQL(text).format(**names)


def months_touched(conn: psycopg.Connection, entity: str, table: str) -> list[dt.date]:
    rows = conn.execute(_statement(MONTHS_TOUCHED[entity], table)).fetchall()
    return [row[0] for row in rows]


def rows_in_batch(conn: psycopg.Connection, entity: str, table: str) -> int:
    """The batch's records (distinct natural keys): what core holds of it once published.

    Not the merge's row count, which is 0 on a rerun because newest-wins leaves equal rows alone.
    """
    key = sql.SQL(", ").join(map(sql.Identifier, ENTITIES[entity].key))
    query = sql.SQL("select count(*) from (select distinct {} from {}) as keys").format(
        key, staging_identifier(table))
    return conn.execute(query).fetchone()[0]


def publish_batch(
    conn: psycopg.Connection, *, entity: str, table: str, batch_id: str
) -> PublishResult:
    """All of the batch or nothing: the merge and the staging drop commit together."""
    with conn.transaction():
        conn.execute("select set_config('work_mem', %s, true)", (WORK_MEM,))
        months = months_touched(conn, entity, table)
        published = duplicates = 0
        for path in PUBLISH_STATEMENTS[entity]:
            if path in NEEDS_DUPLICATES and not duplicates:
                continue
            cursor = conn.execute(_statement(path, table), {"batch_id": batch_id})
            if path == FINDS_DUPLICATES:
                duplicates = cursor.rowcount
            elif path in COUNTED:
                published += cursor.rowcount
        drop_staging_table(conn, table)
    return PublishResult(published, [m.isoformat() for m in months])
