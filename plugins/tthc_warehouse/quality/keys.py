"""A record never changes province: a key already in core under another province is quarantined.

Newest-wins would otherwise move a dossier (or payment, refund) to whichever feed sent the newer
version, or silently drop the row when its version is older. Both provinces are named.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from tthc_warehouse.contract import ENTITIES
from tthc_warehouse.load.staging import staging_identifier

EXPECTATION = "key_in_another_province"
# One pass: the rows leave staging and their reasons go to quarantine in the same statement. (Two
# joins of the batch with core, one per step: 3.9-5.7 s for 1M staged rows against 5M facts; this
# one: 1.7-1.8 s.) On a rerun the quarantine keeps its first row for a (file, row), and the count
# is still the rows moved.
MOVED = """
    with moved as (
        delete from {staging} as s
        using {core} as c
        where c.{key} = s.{key} and c.province_code <> s.province_code
        returning s._file, s._row,
            format('%%s %%s is province %%s in core; this feed is province %%s: '
                   'a record may not change province', {key_name}, s.{key}, c.province_code,
                   s.province_code) as reason,
            to_jsonb(s) - '_file' - '_row' as raw
    ),
    quarantined as (
        insert into quarantine.rejected_row
            (batch_id, entity, source_file, row_number, column_name, expectation, reason, raw)
        select %(batch)s, %(entity)s, _file, _row, 'province_code', %(exp)s, reason, raw
        from moved
        on conflict do nothing
    )
    select count(*) from moved
"""


def moved_keys_statement(table: str, entity: str) -> sql.Composed | None:
    """The statement moving ``table``'s rows whose key core holds under another province
    (params batch, entity, exp); None when the entity has no single key and province."""
    spec = ENTITIES[entity]
    if len(spec.key) != 1 or "province_code" not in spec.column_names:
        return None
    key = spec.key[0]
    return sql.SQL(MOVED).format(key_name=sql.Literal(key), key=sql.Identifier(key),
                                 staging=staging_identifier(table),
                                 core=sql.Identifier(*spec.core_table.split(".")))


def quarantine_moved_keys(conn: psycopg.Connection, *, table: str, batch_id: str, entity: str) -> int:
    """Move staged rows whose key core holds under another province to quarantine; return how many."""
    statement = moved_keys_statement(table, entity)
    if statement is None:
        return 0
    return conn.execute(statement, {"batch": batch_id, "entity": entity, "exp": EXPECTATION}).fetchone()[0]
