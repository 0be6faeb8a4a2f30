"""Run a DAG in-process through Airflow's own ``dag.test()`` (the demo, the CLI, the tests)."""

from __future__ import annotations

import datetime as dt
import logging

from tthc_warehouse import localenv, warehouse

NIGHTLY_DAG = "procedures_nightly"


def load_dag(dag_id: str):
    localenv.configure()
    from airflow.dag_processing.dagbag import DagBag

    from tthc_warehouse.paths import PROJECT_ROOT

    bag = DagBag(str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags[dag_id]


def run_nightly(
    start: dt.date,
    end: dt.date,
    provinces: list[str] | None = None,
    *,
    retries: int | None = None,
    quiet: bool = False,
) -> str:
    """One manual run of the nightly DAG over [start, end); returns the run's final state."""
    localenv.ensure_metadata_db()
    warehouse.url()  # starts the embedded warehouse and exports the connection when none is set
    dag = load_dag(NIGHTLY_DAG)
    if retries is not None:
        for task in dag.tasks:
            task.retries = retries
    conf = {
        "from_date": start.isoformat(),
        "to_date": end.isoformat(),
        "provinces": provinces or [],
    }
    if quiet:
        logging.getLogger("airflow").setLevel(logging.WARNING)
    run = dag.test(run_conf=conf)
    return str(run.state)
