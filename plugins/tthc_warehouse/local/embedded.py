"""A real PostgreSQL server kept in a project folder, for machines with no warehouse configured.

The binaries come from the ``pgserver`` wheel (PostgreSQL 16), so nothing has to be installed by
hand. The server listens on 127.0.0.1 so that psql and BI tools can reach it, keeps its data
across runs, and is started again when found stopped.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tthc_warehouse.paths import data_dir

DEFAULT_PORT = 54329
DATABASE = "tthc"
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; pgserver creates this system user for that case.
SYSTEM_USER_WHEN_ROOT = "pgserver"


@dataclass(frozen=True)
class EmbeddedServer:
    pgdata: Path
    port: int

    def url(self, database: str = DATABASE, user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    @property
    def bin_dir(self) -> Path:
        return _bin_dir()


def _bin_dir() -> Path:
    # Found without importing pgserver, whose import has side effects (runtime dirs, locks).
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no warehouse configured and the pgserver package is not installed; "
            "set AIRFLOW_CONN_WAREHOUSE or run `make sync`"
        )
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER_WHEN_ROOT)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", SYSTEM_USER_WHEN_ROOT],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER_WHEN_ROOT


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _pick_port(root: Path) -> int:
    saved = root / "port"
    if saved.exists():
        return int(saved.read_text().strip())
    port = int(os.environ.get("TTHC_EMBEDDED_PORT", DEFAULT_PORT))
    while not _port_free(port):
        port += 1
    saved.write_text(f"{port}\n")
    return port


def _pg(tool: str, args: list[str], user: str | None) -> None:
    cmd = [str(_bin_dir() / tool), *args]
    result = subprocess.run(cmd, user=user, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")


def _prepare_for_system_user(root: Path, pgdata: Path, user: str) -> None:
    """Let the unprivileged server user reach its data folder and the binaries."""
    for target in (pgdata, _bin_dir()):
        for parent in target.parents:
            parent.chmod(parent.stat().st_mode | 0o055)
    for path in (root, pgdata):
        shutil.chown(path, user=user, group=user)
    pgdata.chmod(0o700)


def _is_running(server: EmbeddedServer, user: str | None) -> bool:
    cmd = [str(_bin_dir() / "pg_ctl"), "-D", str(server.pgdata), "status"]
    return subprocess.run(cmd, user=user, capture_output=True, timeout=30).returncode == 0


def ensure_running(root: Path | None = None) -> EmbeddedServer:
    """Initialise (once) and start (if stopped) the project's own PostgreSQL; return it."""
    root = root or data_dir() / "postgres"
    pgdata = root / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    if user:
        _prepare_for_system_user(root, pgdata, user)
    server = EmbeddedServer(pgdata=pgdata, port=_pick_port(root))
    if not (pgdata / "PG_VERSION").exists():
        _pg(
            "initdb",
            [
                "-D",
                str(pgdata),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            user,
        )
    if not _is_running(server, user):
        options = f"-h 127.0.0.1 -p {server.port} -k {pgdata}"
        _pg(
            "pg_ctl",
            [
                "-D",
                str(pgdata),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "-l",
                str(root / "server.log"),
                "start",
            ],
            user,
        )
    _ensure_database(server)
    return server


def _ensure_database(server: EmbeddedServer) -> None:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(f'create database "{DATABASE}"')


def stop(root: Path | None = None) -> None:
    """Stop the embedded server if it runs (used by `make stop-warehouse`)."""
    root = root or data_dir() / "postgres"
    pgdata = root / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        _pg("pg_ctl", ["-D", str(pgdata), "-m", "fast", "stop"], _run_as())


def ensure_warehouse() -> str:
    """For the local entry points only: the configured warehouse URL, else the embedded server's.

    When ``AIRFLOW_CONN_WAREHOUSE`` is unset, starts the embedded server and exports its URL there,
    so that Airflow tasks run in this process (``dag.test()``) or started from it find it too.
    """
    from tthc_warehouse.db.warehouse import ENV_VAR, normalise_url

    if os.environ.get(ENV_VAR):
        return normalise_url(os.environ[ENV_VAR])
    url = ensure_running().url()
    os.environ[ENV_VAR] = url
    return url
