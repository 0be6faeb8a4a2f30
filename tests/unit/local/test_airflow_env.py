"""The local Airflow environment: Vietnam time by default; `make up`'s settings for standalone."""

from __future__ import annotations

import json
import os
from zoneinfo import ZoneInfo

import pytest

from tthc_warehouse.local import airflow_env, airflow_up

pytestmark = pytest.mark.unit


def test_naive_datetimes_mean_vietnam_time_by_default():
    value = airflow_env.defaults()["AIRFLOW__CORE__DEFAULT_TIMEZONE"]
    assert value == "Asia/Ho_Chi_Minh" and ZoneInfo(value)


def test_airflow_reads_the_default_timezone():
    from airflow import settings

    assert settings.TIMEZONE.name == "Asia/Ho_Chi_Minh"  # conftest configured it before import


def test_a_configured_timezone_is_kept(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__DEFAULT_TIMEZONE", "UTC")
    airflow_env.configure()
    assert os.environ["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "UTC"


def test_make_up_configures_standalone_for_its_port(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    for key in ("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "AIRFLOW__API__PORT",
                "AIRFLOW__API__HOST", "AIRFLOW__API__BASE_URL",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"):
        monkeypatch.delenv(key, raising=False)  # configure() sets them; restored afterwards
    monkeypatch.setenv("PATH", os.environ["PATH"])
    passwords = airflow_up.configure(8123)
    assert passwords == tmp_path / airflow_up.PASSWORDS_FILE
    assert (os.environ["AIRFLOW__API__PORT"], os.environ["AIRFLOW__API__BASE_URL"]) == (
        "8123", "http://localhost:8123")
    assert os.environ["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "True"
    assert os.environ["PATH"].split(os.pathsep)[0] == os.path.dirname(airflow_up.AIRFLOW)


def test_the_banner_gives_url_and_login(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgresql://etl:pw@db.example/tthc")
    passwords = tmp_path / airflow_up.PASSWORDS_FILE
    passwords.write_text(json.dumps({"admin": "s3cret"}))
    text = airflow_up.banner(8080, passwords, feeds_served=False)
    assert "http://localhost:8080" in text and "admin / s3cret" in text
    assert "pw@" not in text and "Ctrl-C stops everything" in text


def test_two_commands_at_once_on_a_fresh_install_migrate_once(tmp_path, monkeypatch) -> None:
    """The second waits for the first's `airflow db migrate` instead of running its own beside it."""
    import threading
    import time

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    calls = []

    def slow_migrate() -> None:
        calls.append(threading.get_ident())
        time.sleep(0.3)

    monkeypatch.setattr(airflow_env, "_migrate", slow_migrate)
    threads = [threading.Thread(target=airflow_env.ensure_metadata_db) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(calls) == 1 and (tmp_path / "airflow" / ".migrated").exists()
