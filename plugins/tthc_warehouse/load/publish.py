"""Publish: merge a staged batch into core in one transaction, then drop the staging table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tthc_warehouse.contract import ENTITIES
from tthc_warehouse.load.staging import drop_staging_table, staging_identifier
from tthc_warehouse.paths import read_sql

# entity -> statements run in order inside the publish transaction
PUBLISH_STATEMENTS = {
    "dossier": (
        "publish/fact_dossier.sql",
        "publish/fact_dossier_status_event.sql",
        "publish/ref_procedure.sql",
        "publish/ref_agency.sql",
    ),
    "payment": ("publish/fact_payment.sql",),
    "refund": ("publish/fact_refund.sql",),
    "index766_snapshot": ("publish/fact_index766_snapshot.sql",),
}
MONTHS_TOUCHED = {entity: f"publish/{entity}_months_touched.sql" for entity in PUBLISH_STATEMENTS}


@dataclass
class PublishResult:
    rows_published: int
    months_touched: list[str]

    def to_dict(self) -> dict:
        return dict(vars(self))


def _statement(path: str, table: str) -> sql.Composed:
    return sql.SQL(read_sql(path)).format(staging=staging_identifier(table))


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
        months = months_touched(conn, entity, table)
        published = 0
        for i, path in enumerate(PUBLISH_STATEMENTS[entity]):
            cursor = conn.execute(_statement(path, table), {"batch_id": batch_id})
            if i == 0:
                published = cursor.rowcount
        drop_staging_table(conn, table)
    return PublishResult(published, [m.isoformat() for m in months])
