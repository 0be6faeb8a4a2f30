"""Migrations and roles on a real PostgreSQL: idempotent schema, least-privilege roles."""

from __future__ import annotations

import psycopg
import pytest

from tthc_warehouse.db import migrate

pytestmark = pytest.mark.integration

SCHEMAS = {"ref", "staging", "quarantine", "core", "mart", "ops"}


def schema_fingerprint(conn: psycopg.Connection) -> list[tuple]:
    """Columns with their comments, and view definitions: what migrating must not change.
    Ends its transaction so that it holds no lock a migration would wait for."""
    rows = conn.execute(
        "select c.table_schema, c.table_name, c.column_name, c.data_type, col_description("
        "format('%%I.%%I', c.table_schema, c.table_name)::regclass, c.ordinal_position), "
        "pg_get_viewdef(format('%%I.%%I', c.table_schema, c.table_name)::regclass) "
        "from information_schema.columns as c join information_schema.tables as t "
        "using (table_schema, table_name) "
        "where c.table_schema = any(%s) and t.table_type in ('BASE TABLE', 'VIEW') "
        "order by 1, 2, 3",
        (list(SCHEMAS),),
    ).fetchall()
    conn.rollback()
    return rows


def test_schemas_exist_and_migrating_again_is_a_no_op(warehouse_url, db) -> None:
    names = {r[0] for r in db.execute("select nspname from pg_namespace").fetchall()}
    assert names >= SCHEMAS
    before = schema_fingerprint(db), migrate.current(warehouse_url)
    migrate.upgrade(warehouse_url)
    assert (schema_fingerprint(db), migrate.current(warehouse_url)) == before
    assert before[1] is not None


def as_role(conn: psycopg.Connection, role: str, statement: str):
    conn.execute(f"set role {role}")
    try:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []
    finally:
        conn.rollback()
        conn.execute("reset role")


@pytest.mark.parametrize("table", ["mart.monthly_compliance", "mart.monthly_compliance_by_2025_unit"])
def test_bi_reader_reads_marts(db, table) -> None:
    # A denied read raises; a granted one counts the same rows the owner sees.
    owner_count = db.execute(f"select count(*) from {table}").fetchone()[0]
    assert as_role(db, "bi_reader", f"select count(*) from {table}") == [(owner_count,)]


@pytest.mark.parametrize(
    "statement",
    [
        "select * from core.fact_dossier limit 1",
        "select * from ops.batch limit 1",
        "select * from quarantine.rejected_row limit 1",
        "select * from ref.province limit 1",
        "create table staging.x (a int)",
        "delete from mart.monthly_compliance",
        "insert into mart.monthly_compliance (province_code, province_name, month, dossiers_received, "
        "digitized_766, synced_received) values ('00', 'x', '2024-01-01', 0, 0, 0)",
    ],
)
def test_bi_reader_can_do_nothing_else(db, statement) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_role(db, "bi_reader", statement)


def test_loader_writes_data_but_cannot_change_ddl(db) -> None:
    assert as_role(db, "tthc_loader", "delete from mart.monthly_compliance where false returning 1") == []
    as_role(db, "tthc_loader", "create unlogged table staging.loader_probe (a int)")
    for statement in (
        "alter table core.fact_dossier add column x int",
        "create table core.x (a int)",
        "drop table mart.monthly_compliance",
    ):
        with pytest.raises((psycopg.errors.InsufficientPrivilege,)):
            as_role(db, "tthc_loader", statement)
