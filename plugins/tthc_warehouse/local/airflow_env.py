"""The local Airflow environment used by `make demo`, the CLI and the tests.

Airflow reads its configuration when first imported, so ``configure()`` must run before any
``airflow`` import. Values already in the environment win: a configured deployment is never
overridden.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tthc_warehouse.paths import PROJECT_ROOT, data_dir


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", data_dir() / "airflow"))


def defaults() -> dict[str, str]:
    home = airflow_home()
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "GX_ANALYTICS_ENABLED": "false",
        "NO_COLOR": "1",
    }


def configure() -> Path:
    """Set Airflow's environment defaults for a local run; return AIRFLOW_HOME."""
    for key, value in defaults().items():
        os.environ.setdefault(key, value)
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home


def ensure_metadata_db() -> None:
    """Create or upgrade Airflow's metadata database (a local SQLite file by default)."""
    configure()
    marker = airflow_home() / ".migrated"
    if marker.exists():
        return
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "db", "migrate"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"airflow db migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    marker.write_text("ok\n")
