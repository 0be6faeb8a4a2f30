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
MOVED = """
    select s._file, s._row, format('%%s %%s is province %%s in core; this feed is province %%s: '
           'a record may not change province', {key_name}, s.{key}, c.province_code, s.province_code)
           as reason, to_jsonb(s) - '_file' - '_row' as raw
    from {staging} as s
    inner join {core} as c on c.{key} = s.{key}
    where c.province_code <> s.province_code
"""


def quarantine_moved_keys(conn: psycopg.Connection, *, table: str, batch_id: str, entity: str) -> int:
    """Move staged rows whose key core holds under another province to quarantine; return how many."""
    spec = ENTITIES[entity]
    if len(spec.key) != 1 or "province_code" not in spec.column_names:
        return 0
    key = spec.key[0]
    moved = sql.SQL(MOVED).format(key_name=sql.Literal(key), key=sql.Identifier(key),
                                  staging=staging_identifier(table),
                                  core=sql.Identifier(*spec.core_table.split(".")))
    conn.execute(sql.SQL(
        "insert into quarantine.rejected_row (batch_id, entity, source_file, row_number, column_name,"
        " expectation, reason, raw) select %(batch)s, %(entity)s, _file, _row, 'province_code', %(exp)s,"
        " reason, raw from ({}) as moved on conflict do nothing").format(moved),
        {"batch": batch_id, "entity": entity, "exp": EXPECTATION})
    cursor = conn.execute(sql.SQL("delete from {} as s using ({}) as moved where s._file = moved._file "
                                  "and s._row = moved._row").format(staging_identifier(table), moved), {})
    return cursor.rowcount
