"""The warehouse resource: connection forms, the loader role on every session, no fallback."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from tthc_warehouse.db.warehouse import (
    Warehouse,
    WarehouseNotConfigured,
    normalise_url,
    redact,
    url_from_connection,
    with_role,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://u:secret@db.example:5433/wh?sslmode=require",
     "postgresql://u:secret@db.example:5433/wh?sslmode=require"),
    ("postgresql+psycopg://u@h/wh", "postgresql://u@h/wh"),
    ("postgresql://u@h/wh?sslmode=require&cursor=dictcursor", "postgresql://u@h/wh?sslmode=require"),
    ('{"conn_type": "postgres", "login": "etl", "password": "p@ss w", "host": "db", "port": 5432,'
     ' "schema": "tthc", "extra": {"sslmode": "verify-full"}}',
     "postgresql://etl:p%40ss%20w@db:5432/tthc?sslmode=verify-full"),
])
def test_normalise_url_accepts_airflow_uri_and_json_forms(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_a_connection_object_becomes_a_quoted_libpq_url() -> None:
    conn = SimpleNamespace(login="etl user", password="a/b:c@d", host="db", port=5433, schema="tthc",
                           extra_dejson={"sslmode": "require", "cursor": "realdictcursor"})
    assert url_from_connection(conn) == "postgresql://etl%20user:a%2Fb%3Ac%40d@db:5433/tthc?sslmode=require"


def test_every_session_starts_as_the_role_and_keeps_given_options() -> None:
    url = with_role("postgresql://u@h/wh?options=-c%20statement_timeout%3D5000", "tthc_loader")
    assert parse_qs(urlsplit(url).query)["options"] == ["-c statement_timeout=5000 -c role=tthc_loader"]
    assert with_role("postgresql://u@h/wh", None) == "postgresql://u@h/wh"
    assert Warehouse("postgresql://u@h/wh").sqlalchemy_url().startswith("postgresql+psycopg://u@h/wh?options=")


def test_the_password_never_shows() -> None:
    warehouse = Warehouse("postgresql://u:secret@h/wh")
    assert "secret" not in repr(warehouse) and "secret" not in warehouse.redacted
    assert redact("postgresql://u:secret@h/wh") == "postgresql://u:***@h/wh"


def test_from_env_without_the_variable_names_it(monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    with pytest.raises(WarehouseNotConfigured, match="AIRFLOW_CONN_WAREHOUSE"):
        Warehouse.from_env()


def test_a_pipeline_task_without_the_connection_fails_at_once_and_starts_no_server(tmp_path) -> None:
    """What a misconfigured worker does: the task's resource lookup fails; nothing local starts."""
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_CONN_WAREHOUSE"}
    env.update(TTHC_DATA_DIR=str(tmp_path / "data"), AIRFLOW_HOME=str(tmp_path / "airflow"))
    script = (
        "import sys\n"
        "from tthc_warehouse.orchestration import resources\n"
        "from tthc_warehouse.db.warehouse import WarehouseNotConfigured\n"
        "try:\n"
        "    resources.warehouse()\n"
        "except WarehouseNotConfigured as exc:\n"
        "    print(exc)\n"
        "assert 'tthc_warehouse.local.embedded' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "AIRFLOW_CONN_WAREHOUSE" in result.stdout
    assert not (tmp_path / "data" / "postgres").exists()
