"""Migrations and roles on a real PostgreSQL: idempotent schema, least-privilege roles."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import migrated_warehouse
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


def test_every_migration_downgrades_and_the_schema_comes_back(server_url) -> None:
    """Down one revision at a time to an empty database (each downgrade as the owner role, the SQL
    objects dropped before the tables they read), then up again to the same schema."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, pool

    config = migrate.alembic_config()
    revisions = [s.revision for s in ScriptDirectory.from_config(config).walk_revisions()]
    with migrated_warehouse(server_url, "tthc_downgrade") as url, psycopg.connect(url) as conn:
        before = schema_fingerprint(conn)
        engine = create_engine(migrate.engine_url(url), poolclass=pool.NullPool)
        for target in [*revisions[1:], "base"]:  # newest first
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, target)
            assert migrate.current(url) == (None if target == "base" else target)
        engine.dispose()
        assert not schema_fingerprint(conn)
        migrate.upgrade(url)
        assert schema_fingerprint(conn) == before


def test_the_owner_role_owns_every_object_the_migrations_create(server_url) -> None:
    """Migrations run their statements as tthc_owner (db/migration.as_owner), never as the login
    that migrates, so the owner can change every table and view later. On a database of its
    own: the pipeline's runs create staging tables as the loader."""
    with migrated_warehouse(server_url, "tthc_owners") as url, psycopg.connect(url) as conn:
        relations = conn.execute(
            "select c.relkind, c.relname, pg_get_userbyid(c.relowner) from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname = any(%s) and c.relkind in ('r', 'v', 'i', 'S')",
            (list(SCHEMAS),),
        ).fetchall()
        functions = conn.execute(
            "select p.proname, pg_get_userbyid(p.proowner) from pg_proc as p "
            "join pg_namespace as n on n.oid = p.pronamespace where n.nspname = any(%s)",
            (list(SCHEMAS),),
        ).fetchall()
    assert {r[0] for r in relations} >= {"r", "v", "i"} and functions
    assert [r for r in relations if r[-1] != "tthc_owner"] == []
    assert [f for f in functions if f[-1] != "tthc_owner"] == []


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
