"""The embedded warehouse: a real PostgreSQL in a project folder, started when none is configured."""

from __future__ import annotations

import os

import psycopg
import pytest

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


def test_a_configured_warehouse_is_always_used(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TTHC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u:secret@db.example:5433/wh?sslmode=require")
    assert embedded.ensure_warehouse() == "postgresql://u:secret@db.example:5433/wh?sslmode=require"
    assert not (tmp_path / "postgres").exists()  # no server started


def test_the_local_entry_point_starts_and_exports_the_embedded_server(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TTHC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TTHC_EMBEDDED_PORT", "55440")
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    try:
        url = embedded.ensure_warehouse()
        assert os.environ["AIRFLOW_CONN_WAREHOUSE"] == url
        with psycopg.connect(url) as conn:
            assert conn.execute("select current_database()").fetchone() == ("tthc",)
    finally:
        embedded.stop(tmp_path / "postgres")
