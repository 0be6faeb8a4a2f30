"""Bring the warehouse schema to the newest Alembic revision and (re)apply the SQL objects."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool

from tthc_warehouse.db import objects
from tthc_warehouse.paths import SQL_DIR


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(SQL_DIR / "migrations"))
    return config


def engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every pending migration, then the views, functions and docs of sql/ (objects.py),
    in one transaction; a second call changes nothing. The objects are written for the newest
    schema, so an upgrade to an older revision leaves them out."""
    engine = create_engine(engine_url(url), poolclass=pool.NullPool)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if revision == "head":
            objects.apply(connection.connection.driver_connection)
    engine.dispose()


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(engine_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


def ensure_pipeline_login(url: str, login: str, password: str | None) -> None:
    """The pipeline's login: not a superuser, no CREATEDB/CREATEROLE, a member of tthc_loader only.

    Run by the owner login after the migrations (``tthc migrate`` with ``TTHC_PIPELINE_LOGIN``),
    so the login the tasks use can never do more than the loader role.
    """
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (login,)).fetchone()
        verb = sql.SQL("alter" if exists else "create")
        conn.execute(sql.SQL("{} role {} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls "
                             "password {}").format(verb, sql.Identifier(login), sql.Literal(password)))
        conn.execute(sql.SQL("grant tthc_loader to {}").format(sql.Identifier(login)))
