"""Issue 10's defects, one test each: escalation through validation, publish retries and races,
bookkeeping after a kill, least privilege. (Parsing defects: tests/unit/load, extract.)"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.chaos import harness
from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.ops import claims
from tthc_warehouse.quality import gate

pytestmark = pytest.mark.integration


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch, warehouse_url) -> Path:
    return harness.configure(tmp_path, monkeypatch)


@pytest.fixture
def warehouse(warehouse_url) -> Warehouse:
    return Warehouse(warehouse_url)


@pytest.fixture
def login(server_url, warehouse_url):
    """A non-superuser login (unique name: roles are cluster-wide), dropped afterwards."""
    made = []

    def make(*roles: str) -> str:
        name = f"tthc_test_login_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create role {} login nosuperuser").format(sql.Identifier(name)))
            for role in roles:
                conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(name)))
        made.append(name)
        return warehouse_url.replace("postgres@", f"{name}@", 1)

    yield make
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for name in made:
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


def test_a_loader_member_cannot_make_validation_run_code_as_another_role(inbox, warehouse, login, tmp_path,
                                                                         db) -> None:
    """Defect 1: a view over a function doing COPY ... TO PROGRAM put in place of a staging table."""
    day = "2025-02-03"
    harness.write_day(inbox, "01", day, [harness.good("X-1", "01", day)])
    steps = harness.Steps(warehouse, "01", day)
    staged = steps.stage(steps.extract())
    table = staged["staging"]["table"]
    marker = tmp_path / "escalated"
    attacker = login("tthc_loader")
    with psycopg.connect(attacker, autocommit=True) as conn:
        conn.execute(sql.SQL(
            "create function staging.evil() returns int language plpgsql as $f$ begin "
            "execute format('copy (select 1) to program %L', 'touch {}'); return 1; end $f$"
        ).format(sql.SQL(str(marker).replace("'", ""))))
        conn.execute(sql.SQL("drop table staging.{}").format(sql.Identifier(table)))
        conn.execute(sql.SQL("create view staging.{} as select staging.evil() as dossier_code")
                     .format(sql.Identifier(table)))
    with pytest.raises(RuntimeError, match="not a plain table owned by tthc_loader"):
        steps.validate(staged)
    with warehouse.connect() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("select * from staging.{}").format(sql.Identifier(table)))  # as the loader
    assert not marker.exists()
    with psycopg.connect(attacker, autocommit=True) as conn:  # the same view made as tthc_loader
        conn.execute(sql.SQL("drop view staging.{}").format(sql.Identifier(table)))
        conn.execute("set role tthc_loader")
        conn.execute(sql.SQL("create view staging.{} as select 1 as x").format(sql.Identifier(table)))
    with warehouse.connect() as conn, pytest.raises(RuntimeError, match="kind 'v'"):
        gate.check_staging_table(conn, table)
    assert harness.batch_row(db, steps.batch_id)["status"] == "failed"


def test_a_retry_after_the_publish_committed_is_a_no_op_success(inbox, warehouse, db, monkeypatch) -> None:
    """Defects 2 and 7: the connection dies right after the commit; the retry succeeds, counts kept."""
    day = "2025-02-04"
    harness.write_day(inbox, "01", day, [harness.good(f"R-{i}", "01", day) for i in range(5)])
    steps = harness.Steps(warehouse, "01", day)
    validated = steps.validate(steps.stage(steps.extract()))
    unlock = claims._unlock

    def server_gone(conn, batch_id):  # the commit went through; the connection drops after it
        unlock(conn, batch_id)
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(claims, "_unlock", server_gone)
    with pytest.raises(psycopg.OperationalError):
        steps.publish(validated)
    row = harness.batch_row(db, steps.batch_id)
    assert (row["status"], row["rows_published"]) == ("published", 5)  # not 'running', not 'failed'
    monkeypatch.setattr(claims, "_unlock", unlock)
    result = steps.publish(validated)  # Airflow's retry of the same task
    assert result["rows_published"] == 5 and result["months_touched"] == ["2025-02-01"]
    assert harness.core_codes(db, "R-") == {f"R-{i}" for i in range(5)}


def test_a_rerun_records_the_rows_it_published(inbox, warehouse, db) -> None:
    """Defect 7: newest-wins leaves equal rows alone, but the rerun's batch still holds them."""
    day = "2025-02-05"
    harness.write_day(inbox, "01", day, [harness.good(f"N-{i}", "01", day) for i in range(4)])
    steps = harness.Steps(warehouse, "01", day)
    assert steps.all()["rows_published"] == 4
    steps.run_id = "manual__rerun"
    assert steps.all()["rows_published"] == 4
    assert harness.batch_row(db, steps.batch_id)["rows_published"] == 4


def test_a_run_that_lost_its_batch_to_another_run_publishes_nothing_of_it(inbox, warehouse, db) -> None:
    """Defect 2: A validates, B stages the same batch again (with a bad fee), A publishes."""
    day = "2025-02-06"
    harness.write_day(inbox, "01", day, [harness.good("B-1", "01", day)])
    run_a = harness.Steps(warehouse, "01", day, "manual__a")
    validated_a = run_a.validate(run_a.stage(run_a.extract()))
    harness.write_day(inbox, "01", day, [harness.good("B-1", "01", day),
                                         harness.good("B-NEG", "01", day, fee_amount="-500000")])
    run_b = harness.Steps(warehouse, "01", day, "manual__b")
    staged_b = run_b.stage(run_b.extract())
    with pytest.raises(claims.BatchSuperseded, match="staged again"):
        run_a.publish(validated_a)
    with pytest.raises(claims.NotValidated):  # B's own table, not validated yet
        run_b.publish({**staged_b, "quality": {}})
    assert harness.core_codes(db, "B-") == set()
    assert run_b.publish(run_b.validate(staged_b))["rows_published"] == 1
    assert harness.core_codes(db, "B-") == {"B-1"}
    assert "B-NEG" in harness.quarantine(db, "B-NEG")
    assert harness.batch_row(db, run_b.batch_id)["status"] == "published"


def test_the_loader_has_only_the_privileges_the_pipeline_uses(warehouse, login, warehouse_url) -> None:
    """Defect 6: no DELETE on core, ops.batch or ops.alert; no UPDATE on targets or marts."""
    denied = ["delete from core.fact_dossier", "delete from ops.batch", "delete from ops.alert",
              "update ref.target set value_pct = 0", "update mart.monthly_compliance set month = month",
              "delete from ref.province", "insert into ref.setting (name) values ('x')",
              "update ops.alert set acknowledged = true"]
    for statement in denied:
        with warehouse.connect() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    with warehouse.connect() as conn:  # what the mart rebuild and bookkeeping do
        conn.execute("delete from mart.monthly_compliance where month = '1900-01-01'")
        conn.execute("delete from ops.dq_result where batch_id = 'none'")
        conn.execute("delete from quarantine.rejected_row where batch_id = 'none'")
        conn.rollback()
    stranger = login()
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(stranger).close()
    psycopg.connect(login("bi_reader")).close()


def test_malformed_lines_and_foreign_amounts_are_quarantined_and_the_rest_published(inbox, warehouse,
                                                                                  db) -> None:
    """Defects 3 and 4: extra field, NUL byte, over-long key, another locale's amount, a cut last line."""
    day = "2025-02-07"
    rows = [harness.good("M-OK-1", "01", day), harness.good("M-EXTRA", "01", day),
            harness.good("M-NUL", "01", day, procedure_name="a\x00b"),
            harness.good("M-" + "L" * 300, "01", day), harness.good("M-EN", "01", day, fee_amount="1,234.5"),
            harness.good("M-OK-2", "01", day), harness.good("M-CUT", "01", day, fee_amount="150.000")]
    header = [*(h for h in harness.HEADER if h != "fee_amount"), "procedure_name", "fee_amount"]
    path = harness.write_day(inbox, "01", day, rows, header=header)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2] + ",surplus"  # M-EXTRA: one field too many
    path.write_text("\n".join(lines).rstrip("\n")[:-4], encoding="utf-8")  # "150.000" cut to "150"
    steps = harness.Steps(warehouse, "01", day)
    assert steps.all()["rows_published"] == 2
    assert harness.core_codes(db, "M-") == {"M-OK-1", "M-OK-2"}
    reasons = harness.quarantine_of(db, steps.batch_id)
    assert "expected 12 fields, saw 13" in reasons[3] and "ends inside this record" in reasons[8]
    assert "NUL byte" in reasons[4] and "value_lengths" in reasons[5] and "1.234.567" in reasons[6]
    row = harness.batch_row(db, steps.batch_id)
    assert (row["rows_read"], row["rows_quarantined"], row["rows_published"]) == (7, 5, 2)


def test_a_dossier_may_not_change_province(inbox, warehouse, db) -> None:
    """Defect 3: a key seen in another province is quarantined naming both; core keeps the first."""
    day = "2025-02-10"
    harness.write_day(inbox, "01", day, [harness.good("P-1", "01", day)])
    harness.Steps(warehouse, "01", day).all()
    later = harness.good("P-1", "79", day, source_updated_at=f"{day} 12:00:00", status="10")
    harness.write_day(inbox, "79", day, [later, harness.good("P-2", "79", day)])
    steps = harness.Steps(warehouse, "79", day)
    assert steps.all()["rows_published"] == 1
    province = db.execute("select province_code, status from core.fact_dossier where dossier_code = 'P-1'")
    assert province.fetchone() == ("01", 4)
    reason = harness.quarantine_of(db, steps.batch_id)[2]
    assert "dossier_code P-1 is province 01 in core; this feed is province 79" in reason
    assert harness.batch_row(db, steps.batch_id)["rows_quarantined"] == 1


def test_moved_keys_leave_staging_in_one_pass(warehouse, db) -> None:
    """The rows leave staging and reach quarantine in one statement that reads the batch once
    (two joins of the batch with core took 3.9-5.7 s for 1M staged rows against 5M facts)."""
    from tthc_warehouse.contract import DOSSIER
    from tthc_warehouse.load.staging import create_staging_table
    from tthc_warehouse.quality import keys

    table = f"moved_{uuid.uuid4().hex[:8]}"
    create_staging_table(db, table, DOSSIER)
    try:
        plan = "\n".join(row[0] for row in db.execute(
            sql.SQL("explain {}").format(keys.moved_keys_statement(table, "dossier")),
            {"batch": "b", "entity": "dossier", "exp": keys.EXPECTATION}))
        assert plan.count(f"Scan on {table} ") == 1, plan
        assert keys.moved_keys_statement(table, "index766_snapshot") is None
    finally:
        db.rollback()


def test_the_pipeline_login_made_by_migrate_is_a_plain_member_of_the_loader(warehouse_url) -> None:
    """Defect 1: the compose stack's tasks logged in as the server's superuser."""
    from tthc_warehouse.db import migrate

    name = f"tthc_test_etl_{uuid.uuid4().hex[:8]}"
    try:
        migrate.ensure_pipeline_login(warehouse_url, name, "s3cret")
        migrate.ensure_pipeline_login(warehouse_url, name, "s3cret")  # idempotent
        with psycopg.connect(warehouse_url) as conn:
            row = conn.execute("select rolsuper, rolcreaterole, rolcreatedb, pg_has_role(%s, 'tthc_loader', "
                               "'member'), pg_has_role(%s, 'tthc_owner', 'member') from pg_roles "
                               "where rolname = %s", (name, name, name)).fetchone()
        assert row == (False, False, False, True, False)
    finally:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
