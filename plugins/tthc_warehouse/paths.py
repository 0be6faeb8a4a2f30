"""Where the project's files live: one place, so DAGs, the CLI and tests agree."""

from __future__ import annotations

import os
from pathlib import Path

# plugins/tthc_warehouse/paths.py -> project root; overridable for the Docker image layout.
PROJECT_ROOT = Path(os.environ.get("TTHC_HOME", Path(__file__).resolve().parents[2]))
SQL_DIR = PROJECT_ROOT / "sql"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
CONFIG_DIR = PROJECT_ROOT / "config"


def data_dir() -> Path:
    """Git-ignored folder for landing files, the embedded server and generated output."""
    return Path(os.environ.get("TTHC_DATA_DIR", PROJECT_ROOT / ".data"))


def landing_dir() -> Path:
    return Path(os.environ.get("TTHC_LANDING_DIR", data_dir() / "landing"))


def read_sql(relative: str) -> str:
    """Text of one statement file under sql/, e.g. ``read_sql("publish/fact_dossier.sql")``."""
    return (SQL_DIR / relative).read_text(encoding="utf-8")
