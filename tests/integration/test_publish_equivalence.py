"""The fast publish paths leave core exactly as the old single upsert did, batch after batch.

The old statements (one ``distinct on`` upsert, one ``select distinct`` history insert, the
reference upserts and the months query reading the batch itself) are kept in
``tests/fixtures/publish_reference/``. The same batches are published both ways inside one
transaction each, rolled back afterwards. They take every path: a first load of new codes only
(insert-only), new codes staged twice (the newest version of each inserted instead), codes core
already holds (update path) next to new ones, a new code whose history core already has, late
and replayed updates, ties on source_updated_at broken by file and row, and two descriptions of
a procedure seen at the same instant (the last row wins).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from psycopg import sql

from tthc_warehouse.contract import DOSSIER
from tthc_warehouse.load import publish
from tthc_warehouse.load.staging import create_staging_table, staging_identifier

pytestmark = pytest.mark.integration

REFERENCE = Path(__file__).parents[1] / "fixtures" / "publish_reference"
OLD_STATEMENTS = [REFERENCE / "fact_dossier.sql", REFERENCE / "fact_dossier_status_event.sql",
                  REFERENCE / "ref_procedure.sql", REFERENCE / "ref_agency.sql"]
OLD_MONTHS = REFERENCE / "dossier_months_touched.sql"
COLUMNS = ["_row", "_file", "dossier_code", "procedure_code", "procedure_name", "receiving_agency_code",
           "processing_agency_code", "receiving_agency_name", "processing_agency_name", "agency_level",
           "province_code", "received_at", "due_at", "status", "fee_amount", "supplement_count",
           "source_updated_at"]


def version(row: int, file: str, code: str, day: int, hour: int, status: int, **extra) -> tuple:
    at = dt.datetime(2024, 5, day, hour)
    v = {"procedure_code": "1.005411", "procedure_name": f"Thủ tục {status}", "receiving_agency_code": "EQ.A",
         "processing_agency_code": "EQ.B", "receiving_agency_name": None, "processing_agency_name": None,
         "agency_level": "province", "fee_amount": 1000 * status, "supplement_count": None,
         "received_at": at - dt.timedelta(days=1), **extra}
    return (row, file, code, v["procedure_code"], v["procedure_name"], v["receiving_agency_code"],
            v["processing_agency_code"], v["receiving_agency_name"], v["processing_agency_name"],
            v["agency_level"], "01", v["received_at"], at + dt.timedelta(days=5), status, v["fee_amount"],
            v["supplement_count"], at)


# history core holds before a batch is published (by no fact: a code the insert-only path meets)
EARLIER_HISTORY = {3: [("EQ-H", 2, dt.datetime(2024, 5, 6, 8))]}
BATCHES = [
    [  # first load, every code new and staged once: the insert-only path; a procedure described
       # twice at its newest instant (the last row wins) after an older description
        version(2, "d0.csv", "EQ-F", 1, 8, 2, procedure_code="1.005412", procedure_name="Tên A",
                receiving_agency_name="Bộ phận một cửa"),
        version(3, "d0.csv", "EQ-G", 1, 8, 4, procedure_code="1.005412", procedure_name="Tên B"),
        version(4, "d0.csv", "EQ-I", 1, 7, 2, procedure_code="1.005412", procedure_name="Tên cũ",
                processing_agency_name="Sở Tư pháp"),
    ],
    [  # new codes staged twice (newest of each inserted instead), a tie on source_updated_at
       # broken by file and row, next to a code core holds (EQ-F, newer: updated)
        version(2, "d1.csv", "EQ-A", 1, 8, 2), version(3, "d1.csv", "EQ-B", 1, 8, 2),
        version(4, "d1.csv", "EQ-B", 1, 9, 4), version(5, "d1.csv", "EQ-C", 1, 10, 4),
        version(2, "d2.csv", "EQ-C", 1, 10, 9, procedure_name="Tên mới"),
        version(6, "d1.csv", "EQ-D", 1, 11, 4),
        version(7, "d1.csv", "EQ-F", 2, 8, 4, procedure_code="1.005412", procedure_name="Tên A",
                received_at=dt.datetime(2024, 3, 30, 8), receiving_agency_name="Một cửa"),
    ],
    [  # next night: a newer update, a late (older) replay, codes core holds staged twice, a
       # replayed version, one new code (insert-only next to the update path)
        version(2, "d3.csv", "EQ-A", 3, 8, 10), version(3, "d3.csv", "EQ-D", 1, 9, 2),
        version(4, "d3.csv", "EQ-B", 3, 9, 5), version(5, "d3.csv", "EQ-B", 2, 9, 4),
        version(6, "d3.csv", "EQ-B", 3, 9, 5, fee_amount=7),
        version(7, "d3.csv", "EQ-C", 1, 10, 9, procedure_name="Tên mới"),
        version(8, "d3.csv", "EQ-E", 3, 7, 1, supplement_count=2, agency_level=None,
                processing_agency_name="Sở Tư pháp", received_at=None),
    ],
    [  # a new code whose history core already has: the insert-only path meets it
        version(2, "d4.csv", "EQ-H", 6, 8, 2), version(3, "d4.csv", "EQ-J", 6, 9, 4),
        version(4, "d4.csv", "EQ-A", 2, 8, 2),
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
        "history": "select t::text from mart.dossier_status_history t where dossier_code like 'EQ-%' "
                   "order by 1",
        "procedures": "select t::text from ref.procedure t where procedure_code like '1.00541_' order by 1",
        "agencies": "select t::text from ref.agency t where agency_code like 'EQ.%' order by 1",
    }
    return {name: [r[0] for r in conn.execute(q).fetchall()] for name, q in queries.items()}


def old_publish(conn, table: str, batch_id: str) -> tuple[int, list[str], int]:
    """The old statements: (rows the upsert took, months touched, distinct codes)."""
    def statement(path: Path) -> sql.Composed:
        return sql.SQL(path.read_text(encoding="utf-8")).format(staging=staging_identifier(table))

    months = [m.isoformat() for (m,) in conn.execute(statement(OLD_MONTHS)).fetchall()]
    codes = conn.execute(sql.SQL("select count(distinct dossier_code) from {}").format(
        staging_identifier(table))).fetchone()[0]
    published = 0
    for i, path in enumerate(OLD_STATEMENTS):
        rows = conn.execute(statement(path), {"batch_id": batch_id}).rowcount
        published = rows if i == 0 else published
    return published, months, codes


def published_both_ways(db, batches: list[list[tuple]] = BATCHES) -> tuple[dict, list, dict, list]:
    results = []
    for fast in (True, False):
        db.execute("select 1")  # open the transaction: each publish below is a savepoint in it
        outcomes = []
        for i, rows in enumerate(batches):
            table = f"eq_{'fast' if fast else 'old'}_{i}"
            for code, status, at in EARLIER_HISTORY.get(i, []):
                db.execute("insert into core.fact_dossier_status_event values (%s, %s, %s, 'eq:earlier')",
                           (code, status, at))
            stage(db, table, rows)
            if fast:
                result = publish.publish_batch(db, entity="dossier", table=table, batch_id=f"eq:{i}")
                outcomes.append((result.rows_published, result.months_touched, result.rows_in_batch))
            else:
                outcomes.append(old_publish(db, table, f"eq:{i}"))
        results += [core(db), outcomes]
        db.rollback()
    return tuple(results)


def test_the_fast_paths_publish_what_the_old_upsert_did(db) -> None:
    fast, fast_outcomes, old, old_outcomes = published_both_ways(db)
    assert fast == old
    assert fast_outcomes == old_outcomes
    assert [rows for rows, _, _ in fast_outcomes] == [3, 5, 3, 2]
    assert fast_outcomes[1][1] == ["2024-03-01", "2024-04-01"]  # EQ-F moved from April to March
    assert len(fast["facts"]) == 10 and len(fast["history"]) >= 14
    assert '(1.005412,"Tên A",,)' in fast["procedures"]  # newer than the tie of batch 0 (Tên B)


def test_the_tie_of_two_descriptions_goes_to_the_last_row(db) -> None:
    """Batch 0 alone: its procedure's two descriptions at the newest instant decide its name."""
    fast, _, old, _ = published_both_ways(db, BATCHES[:1])
    assert fast["procedures"] == old["procedures"]
    assert '(1.005412,"Tên B",,)' in fast["procedures"]


def test_each_batch_takes_the_paths_it_needs(db, monkeypatch) -> None:
    """Batch 0 is new codes only; batch 1 stages new codes twice: the insert-only statement is
    undone and runs again on the newest version of each, next to the update path for the code
    core holds."""
    ran: list[str] = []
    original = publish._statement
    monkeypatch.setattr(publish, "_statement",
                        lambda path, *args, **kwargs: ran.append(path) or original(path, *args, **kwargs))
    paths = []
    db.execute("select 1")
    for i in (0, 1):
        stage(db, f"eq_paths_{i}", BATCHES[i])
        publish.publish_batch(db, entity="dossier", table=f"eq_paths_{i}", batch_id=f"eq:{i}")
        paths.append(set(ran))
        ran.clear()
    db.rollback()
    update, duplicates = "publish/fact_dossier_update.sql", "publish/dossier_duplicates.sql"
    assert publish.INSERT_ONLY in paths[0] and not {update, duplicates} & paths[0]
    assert {publish.INSERT_ONLY, update, duplicates} <= paths[1]


def test_the_history_table_keeps_only_the_versions_core_does_not_hold(db) -> None:
    """A version is in core's row or in core.fact_dossier_status_event, never both: a code staged
    once writes no history row, and mart.dossier_status_history reads the two together."""
    db.execute("select 1")
    for i, rows in enumerate(BATCHES):
        stage(db, f"eq_history_{i}", rows)
        publish.publish_batch(db, entity="dossier", table=f"eq_history_{i}", batch_id=f"eq:{i}")
    in_both, history_rows, versions, codes = db.execute(
        """
        select
            (select count(*) from core.fact_dossier_status_event as e
             join core.fact_dossier as f on f.dossier_code = e.dossier_code
                 and f.source_updated_at = e.event_at and f.status = e.status
             where e.dossier_code like 'EQ-%'),
            (select count(*) from core.fact_dossier_status_event where dossier_code like 'EQ-%'),
            (select count(*) from mart.dossier_status_history where dossier_code like 'EQ-%'),
            (select count(*) from core.fact_dossier where dossier_code like 'EQ-%')
        """).fetchone()
    no_history = db.execute(
        "select array_agg(f.dossier_code order by f.dossier_code) from core.fact_dossier as f "
        "where f.dossier_code like 'EQ-%' and not exists (select from core.fact_dossier_status_event "
        "as e where e.dossier_code = f.dossier_code)").fetchone()[0]
    db.rollback()
    assert in_both == 0
    assert history_rows == versions - codes and codes == 10
    assert {"EQ-G", "EQ-I", "EQ-J"} <= set(no_history)  # staged once each
