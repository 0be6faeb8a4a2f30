"""Reaching the warehouse: one connection id, resolved the same way by DAGs, the CLI and tests.

Order: the Airflow connection ``warehouse`` (``AIRFLOW_CONN_WAREHOUSE``, URI or JSON form, or any
secrets backend when running inside a task); otherwise the project's embedded PostgreSQL, which is
started on demand and then exported as ``AIRFLOW_CONN_WAREHOUSE`` so that Airflow tasks use it too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

WAREHOUSE_CONN_ID = "warehouse"
ENV_VAR = "AIRFLOW_CONN_WAREHOUSE"
LOADER_ROLE = "tthc_loader"


def _from_json(text: str) -> str:
    conn = json.loads(text)
    user = quote(conn.get("login") or "", safe="")
    password = conn.get("password")
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    port = f":{conn['port']}" if conn.get("port") else ""
    return f"postgresql://{auth}{conn.get('host') or '127.0.0.1'}{port}/{conn.get('schema') or ''}"


def normalise_url(value: str) -> str:
    """Airflow connection (URI or JSON) -> a libpq URL psycopg accepts."""
    value = value.strip()
    if value.startswith("{"):
        return _from_json(value)
    parts = urlsplit(value)
    scheme = (
        "postgresql"
        if parts.scheme in ("postgres", "postgresql", "postgresql+psycopg")
        else parts.scheme
    )
    # Airflow URIs may carry extras as query args that libpq does not know; keep only libpq ones.
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


def configured_url() -> str | None:
    value = os.environ.get(ENV_VAR)
    return normalise_url(value) if value else None


def url() -> str:
    """The warehouse URL; starts the embedded server when nothing is configured."""
    found = configured_url()
    if found:
        return found
    from tthc_warehouse.local import embedded

    server = embedded.ensure_running()
    os.environ[ENV_VAR] = server.url()
    return server.url()


def redact(value: str) -> str:
    """The URL with its password hidden, for logs and messages."""
    parts = urlsplit(value)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return value


@contextmanager
def connect(
    role: str | None = LOADER_ROLE, *, autocommit: bool = False
) -> Iterator[psycopg.Connection]:
    """A psycopg connection acting as ``role`` (the loader by default) when that role exists."""
    with psycopg.connect(url(), autocommit=autocommit, application_name="tthc_warehouse") as conn:
        if role:
            _set_role(conn, role)
        yield conn


def _set_role(conn: psycopg.Connection, role: str) -> None:
    exists = conn.execute(
        "select pg_has_role(current_user, oid, 'MEMBER') from pg_roles where rolname = %s", (role,)
    ).fetchone()
    if exists and exists[0]:
        conn.execute(psycopg.sql.SQL("set role {}").format(psycopg.sql.Identifier(role)))
    if not conn.autocommit:
        conn.commit()
