"""Airflow's components as separate child processes, for the integration tests that need more than
`make up` gives: the CeleryExecutor with named workers, private ports, homes and metadata databases
(``LocalAirflow(port=..., env={...}, components=[...])``); and a REST client for either.

Environment of the children, by precedence: ``env`` overrides, then values already in the
environment, then the local defaults below and ``airflow_env.defaults()``; the port-derived
settings always follow the ``port`` argument. Each component's output goes to
``AIRFLOW_HOME/logs/components/<name>.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tthc_warehouse import orchestration
from tthc_warehouse.db import warehouse
from tthc_warehouse.local import airflow_env, airflow_up
from tthc_warehouse.paths import PROJECT_ROOT

DEFAULT_PORT = 8080
HOST = "127.0.0.1"
LOCAL_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json"
# /api/v2/monitor/health names the components like this
HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}


@dataclass
class Component:
    """One child process: ``airflow <argv...>`` with extra environment variables."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def component(name: str) -> Component:
    """One of Airflow's own services by command name (``api-server``, ``scheduler``, ...)."""
    return Component(name, [name])


def celery_worker(name: str, concurrency: int = 2, queues: str | None = None) -> Component:
    """A Celery worker named ``<name>@<host>`` whose task instances record that name as hostname."""
    node = f"{name}@{socket.gethostname()}"
    argv = ["celery", "worker", "--celery-hostname", node, "--concurrency", str(concurrency),
            # the workers share this host: the API server reads their task logs from the shared
            # log folder, so no worker serves logs (they would both want port 8793)
            "--skip-serve-logs"]
    if queues:
        argv += ["--queues", queues]
    env = {airflow_env.WORKER_NAME_VAR: node,
           "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{airflow_env.__name__}.worker_hostname"}
    return Component(f"celery-worker-{name}", argv, env)


def base_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def environment(port: int = DEFAULT_PORT, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The children's environment (see the module docstring for what wins)."""
    overrides = dict(overrides or {})
    env = dict(os.environ)
    home = Path(overrides.get("AIRFLOW_HOME") or env.get("AIRFLOW_HOME") or airflow_env.airflow_home())
    sql_conn = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
    if "AIRFLOW_HOME" in overrides:
        env["AIRFLOW_HOME"] = overrides["AIRFLOW_HOME"]
        overrides.setdefault(sql_conn, f"sqlite:///{home / 'airflow.db'}")
    defaults = {
        **airflow_env.defaults(),
        "AIRFLOW_HOME": str(home),
        sql_conn: f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE),
        "PYTHONUNBUFFERED": "1",
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    env.update({
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url(port)}/execution/",
    })
    if port != DEFAULT_PORT:  # a second Airflow on this machine: its log servers need ports of their own
        for key in ("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"):
            env.setdefault(key, str(free_port()))
    env.update(overrides)
    if not env.get(warehouse.ENV_VAR):
        env[warehouse.ENV_VAR] = warehouse.url()  # starts the embedded server when nothing is configured
    return env


def admin_password(passwords_file: Path, user: str = ADMIN_USER) -> str:
    """The user's password in SimpleAuthManager's file, generated and stored on first use."""
    passwords: dict[str, str] = {}
    if passwords_file.exists() and passwords_file.read_text().strip():
        passwords = json.loads(passwords_file.read_text())
    if user not in passwords:
        passwords[user] = secrets.token_urlsafe(12)
        passwords_file.parent.mkdir(parents=True, exist_ok=True)
        passwords_file.touch(mode=0o600)
        passwords_file.write_text(json.dumps(passwords) + "\n")
    return passwords[user]


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url``; its URL. Dropped on the way out."""
    import uuid

    import psycopg
    from psycopg import sql

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class AirflowApi:
    """Calls to a running Airflow's REST API as its first SimpleAuthManager user.

    Subclasses provide ``url``, ``user``, ``password`` and ``check_alive()``.
    """

    url: str
    user: str
    password: str
    _token: str | None = None

    def check_alive(self) -> None:
        """Raise when a process this Airflow depends on has died (nothing to check by default)."""

    def token(self) -> str:
        if self._token is None:
            response = httpx.post(f"{self.url}/auth/token", timeout=30,
                                  json={"username": self.user, "password": self.password})
            if response.status_code >= 400:
                raise RuntimeError(f"login as {self.user}: {response.status_code} {response.text[:500]}")
            self._token = response.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call to ``/api/v2<path>`` as the admin; the decoded JSON (None when empty)."""
        response = httpx.request(method, f"{self.url}/api/v2{path}", timeout=60,
                                 headers={"Authorization": f"Bearer {self.token()}"}, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """Until the dag-processor has parsed ``dag_id`` (import errors are reported at once)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            dags = self.api("GET", "/dags", params={"dag_id_pattern": dag_id})["dags"]
            found = [d for d in dags if d["dag_id"] == dag_id]
            if found:
                return found[0]
            errors = self.api("GET", "/importErrors")["import_errors"]
            if errors:
                raise RuntimeError(f"DAG import errors: {errors}")
            time.sleep(2)
        raise TimeoutError(f"DAG {dag_id} not parsed after {timeout:.0f} s")

    def trigger(self, dag_id: str, conf: dict[str, Any], unpause: bool = True) -> str:
        """Unpause (optionally) and trigger one manual run; its run id."""
        if unpause:
            self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
        return run["dag_run_id"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        """Until the run has finished (success or failed); the run's JSON."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            run = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed"):
                return run
            time.sleep(3)
        states = self.task_states(dag_id, run_id)
        raise TimeoutError(f"{dag_id} run {run_id} not finished after {timeout:.0f} s; tasks: {states}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                            params={"limit": 100, "offset": len(found)})
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def task_states(self, dag_id: str, run_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for ti in self.task_instances(dag_id, run_id):
            counts[str(ti["state"])] = counts.get(str(ti["state"]), 0) + 1
        return counts


class LocalAirflow(AirflowApi):
    """Airflow's components as child processes sharing one environment; a context manager.

    ``components`` are command names (``"scheduler"``) or ``Component``s (``celery_worker("w1")``).
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        env: Mapping[str, str] | None = None,
        components: Sequence[str | Component] = LOCAL_COMPONENTS,
        pool_slots: int = orchestration.WAREHOUSE_POOL_SLOTS,
    ) -> None:
        self.port = port
        self.env = environment(port, env)
        self.home = Path(self.env["AIRFLOW_HOME"])
        self.log_dir = self.home / "logs" / "components"
        self.components = [c if isinstance(c, Component) else component(c) for c in components]
        self.pool_slots = pool_slots
        self.airflow = str(Path(sys.executable).with_name("airflow"))
        self._token: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return base_url(self.port)

    @property
    def user(self) -> str:
        """The first user of ``[core] simple_auth_manager_users`` (``admin`` unless configured)."""
        users = self.env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS") or ADMIN_USER
        return users.split(",")[0].split(":")[0].strip()

    @property
    def password(self) -> str:
        return admin_password(Path(self.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]), self.user)

    def cli(self, *args: str, timeout: float = 600) -> str:
        """``airflow <args>`` in the components' environment; its output, or RuntimeError."""
        result = subprocess.run([self.airflow, *args], env=self.env, cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({result.returncode}):\n"
                               f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result.stdout

    def prepare(self) -> None:
        """Migrate the metadata database, create the pool, make sure the admin has a password."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.cli("db", "migrate")  # also writes airflow.cfg (fernet key, JWT secret) before any child
        self.cli("pools", "set", orchestration.WAREHOUSE_POOL, str(self.pool_slots),
                 "Caps concurrent writers to the warehouse")
        self.password  # noqa: B018  (generates it before the API server reads the file)

    def start(self) -> LocalAirflow:
        """Prepare, then start every component (each in its own process group)."""
        if any(c.name == "api-server" for c in self.components) and not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is in use: is another Airflow running?")
        self.prepare()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for comp in self.components:
            comp.log_path = self.log_dir / f"{comp.name}.log"
            with comp.log_path.open("ab") as log:
                comp.process = subprocess.Popen(
                    [self.airflow, *comp.argv], env={**self.env, **comp.env}, cwd=PROJECT_ROOT,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
        return self

    def check_alive(self) -> None:
        for comp in self.components:
            if comp.process is not None and not comp.running:
                raise RuntimeError(f"{comp.name} exited with {comp.process.returncode}; "
                                   f"last lines of {comp.log_path}:\n{tail(comp.log_path)}")

    def health(self) -> dict[str, Any] | None:
        try:
            response = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    def wait_healthy(self, timeout: float = 180) -> dict[str, Any]:
        """Until the API answers and every started scheduler/dag-processor/triggerer is healthy."""
        wanted = [HEALTH_KEYS[c.name] for c in self.components if c.name in HEALTH_KEYS]
        deadline = time.monotonic() + timeout
        health: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            self.check_alive()
            health = self.health()
            if health and all((health.get(key) or {}).get("status") == "healthy" for key in wanted):
                return health
            time.sleep(1)
        raise TimeoutError(f"Airflow at {self.url} not healthy after {timeout:.0f} s: {health}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every component's process group, then SIGKILL whatever is left after ``timeout``."""
        import psutil

        procs: list[psutil.Process] = []
        for comp in reversed(self.components):
            if comp.process is None:
                continue
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(comp.process.pid)
                procs += [parent, *parent.children(recursive=True)]
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(comp.process.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(procs, timeout=timeout)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(alive, timeout=5)
        for comp in self.components:
            if comp.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    comp.process.wait(timeout=5)

    def __enter__(self) -> LocalAirflow:
        try:
            self.start()
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class MakeUp(AirflowApi):
    """`tthc up` (what `make up` runs) as a child process in a session of its own; a context manager.

    Leaving presses Ctrl-C: SIGINT to the whole session, as a terminal sends it. ``killed`` then
    names the processes that were still running ``timeout`` seconds later (and were killed).
    """

    def __init__(self, port: int, env: Mapping[str, str], log_path: Path) -> None:
        self.env = {**os.environ, **env}
        self.url = base_url(port)
        self.user = airflow_up.ADMIN_USER
        self.log_path = log_path
        self.argv = [str(Path(sys.executable).with_name("tthc")), "up", "--port", str(port)]
        self.process: subprocess.Popen | None = None
        self.killed: list[str] = []

    @property
    def password(self) -> str:
        passwords = Path(self.env["AIRFLOW_HOME"]) / airflow_up.PASSWORDS_FILE
        return json.loads(passwords.read_text())[self.user]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"tthc up exited with {self.process.returncode}; last lines of "
                               f"{self.log_path}:\n{tail(self.log_path)}")

    def __enter__(self) -> MakeUp:
        with self.log_path.open("ab") as log:
            # Ctrl-C as from a terminal, where SIGINT has its default action: a run started in the
            # background by a non-interactive shell inherits SIGINT ignored, and Python then
            # installs no KeyboardInterrupt for it.
            self.process = subprocess.Popen(self.argv, env=self.env, cwd=PROJECT_ROOT,
                                            stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            preexec_fn=_default_sigint)
        try:
            self.wait_for_banner()
        except BaseException:
            self.press_ctrl_c()
            raise
        return self

    def wait_for_banner(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while "Ctrl-C stops everything" not in self.output():
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no banner from tthc up after {timeout:.0f} s:\n{tail(self.log_path)}")
            time.sleep(1)

    def press_ctrl_c(self, timeout: float = 60) -> None:
        import psutil

        assert self.process is not None
        with contextlib.suppress(psutil.Error):
            procs = [psutil.Process(self.process.pid)]
            procs += procs[0].children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        _, alive = psutil.wait_procs(procs, timeout=timeout)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                self.killed.append(" ".join(proc.cmdline()[:3]))
                proc.kill()
        self.process.wait(timeout=10)

    def __exit__(self, *exc_info: object) -> None:
        self.press_ctrl_c()
