"""The warehouse as a resource: built once by the caller (a DAG task, the CLI, a test), passed in.

Production code finds the warehouse only through the Airflow connection ``warehouse``, looked up
by Airflow itself, so ``AIRFLOW_CONN_WAREHOUSE`` (URI or JSON) and any secrets backend both work.
When it is missing the caller fails at once, naming that variable: nothing here ever starts a
database. Only the local entry points (``tthc_warehouse.local``) may start the embedded server,
and they set ``AIRFLOW_CONN_WAREHOUSE`` before anything else runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg

WAREHOUSE_CONN_ID = "warehouse"
ENV_VAR = "AIRFLOW_CONN_WAREHOUSE"
LOADER_ROLE = "tthc_loader"
OWNER_ROLE = "tthc_owner"
# Extras that are Airflow's own, not libpq parameters.
_AIRFLOW_EXTRAS = {"cursor", "log_sql", "sqlalchemy_scheme", "sqlalchemy_options", "enable_log_db_messages"}


class WarehouseNotConfigured(RuntimeError):
    """No ``warehouse`` connection: a deployment error, never fixed by falling back elsewhere."""

    def __init__(self, detail: str = ""):
        super().__init__(
            f"the Airflow connection {WAREHOUSE_CONN_ID!r} is not defined{detail}: set {ENV_VAR} "
            "(e.g. postgresql://etl_user:***@host:5432/tthc) or add it to the secrets backend"
        )


@dataclass(frozen=True)
class Warehouse:
    """A PostgreSQL warehouse reached with one login; connections act as ``role``."""

    url: str  # libpq URL of the login; never logged (``redacted`` is)
    role: str | None = LOADER_ROLE

    def __repr__(self) -> str:
        return f"Warehouse({redact(self.url)!r}, role={self.role!r})"

    @classmethod
    def from_airflow(cls, conn_id: str = WAREHOUSE_CONN_ID, role: str | None = LOADER_ROLE) -> Warehouse:
        """The warehouse of the Airflow connection ``conn_id`` (environment or secrets backend)."""
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            connection = BaseHook.get_connection(conn_id)
        except AirflowNotFoundException as exc:
            raise WarehouseNotConfigured() from exc
        return cls(url_from_connection(connection), role)

    @classmethod
    def from_env(cls, role: str | None = LOADER_ROLE) -> Warehouse:
        """The warehouse of ``AIRFLOW_CONN_WAREHOUSE``, for tools that run without Airflow."""
        value = os.environ.get(ENV_VAR)
        if not value:
            raise WarehouseNotConfigured()
        return cls(normalise_url(value), role)

    def as_role(self, role: str | None) -> Warehouse:
        return Warehouse(self.url, role)

    @property
    def redacted(self) -> str:
        return redact(self.url)

    def role_url(self) -> str:
        """The libpq URL whose sessions start as ``role`` (``options=-c role=...``)."""
        return with_role(self.url, self.role)

    def sqlalchemy_url(self) -> str:
        """The same, for SQLAlchemy with psycopg 3 (GX, Alembic)."""
        return self.role_url().replace("postgresql://", "postgresql+psycopg://", 1)

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A psycopg connection acting as the warehouse's role from its first statement."""
        with psycopg.connect(self.role_url(), autocommit=autocommit,
                             application_name="tthc_warehouse") as conn:
            yield conn


def with_role(url: str, role: str | None) -> str:
    """``url`` whose sessions start as ``role``: one mechanism for psycopg, GX and Alembic alike.

    A session started this way runs every statement as ``role``, so a staging object that calls a
    function cannot make a query run with the login's (possibly wider) rights.
    """
    if not role:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"{query.get('options', '')} -c role={role}".strip()
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def url_from_connection(connection: Any) -> str:
    """An Airflow ``Connection`` -> a libpq URL (values quoted; Airflow-only extras dropped)."""
    user = quote(connection.login or "", safe="")
    password = connection.password
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    port = f":{connection.port}" if connection.port else ""
    extras = {k: str(v) for k, v in (connection.extra_dejson or {}).items() if k not in _AIRFLOW_EXTRAS}
    query = urlencode(extras, quote_via=quote)
    host = connection.host or "127.0.0.1"
    return urlunsplit(("postgresql", f"{auth}{host}{port}", f"/{connection.schema or ''}", query, ""))


def _from_json(text: str) -> str:
    from types import SimpleNamespace

    data = json.loads(text)
    extra = data.get("extra") or {}
    return url_from_connection(SimpleNamespace(
        login=data.get("login"), password=data.get("password"), host=data.get("host"),
        port=data.get("port"), schema=data.get("schema"),
        extra_dejson=json.loads(extra) if isinstance(extra, str) else extra))


def normalise_url(value: str) -> str:
    """Airflow connection (URI or JSON) -> a libpq URL psycopg accepts."""
    value = value.strip()
    if value.startswith("{"):
        return _from_json(value)
    parts = urlsplit(value)
    known = ("postgres", "postgresql", "postgresql+psycopg")
    scheme = "postgresql" if parts.scheme in known else parts.scheme
    # Airflow URIs may carry extras as query args that libpq does not know; keep only libpq ones.
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in _AIRFLOW_EXTRAS],
                      quote_via=quote)
    return urlunsplit((scheme, parts.netloc, parts.path, query, ""))


def redact(value: str) -> str:
    """The URL with its password hidden, for logs and messages."""
    parts = urlsplit(value)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return value
