"""Scale-out: the nightly DAG under the CeleryExecutor, two workers, Redis broker, PostgreSQL metadata.

Everything on 127.0.0.1: Airflow's metadata in a throwaway database on the session's PostgreSQL (also
Celery's result backend), Redis as the broker (the local one on 6379 with a key prefix of this test's
own, else a redis-server started here; skipped, saying so, only when neither can be had), and the
api-server, scheduler, dag-processor and two ``airflow celery worker`` processes from
``local_airflow``. Each worker records its own name as the task instances' hostname.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests import airflow_harness
from tthc_warehouse.db import migrate
from tthc_warehouse.reference import loader
from tthc_warehouse.simulator import generate
from tthc_warehouse.simulator.serve import serve_http_feeds

pytestmark = pytest.mark.integration

DAG_ID = "procedures_nightly"
CELERY_CONFIG = "tthc_warehouse.orchestration.celery_config.CELERY_CONFIG"
MARTS_DAG_ID = "marts_monthly"  # asset-scheduled on the core tables; triggered by hand here
PROVINCES = {"30": "Hải Dương", "52": "Bình Định"}
CONF = {"from_date": "2024-01-01", "to_date": "2024-01-03", "provinces": sorted(PROVINCES)}
WORKERS = ("w1", "w2")


def _redis_answers(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def redis_broker(tmp_path_factory):
    """(broker URL, key prefix): the local Redis on 6379, else one started here for this module.

    On the shared server this module's Celery keys carry a prefix of their own
    (``global_keyprefix``), and only those are deleted afterwards.
    """
    import redis

    prefix = f"tthc-celery-test-{uuid.uuid4().hex[:8]}:"
    process = None
    port = 6379
    if not _redis_answers(port):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("no Redis: nothing answers on 127.0.0.1:6379 and redis-server is not installed")
        port = airflow_harness.free_port()
        workdir = tmp_path_factory.mktemp("redis")
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not _redis_answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.skip(f"no Redis: nothing answers on 127.0.0.1:6379 and {binary} "
                            f"did not start on port {port}")
            time.sleep(0.2)
    try:
        yield f"redis://127.0.0.1:{port}/0", prefix
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        else:  # the shared server: remove only this test's keys
            client = redis.Redis(host="127.0.0.1", port=port)
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)


@pytest.fixture(scope="module")
def celery_airflow(redis_broker, server_url, tmp_path_factory):
    """The Celery deployment after a manual run of the nightly DAG, then of the marts for its month.

    Yields (airflow, nightly run, marts run, warehouse URL). The scheduler's own schedules are off
    (``use_job_schedule``), so that unpausing the nightly DAG creates no cron run; that also stops
    the asset events from scheduling ``marts_monthly``, which is therefore triggered here.
    """
    broker_url, key_prefix = redis_broker
    root = tmp_path_factory.mktemp("airflow-celery")
    data = root / "data"
    generate(data / "inbox", scale=0.02)
    with (pytest.MonkeyPatch.context() as env,
          airflow_harness.scratch_database(server_url, "tthc_celery_wh") as warehouse_url,
          airflow_harness.scratch_database(server_url, "airflow_celery_meta") as metadata_url):
        migrate.upgrade(warehouse_url)
        with psycopg.connect(warehouse_url) as conn:
            loader.load_reference(conn)
            conn.commit()
        env.delenv("AIRFLOW_CONN_FEED_QUANG_BINH", raising=False)  # restored afterwards
        servers = serve_http_feeds(data / "inbox")
        sqlalchemy_url = metadata_url.replace("postgresql://", "postgresql+psycopg://", 1)
        components = ["api-server", "scheduler", "dag-processor",
                      *(airflow_harness.celery_worker(name, concurrency=2) for name in WORKERS)]
        try:
            with airflow_harness.LocalAirflow(airflow_harness.free_port(), components=components, env={
                "AIRFLOW_HOME": str(root / "airflow"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url,
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": broker_url,
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": key_prefix,
                # Celery's database result backend takes SQLAlchemy URLs prefixed with db+
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{sqlalchemy_url}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
                "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": CELERY_CONFIG,  # as docker-compose.yml
                "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
                "TTHC_DATA_DIR": str(data),
                "TTHC_INBOX_DIR": str(data / "inbox"),
                "TTHC_LANDING_DIR": str(data / "landing"),
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the run triggered below
            }) as airflow:
                airflow.wait_for_dag(DAG_ID)
                run_id = airflow.trigger(DAG_ID, CONF)
                run = airflow.wait_for_run(DAG_ID, run_id, timeout=300)
                marts_run = None
                if run["state"] == "success":
                    airflow.wait_for_dag(MARTS_DAG_ID)
                    marts_id = airflow.trigger(MARTS_DAG_ID, {"months": ["2024-01-01"]})
                    marts_run = airflow.wait_for_run(MARTS_DAG_ID, marts_id, timeout=120)
                yield airflow, run, marts_run, warehouse_url
        finally:
            for server in servers:
                server.stop()


def test_nightly_run_succeeds_on_two_celery_workers(celery_airflow, redis_broker):
    import redis

    airflow, run, marts_run, warehouse_url = celery_airflow
    run_id = run["dag_run_id"]
    assert run["state"] == "success", airflow.task_states(DAG_ID, run_id)

    instances = airflow.task_instances(DAG_ID, run_id)
    ran = [ti for ti in instances if ti["state"] == "success"]
    hosts = Counter(ti["hostname"].split("@")[0] for ti in ran)
    print(f"task instances per worker: {dict(hosts)}")
    assert set(hosts) == set(WORKERS), f"task instances per worker: {dict(hosts)}"
    assert all(ti["executor"] in (None, "CeleryExecutor") for ti in instances)

    labels = {ti["rendered_map_index"] for ti in ran if ti["task_id"] == "province.extract_dossiers"}
    assert labels == set(PROVINCES.values())

    assert marts_run["state"] == "success", airflow.task_states(MARTS_DAG_ID, marts_run["dag_run_id"])
    with psycopg.connect(warehouse_url) as conn:
        rows = dict(conn.execute(
            "select province_code, count(*) from mart.monthly_compliance"
            " where month = date '2024-01-01' group by province_code").fetchall())
    assert set(rows) == set(PROVINCES), rows

    broker_url, key_prefix = redis_broker
    assert any(redis.Redis.from_url(broker_url).scan_iter(match=f"{key_prefix}*")), \
        f"no Celery keys under {key_prefix} in {broker_url}"


def test_each_celery_worker_imported_the_tasks_libraries_before_forking(celery_airflow) -> None:
    """``[celery] celery_config_options`` (orchestration/celery_config.py): each worker's main
    process imported GX, pandas and psycopg (in that order; a failed import stops the worker)
    before forking its pool, so no task process pays for them. Without the option the worker
    itself never imports pandas: only its task processes do."""
    airflow = celery_airflow[0]
    workers = [c for c in airflow.components if c.name.startswith("celery-worker-")]
    assert len(workers) == len(WORKERS) and all(w.running for w in workers)
    for worker in workers:
        maps = Path(f"/proc/{worker.process.pid}/maps").read_text()
        assert "/pandas/_libs/" in maps, f"{worker.name} (pid {worker.process.pid}) has not imported pandas"
