"""Run a DAG in-process through Airflow's own ``dag.test()`` (the demo, the CLI, the tests)."""

from __future__ import annotations

import datetime as dt

from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.local import airflow_env
from tthc_warehouse.ops import batches

NIGHTLY_DAG = "procedures_nightly"
MARTS_DAG = "marts_monthly"


def load_dag(dag_id: str):
    airflow_env.configure()
    from airflow.dag_processing.dagbag import DagBag

    from tthc_warehouse.paths import PROJECT_ROOT

    bag = DagBag(str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags[dag_id]


def _test(dag_id: str, conf: dict, retries: int | None):
    dag = load_dag(dag_id)
    # Airflow 3.3's dag.test() fails a successful run of a DAG that carries a DeadlineAlert (it looks
    # the alert up by a dict instead of its id). Deadlines are the scheduler's business; the alert's
    # callback is tested on its own (tests/integration/test_alerts.py).
    dag.deadline = None
    if retries is not None:
        for task in dag.tasks:
            task.retries = retries
    return dag.test(run_conf=conf)


def run_nightly(start: dt.date, end: dt.date, provinces: list[str] | None = None, *,
                retries: int | None = None, marts: bool = True) -> str:
    """One manual run of the nightly DAG over [start, end), then of the mart DAG for the months it
    touched (what the asset events trigger under a scheduler); returns the nightly run's state, or
    the mart run's when that one failed."""
    airflow_env.ensure_metadata_db()
    conf = {"from_date": start.isoformat(), "to_date": end.isoformat(), "provinces": provinces or []}
    nightly = _test(NIGHTLY_DAG, conf, retries)
    if not marts:
        return str(nightly.state)
    with Warehouse.from_airflow().connect() as conn:
        months = [m.isoformat() for m in batches.months_touched_by_run(conn, nightly.run_id)]
    if not months:
        return str(nightly.state)
    mart_run = _test(MARTS_DAG, {"months": months}, retries)
    return str(nightly.state) if str(mart_run.state) == "success" else str(mart_run.state)
