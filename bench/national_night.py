"""The national night through Airflow (``make bench-night``): 34 units, ~200,000 dossiers.

Writes one night's CSV feeds for the 34 provincial units in force (dossiers, payments, refunds;
``bench/night_feeds.py``), then runs the real ``procedures_nightly`` DAG over that night and the
``marts_monthly`` DAG for the months it touched, with ``dag.test()`` (the same task code as the
scheduler runs, in one process, tasks one after another). It reports the wall time, the time the
steps themselves spent (``ops.batch`` timings) against Airflow's own (task start-up, scheduling,
XCom), the share of the 06:00 deadline used, and from the measured rows per second an estimate of
backfilling one national year on this machine and on N Celery workers.

    .venv/bin/python bench/national_night.py --dossiers 200000 --json night.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from night_feeds import write_night

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("TTHC_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DEADLINE_HOURS = 6.0  # the run starts at 00:00 and must be done by 06:00 Vietnam time
YEAR_DOSSIERS = 70_000_000
TASK_IMPORTS = ("import airflow.sdk, tthc_warehouse.orchestration.nightly, "
                "tthc_warehouse.orchestration.resources")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="national_night", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=200_000, help="dossier rows of the night")
    parser.add_argument("--day", default="2026-03-10", help="the night's data interval (a day)")
    parser.add_argument("--seed", type=int, default=766)
    parser.add_argument("--workers", default="1,2,4,8", help="Celery worker counts to estimate")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    return parser.parse_args(argv)


def _database() -> str:
    name = f"tthc_night_{uuid.uuid4().hex[:10]}"
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


def _task_seconds(run) -> tuple[int, float, float]:
    """Task instances of a run, the sum of their durations, and the run's wall span."""
    tis = [ti for ti in run.get_task_instances() if ti.start_date and ti.end_date]
    total = sum((ti.end_date - ti.start_date).total_seconds() for ti in tis)
    span = (max(ti.end_date for ti in tis) - min(ti.start_date for ti in tis)).total_seconds() if tis else 0
    return len(tis), total, span


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


def _import_seconds() -> float:
    """A fresh interpreter importing what a task process imports: LocalExecutor's per-task floor."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", TASK_IMPORTS], check=True, cwd=ROOT)
    return time.perf_counter() - began


def run_night(args: argparse.Namespace, url: str, work_dir: Path) -> dict:
    from tthc_warehouse.db.warehouse import Warehouse
    from tthc_warehouse.local import airflow_env, runner
    from tthc_warehouse.ops import batches

    day = dt.date.fromisoformat(args.day)
    units = _prepare(url, day)
    feeds = write_night(work_dir / "inbox", work_dir / "feeds.yaml", units,
                        dt.datetime.combine(day, dt.time()), args.dossiers, args.seed)
    airflow_env.ensure_metadata_db()
    end = day + dt.timedelta(days=1)
    conf = {"from_date": day.isoformat(), "to_date": end.isoformat(), "provinces": []}
    began = time.perf_counter()
    nightly = runner._test(runner.NIGHTLY_DAG, conf, 0)
    nightly_wall = time.perf_counter() - began
    with Warehouse.from_airflow().connect() as conn:
        months = [m.isoformat() for m in batches.months_touched_by_run(conn, nightly.run_id)]
    began = time.perf_counter()
    marts = runner._test(runner.MARTS_DAG, {"months": months}, 0)
    marts_wall = time.perf_counter() - began
    return {"units": len(units), "rows_written": feeds, "nightly": _run_figures(nightly, nightly_wall),
            "marts": _run_figures(marts, marts_wall), "work": _work(url, nightly.run_id)}


def _run_figures(run, wall: float) -> dict:
    count, task_total, span = _task_seconds(run)
    return {"state": str(run.state), "wall_seconds": wall, "tasks": count,
            "task_seconds": task_total, "task_span_seconds": span}


def estimates(figures: dict, workers: list[int]) -> dict:
    """Backfill estimates from this night's measured throughput (an estimate, not a measurement).

    This machine: nights of this size, one after another as measured (dag.test, tasks in one
    process). N Celery workers: each task pays a fresh process's imports, and the night's work
    and start-up spread over N workers, assuming the warehouse keeps up (a core per worker).
    """
    night = figures["nightly"]["wall_seconds"] + figures["marts"]["wall_seconds"]
    work = sum(e["seconds"] for e in figures["work"]["entities"].values())
    dossiers = figures["work"]["entities"].get("dossier", {}).get("rows_published", 0) or 1
    nights = YEAR_DOSSIERS / dossiers  # nights of this size in one national year
    tasks = figures["nightly"]["tasks"] + figures["marts"]["tasks"]
    distributed = work + tasks * figures["task_import_seconds"]
    return {"nights": nights, "work_seconds_per_night": work, "overhead_seconds_per_night": night - work,
            "dossier_rows_per_s_of_work": dossiers / work if work else None,
            "this_machine_hours": nights * night / 3600,
            "celery_hours": {n: nights * distributed / n / 3600 for n in workers}}


def report(f: dict) -> str:
    n, m, e = f["nightly"], f["marts"], f["estimates"]
    night = n["wall_seconds"] + m["wall_seconds"]
    work = e["work_seconds_per_night"]
    rows = ", ".join(f"{k} {v:,}" for k, v in f["rows_written"].items())
    lines = [
        f"national night {f['day']}: {f['units']} units; rows written: {rows}",
        f"procedures_nightly ({n['state']}): {n['wall_seconds']:.1f} s wall, {n['tasks']} tasks, "
        f"{n['task_seconds']:.1f} s inside tasks",
        f"marts_monthly ({m['state']}): {m['wall_seconds']:.1f} s wall, {m['tasks']} tasks",
        f"night (both DAGs): {night:.1f} s = {night / 60:.1f} min, "
        f"{night / 3600 / DEADLINE_HOURS:.1%} of the 6 h to the 06:00 deadline (target < 30 min)",
        f"work (the steps' own timings in ops.batch): {work:.1f} s; Airflow and start-up: "
        f"{e['overhead_seconds_per_night']:.1f} s "
        f"({e['overhead_seconds_per_night'] / night:.0%} of the night)",
        f"per-task process start-up under LocalExecutor/Celery (fresh interpreter importing the task "
        f"modules, measured): {f['task_import_seconds']:.2f} s x {n['tasks'] + m['tasks']} tasks",
        "work per entity: " + "; ".join(f"{k} {v['rows_published']:,} rows in {v['seconds']:.1f} s"
                                          for k, v in f["work"]["entities"].items()),
        f"estimate, one national year ({YEAR_DOSSIERS:,} dossiers = {e['nights']:.0f} nights like this): "
        f"{e['this_machine_hours']:.1f} h on this machine as measured (serial); on N Celery workers "
        f"(work + a process start-up per task, spread over N, warehouse keeping up): "
        + ", ".join(f"N={k}: {v:.1f} h" for k, v in e["celery_hours"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work_dir = Path(tempfile.mkdtemp(prefix="tthc-night-"))
    name = _database()
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    folders = {"DATA": "data", "LANDING": "landing", "INBOX": "inbox", "GX_DOCS": "gx-docs"}
    os.environ.update({f"TTHC_{k}_DIR": str(work_dir / v) for k, v in folders.items()})
    os.environ.update({"TTHC_FEEDS_FILE": str(work_dir / "feeds.yaml"), "AIRFLOW_CONN_WAREHOUSE": url,
                       "GX_ANALYTICS_ENABLED": "false"})
    try:
        figures = {"day": args.day, **run_night(args, url, work_dir),
                   "task_import_seconds": _import_seconds(), "load_average": os.getloadavg()}
        figures["estimates"] = estimates(figures, [int(w) for w in args.workers.split(",")])
        print("\n" + report(figures), flush=True)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
    finally:
        _drop(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
