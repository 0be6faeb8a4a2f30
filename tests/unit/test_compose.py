"""The docker-compose stack, checked statically (no Docker engine needed).

docker-compose.yml is read with PyYAML, which resolves the ``x-airflow-common`` anchors and ``<<``
merges the way compose does; ``${...}`` interpolation is resolved here with compose's rules. The
Dockerfile and .env.example are read as text, uv.lock with tomllib.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"

REQUIRED_SERVICES = {
    "postgres", "redis", "warehouse", "airflow-init", "warehouse-migrate", "airflow-apiserver",
    "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
}
ONE_SHOT = {"airflow-init", "warehouse-migrate", "airflow-cli"}  # run to completion, no healthcheck
AIRFLOW_HOME = "/opt/airflow"
PROJECT_FOLDERS = ("dags", "plugins", "sql", "expectations", "config")
SECRET_KEY = re.compile(r"PASSWORD|SECRET|KEY|TOKEN")

# $$ is a literal dollar; ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}, ${NAME?err},
# ${NAME:+alt}, ${NAME+alt}; and the bare $NAME form.
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)
ENV_MARK = "<from-env>"  # what a value taken from the environment, with no default, becomes
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://(?P<user>[^:/@\s\"']*):(?P<password>[^@/\s\"']+)@")


def resolve(text: str) -> str:
    """``text`` as compose would see it with an empty environment: defaults used, required
    variables replaced by ENV_MARK."""

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("bare") or match.group("op") in (None, "?", ":?"):
            return ENV_MARK
        if match.group("op") in ("-", ":-"):
            return match.group("arg")
        return ""  # ${NAME:+alt}: empty when NAME is unset

    return INTERPOLATION.sub(one, text)


def required_variables(text: str) -> set[str]:
    """Variables interpolated without a default (plain ``${NAME}``, ``$NAME`` or ``${NAME:?err}``)."""
    names = set()
    for match in INTERPOLATION.finditer(text):
        if match.group("bare"):
            names.add(match.group("bare"))
        elif match.group("name") and match.group("op") in (None, "?", ":?"):
            names.add(match.group("name"))
    return names


def strings(node):
    """Every string of the parsed compose file (keys and values), comments excluded."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def is_env_only(value: str) -> bool:
    """True when the whole value is one interpolation with no default: no literal can leak."""
    match = INTERPOLATION.fullmatch(str(value).strip())
    return bool(match and match.group(0) != "$$" and resolve(match.group(0)) == ENV_MARK)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def volumes(service: dict) -> dict[str, tuple[str, str]]:
    """target -> (source, mode) for the short volume syntax (and the long one)."""
    found = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            found[volume["target"]] = (volume.get("source", ""), "ro" if volume.get("read_only") else "rw")
            continue
        parts = resolve(volume).split(":")
        source, target = parts[0], parts[1]
        found[target] = (source, parts[2] if len(parts) > 2 else "rw")
    return found


def airflow_image(compose) -> str:
    return compose["x-airflow-common"]["image"]


@pytest.fixture(scope="module")
def airflow_services(compose, services) -> dict[str, dict]:
    """Every service built on the x-airflow-common block (same image as the anchor)."""
    found = {name: svc for name, svc in services.items() if svc.get("image") == airflow_image(compose)}
    assert found, "no service uses the x-airflow-common image"
    return found


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def test_every_service_of_the_stack_is_present(services):
    assert services.keys() >= REQUIRED_SERVICES, f"missing: {sorted(REQUIRED_SERVICES - services.keys())}"


def test_long_running_services_have_a_healthcheck(services):
    for name, service in services.items():
        if name in ONE_SHOT:
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_healthchecks_probe_the_right_component(services):
    def probe(name: str) -> str:
        test = services[name]["healthcheck"]["test"]
        return " ".join(test) if isinstance(test, list) else test

    assert "/api/v2/" in probe("airflow-apiserver")
    assert ":8974/health" in probe("airflow-scheduler")
    assert "DagProcessorJob" in probe("airflow-dag-processor")
    assert "TriggererJob" in probe("airflow-triggerer")
    assert "inspect ping" in probe("airflow-worker")
    assert "pg_isready" in probe("postgres") and "pg_isready" in probe("warehouse")
    assert "redis-cli" in probe("redis")


def test_at_least_two_celery_workers(services):
    workers = {name: svc for name, svc in services.items()
               if str(svc.get("command", "")).startswith("celery worker")}
    count = sum(int(resolve(str((svc.get("deploy") or {}).get("replicas", 1)))) for svc in workers.values())
    assert count >= 2, f"{count} Celery worker(s): the mapped tasks need at least two to spread over"
    for svc in workers.values():
        assert environment(svc).get("DUMB_INIT_SETSID") == "0", "workers need warm shutdown"


def test_celery_executor_with_a_redis_broker(compose, services, airflow_services):
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = resolve(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.startswith("redis://") and "@redis:6379" in broker
    assert "@postgres/" in resolve(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert "@postgres/" in resolve(env["AIRFLOW__CELERY__RESULT_BACKEND"])
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/")
    assert str(env["AIRFLOW__CORE__LOAD_EXAMPLES"]).lower() == "false"
    for name, service in airflow_services.items():
        assert environment(service)["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name


def test_airflow_services_mount_the_project_read_only_where_tthc_home_points(airflow_services):
    for name, service in airflow_services.items():
        env, mounted = environment(service), volumes(service)
        assert env.get("TTHC_HOME") == AIRFLOW_HOME, name
        for folder in PROJECT_FOLDERS:
            target = f"{AIRFLOW_HOME}/{folder}"
            assert target in mounted, f"{name} does not mount ./{folder}"
            source, mode = mounted[target]
            assert source.rstrip("/").endswith(f"/{folder}"), f"{name}: {target} comes from {source}"
            assert (ROOT / folder).is_dir()
            assert mode == "ro", f"{name} mounts ./{folder} writable"
        # paths.CONFIG_DIR = TTHC_HOME/config must hold the feed config
        assert (ROOT / "config" / "feeds.yaml").is_file()


def test_landing_data_is_one_volume_shared_by_every_airflow_service(compose, airflow_services):
    for name, service in airflow_services.items():
        data_dir = environment(service).get("TTHC_DATA_DIR")
        assert data_dir, f"{name} has no TTHC_DATA_DIR"
        source, mode = volumes(service).get(data_dir, ("", ""))
        assert source in (compose.get("volumes") or {}), f"{name}: {data_dir} is not a named volume"
        assert mode == "rw"


def _feed_connection_ids() -> set[str]:
    """Every ``conn_id`` named in config/feeds.yaml (the HTTP province feeds)."""
    feeds = yaml.safe_load((ROOT / "config" / "feeds.yaml").read_text(encoding="utf-8"))
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("conn_id"), str):
                found.add(node["conn_id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(feeds)
    return found


def test_warehouse_and_feed_connections_come_from_the_environment(airflow_services):
    keys = {"AIRFLOW_CONN_WAREHOUSE"} | {f"AIRFLOW_CONN_{conn.upper()}" for conn in _feed_connection_ids()}
    assert "AIRFLOW_CONN_FEED_QUANG_BINH" in keys
    for name, service in airflow_services.items():
        env = environment(service)
        for key in keys:
            assert key in env, f"{name} lacks {key}"
            assert is_env_only(env[key]), f"{name}: {key} must be a ${{...}} interpolation, not a literal"
            assert INTERPOLATION.fullmatch(env[key]).group("name") == key


def test_every_airflow_service_works_in_vietnam_time_like_make_up(airflow_services):
    from tthc_warehouse.local import airflow_env

    for name, service in airflow_services.items():
        env = environment(service)
        assert env.get("AIRFLOW__CORE__DEFAULT_TIMEZONE") == airflow_env.TIMEZONE, name
    assert airflow_env.TIMEZONE == "Asia/Ho_Chi_Minh"


def test_no_literal_secret_in_the_compose_file(compose):
    for text in strings(compose):
        for match in URL_WITH_PASSWORD.finditer(resolve(text)):
            assert match.group("password") == ENV_MARK, f"password written in a URL: {match.group(0)!r}"

    def walk(where: str, node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "environment":
                    for name, val in environment({"environment": value}).items():
                        if SECRET_KEY.search(name.upper()):
                            assert is_env_only(val), f"{where}: {name} is a literal or has a default"
                walk(f"{where}.{key}", value)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(f"{where}[{i}]", item)

    walk("compose", compose)


def test_no_secret_variable_has_a_default(compose):
    """``${PASSWORD:-airflow}`` would quietly ship a known password: secrets have no default."""
    for text in strings(compose):
        for match in INTERPOLATION.finditer(text):
            if SECRET_KEY.search(match.group("name") or ""):
                assert match.group("op") in (None, "?", ":?"), f"{match.group(0)} has a default"


def test_init_migrates_the_metadata_db_creates_the_admin_and_the_pool(services):
    init = services["airflow-init"]
    env = environment(init)
    assert env["_AIRFLOW_DB_MIGRATE"] == "true" and env["_AIRFLOW_WWW_USER_CREATE"] == "true"
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    from tthc_warehouse.orchestration import WAREHOUSE_POOL

    assert f"airflow pools set {WAREHOUSE_POOL} " in script


def test_warehouse_is_migrated_after_it_is_healthy_and_before_tasks_run(services):
    migrate = services["warehouse-migrate"]
    command = " ".join(migrate["command"]) if isinstance(migrate["command"], list) else migrate["command"]
    assert "tthc migrate" in command
    assert depends_on(migrate).get("warehouse") == "service_healthy"
    for name in ("airflow-scheduler", "airflow-worker"):
        assert depends_on(services[name]).get("warehouse-migrate") == "service_completed_successfully"
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                 "airflow-worker"):
        deps = depends_on(services[name])
        assert deps.get("airflow-init") == "service_completed_successfully", name
        assert deps.get("postgres") == "service_healthy" and deps.get("redis") == "service_healthy", name
    assert services["warehouse"].get("volumes") != services["postgres"].get("volumes")


def _lock_version(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def test_dockerfile_uses_the_airflow_image_of_the_lock():
    text = DOCKERFILE.read_text(encoding="utf-8")
    found = re.findall(r"^FROM\s+apache/airflow:(\d+\.\d+\.\d+)(?:-python(\d+\.\d+))?", text, re.MULTILINE)
    assert len(found) == 1, "one FROM apache/airflow:<version>-python<x.y> expected"
    version, python = found[0]
    assert version == _lock_version("apache-airflow")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert python and Version(python) in SpecifierSet(pyproject["project"]["requires-python"])
    assert "uv export --frozen" in text and "--no-dev" in text  # installs exactly what uv.lock pins
    assert 'apache-airflow==${AIRFLOW_VERSION}' in text  # never up- or downgrades Airflow itself
    assert re.search(r"^USER airflow", text, re.MULTILINE)


def _pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    return bool(name) and tag not in ("", "latest")


def test_every_image_is_pinned_and_not_latest(compose, services):
    for name, service in services.items():
        if "image" in service:
            image = resolve(service["image"])
            assert _pinned(image), f"{name}: image {image!r} is not pinned to a version"
    text = DOCKERFILE.read_text(encoding="utf-8")
    for image in re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE) + re.findall(r"--from=(\S+/\S+)", text):
        assert _pinned(image), f"Dockerfile: {image!r} is not pinned to a version"


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: {line!r} is not KEY=value"
            values[key.strip()] = value.strip()
    return values


def test_env_example_defines_every_variable_compose_requires(compose):
    defined = _env_example()
    required = set().union(*(required_variables(text) for text in strings(compose)))
    missing = required - defined.keys()
    assert not missing, f".env.example lacks {sorted(missing)}"
    for key in ("AIRFLOW_UID", "AIRFLOW_PROJ_DIR", "AIRFLOW_CONN_WAREHOUSE", "AIRFLOW__CORE__FERNET_KEY",
                "AIRFLOW__API_AUTH__JWT_SECRET", "WAREHOUSE_PASSWORD"):
        assert key in defined, f".env.example lacks {key}"


def test_env_example_holds_placeholders_only_and_env_is_ignored():
    values = _env_example()
    for key, value in values.items():
        if not value.startswith("'"):  # single quotes: a literal, compose does not expand it
            for name in required_variables(value):
                assert name in values, f".env.example: {key} refers to undefined {name}"
        if SECRET_KEY.search(key):
            assert value in ("", "change-me"), f".env.example: {key} must be a placeholder"
    assert "@warehouse:5432/" in values["AIRFLOW_CONN_WAREHOUSE"]
    for match in URL_WITH_PASSWORD.finditer(resolve(values["AIRFLOW_CONN_WAREHOUSE"])):
        assert match.group("password") == ENV_MARK  # built from WAREHOUSE_PASSWORD, not repeated
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored


def test_tasks_log_in_without_superuser_and_only_the_migration_uses_the_admin(compose, services):
    """Issue 10, defect 1: the tasks' login was the warehouse container's superuser."""
    env = services["warehouse"]["environment"]
    assert "WAREHOUSE_ADMIN_USER" in env["POSTGRES_USER"] and "WAREHOUSE_USER" not in env["POSTGRES_USER"]
    migrate = services["warehouse-migrate"]
    command = " ".join(migrate["command"])
    assert "AIRFLOW_CONN_WAREHOUSE=\"$$AIRFLOW_CONN_WAREHOUSE_ADMIN\" tthc migrate" in command
    assert "WAREHOUSE_USER" in migrate["environment"]["TTHC_PIPELINE_LOGIN"]
    for name in ("airflow-worker", "airflow-scheduler"):
        assert "ADMIN" not in str(services[name].get("environment", {}).get("AIRFLOW_CONN_WAREHOUSE", ""))
    env_example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert "WAREHOUSE_ADMIN_PASSWORD=" in env_example and "AIRFLOW_CONN_WAREHOUSE_ADMIN=" in env_example
