"""Publish: merge a staged batch into core in one transaction, then drop the staging table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tthc_warehouse.contract import ENTITIES
from tthc_warehouse.db.settings import local_settings, set_local
from tthc_warehouse.load.staging import drop_staging_table, staging_identifier
from tthc_warehouse.paths import read_sql

# entity -> statements run in order inside the publish transaction. Dossiers: one pass aggregates
# what the reference tables and the months need (dossier_described), a join finds the codes core
# already holds (dossier_known: reads nothing of the batch on a first load). Those codes take the
# update path (the newest version replacing core's, the others and the replaced one into the
# history); the others, new to core, the insert-only path (plain inserts; a code's only version
# is its row in core, so no history row). Only codes staged more than once are ranked or
# de-duplicated, so no path sorts the whole batch. The other entities merge in one upsert (small
# tables). The status history (mart.dossier_status_history) is core.fact_dossier_status_event and
# each dossier's row in core.fact_dossier.
PUBLISH_STATEMENTS = {
    "dossier": (
        "publish/dossier_described.sql",
        "publish/ref_procedure.sql",
        "publish/ref_agency.sql",
        "publish/dossier_known.sql",
        "publish/fact_dossier_replaced_version.sql",
        "publish/fact_dossier_update.sql",
        "publish/fact_dossier_status_event.sql",
        "publish/fact_dossier_insert.sql",
    ),
    "payment": ("publish/fact_payment.sql",),
    "refund": ("publish/fact_refund.sql",),
    "index766_snapshot": ("publish/fact_index766_snapshot.sql",),
}
# statements whose row counts are the rows published (inserted or updated in core)
COUNTED = {"publish/fact_dossier_update.sql", "publish/fact_dossier_insert.sql", "publish/fact_payment.sql",
           "publish/fact_refund.sql", "publish/fact_index766_snapshot.sql"}
FINDS_KNOWN = "publish/dossier_known.sql"  # its row count: the batch's codes core already holds
NEEDS_KNOWN = {"publish/fact_dossier_replaced_version.sql", "publish/fact_dossier_status_event.sql",
               "publish/fact_dossier_update.sql"}  # else skipped
# The insert-only path assumes every new code is staged once. When the primary key says otherwise,
# its statement is rolled back on its own and runs again on the newest version of each new code,
# after finding those staged twice; their other versions go into the history. (A code another
# publish inserted meanwhile violates the key again: the publish fails and its retry finds the
# code in core, on the update path.)
INSERT_ONLY = "publish/fact_dossier_insert.sql"
NEWEST = "publish/newest_staged.sql"  # {newest}: the newest staged version of each code in scope
ONE_VERSION_EACH = ("publish/dossier_duplicates.sql", "publish/fact_dossier_status_event.sql")
# The staged rows a statement reads ({codes}) and, among them, those of codes staged more than
# once ({repeated}), the only ones de-duplicated or ranked: for codes core holds, and new codes.
KNOWN = "exists (select from {known} as known where known.dossier_code = staged.dossier_code{also})"
KNOWN_CODES = {"codes": KNOWN.replace("{also}", ""),
               "repeated": KNOWN.replace("{also}", " and known.copies > 1")}
NEW_CODES = {"codes": "not " + KNOWN_CODES["codes"],
             "repeated": "exists (select from {duplicates} as duplicate "
                         "where duplicate.dossier_code = staged.dossier_code)"}
ALL_NEW = {**NEW_CODES, "codes": "true"}  # when core holds none of the batch's codes
# Sorting and hashing a million staged keys in the default 4 MB spills to disk; one publish at a
# time per connection can afford more.
WORK_MEM = "128MB"
# The staging table has no statistics, so the planner expects a fifth of the batch's rows as
# groups where a few hundred come, prices gathering them from parallel workers too high and
# aggregates the batch in one process. For this statement, gathering is priced as what it is.
PARALLEL_AGGREGATE = {"publish/dossier_described.sql"}
PARALLEL_COSTS = {"parallel_setup_cost": "0", "parallel_tuple_cost": "0"}
MONTHS_TOUCHED = {entity: f"publish/{entity}_months_touched.sql" for entity in PUBLISH_STATEMENTS}
# Entities whose months are read from the temporary tables the statements write (so after them);
# the others' months join core before the merge changes it.
MONTHS_AFTER = {"dossier"}


@dataclass
class PublishResult:
    rows_published: int  # rows the merge inserted or updated (0 when a rerun changes nothing)
    months_touched: list[str]
    rows_in_batch: int | None = None  # the batch's records: distinct keys (see rows_in_batch)

    def to_dict(self) -> dict:
        return dict(vars(self))


def _statement(path: str, table: str, scope: dict[str, str] | None = None, *,
               newest_only: bool = False) -> sql.Composed:
    """A statement of ``path`` for the staging table ``table``, its rows limited by ``scope``.

    ``{newest}`` stands for the newest staged version of each code in scope (newest_staged.sql);
    with ``newest_only`` the statement reads those where it reads ``{staging}``.
    """
    text = read_sql(path)
    scope = scope or {}
    names = {"staging": staging_identifier(table)}
    for name in ("described", "known", "duplicates"):  # temporary tables, dropped at commit
        if any(f"{{{name}}}" in t for t in (text, *scope.values())):
            names[name] = sql.Identifier(f"{table}_{name}")
    for name, predicate in scope.items():
        names[name] = sql.SQL(predicate).format(**names)
    if "{newest}" in text or newest_only:
        names["newest"] = sql.SQL("(\n{}\n)").format(sql.SQL(read_sql(NEWEST)).format(**names))
    if newest_only:
        names.update(staging=names["newest"], codes=sql.SQL("true"))
    return sql.SQL(text).format(**{name: value for name, value in names.items() if f"{{{name}}}" in text})


def months_touched(conn: psycopg.Connection, entity: str, table: str) -> list[dt.date]:
    """Months whose figures the batch can change (dossiers: from publish's temporary tables)."""
    rows = conn.execute(_statement(MONTHS_TOUCHED[entity], table)).fetchall()
    return [row[0] for row in rows]


def rows_in_batch(conn: psycopg.Connection, entity: str, table: str) -> int:
    """The batch's records (distinct natural keys): what core holds of it once published.

    Not the merge's row count, which is 0 on a rerun because newest-wins leaves equal rows alone.
    The dossier publish counts them as it goes (``PublishResult.rows_in_batch``).
    """
    key = sql.SQL(", ").join(map(sql.Identifier, ENTITIES[entity].key))
    query = sql.SQL("select count(*) from (select distinct {} from {}) as keys").format(
        key, staging_identifier(table))
    return conn.execute(query).fetchone()[0]


def publish_batch(
    conn: psycopg.Connection, *, entity: str, table: str, batch_id: str
) -> PublishResult:
    """All of the batch or nothing: the merge and the staging drop commit together.

    Also counts the batch's records (``rows_in_batch``) from the merge's own counts for dossiers,
    and with one more query over the batch for the other entities, before the table is dropped.
    """
    with conn.transaction():
        set_local(conn, {"work_mem": WORK_MEM})
        months = [] if entity in MONTHS_AFTER else months_touched(conn, entity, table)
        params = {"batch_id": batch_id}
        published = 0
        known = None  # codes of the batch core already holds (dossiers)
        new_codes = None  # codes new to core, as the insert-only path counted them
        for path in PUBLISH_STATEMENTS[entity]:
            if path in NEEDS_KNOWN and not known:
                continue
            if path == INSERT_ONLY:
                new_codes = _insert_new_codes(conn, table, NEW_CODES if known else ALL_NEW, params)
                published += new_codes
                continue
            scope = KNOWN_CODES if path in NEEDS_KNOWN else None
            with local_settings(conn, PARALLEL_COSTS if path in PARALLEL_AGGREGATE else {}):
                cursor = conn.execute(_statement(path, table, scope), params)
            if path == FINDS_KNOWN:
                known = cursor.rowcount
            elif path in COUNTED:
                published += cursor.rowcount
        if entity in MONTHS_AFTER:
            months = months_touched(conn, entity, table)
        records = rows_in_batch(conn, entity, table) if new_codes is None else (known or 0) + new_codes
        drop_staging_table(conn, table)
    return PublishResult(published, [m.isoformat() for m in months], records)


def _insert_new_codes(conn: psycopg.Connection, table: str, scope: dict[str, str],
                      params: dict) -> int:
    """The new codes, each one row in core (returns how many). Insert-only; when a code comes
    twice, the newest version of each is inserted and the others go into the history."""
    try:
        with conn.transaction():  # a savepoint: a violation undoes this statement only
            return conn.execute(_statement(INSERT_ONLY, table, scope), params).rowcount
    except psycopg.errors.UniqueViolation:
        pass
    duplicates, history = ONE_VERSION_EACH
    conn.execute(_statement(duplicates, table, scope), params)
    inserted = conn.execute(_statement(INSERT_ONLY, table, scope, newest_only=True), params).rowcount
    conn.execute(_statement(history, table, scope), params)
    return inserted
