"""`tthc`: the project's command line (migrate, simulate, run, demo, status, psql, ...)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

from tthc_warehouse.db.warehouse import LOADER_ROLE, Warehouse
from tthc_warehouse.local import airflow_env
from tthc_warehouse.reference import loader


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the warehouse schema to the newest revision and refresh reference data."""
    from tthc_warehouse.db import migrate

    owner = _warehouse(args, role=None)
    migrate.upgrade(owner.url)
    with owner.connect() as conn:
        counts = loader.load_reference(conn)
        conn.commit()
    if os.environ.get("TTHC_PIPELINE_LOGIN"):  # the compose stack: tasks log in with this one
        migrate.ensure_pipeline_login(owner.url, os.environ["TTHC_PIPELINE_LOGIN"],
                                      os.environ.get("TTHC_PIPELINE_PASSWORD"))
    print(
        f"warehouse {owner.redacted} at revision {migrate.current(owner.url)}; "
        + ", ".join(f"{t} {n} rows" for t, n in counts.items())
    )
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write the ten provinces' simulated feeds into the inbox."""
    from tthc_warehouse import simulator
    from tthc_warehouse.extract.feeds import inbox_dir

    inbox = args.inbox or inbox_dir()
    summary = simulator.generate(inbox, seed=args.seed, scale=args.scale)
    print(f"simulated feeds written to {inbox}")
    print(summary.describe() if hasattr(summary, "describe") else summary)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the nightly DAG once over [from, to) in this process (dag.test), with progress bars."""
    from tthc_warehouse.cli.progress import batch_progress
    from tthc_warehouse.extract.feeds import ENTITY_ORDER, load_feeds
    from tthc_warehouse.local import demo, runner
    from tthc_warehouse.paths import data_dir

    feeds = [f for f in load_feeds() if not args.province or f.province_code in args.province]
    total = sum(len([e for e in ENTITY_ORDER if e in f.entities]) for f in feeds)
    warehouse = _warehouse(args)
    log = data_dir() / "run.log"
    print(f"procedures_nightly {args.from_date} .. {args.to_date}: {len(feeds)} provinces; task logs: {log}")
    servers = []
    if args.simulated:  # the simulator's HTTP province is served from its store, as in the demo
        from tthc_warehouse.extract.feeds import inbox_dir
        from tthc_warehouse.simulator.serve import serve_http_feeds

        servers = serve_http_feeds(inbox_dir(), feeds)
    try:
        with batch_progress(warehouse, total):
            if args.verbose:
                state = runner.run_nightly(args.from_date, args.to_date, args.province)
            else:
                with demo.output_to(log):
                    state = runner.run_nightly(args.from_date, args.to_date, args.province)
    finally:
        for server in servers:
            server.stop()
    print(f"run {state}; details: tthc status")
    return 0 if state == "success" else 1


def cmd_backfill(args: argparse.Namespace) -> int:
    """Create a backfill of the nightly DAG (`airflow backfill create`); the scheduler runs it."""
    import subprocess

    airflow_env.ensure_metadata_db()
    airflow = Path(sys.executable).with_name("airflow")
    command = [str(airflow), "backfill", "create", "--dag-id", "procedures_nightly",
               "--from-date", args.from_date.isoformat(), "--to-date", args.to_date.isoformat(),
               "--reprocess-behavior", args.reprocess, "--max-active-runs", str(args.max_active_runs)]
    if args.dry_run:
        command.append("--dry-run")
    print("backfill runs are executed by the scheduler: keep `make up` running to see them progress")
    return subprocess.run(command, env=os.environ.copy(), check=False).returncode


def cmd_demo(args: argparse.Namespace) -> int:
    from tthc_warehouse.local import demo

    return demo.main(scale=args.scale, seed=args.seed, verbose=args.verbose)


def cmd_status(args: argparse.Namespace) -> int:
    """Latest batches and quarantined rows, as a person on call wants them."""
    from tthc_warehouse.report import console

    with _warehouse(args).connect() as conn:
        print(console.status(conn, limit=args.limit))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write (and optionally open) the self-contained monthly HTML report from the marts."""
    from tthc_warehouse.report import monthly

    month = dt.date.fromisoformat(f"{args.month}-01")
    path = monthly.write(_warehouse(args), month, args.out)
    print(f"report written: {path}")
    if args.open:
        import webbrowser

        webbrowser.open(path.as_uri())
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """Run Airflow here (api-server, scheduler, dag-processor, triggerer) until Ctrl-C; print the login."""
    from tthc_warehouse.local import airflow_up

    return airflow_up.main(port=args.port)


def cmd_warehouse_url(args: argparse.Namespace) -> int:
    """Print a PostgreSQL URL a BI tool or psql can use."""
    from tthc_warehouse.local import embedded

    print(embedded.ensure_warehouse())
    return 0


def cmd_psql(args: argparse.Namespace) -> int:
    """Open psql on the warehouse (the embedded server's own psql when none is installed)."""
    from tthc_warehouse.local import embedded

    url = embedded.ensure_warehouse()
    psql = shutil.which("psql")
    if psql is None:
        psql = str(embedded.ensure_running().bin_dir / "psql")
    os.execv(psql, [psql, url, *args.psql_args])
    return 0


def _warehouse(args: argparse.Namespace, role: str | None = LOADER_ROLE) -> Warehouse:
    """The ``warehouse`` connection; with ``--local``, the embedded server when none is configured."""
    if args.local:
        from tthc_warehouse.local import embedded

        embedded.ensure_warehouse()
    return Warehouse.from_airflow(role=role)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tthc", description=__doc__)
    parser.add_argument("--local", action="store_true",
                        help="with no AIRFLOW_CONN_WAREHOUSE, use (and start) the embedded PostgreSQL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help=cmd_migrate.__doc__).set_defaults(func=cmd_migrate)
    sim = commands.add_parser("simulate", help=cmd_simulate.__doc__)
    sim.add_argument("--inbox", type=Path)
    sim.add_argument("--seed", type=int, default=766)
    sim.add_argument("--scale", type=float, default=0.2)
    sim.set_defaults(func=cmd_simulate)
    run = commands.add_parser("run", help=cmd_run.__doc__)
    run.add_argument(
        "--from", dest="from_date", type=_date, required=True, help="YYYY-MM-DD, inclusive"
    )
    run.add_argument(
        "--to", dest="to_date", type=_date, required=True, help="YYYY-MM-DD, exclusive"
    )
    run.add_argument("--province", action="append", help="province code; repeat; default all")
    run.add_argument("--verbose", action="store_true", help="show Airflow's task logs")
    run.add_argument("--simulated", action="store_true",
                     help="serve the simulator's HTTP feeds from the inbox (after `tthc simulate`)")
    run.set_defaults(func=cmd_run)
    backfill = commands.add_parser("backfill", help=cmd_backfill.__doc__)
    backfill.add_argument("--from", dest="from_date", type=_date, required=True, help="first logical date")
    backfill.add_argument("--to", dest="to_date", type=_date, required=True,
                          help="last logical date (inclusive)")
    backfill.add_argument("--reprocess", choices=["none", "completed", "failed"], default="failed",
                          help="what to do with dates that already have a run (default: rerun failed ones)")
    backfill.add_argument("--max-active-runs", type=int, default=1)
    backfill.add_argument("--dry-run", action="store_true", help="list the runs without creating them")
    backfill.set_defaults(func=cmd_backfill)
    demo = commands.add_parser("demo", help="simulate, load Jan-Sep 2024, print the figures")
    demo.add_argument("--seed", type=int, default=766)
    demo.add_argument("--scale", type=float, default=0.2)
    demo.add_argument("--verbose", action="store_true")
    demo.set_defaults(func=cmd_demo)
    up = commands.add_parser("up", help=cmd_up.__doc__)
    up.add_argument("--port", type=int, default=8080)
    up.set_defaults(func=cmd_up)
    report = commands.add_parser("report", help=cmd_report.__doc__)
    report.add_argument("--month", required=True, help="YYYY-MM")
    report.add_argument("--out", type=Path, help="folder (default .data/reports)")
    report.add_argument("--open", action="store_true", help="open it in the default browser")
    report.set_defaults(func=cmd_report)
    status = commands.add_parser("status", help=cmd_status.__doc__)
    status.add_argument("--limit", type=int, default=20)
    status.set_defaults(func=cmd_status)
    commands.add_parser("warehouse-url", help=cmd_warehouse_url.__doc__).set_defaults(
        func=cmd_warehouse_url
    )
    psql = commands.add_parser("psql", help=cmd_psql.__doc__ + " Extra arguments go to psql.")
    psql.set_defaults(func=cmd_psql)
    return parser


def main(argv: list[str] | None = None) -> int:
    airflow_env.configure()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.func is not cmd_psql:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.psql_args = extra
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
