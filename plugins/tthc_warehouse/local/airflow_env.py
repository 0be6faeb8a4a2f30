"""The local Airflow environment used by `make demo`, the CLI and the tests.

Airflow reads its configuration when first imported, so ``configure()`` must run before any
``airflow`` import. Values already in the environment win: a configured deployment is never
overridden.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path

from tthc_warehouse.orchestration.preload import MODULES
from tthc_warehouse.paths import PROJECT_ROOT, data_dir

# The sources write Vietnam wall-clock time and the nightly DAG is scheduled in it, so naive
# datetimes given to Airflow (start_date, `airflow backfill create --from-date`) mean Vietnam time.
# Airflow 3 has no server-side default for the UI's time zone ([webserver] default_ui_timezone was
# removed): the UI shows the browser's zone, or the one picked in its user menu.
TIMEZONE = "Asia/Ho_Chi_Minh"
WORKER_NAME_VAR = "TTHC_AIRFLOW_WORKER_NAME"


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", data_dir() / "airflow"))


def defaults() -> dict[str, str]:
    home = airflow_home()
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        # LocalExecutor workers start from a forkserver that has imported these once, and every task
        # process forks from a worker: no validate task pays GX's import (~6 s of CPU) again.
        "AIRFLOW__CORE__MP_START_METHOD": "forkserver",
        "AIRFLOW__CORE__MP_FORKSERVER_PRELOAD": ",".join(MODULES),
        "GX_ANALYTICS_ENABLED": "false",
        "NO_COLOR": "1",
    }


def worker_hostname() -> str:
    """``[core] hostname_callable`` for Celery workers sharing one machine: the worker's own name.

    Task instances record it in their ``hostname`` column, so two workers on one host can be told
    apart; any other process gets the usual fully qualified host name.
    """
    return os.environ.get(WORKER_NAME_VAR) or socket.getfqdn()


def configure() -> Path:
    """Set Airflow's environment defaults for a local run; return AIRFLOW_HOME."""
    for key, value in defaults().items():
        os.environ.setdefault(key, value)
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home


def ensure_metadata_db() -> None:
    """Create or upgrade Airflow's metadata database (a local SQLite file by default).

    Two local commands started at once on a fresh install would both run `airflow db migrate`
    on one SQLite file and one would crash: the first takes a file lock, the second waits for it
    and then finds the database migrated.
    """
    configure()
    marker = airflow_home() / ".migrated"
    if marker.exists():
        return
    with (airflow_home() / ".migrate.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            _migrate()
            marker.write_text("ok\n")


def _migrate() -> None:
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True,
                            env=os.environ.copy(), timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
