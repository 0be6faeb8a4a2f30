"""The embedded warehouse: a real PostgreSQL in a project folder, started when none is configured."""

from __future__ import annotations

import psycopg
import pytest

from tthc_warehouse.db import warehouse
from tthc_warehouse.local import embedded

pytestmark = pytest.mark.integration


def test_starts_keeps_data_across_restarts_and_is_exported(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TTHC_EMBEDDED_PORT", "55439")
    root = tmp_path / "pg"
    server = embedded.ensure_running(root)
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("create table kept (a int)")
            conn.execute("insert into kept values (42)")
        embedded.stop(root)
        again = embedded.ensure_running(root)  # stopped -> started again, same data, same port
        assert again.port == server.port
        with psycopg.connect(again.url()) as conn:
            assert conn.execute("select a from kept").fetchone() == (42,)
    finally:
        embedded.stop(root)


def test_a_configured_warehouse_is_always_used(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u:secret@db.example:5433/wh?sslmode=require")
    assert warehouse.url() == "postgresql://u:secret@db.example:5433/wh?sslmode=require"
    assert "secret" not in warehouse.redact(warehouse.url())
