"""`make demo`: simulate the ten provinces, load Jan-Sep 2024 through the nightly DAG, show the rates."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tthc_warehouse.db import migrate
from tthc_warehouse.db.warehouse import ENV_VAR, Warehouse, redact
from tthc_warehouse.extract.feeds import inbox_dir
from tthc_warehouse.local import embedded, runner
from tthc_warehouse.paths import data_dir
from tthc_warehouse.reference import loader
from tthc_warehouse.report import console

START, END = dt.date(2024, 1, 1), dt.date(2024, 10, 1)


@contextlib.contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout/stderr (Airflow's task logs included) to a file for a while."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def prepare_warehouse() -> str:
    configured = os.environ.get(ENV_VAR)
    where = "configured AIRFLOW_CONN_WAREHOUSE" if configured else "embedded PostgreSQL (.data/postgres)"
    url = embedded.ensure_warehouse()
    step(f"warehouse: {redact(url)} ({where})")
    migrate.upgrade(url)
    with Warehouse(url, role=None).connect() as conn:
        loader.load_reference(conn)
        conn.commit()
    return url


def main(scale: float = 0.2, seed: int = 766, verbose: bool = False) -> int:
    from tthc_warehouse import simulator
    from tthc_warehouse.simulator.serve import serve_http_feeds

    url = prepare_warehouse()
    inbox = inbox_dir()
    step(f"simulating 10 provinces, Jan-Sep 2024 (seed {seed}, scale {scale}) into {inbox}")
    summary = simulator.generate(inbox, seed=seed, scale=scale)
    step(f"{summary.files} feed files, {summary.bytes / 1e6:.1f} MB")
    servers = serve_http_feeds(inbox)
    log = data_dir() / "demo-run.log"
    step(f"running the nightly DAG with dag.test() over {START} .. {END} (task logs: {log})")
    began = time.monotonic()
    try:
        if verbose:
            state = runner.run_nightly(START, END, retries=0)
        else:
            with output_to(log):
                state = runner.run_nightly(START, END, retries=0)
    finally:
        for server in servers:
            server.stop()
    step(f"DAG run {state} in {time.monotonic() - began:.0f} s")
    with Warehouse(url).connect() as conn:
        rates = console.digitization_period(conn, START, END)
    print("\nDigitization rate of dossiers, January-September 2024 (mart.monthly_compliance):")
    print(console.table(rates))
    print(f"\nQuery the warehouse:  make psql      (or: psql {url})")
    print("BI connection URL:    make warehouse-url   schema: mart")
    print("Run bookkeeping:      .venv/bin/tthc status")
    return 0 if state == "success" else 1
