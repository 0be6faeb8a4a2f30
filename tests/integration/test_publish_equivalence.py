"""The fast publish path leaves core exactly as the old single upsert did, batch after batch.

The old statements (one ``distinct on`` upsert, one ``select distinct`` history insert) are kept
in ``tests/fixtures/publish_reference/``. The same batches, with duplicate codes, ties, late and
replayed updates, are published both ways inside one transaction each, rolled back afterwards.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from psycopg import sql

from tthc_warehouse.contract import DOSSIER
from tthc_warehouse.load import publish
from tthc_warehouse.load.staging import create_staging_table, staging_identifier
from tthc_warehouse.paths import SQL_DIR

pytestmark = pytest.mark.integration

REFERENCE = Path(__file__).parents[1] / "fixtures" / "publish_reference"
OLD_STATEMENTS = [REFERENCE / "fact_dossier.sql", REFERENCE / "fact_dossier_status_event.sql",
                  SQL_DIR / "publish/ref_procedure.sql", SQL_DIR / "publish/ref_agency.sql"]
COLUMNS = ["_row", "_file", "dossier_code", "procedure_code", "procedure_name", "receiving_agency_code",
           "processing_agency_code", "agency_level", "province_code", "received_at", "due_at", "status",
           "fee_amount", "supplement_count", "source_updated_at"]


def version(row: int, file: str, code: str, day: int, hour: int, status: int, **extra) -> tuple:
    at = dt.datetime(2024, 5, day, hour)
    v = {"procedure_code": "1.005411", "procedure_name": f"Thủ tục {status}", "receiving_agency_code": "EQ.A",
         "processing_agency_code": "EQ.B", "agency_level": "province", "fee_amount": 1000 * status,
         "supplement_count": None, **extra}
    return (row, file, code, v["procedure_code"], v["procedure_name"], v["receiving_agency_code"],
            v["processing_agency_code"], v["agency_level"], "01", at - dt.timedelta(days=1),
            at + dt.timedelta(days=5), status, v["fee_amount"], v["supplement_count"], at)


BATCHES = [
    [  # first load: new codes, a code staged twice, a tie on source_updated_at broken by file and row
        version(2, "d1.csv", "EQ-A", 1, 8, 2), version(3, "d1.csv", "EQ-B", 1, 8, 2),
        version(4, "d1.csv", "EQ-B", 1, 9, 4), version(5, "d1.csv", "EQ-C", 1, 10, 4),
        version(2, "d2.csv", "EQ-C", 1, 10, 9, procedure_name="Tên mới"),
        version(6, "d1.csv", "EQ-D", 1, 11, 4),
    ],
    [  # next night: a newer update, a late (older) replay, duplicates again, a replayed version, a new code
        version(2, "d3.csv", "EQ-A", 3, 8, 10), version(3, "d3.csv", "EQ-D", 1, 9, 2),
        version(4, "d3.csv", "EQ-B", 3, 9, 5), version(5, "d3.csv", "EQ-B", 2, 9, 4),
        version(6, "d3.csv", "EQ-B", 3, 9, 5, fee_amount=7),
        version(7, "d3.csv", "EQ-C", 1, 10, 9, procedure_name="Tên mới"),
        version(8, "d3.csv", "EQ-E", 3, 7, 1, supplement_count=2, agency_level=None),
    ],
]


def stage(conn, table: str, rows: list[tuple]) -> None:
    create_staging_table(conn, table, DOSSIER)
    statement = sql.SQL("insert into {} ({}) values ({})").format(
        staging_identifier(table), sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))
    with conn.cursor() as cur:
        cur.executemany(statement, rows)


def core(conn) -> dict[str, list]:
    queries = {
        "facts": "select t::text from core.fact_dossier t where dossier_code like 'EQ-%' order by 1",
        "events": "select t::text from core.fact_dossier_status_event t where dossier_code like 'EQ-%' "
                  "order by 1",
        "procedures": "select t::text from ref.procedure t where procedure_code = '1.005411'",
        "agencies": "select t::text from ref.agency t where agency_code like 'EQ.%' order by 1",
    }
    return {name: [r[0] for r in conn.execute(q).fetchall()] for name, q in queries.items()}


def old_publish(conn, table: str, batch_id: str) -> int:
    published = 0
    for i, path in enumerate(OLD_STATEMENTS):
        statement = sql.SQL(path.read_text(encoding="utf-8")).format(staging=staging_identifier(table))
        rows = conn.execute(statement, {"batch_id": batch_id}).rowcount
        published = rows if i == 0 else published
    return published


def published_both_ways(db) -> tuple[dict, list[int], dict, list[int]]:
    results = []
    for fast in (True, False):
        db.execute("select 1")  # open the transaction: each publish below is a savepoint in it
        counts = []
        for i, rows in enumerate(BATCHES):
            table = f"eq_{'fast' if fast else 'old'}_{i}"
            stage(db, table, rows)
            if fast:
                counts.append(publish.publish_batch(db, entity="dossier", table=table, batch_id=f"eq:{i}")
                              .rows_published)
            else:
                counts.append(old_publish(db, table, f"eq:{i}"))
        results += [core(db), counts]
        db.rollback()
    return tuple(results)


def test_the_fast_path_publishes_what_the_old_upsert_did(db) -> None:
    fast, fast_counts, old, old_counts = published_both_ways(db)
    assert fast == old
    assert fast_counts == old_counts == [4, 3]
    assert len(fast["facts"]) == 5 and len(fast["events"]) >= 8
