"""`make up`: Airflow's own `airflow standalone`, in an environment prepared for this project.

Before standalone starts, this sets up what it cannot know: the ``warehouse`` connection (the
embedded PostgreSQL, migrated, unless ``AIRFLOW_CONN_WAREHOUSE`` is set), the simulated HTTP feed
with its connection, and the ``warehouse_writers`` pool. Standalone then migrates the metadata
database (SQLite in AIRFLOW_HOME, ``.data/airflow``), generates the password of SimpleAuthManager's
``admin`` once into AIRFLOW_HOME, and runs api-server, scheduler, dag-processor and triggerer until
Ctrl-C, which stops them all.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tthc_warehouse import orchestration
from tthc_warehouse.db.warehouse import ENV_VAR, Warehouse, redact
from tthc_warehouse.local import airflow_env, embedded
from tthc_warehouse.reference import loader

DEFAULT_PORT = 8080
ADMIN_USER = "admin"  # standalone's default user list is "admin:admin" (name:role)
PASSWORDS_FILE = "simple_auth_manager_passwords.json"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def configure(port: int = DEFAULT_PORT) -> Path:
    """Set the environment standalone and its components inherit; the admin's passwords file."""
    home = airflow_env.configure()
    os.environ.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(home / PASSWORDS_FILE))
    os.environ.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True")
    os.environ.update({
        "AIRFLOW__API__HOST": "127.0.0.1",  # this machine only: SimpleAuthManager is for development
        "AIRFLOW__API__PORT": str(port),
        # tasks report to the Execution API at {base_url}/execution/
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        # standalone starts its components as a bare `airflow`
        "PATH": f"{Path(AIRFLOW).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    return Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])


def prepare_warehouse() -> str:
    """The warehouse URL, exported as the connection; the embedded one is migrated first."""
    configured = bool(os.environ.get(ENV_VAR))
    url = embedded.ensure_warehouse()  # the embedded server, started and exported, when unset
    if not configured:
        from tthc_warehouse.db import migrate

        migrate.upgrade(url)
        with Warehouse(url, role=None).connect() as conn:
            loader.load_reference(conn)
            conn.commit()
    return url


def set_pool() -> None:
    """Create or resize the pool that caps concurrent warehouse writers."""
    airflow_env.ensure_metadata_db()  # pools live in the metadata database
    subprocess.run([AIRFLOW, "pools", "set", orchestration.WAREHOUSE_POOL,
                    str(orchestration.WAREHOUSE_POOL_SLOTS), "Caps concurrent writers to the warehouse"],
                   check=True, capture_output=True)


def serve_simulated_feeds() -> list:
    """The HTTP province's simulated API, when `tthc simulate` (or `make demo`) has written it."""
    from tthc_warehouse.extract.feeds import inbox_dir
    from tthc_warehouse.simulator.serve import serve_http_feeds

    try:
        return serve_http_feeds(inbox_dir())  # also exports the feed's AIRFLOW_CONN_*
    except FileNotFoundError:
        return []


def wait_until_healthy(standalone: subprocess.Popen, port: int, timeout: float = 300) -> None:
    """Until the API server answers with a healthy scheduler, standalone exits, or ``timeout``."""
    deadline = time.monotonic() + timeout
    while standalone.poll() is None and time.monotonic() < deadline:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5).json()
            if health["scheduler"]["status"] == "healthy":
                return
        except (httpx.HTTPError, ValueError, KeyError, TypeError):  # not answering yet
            pass
        time.sleep(2)


def banner(port: int, passwords_file: Path, feeds_served: bool) -> str:
    password = json.loads(passwords_file.read_text()).get(ADMIN_USER, f"(see {passwords_file})")
    return (f"\nAirflow is up:  http://localhost:{port}\n"
            f"  login:       {ADMIN_USER} / {password}   (kept in {passwords_file})\n"
            "  DAGs:        start paused; unpause procedures_nightly to run it nightly\n"
            f"  warehouse:   connection 'warehouse' -> {redact(embedded.ensure_warehouse())}\n"
            + ("  feeds:       the HTTP province's simulated API is served\n" if feeds_served else
               "  feeds:       none simulated yet (`.venv/bin/tthc simulate`)\n")
            + "Ctrl-C stops everything.\n")


def stop(standalone: subprocess.Popen, grace: float = 30) -> int:
    """SIGINT to standalone, which terminates its components; SIGKILL to any left after ``grace``."""
    if standalone.poll() is None:
        standalone.send_signal(signal.SIGINT)
    try:
        status = standalone.wait(grace)
    except subprocess.TimeoutExpired:  # a component hung on shutdown: the kill below ends it
        status = 0
    with contextlib.suppress(ProcessLookupError):
        os.killpg(standalone.pid, signal.SIGKILL)  # its session: whatever it left behind
    standalone.wait()
    return status


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(port: int = DEFAULT_PORT) -> int:
    """Run `airflow standalone` in the foreground until Ctrl-C (or SIGTERM); 0 on a clean stop."""
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            print(f"error: port {port} is in use: is another Airflow running?", file=sys.stderr)
            return 1
    passwords_file = configure(port)
    print(f"==> warehouse: {redact(prepare_warehouse())}", flush=True)
    set_pool()
    servers = serve_simulated_feeds()
    signal.signal(signal.SIGTERM, _interrupt)
    # a session of its own: Ctrl-C reaches the components once, through standalone, not twice
    standalone = subprocess.Popen([AIRFLOW, "standalone"], start_new_session=True)
    try:
        wait_until_healthy(standalone, port)
        if standalone.poll() is None:
            print(banner(port, passwords_file, bool(servers)), flush=True)
        standalone.wait()
    except KeyboardInterrupt:
        print("\n==> stopping (at most 30 s)", flush=True)
    finally:
        status = stop(standalone)
        for server in servers:
            server.stop()
    return status


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PORT))
