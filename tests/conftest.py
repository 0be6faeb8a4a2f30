"""Test session setup: a throwaway warehouse database and a private Airflow home.

The warehouse is a real PostgreSQL: the server on 127.0.0.1:5432 when it answers (or the one in
``TTHC_TEST_SERVER_URL``), otherwise the project's embedded server. Either way the session creates
its own database and drops it at the end. Airflow gets a temporary home with a SQLite metadata
database, configured before anything imports Airflow.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="tthc-tests-"))
os.environ["AIRFLOW_HOME"] = str(_SESSION_DIR / "airflow")
os.environ["TTHC_DATA_DIR"] = str(_SESSION_DIR / "data")
os.environ.pop("AIRFLOW_CONN_WAREHOUSE", None)  # never touch a configured warehouse from tests
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from tthc_warehouse.local import airflow_env  # noqa: E402  after the environment above

airflow_env.configure()

# The fault-injection suite runs on its own (make chaos): minutes of kills and bad inputs.
collect_ignore = [] if os.environ.get("TTHC_CHAOS") else ["chaos"]

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


EMBEDDED_ROOT = _SESSION_DIR / "embedded-pg"


def _server_url() -> str:
    """Maintenance-database URL of a reachable server: local first, else the embedded one."""
    candidate = os.environ.get("TTHC_TEST_SERVER_URL", DEFAULT_SERVER)
    try:
        with psycopg.connect(candidate, connect_timeout=3):
            return candidate
    except psycopg.OperationalError:
        from tthc_warehouse.local import embedded

        return embedded.ensure_running(EMBEDDED_ROOT).url("postgres")


def pytest_sessionfinish(session, exitstatus) -> None:
    """Stop the embedded server if this session started one, and remove the session's files."""
    if (EMBEDDED_ROOT / "pgdata").exists():
        from tthc_warehouse.local import embedded

        embedded.stop(EMBEDDED_ROOT)
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


def _with_database(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def server_url() -> str:
    return _server_url()


@contextlib.contextmanager
def migrated_warehouse(server_url: str, prefix: str):
    """A migrated warehouse with its reference data, in a database of its own, dropped afterwards."""
    from tthc_warehouse.db import migrate
    from tthc_warehouse.reference import loader

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = _with_database(server_url, name)
    try:
        migrate.upgrade(url)
        with psycopg.connect(url) as conn:
            loader.load_reference(conn)
            conn.commit()
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def warehouse_url(server_url: str):
    """The session's warehouse, also exported as the Airflow connection the DAGs use."""
    with migrated_warehouse(server_url, "tthc_test") as url:
        os.environ["AIRFLOW_CONN_WAREHOUSE"] = url
        yield url
        os.environ.pop("AIRFLOW_CONN_WAREHOUSE", None)


@pytest.fixture
def db(warehouse_url: str):
    """A connection to the session's warehouse (superuser; tests check roles explicitly)."""
    with psycopg.connect(warehouse_url) as conn:
        yield conn


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database for dag.test() runs, migrated once per session."""
    airflow_env.ensure_metadata_db()
    return airflow_env.airflow_home()


CHROMIUM = "/usr/bin/chromium"
# As this machine needs them: no sandbox as root, and no background calls to a closed network.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium; its absence fails the test (CI installs it, see .ci/run)."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        pytest.fail(f"Chromium is not installed ({CHROMIUM} missing): install Debian's package with "
                    "`apt-get update && apt-get install -y chromium` (.ci/run does this)", pytrace=False)
    return path



# A skip is a test that did not run: allowed only where listed here, with the reason it may happen.
ALLOWED_SKIPS = {
    "tests/integration/test_celery.py": "no Redis on 127.0.0.1:6379 and redis-server is not installed",
}
_SESSION: list[pytest.Session] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _SESSION.append(session)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Fail the run on a skip that is not in ALLOWED_SKIPS: a silent skip hides a broken test."""
    skipped = [r.nodeid for r in terminalreporter.stats.get("skipped", []) if hasattr(r, "nodeid")]
    unexpected = [n for n in skipped if n.split("::")[0] not in ALLOWED_SKIPS]
    if unexpected and _SESSION and _SESSION[0].exitstatus == 0:
        terminalreporter.write_line(f"FAILED: {len(unexpected)} skip(s) not in ALLOWED_SKIPS "
                                    f"(tests/conftest.py): {', '.join(unexpected)}", red=True)
        _SESSION[0].exitstatus = pytest.ExitCode.TESTS_FAILED
