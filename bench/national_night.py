"""The national night through Airflow (``make bench-night``): 34 units, ~200,000 dossiers.

Writes one night's CSV feeds for the 34 provincial units in force (dossiers, payments, refunds;
``bench/night_feeds.py``), then runs the real ``procedures_nightly`` DAG over that night and the
``marts_monthly`` DAG for the months it touched **under the scheduler with the LocalExecutor**: the
same code path as production (api-server, scheduler and dag-processor as separate processes, each
task in a process of its own, the warehouse pool capping concurrent writers), with Airflow's
metadata in a throwaway PostgreSQL database. It reports the wall time, the time the steps
themselves spent (``ops.batch`` timings) against the time tasks spent starting up and waiting in
the queue, the share of the 06:00 deadline used, and from the measured rows per second an
estimate of backfilling one national year on this machine and on N Celery workers.

    .venv/bin/python bench/national_night.py --dossiers 200000 --json night.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT)]
from night_feeds import write_night  # noqa: E402

from tests import airflow_harness  # noqa: E402  (Airflow's components as child processes)

SERVER = os.environ.get("TTHC_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DEADLINE_HOURS = 6.0  # the run starts at 00:00 and must be done by 06:00 Vietnam time
YEAR_DOSSIERS = 70_000_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="national_night", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=200_000, help="dossier rows of the night")
    parser.add_argument("--day", default="2026-03-10", help="the night's data interval (a day)")
    parser.add_argument("--seed", type=int, default=766)
    parser.add_argument("--workers", default="1,2,4,8", help="Celery worker counts to estimate")
    parser.add_argument("--parallelism", type=int, default=4,
                        help="LocalExecutor task slots ([core] parallelism; default 4 on 2 cores)")
    parser.add_argument("--units", type=int, help="only the first N units (a quick check of the harness)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for each run")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    return parser.parse_args(argv)


def _database(prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return name


def _drop(name: str) -> None:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _prepare(url: str, day: dt.date) -> list[tuple[str, str]]:
    """Migrate and load reference data; the units in force that night."""
    from tthc_warehouse.db import migrate
    from tthc_warehouse.reference import loader

    migrate.upgrade(url)
    with psycopg.connect(url) as conn:
        loader.load_reference(conn)
        conn.commit()
        return conn.execute("select province_code, name from ref.province where valid_from <= %(d)s "
                            "and (valid_to is null or valid_to > %(d)s) order by 1", {"d": day}).fetchall()


def _stamp(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _task_figures(instances: list[dict]) -> dict:
    """Task instances of a run: how many, their summed run time, and the time they waited queued.

    ``queued_when`` -> ``start_date`` is a task's wait for a free executor slot and its process
    start-up; ``start_date`` -> ``end_date`` is its run (imports, DAG parse, the work, XCom).
    """
    ran = [ti for ti in instances if ti.get("start_date") and ti.get("end_date")]
    run = sum((_stamp(ti["end_date"]) - _stamp(ti["start_date"])).total_seconds() for ti in ran)
    queued = sum((_stamp(ti["start_date"]) - _stamp(ti["queued_when"])).total_seconds()
                 for ti in ran if ti.get("queued_when"))
    states: dict[str, int] = {}
    for ti in instances:
        states[str(ti["state"])] = states.get(str(ti["state"]), 0) + 1
    return {"tasks": len(ran), "task_seconds": run, "queued_seconds": queued, "states": states}


def _work(url: str, run_id: str) -> dict:
    """What the steps themselves measured (ops.batch timings), and the rows they published."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select entity, count(*), sum(rows_published), sum((select sum(value::numeric) from "
            "jsonb_each_text(timings))) from ops.batch where dag_run_id = %s group by entity",
            (run_id,)).fetchall()
        failed = conn.execute("select count(*) from ops.batch where dag_run_id = %s and status <> "
                              "'published'", (run_id,)).fetchone()[0]
    return {"entities": {e: {"batches": b, "rows_published": int(r or 0), "seconds": float(s or 0)}
                         for e, b, r, s in rows}, "batches_not_published": failed}


def _airflow_env(url: str, work_dir: Path, metadata_url: str, parallelism: int) -> dict[str, str]:
    folders = {"DATA": "data", "LANDING": "landing", "INBOX": "inbox", "GX_DOCS": "gx-docs"}
    return {
        **{f"TTHC_{k}_DIR": str(work_dir / v) for k, v in folders.items()},
        "TTHC_FEEDS_FILE": str(work_dir / "feeds.yaml"),
        "AIRFLOW_CONN_WAREHOUSE": url,
        "GX_ANALYTICS_ENABLED": "false",
        "AIRFLOW_HOME": str(work_dir / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url.replace("postgresql://",
                                                                    "postgresql+psycopg://", 1),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the runs triggered here
    }


def _timed_run(airflow, dag_id: str, conf: dict, timeout: float) -> tuple[dict, float]:
    airflow.wait_for_dag(dag_id)
    began = time.perf_counter()
    run = airflow.wait_for_run(dag_id, airflow.trigger(dag_id, conf), timeout=timeout)
    wall = time.perf_counter() - began
    figures = {"run_id": run["dag_run_id"], "state": run["state"], "wall_seconds": wall,
               **_task_figures(airflow.task_instances(dag_id, run["dag_run_id"]))}
    return figures, wall


def run_night(args: argparse.Namespace, url: str, metadata_url: str, work_dir: Path) -> dict:
    from tthc_warehouse.ops import batches

    day = dt.date.fromisoformat(args.day)
    units = _prepare(url, day)[:args.units]
    feeds = write_night(work_dir / "inbox", work_dir / "feeds.yaml", units,
                        dt.datetime.combine(day, dt.time()), args.dossiers, args.seed)
    conf = {"from_date": day.isoformat(), "to_date": (day + dt.timedelta(days=1)).isoformat(),
            "provinces": []}
    env = _airflow_env(url, work_dir, metadata_url, args.parallelism)
    with airflow_harness.LocalAirflow(airflow_harness.free_port(), env=env,
                                      components=["api-server", "scheduler", "dag-processor"]) as airflow:
        nightly, _ = _timed_run(airflow, "procedures_nightly", conf, args.timeout)
        with psycopg.connect(url) as conn:
            months = [m.isoformat() for m in batches.months_touched_by_run(conn, nightly["run_id"])]
        marts, _ = _timed_run(airflow, "marts_monthly", {"months": months}, args.timeout)
    return {"units": len(units), "rows_written": feeds, "executor": "LocalExecutor",
            "parallelism": args.parallelism, "nightly": nightly, "marts": marts,
            "work": _work(url, nightly["run_id"])}


def estimates(figures: dict, workers: list[int]) -> dict:
    """Backfill estimates from this night's measured throughput (an estimate, not a measurement).

    This machine: nights of this size one after another, each as measured. N Celery workers: the
    night costs about its wall time on all of this machine's cores (tasks here were CPU-bound and
    shared them), which N workers with a core each and a warehouse that keeps up divide by N.
    """
    night = figures["nightly"]["wall_seconds"] + figures["marts"]["wall_seconds"]
    work = sum(e["seconds"] for e in figures["work"]["entities"].values())
    dossiers = figures["work"]["entities"].get("dossier", {}).get("rows_published", 0) or 1
    nights = YEAR_DOSSIERS / dossiers  # nights of this size in one national year
    core_seconds = night * figures["cores"]
    return {"nights": nights, "work_seconds_per_night": work,
            "dossier_rows_per_s_of_night": dossiers / night,
            "this_machine_hours": nights * night / 3600,
            "celery_hours": {n: nights * core_seconds / n / 3600 for n in workers}}


def report(f: dict) -> str:
    n, m, e = f["nightly"], f["marts"], f["estimates"]
    night = n["wall_seconds"] + m["wall_seconds"]
    tasks = n["tasks"] + m["tasks"]
    inside = n["task_seconds"] + m["task_seconds"]
    work = e["work_seconds_per_night"]
    rows = ", ".join(f"{k} {v:,}" for k, v in f["rows_written"].items())
    lines = [
        f"national night {f['day']}: {f['units']} units; rows written: {rows}",
        f"executor: {f['executor']}, parallelism {f['parallelism']}, {f['cores']} cores",
        f"procedures_nightly ({n['state']}): {n['wall_seconds']:.1f} s wall, {n['tasks']} tasks, "
        f"{n['task_seconds']:.1f} s running, {n['queued_seconds']:.1f} s queued",
        f"marts_monthly ({m['state']}): {m['wall_seconds']:.1f} s wall, {m['tasks']} tasks, "
        f"{m['task_seconds']:.1f} s running",
        f"night (both DAGs): {night:.1f} s = {night / 60:.1f} min, "
        f"{night / 3600 / DEADLINE_HOURS:.1%} of the 6 h to the 06:00 deadline (target < 30 min)",
        f"inside tasks {inside:.1f} s, of which the steps' own work (ops.batch timings) {work:.1f} s and "
        f"task start-up, DAG parsing, XCom and bookkeeping {inside - work:.1f} s "
        f"({(inside - work) / inside:.0%}, {(inside - work) / tasks:.2f} s per task)" if inside else "",
        "work per entity: " + "; ".join(f"{k} {v['rows_published']:,} rows in {v['seconds']:.1f} s"
                                          for k, v in f["work"]["entities"].items()),
        f"estimate, one national year ({YEAR_DOSSIERS:,} dossiers = {e['nights']:.0f} nights like this): "
        f"{e['this_machine_hours']:.1f} h on this machine; on N Celery workers with a core each "
        f"(the night's {f['cores']} core-busy wall time spread over N, warehouse keeping up): "
        + ", ".join(f"N={k}: {v:.1f} h" for k, v in e["celery_hours"].items()),
    ]
    return "\n".join(line for line in lines if line)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work_dir = Path(tempfile.mkdtemp(prefix="tthc-night-"))
    name, metadata = _database("tthc_night"), _database("airflow_night")
    url, metadata_url = (SERVER.rsplit("/", 1)[0] + "/" + db for db in (name, metadata))
    try:
        figures = {"day": args.day, **run_night(args, url, metadata_url, work_dir),
                   "cores": os.cpu_count(), "load_average": os.getloadavg()}
        figures["estimates"] = estimates(figures, [int(w) for w in args.workers.split(",")])
        print("\n" + report(figures), flush=True)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
    finally:
        _drop(name)
        _drop(metadata)
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
