"""Pipeline benchmark (``make bench``): extract -> stage -> validate -> publish -> marts at scale.

Generates ``--rows`` dossier rows (default 1,000,000) spread over the days of one month, one file
per day as the real feed delivers them (``ho-so-YYYYMMDD.csv``), in the native format of
``--province`` (default 30, Hải Dương: CSV, Vietnamese headers, UTF-8 with BOM, dd/MM/yyyy HH:mm,
1.234.567 fees, status codes, 1/0 flags; the format comes from config/feeds.yaml and the
simulator's style for that province, and the files are written by the simulator's own
``render.write_csv``). Then, in a throwaway database, it times each step of the nightly load on
one month-long batch, with the same functions the DAG calls:

    extract   landing.land (checksums + copy into the landing folder) and the ops.batch row
    stage     staging.stage_files (CSV read by Arrow in chunks, value rules in Arrow/numpy, binary COPY
              into the unlogged table, the next chunk read while this one is COPYed)
    validate  quality.validate (GX suite run in PostgreSQL) + quality.record + quarantine_failures
    publish   publish.publish_batch (merge into core, one transaction)
    marts     builder.rebuild_months for the months the batch touched

and, in the same run, two baselines on the same files: a plain ``COPY ... FROM STDIN (FORMAT csv)``
of the file bytes into a bare unlogged table of text columns, and ``DataFrame.to_sql``
(SQLAlchemy + psycopg, ``method=None``, ``chunksize=10_000``) of a ``--tosql-rows`` slice.

Every step runs in a fresh process (multiprocessing, spawn), so each step's peak RSS
(``ru_maxrss``) is its own; a step's imports happen before its clock starts and are reported as
the RSS the step started from. ``--tracemalloc`` adds the peak of Python allocations (slower).
The PostgreSQL server's own memory is not counted.

``--mart-facts N`` also COPYs N synthetic facts straight into core.fact_dossier, spread over the
12 months of ``--mart-year``, with the status history the nightly publish would have written for
them (core.fact_dossier_status_event: received, in processing, waiting for a supplement; the
current status is core's row; about 1.5 events per dossier), and times ``builder.rebuild_month``
for one of them (right after the load, then after VACUUM ANALYZE). ``--rows 0`` skips the pipeline run.

Targets (issue): end-to-end <= 3x raw COPY at 1M rows; peak memory < 1 GiB at 5M rows; rebuilding
a month's marts over 5M facts < 5 s; no stage
slower than 1.5x COPY. This prints the figures; it never fails on a target.

    .venv/bin/python bench/pipeline_bench.py --rows 200000 --json bench.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tthc_warehouse.marts import builder
from tthc_warehouse.ops import batches
from tthc_warehouse.reference import loader

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
EMBEDDED_ROOT = ROOT / ".data" / "bench-postgres"
ENTITY = "dossier"
PIPELINE_STAGES = ("extract", "stage", "validate", "publish", "marts")
TARGET_RATIO = 3.0
TARGET_STAGE_RATIO = 1.5  # no stage slower than this multiple of raw COPY
TARGET_MART_SECONDS = 5.0
TARGET_PEAK_MIB = 1024
MIB = 1024 * 1024

# Shares used by the generator (documented values, not calibrated to a province).
STATUS_SHARES = {1: 0.03, 2: 0.08, 3: 0.025, 4: 0.20, 5: 0.05, 6: 0.04, 7: 0.015, 8: 0.01,
                 9: 0.15, 10: 0.40}
# Facts months old: almost all settled by now (the simulator's 1.5 % "stuck" stay open).
SETTLED_STATUS_SHARES = {1: 0.005, 2: 0.002, 3: 0.025, 4: 0.006, 5: 0.002, 6: 0.002, 7: 0.015, 8: 0.01,
                         9: 0.08, 10: 0.853}
CHANNEL_SHARES = {2: 0.58, 3: 0.02, 0: 0.01, 1: 0.39}  # 0 = not recorded (empty cell)
SUPPLEMENT_SHARES = {0: 0.80, 1: 0.15, 2: 0.04, 3: 0.01}
ENDED = (3, 7, 8, 9, 10)
FINISHED = (9, 10)


# ---- measuring ---------------------------------------------------------------------------------

def _maxrss_mib() -> float:
    """This process's peak resident set size so far (Linux: KiB, macOS: bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def _children_maxrss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def _status_mib(field: str) -> float | None:
    """A ``VmRSS``/``VmHWM`` figure from /proc/self/status (Linux), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0: ``5 > /proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_mib("VmHWM") is not None


class Meter:
    """The timed region of one step: wall seconds, peak RSS, optionally peak Python allocations.

    The step's peak RSS is VmHWM reset when the clock starts (so import-time peaks are not
    counted); where that is not available, ``ru_maxrss`` of the process (which includes them).
    """

    def __init__(self, trace: bool = False) -> None:
        self.trace = trace
        self.seconds: float | None = None
        self.py_peak: float | None = None

    def __enter__(self) -> Meter:
        self.rss_before = _status_mib("VmRSS") or _maxrss_mib()
        self.hwm_reset = _reset_peak_rss()
        if self.trace:
            tracemalloc.start()
        self.began = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.began
        if self.trace:
            self.py_peak = tracemalloc.get_traced_memory()[1] / MIB
            tracemalloc.stop()
        self.process_peak = _maxrss_mib()
        self.peak = (_status_mib("VmHWM") if self.hwm_reset else None) or self.process_peak

    def elapsed(self) -> float:
        return time.perf_counter() - self.began

    def figures(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "peak_rss_mib": round(self.peak, 1),
            "rss_at_start_mib": round(self.rss_before, 1),
            "rss_growth_mib": round(max(0.0, self.peak - self.rss_before), 1),
            "process_peak_rss_mib": round(self.process_peak, 1),
            "peak_rss_source": "VmHWM reset at start" if self.hwm_reset else "ru_maxrss",
            "python_peak_mib": None if self.py_peak is None else round(self.py_peak, 1),
        }


def _child(task: str, params: dict[str, Any]) -> dict[str, Any]:
    meter = Meter(params.get("tracemalloc", False))
    result = TASKS[task](params, meter)
    if meter.seconds is None:
        raise RuntimeError(f"bench task {task!r} did not time anything")
    return {**result, **meter.figures()}


# Steps that write to the database start after a CHECKPOINT (not timed). Otherwise a step pays for
# the checkpoint that WAL written before it (by an earlier run, or another database on the server)
# brought due, and its figure depends on what ran before. A step's own WAL still brings one due
# inside it: with max_wal_size 1 GB a checkpoint is due every ~540 MB, and a 1M-row publish writes
# about 550 MB.
CHECKPOINT_FIRST = {"raw_copy", "to_sql", "stage", "validate", "publish", "marts", "insert_floor",
                    "mart_facts_load", "mart_rebuild"}


def checkpoint(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("checkpoint")


def run_task(task: str, params: dict[str, Any], *, spawn: bool = True) -> dict[str, Any]:
    """One step in a fresh spawned process (its own ru_maxrss), or here with ``spawn=False``;
    after a checkpoint when it writes to the database (``CHECKPOINT_FIRST``)."""
    if task in CHECKPOINT_FIRST:
        checkpoint(params["url"])
    began = time.perf_counter()
    if spawn:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            result = pool.submit(_child, task, params).result()
    else:
        result = _child(task, params)
    result["wall_seconds"] = time.perf_counter() - began  # with process start and imports
    return result


# ---- generating the province's files -----------------------------------------------------------

def _province(code: str):
    from tthc_warehouse.extract.feeds import load_feeds

    feed = next((f for f in load_feeds() if f.province_code == code), None)
    if feed is None or ENTITY not in feed.entities:
        raise SystemExit(f"no dossier feed configured for province {code!r} in config/feeds.yaml")
    spec = feed.entities[ENTITY]
    if spec.format != "csv":
        raise SystemExit(f"province {code} delivers {spec.format}; the benchmark writes CSV feeds only "
                         "(provinces 52, 30, 11, 40, 46)")
    return feed, spec


def _month(text: str) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.strptime(text, "%Y-%m")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def _choice(rng, shares: dict, size: int):
    import numpy as np

    keys = np.array(list(shares))
    weights = np.array(list(shares.values()), dtype=float)
    return rng.choice(keys, size=size, p=weights / weights.sum())


def canonical_columns(n: int, province_code: str, start: dt.datetime, end: dt.datetime, seed: int,
                      status_shares: dict[int, float] = STATUS_SHARES) -> dict[str, tuple[Any, Any]]:
    """N valid dossier records as numpy columns: name -> (values, null mask or None).

    Timestamps are whole minutes after ``start``; every record has its own dossier code, its
    update (``source_updated_at``) inside [start, end), a receipt no later than the update and
    inside the month, and due/finish times consistent with it, so the quality suite passes.
    """
    import random

    import numpy as np

    from tthc_warehouse.simulator.catalogue import build_agencies, offered
    from tthc_warehouse.simulator.params import PROVINCES

    rng = np.random.default_rng(seed)
    agencies = build_agencies(province_code, PROVINCES[province_code].portal_code,
                              random.Random(f"{seed}:{province_code}"))
    procedures = offered(agencies)
    weights = np.array([p.weight for p in procedures])

    days = (end - start).days
    day_weight = np.array([0.25 if (start + dt.timedelta(days=d)).weekday() >= 5 else 1.0
                           for d in range(days)])
    day = rng.choice(days, size=n, p=day_weight / day_weight.sum())
    updated = np.sort(day * 1440 + rng.integers(7 * 60 + 30, 17 * 60 + 31, n))  # office hours
    status = _choice(rng, status_shares, n)
    new = status == 1  # online submissions never received: no receipt, no due date
    channel = _choice(rng, CHANNEL_SHARES, n)
    channel[new] = 2
    received = np.maximum(updated - rng.integers(0, 10 * 1440, n), 7 * 60 + 30)  # <= updated
    submitted = np.select(
        [new, channel == 2, channel == 3],
        [updated, received - rng.integers(10, 3 * 1440, n), received - 1440 * rng.integers(1, 5, n)],
        received - rng.integers(0, 46, n))
    proc = rng.choice(len(procedures), size=n, p=weights / weights.sum())
    proc_days = np.array([p.days for p in procedures])[proc]
    fee = np.array([p.fee for p in procedures])[proc]
    due = received + proc_days * 1440 * 7 // 5
    ended = np.isin(status, ENDED)
    finished = received + ((updated - received) * rng.random(n)).astype(np.int64)
    supplements = _choice(rng, SUPPLEMENT_SHARES, n)
    supplements[status == 5] = np.maximum(supplements[status == 5], 1)
    supplement_days = np.where(ended, supplements * rng.integers(1, 16, n), 0)
    paid_online = np.where((fee > 0) & (channel == 2) & (rng.random(n) < 0.75),
                           rng.choice([1, 2], size=n, p=[0.85, 0.15]), 0)

    codes = np.array([a.code for a in agencies], dtype=object)
    portal = np.array([a.portal_code for a in agencies], dtype=object)
    receiving = np.zeros(n, dtype=np.int64)
    processing = np.zeros(n, dtype=np.int64)
    by_code = {a.code: i for i, a in enumerate(agencies)}
    for p, procedure in enumerate(procedures):
        rows = np.flatnonzero(proc == p)
        if procedure.level == "province":
            unit = by_code.get(f"{province_code}.{procedure.department}", 0)
            processing[rows] = unit
            receiving[rows] = np.where(rng.random(len(rows)) < 0.8, 0, unit)  # 0 = TTPVHCC desk
        else:
            units = np.array([i for i, a in enumerate(agencies) if a.level == procedure.level])
            processing[rows] = receiving[rows] = units[rng.integers(0, len(units), len(rows))]

    stamp = [f"{(start + dt.timedelta(minutes=int(m))):%y%m%d}" for m in range(0, days * 1440, 1440)]
    dossier_code = np.array([f"{portal[r]}-{stamp[u // 1440]}-{i:07d}"
                             for i, (r, u) in enumerate(zip(receiving.tolist(), updated.tolist(),
                                                            strict=True))], dtype=object)
    level = np.array([a.level for a in agencies], dtype=object)
    names = np.array([a.name for a in agencies], dtype=object)
    attribute = {name: np.array([getattr(p, name) for p in procedures], dtype=object)[proc]
                 for name in ("code", "name", "field_code", "paper_result")}
    return {
        "dossier_code": (dossier_code, None),
        "procedure_code": (attribute["code"], None),
        "procedure_name": (attribute["name"], None),
        "field_code": (attribute["field_code"], None),
        "receiving_agency_code": (codes[receiving], None),
        "processing_agency_code": (codes[processing], None),
        "receiving_agency_name": (names[receiving], None),
        "processing_agency_name": (names[processing], None),
        "agency_level": (level[processing], None),
        "province_code": (np.full(n, province_code, dtype=object), None),
        "channel": (channel, channel == 0),
        "submitted_at": (submitted, (channel == 3) & ~new & (rng.random(n) < 0.3)),
        "received_at": (received, new),
        "due_at": (due, new | (rng.random(n) < 0.015)),
        "finished_at": (finished, ~ended),
        "returned_at": (updated, status != 10),
        "status": (status, None),
        "supplement_count": (np.where(new, 0, supplements), None),
        "supplement_days": (supplement_days, None),
        "components_digitized": (rng.random(n) < 0.92, None),
        "result_digitized": (np.isin(status, FINISHED) & (rng.random(n) < 0.85), None),
        "requires_paper_result": (attribute["paper_result"].astype(bool), None),
        "synced_to_portal": (rng.random(n) >= 0.095, None),
        "paid_online": (paid_online, None),
        "fee_amount": (fee, None),
        "source_updated_at": (updated, None),
    }


def printed_columns(columns: dict[str, tuple[Any, Any]], style, start: dt.datetime) -> list[Any]:
    """Each column as the province prints it: ``render.value`` applied once per distinct value."""
    import numpy as np

    from tthc_warehouse.contract import DOSSIER
    from tthc_warehouse.simulator import render

    out = []
    for column in DOSSIER.columns:
        values, nulls = columns[column.name]
        if column.kind == "text":
            text = values.copy()
        else:
            distinct, inverse = np.unique(values, return_inverse=True)
            raw: Callable[[Any], Any] = {
                "timestamp": lambda m: start + dt.timedelta(minutes=int(m)),
                "bool": bool,
            }.get(column.kind, int)
            printed = [render.value(raw(v), column.kind, style) for v in distinct.tolist()]
            text = np.array([str(v) for v in printed], dtype=object)[inverse.reshape(-1)]
        if nulls is not None:
            text[nulls] = ""
        out.append(text)
    return out


def task_generate(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """Write the month's daily files into the inbox (not part of the pipeline's timing)."""
    import numpy as np

    from tthc_warehouse.contract import DOSSIER
    from tthc_warehouse.extract.feeds import days_in, inbox_dir, load_mapping
    from tthc_warehouse.simulator import render
    from tthc_warehouse.simulator.params import PROVINCES

    feed, spec = _province(p["province"])
    start, end = _month(p["month"])
    style = PROVINCES[p["province"]].style
    header = render.headers(DOSSIER, load_mapping(spec.mapping))
    options = {"delimiter": spec.options.get("delimiter", ","),
               "encoding": spec.options.get("encoding", "utf-8"), "bom": style.bom}
    paths = []
    with meter:
        columns = canonical_columns(p["rows"], p["province"], start, end, p["seed"])
        updated = columns["source_updated_at"][0]
        text = printed_columns(columns, style, start)
        del columns
        bounds = np.searchsorted(updated, np.arange(0, (end - start).days + 1) * 1440)
        for i, day in enumerate(days_in(start, end)):
            path = inbox_dir() / spec.path.format(day=day, province_code=feed.province_code)
            path.parent.mkdir(parents=True, exist_ok=True)
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            body = list(zip(*(c[lo:hi].tolist() for c in text), strict=True))
            render.write_csv(path, header, body, **options)
            paths.append(str(path))
    return {"rows": p["rows"], "files": paths, "bytes": sum(Path(x).stat().st_size for x in paths),
            "format": {"delimiter": options["delimiter"], "encoding": options["encoding"],
                       "bom": options["bom"], "style": vars(style)}}


# ---- baselines ---------------------------------------------------------------------------------

def _pg_encoding(encoding: str) -> str:
    return "WIN1258" if encoding.replace("-", "").lower() == "cp1258" else "UTF8"


def _bare_table(conn, name: str, width: int) -> None:
    from psycopg import sql

    conn.execute("create schema if not exists bench")
    conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier("bench", name)))
    columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"c{i}")) for i in range(width))
    conn.execute(sql.SQL("create unlogged table {} ({})").format(sql.Identifier("bench", name), columns))
    conn.commit()


def task_raw_copy(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """The floor: the same files' bytes COPYed as CSV into a bare unlogged table of text columns."""
    import psycopg
    from psycopg import sql

    from tthc_warehouse.contract import DOSSIER

    statement = sql.SQL("copy bench.raw_copy from stdin (format csv, header true, delimiter {}, "
                        "encoding {})").format(sql.Literal(p["delimiter"]),
                                               sql.Literal(_pg_encoding(p["encoding"])))
    rows = 0
    with psycopg.connect(p["url"]) as conn:
        _bare_table(conn, "raw_copy", len(DOSSIER.columns))
        with meter, conn.cursor() as cur:
            for name in p["files"]:
                with open(name, "rb") as fh, cur.copy(statement) as copy:
                    while block := fh.read(1 << 20):
                        copy.write(block)
                rows += cur.rowcount
            conn.commit()
        conn.execute("drop table bench.raw_copy")
        conn.commit()
    return {"rows": rows}


def task_insert_floor(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """What publishing the rows costs PostgreSQL at least: the batch's facts, already in core, copied
    by one INSERT ... SELECT into an empty copy of core.fact_dossier, with core's indexes
    (``indexes``) or none. Same WAL, same heap; no staging table, no checks, no history."""
    import psycopg

    like = "including defaults including indexes" if p["indexes"] else "including defaults"
    with psycopg.connect(p["url"]) as conn:
        conn.execute("create schema if not exists bench")
        conn.execute("drop table if exists bench.insert_floor")
        conn.execute(f"create table bench.insert_floor (like core.fact_dossier {like})")
        conn.commit()
        with meter:
            rows = conn.execute("insert into bench.insert_floor select * from core.fact_dossier "
                                "where batch_id = %s", (_batch(p)[0],)).rowcount
            conn.commit()
        conn.execute("drop table bench.insert_floor")
        conn.commit()
    return {"rows": rows}


def task_to_sql(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """The naive loader: ``DataFrame.to_sql`` of a slice of the same rows, as text columns."""
    import pandas as pd
    import psycopg
    from sqlalchemy import create_engine, pool

    from tthc_warehouse.contract import DOSSIER

    frames, size = [], 0
    for name in p["files"]:
        frame = pd.read_csv(name, sep=p["delimiter"], encoding="utf-8-sig" if _pg_encoding(p["encoding"])
                            == "UTF8" else p["encoding"], dtype=str, keep_default_na=False,
                            nrows=p["rows"] - size)
        frames.append(frame)
        size += len(frame)
        if size >= p["rows"]:
            break
    data = pd.concat(frames, ignore_index=True)
    data.columns = [f"c{i}" for i in range(len(DOSSIER.columns))]
    with psycopg.connect(p["url"]) as conn:
        _bare_table(conn, "to_sql", len(DOSSIER.columns))
    engine = create_engine(p["url"].replace("postgresql://", "postgresql+psycopg://", 1),
                           poolclass=pool.NullPool)
    with meter:
        data.to_sql("to_sql", engine, schema="bench", if_exists="append", index=False,
                    chunksize=10_000, method=None)
    engine.dispose()
    with psycopg.connect(p["url"]) as conn:
        rows = conn.execute("select count(*) from bench.to_sql").fetchone()[0]
        conn.execute("drop table bench.to_sql")
    return {"rows": rows}


# ---- the pipeline's steps ----------------------------------------------------------------------

BENCH_ATTEMPT = "bench"  # one stage per batch here: a fixed attempt and table name


def _batch(p: dict[str, Any]) -> tuple[str, str, dt.datetime, dt.datetime]:

    start, end = _month(p["month"])
    batch_id = batches.batch_id(ENTITY, p["province"], start, end)
    table = batch_id.replace(":", "_").replace("-", "_").lower()  # as nightly.stage names it
    return batch_id, table, start, end


def task_setup(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """Alembic to head and the reference data, as ``make migrate`` does."""
    import psycopg

    from tthc_warehouse.db import migrate

    with meter:
        migrate.upgrade(p["url"])
        with psycopg.connect(p["url"]) as conn:
            counts = loader.load_reference(conn)
            conn.commit()
    return {"rows": sum(counts.values())}


def task_extract(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    from tthc_warehouse.db.warehouse import Warehouse
    from tthc_warehouse.extract import landing

    warehouse = Warehouse(p["url"])
    feed, spec = _province(p["province"])
    batch_id, _, start, end = _batch(p)
    with meter:
        with warehouse.connect() as conn:
            batches.start_batch(conn, batch_id=batch_id, source=spec.source, entity=ENTITY,
                            province_code=feed.province_code, interval_start=start, interval_end=end,
                            dag_run_id="bench")
        landed = landing.land([Path(f) for f in p["files"]],
                              landing.interval_folder(ENTITY, feed.province_code, start, end), spec.source)
        with warehouse.connect() as conn:
            batches.update_batch(conn, batch_id, stage="extract", seconds=meter.elapsed(),
                             landing_path=landed.folder, landing_checksum=landed.checksum)
    return {"rows": p["rows"], "landed": landed.to_dict()}


def task_stage(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    from tthc_warehouse.contract import ENTITIES
    from tthc_warehouse.db.warehouse import Warehouse
    from tthc_warehouse.extract.landing import Landed
    from tthc_warehouse.extract.sources import source_for
    from tthc_warehouse.load import staging
    from tthc_warehouse.ops import claims

    warehouse = Warehouse(p["url"])
    _, spec = _province(p["province"])
    batch_id, table, start, end = _batch(p)
    paths = Landed.from_dict(p["landed"]).paths()
    source = source_for(spec, p["province"])
    with meter, warehouse.connect() as conn:
        claims.claim(conn, batch_id, BENCH_ATTEMPT, table)  # as nightly.stage binds the table
        result = staging.stage_files(conn, batch_id=batch_id, table=table, entity=ENTITIES[ENTITY],
                                     source=source, paths=paths, start=start, end=end)
        batches.update_batch(conn, batch_id, stage="stage", seconds=meter.elapsed(),
                             rows_read=result.rows_read, rows_staged=result.rows_staged,
                             rows_quarantined=result.rows_rejected)
    from tthc_warehouse.load import pgcopy

    return {"rows": result.rows_staged, "rows_read": result.rows_read,
            "rows_rejected": result.rows_rejected,
            "copy_encoder": "arrow" if pgcopy.ArrowToPostgresBinaryEncoder is None else "pgpq"}


def task_validate(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """The pipeline's own validate step (GX in PostgreSQL, quarantine, bookkeeping)."""
    import great_expectations  # noqa: F401  (imported before the clock starts, like pandas elsewhere)
    from psycopg import sql

    from tthc_warehouse.db.warehouse import Warehouse
    from tthc_warehouse.load import staging
    from tthc_warehouse.orchestration import nightly

    warehouse = Warehouse(p["url"])
    batch_id, table, start, end = _batch(p)
    with warehouse.connect() as conn:
        staged = conn.execute(sql.SQL("select count(*) from {}").format(
            staging.staging_identifier(table))).fetchone()[0]
    batch = {"batch_id": batch_id, "entity": ENTITY, "province_code": p["province"],
             "interval_start": start.isoformat(), "interval_end": end.isoformat(),
             "attempt": BENCH_ATTEMPT,
             "staging": {"table": table, "rows_rejected": p.get("rows_rejected", 0)}}
    with meter:
        quality = nightly.validate(batch, warehouse=warehouse)["quality"]
    return {"rows": staged, "rows_quarantined": quality["quarantined"], "failed": quality["failed"]}


def task_publish(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    from tthc_warehouse.db.warehouse import Warehouse
    from tthc_warehouse.load import publish

    warehouse = Warehouse(p["url"])
    batch_id, table, _, _ = _batch(p)
    with meter, warehouse.connect() as conn:
        result = publish.publish_batch(conn, entity=ENTITY, batch_id=batch_id, table=table)
        batches.update_batch(conn, batch_id, stage="publish", seconds=meter.elapsed(),
                         rows_published=result.rows_published, status="published",
                         months_touched=[dt.date.fromisoformat(m) for m in result.months_touched])
    return {"rows": result.rows_published, "rows_published": result.rows_published,
            "months_touched": result.months_touched}


def task_marts(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """Rebuild the batch's months; rows = the batch's facts those months are rebuilt over."""
    from tthc_warehouse.db.warehouse import Warehouse

    warehouse = Warehouse(p["url"])
    months = [dt.date.fromisoformat(m) for m in p["months"]]
    with meter, warehouse.connect() as conn:
        counts = builder.rebuild_months(conn, months, warehouse.connect)
    with warehouse.connect() as conn:
        batch_facts = conn.execute("select count(*) from core.fact_dossier where batch_id = %s",
                                   (_batch(p)[0],)).fetchone()[0]
    return {"rows": batch_facts, "months": p["months"],
            "mart_rows": sum(n for month in counts.values() for n in month.values())}


# ---- marts over many facts ---------------------------------------------------------------------

MART_PROVINCES = ("52", "30", "02", "96", "11", "44", "49", "40", "27", "46")  # the simulator's ten


def fact_frame(columns: dict[str, tuple[Any, Any]], start: dt.datetime, batch_id: str):
    """``canonical_columns`` output as core.fact_dossier rows (typed, nulls as NA/NaT)."""
    import numpy as np
    import pandas as pd

    from tthc_warehouse.contract import DOSSIER

    base = np.datetime64(start, "m")
    frame = {}
    for column in DOSSIER.columns:
        values, nulls = columns[column.name]
        if column.kind == "timestamp":
            values = base + values.astype("timedelta64[m]")
            if nulls is not None:
                values[nulls] = np.datetime64("NaT")
        elif nulls is not None:
            values = pd.array(values, dtype="Int64")
            values[nulls] = pd.NA
        frame[column.name] = values
    frame["batch_id"] = batch_id
    return pd.DataFrame(frame)


def status_events(columns: dict[str, tuple[Any, Any]], start: dt.datetime, batch_id: str, seed: int):
    """The status history of ``canonical_columns``' dossiers as core.fact_dossier_status_event rows.

    What the nightly publish writes when it sees a dossier in one state per load: received (2) at
    receipt; in processing (4) on the way for half of those that got further; waiting for a
    supplement (5) for most of those with supplement requests. The current status at
    ``source_updated_at`` is core's row, which the history table does not repeat
    (mart.dossier_status_history). Intermediate events lie strictly between receipt and the update.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    code = columns["dossier_code"][0]
    status = columns["status"][0].astype(np.int64)
    received, not_received = columns["received_at"]
    updated = columns["source_updated_at"][0].astype(np.int64)
    supplements = columns["supplement_count"][0]
    n = len(code)
    span = updated - received
    first, second = np.sort(rng.random((2, n)), axis=0)
    processing = received + (span * first).astype(np.int64)
    waiting = received + (span * second).astype(np.int64)
    between = ~not_received & (received < processing)
    parts = [
        (~not_received & (received < updated), received, 2),
        (between & (processing < updated) & np.isin(status, (5, 6, 7, 8, 9, 10)) & (rng.random(n) < 0.5),
         processing, 4),
        (between & (processing < waiting) & (waiting < updated) & (supplements > 0) & (status != 5)
         & (rng.random(n) < 0.8), waiting, 5),
    ]
    base = np.datetime64(start, "m")
    frames = [pd.DataFrame({"dossier_code": code[mask],
                            "status": np.broadcast_to(value, n)[mask],
                            "event_at": base + at[mask].astype("timedelta64[m]")})
              for mask, at, value in parts]
    events = pd.concat(frames, ignore_index=True)
    events["batch_id"] = batch_id
    return events


def task_mart_facts_load(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """Generate and COPY N facts into core.fact_dossier, and their status history into
    core.fact_dossier_status_event: the ten provinces x 12 months of a year.

    The facts are the generator's dossiers (receipt, due, finish, return, supplements, agencies,
    flags), so every monthly mart has real work to do; months before the last two are settled
    (few dossiers still open). The clock covers generation and COPY.
    """
    import io

    import psycopg
    from psycopg import sql

    from tthc_warehouse.contract import DOSSIER

    with psycopg.connect(p["url"]) as conn:  # the feed's agency names go to ref.agency, not core
        stored = {r[0] for r in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'core' and table_name = 'fact_dossier'").fetchall()}
    names = [*(n for n in DOSSIER.column_names if n in stored), "batch_id"]
    statement = sql.SQL("copy core.fact_dossier ({}) from stdin (format csv)").format(
        sql.SQL(", ").join(map(sql.Identifier, names)))
    event_statement = "copy core.fact_dossier_status_event (dossier_code, status, event_at, batch_id) " \
                      "from stdin (format csv)"
    parts = [(month, code) for month in range(1, 13) for code in MART_PROVINCES]
    batch_id = "bench:mart-facts"
    # Two connections, so the facts and their events stream side by side.
    with meter, psycopg.connect(p["url"]) as conn, psycopg.connect(p["url"]) as event_conn:
        with conn.cursor() as cur, cur.copy(statement) as copy, event_conn.cursor() as event_cur, \
                event_cur.copy(event_statement) as event_copy:
            for i, (month, code) in enumerate(parts):
                size = p["facts"] * (i + 1) // len(parts) - p["facts"] * i // len(parts)
                start, end = _month(f"{p['year']}-{month:02d}")
                shares = SETTLED_STATUS_SHARES if month <= 10 else STATUS_SHARES
                columns = canonical_columns(size, code, start, end, p["seed"] + i, shares)
                for frame, target in ((fact_frame(columns, start, batch_id)[names], copy),
                                      (status_events(columns, start, batch_id, p["seed"] + i), event_copy)):
                    buffer = io.StringIO()
                    frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
                    target.write(buffer.getvalue())
        conn.commit()
        event_conn.commit()
        total = conn.execute("select count(*) from core.fact_dossier").fetchone()[0]
        events = conn.execute("select count(*) from core.fact_dossier_status_event").fetchone()[0]
    return {"rows": p["facts"], "facts_total": total, "status_events": events}


def task_mart_rebuild(p: dict[str, Any], meter: Meter) -> dict[str, Any]:
    from tthc_warehouse.db.warehouse import Warehouse

    warehouse = Warehouse(p["url"])
    month = dt.date.fromisoformat(p["month_date"])
    if p.get("analyze"):
        with warehouse.as_role(None).connect(autocommit=True) as conn:
            began = time.perf_counter()
            conn.execute("vacuum analyze core.fact_dossier, core.fact_dossier_status_event")
            analyze_seconds = time.perf_counter() - began
    with warehouse.connect() as conn:
        facts = conn.execute("select count(*) from core.fact_dossier").fetchone()[0]
        in_month = conn.execute(
            "select count(*) from core.fact_dossier where received_at >= %(m)s::date "
            "and received_at < %(m)s::date + interval '1 month'", {"m": month}).fetchone()[0]
    with meter, warehouse.connect() as conn:
        counts = builder.rebuild_month(conn, month, warehouse.connect)
    result = {"rows": facts, "facts_in_month": in_month, "mart_rows": sum(counts.values())}
    if p.get("analyze"):
        result["vacuum_analyze_seconds"] = analyze_seconds
    return result


TASKS: dict[str, Callable[[dict[str, Any], Meter], dict[str, Any]]] = {
    "setup": task_setup, "generate": task_generate, "raw_copy": task_raw_copy, "to_sql": task_to_sql,
    "extract": task_extract, "stage": task_stage, "validate": task_validate, "publish": task_publish,
    "insert_floor": task_insert_floor,
    "marts": task_marts, "mart_facts_load": task_mart_facts_load, "mart_rebuild": task_mart_rebuild,
}


# ---- the run -----------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pipeline_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="dossier rows to generate (0: skip)")
    parser.add_argument("--province", default="30", help="province code of a CSV feed (default 30)")
    parser.add_argument("--month", default="2024-03", help="month the rows are spread over (YYYY-MM)")
    parser.add_argument("--tosql-rows", type=int, default=50_000, help="rows for the to_sql baseline")
    parser.add_argument("--mart-facts", type=int, default=0,
                        help="also COPY this many synthetic facts and time one month's mart rebuild")
    parser.add_argument("--mart-year", type=int, default=2023, help="year the synthetic facts span")
    parser.add_argument("--seed", type=int, default=766)
    parser.add_argument("--server-url", help=f"maintenance database URL (default {DEFAULT_SERVER}, "
                        "else the embedded server in .data/bench-postgres)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the files")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    parser.add_argument("--in-process", action="store_true",
                        help="run every step in this process (per-step peak RSS is then not meaningful)")
    return parser.parse_args(argv)


def server_url(given: str | None) -> str:
    import psycopg

    candidate = given or os.environ.get("TTHC_BENCH_SERVER_URL", DEFAULT_SERVER)
    try:
        with psycopg.connect(candidate, connect_timeout=3):
            return candidate
    except psycopg.OperationalError:
        if given:
            raise
    from tthc_warehouse.local import embedded

    print(f"{candidate} does not answer; using the embedded server in {EMBEDDED_ROOT}", flush=True)
    return embedded.ensure_running(EMBEDDED_ROOT).url("postgres")


def machine(url: str) -> dict[str, Any]:
    import pandas as pd
    import psycopg

    processor = platform.processor()
    with contextlib.suppress(OSError, StopIteration):  # platform.processor() is often empty on Linux
        processor = next(line.split(":", 1)[1].strip() for line in
                         Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    with psycopg.connect(url) as conn:
        settings = {name: conn.execute(f"show {name}").fetchone()[0] for name in
                    ("server_version", "shared_buffers", "work_mem", "max_wal_size", "synchronous_commit")}
    return {"processor": processor or platform.machine(), "cores": os.cpu_count(),
            "ram_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "pandas": pd.__version__, "postgresql": settings,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _rate(step: dict[str, Any]) -> float | None:
    return step["rows"] / step["seconds"] if step.get("seconds") else None


def run_pipeline(args: argparse.Namespace, url: str, spawn: bool) -> dict[str, Any]:
    common = {"url": url, "province": args.province, "month": args.month, "seed": args.seed,
              "rows": args.rows, "tracemalloc": args.tracemalloc}
    say = _progress()
    generated = run_task("generate", common, spawn=spawn)
    say("generate", generated)
    files = {"files": generated["files"], "delimiter": generated["format"]["delimiter"],
             "encoding": generated["format"]["encoding"]}
    raw = run_task("raw_copy", {**common, **files}, spawn=spawn)
    say("raw COPY", raw)
    to_sql = None
    if args.tosql_rows > 0:
        to_sql = run_task("to_sql", {**common, **files, "rows": min(args.tosql_rows, args.rows)}, spawn=spawn)
        say("to_sql", to_sql)
    stages: dict[str, dict[str, Any]] = {}
    stages["extract"] = run_task("extract", {**common, "files": generated["files"]}, spawn=spawn)
    say("extract", stages["extract"])
    landed = {"landed": stages["extract"].pop("landed")}
    for name in ("stage", "validate", "publish"):
        rejected = {"rows_rejected": stages["stage"]["rows_rejected"]} if "stage" in stages else {}
        stages[name] = run_task(name, {**common, **landed, **rejected}, spawn=spawn)
        say(name, stages[name])
    months = {"months": stages["publish"]["months_touched"]}
    stages["marts"] = run_task("marts", {**common, **months}, spawn=spawn)
    say("marts", stages["marts"])
    floors = {}
    for name, indexes in (("insert_floor_heap", False), ("insert_floor_indexed", True)):
        floors[name] = run_task("insert_floor", {**common, "indexes": indexes}, spawn=spawn)
        say(name.replace("_", " "), floors[name])

    end_to_end = sum(stages[s]["seconds"] for s in PIPELINE_STAGES)
    return {
        "generate": {k: v for k, v in generated.items() if k != "files"} | {"files": len(generated["files"])},
        "baselines": {"raw_copy": raw, "to_sql": to_sql, **floors},
        "stages": [{"stage": name, **stages[name], "rows_per_s": _rate(stages[name]),
                    "ratio_to_copy": stages[name]["seconds"] / raw["seconds"] if raw["seconds"] else None}
                   for name in PIPELINE_STAGES],
        "end_to_end_seconds": end_to_end,
        "end_to_end_rows_per_s": args.rows / end_to_end if end_to_end else None,
        "ratio_to_copy": end_to_end / raw["seconds"] if raw["seconds"] else None,
        "to_sql_factor": (_rate(raw) / _rate(to_sql)) if to_sql and _rate(to_sql) else None,
        "rows_published": stages["publish"]["rows_published"],
        "rows_quarantined": stages["stage"]["rows_rejected"] + stages["validate"]["rows_quarantined"],
        "peak_rss_mib": max(stages[s]["peak_rss_mib"] for s in PIPELINE_STAGES),
        "peak_rss_stage": max(PIPELINE_STAGES, key=lambda s: stages[s]["peak_rss_mib"]),
    }


def run_mart_facts(args: argparse.Namespace, url: str, spawn: bool) -> dict[str, Any]:
    say = _progress()
    params = {"url": url, "facts": args.mart_facts, "year": args.mart_year, "seed": args.seed,
              "month_date": f"{args.mart_year}-06-01", "tracemalloc": args.tracemalloc}
    loaded = run_task("mart_facts_load", params, spawn=spawn)
    say("mart facts COPY", loaded)
    cold = run_task("mart_rebuild", params, spawn=spawn)
    say("rebuild_month", cold)
    warm = run_task("mart_rebuild", {**params, "analyze": True}, spawn=spawn)
    say("rebuild_month (analyzed)", warm)
    return {"facts": args.mart_facts, "month": params["month_date"][:7], "load": loaded,
            "rebuild_after_load": cold, "rebuild_after_analyze": warm}


def _progress() -> Callable[[str, dict[str, Any]], None]:
    def say(name: str, step: dict[str, Any]) -> None:
        print(f"  .. {name}: {step['seconds']:.2f} s ({step['wall_seconds']:.1f} s with process start), "
              f"peak RSS {step['peak_rss_mib']:.0f} MiB", flush=True)
    return say


def _row(name: str, step: dict[str, Any] | None, rows: int | None = None, copy: float | None = None) -> str:
    """One table line; ``copy`` (raw COPY's seconds in the same run) adds the step's ratio to it."""
    if not step:
        return f"{name:<26}{'-':>10}"
    rows = rows if rows is not None else step["rows"]
    rate = rows / step["seconds"] if step["seconds"] else float("nan")
    py = f"{step['python_peak_mib']:>9.0f}" if step.get("python_peak_mib") is not None else f"{'':>9}"
    start = f"{step['rss_at_start_mib']:>10.0f}" if step.get("rss_at_start_mib") is not None else f"{'':>10}"
    ratio = f"{step['seconds'] / copy:>9.2f}x" if copy else f"{'':>10}"
    return (f"{name:<26}{step['seconds']:>10.2f}{ratio}{rows:>12,}{rate:>14,.0f}{step['peak_rss_mib']:>10.0f}"
            f"{start}{py}")


def report(figures: dict[str, Any]) -> str:
    m = figures["machine"]
    pg = m["postgresql"]
    lines = [f"machine: {m['processor']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; {m['platform']}; "
             f"Python {m['python']}, pandas {m['pandas']}",
             f"PostgreSQL {pg['server_version']} (shared_buffers {pg['shared_buffers']}, work_mem "
             f"{pg['work_mem']}, max_wal_size {pg['max_wal_size']}, synchronous_commit "
             f"{pg['synchronous_commit']}); load average (1, 5, 15 min) {m['load_average_at_start']} at "
             f"start, {m['load_average_at_end']} at end (other work on the machine skews the figures)"]
    header = (f"{'step':<26}{'seconds':>10}{'x COPY':>10}{'rows':>12}{'rows/s':>14}{'peak MiB':>10}"
              f"{'start MiB':>10}{'py MiB':>9}")
    run = figures.get("pipeline")
    if run:
        gen = run["generate"]
        fmt = gen["format"]
        params = figures["params"]
        lines += ["", f"{params['rows']:,} dossier rows of province {params['province']} in {gen['files']} "
                  f"daily files ({gen['bytes'] / MIB:,.0f} MiB; delimiter {fmt['delimiter']!r}, "
                  f"{fmt['encoding']}{' + BOM' if fmt['bom'] else ''}, style {fmt['style']})", "", header,
                  _row("generate (not timed)", gen)]
        copy = run["baselines"]["raw_copy"]["seconds"]
        lines += [_row(s["stage"], s, copy=copy) for s in run["stages"]]
        total = {"seconds": run["end_to_end_seconds"], "rows": figures["params"]["rows"],
                 "peak_rss_mib": run["peak_rss_mib"]}
        lines += [_row("end-to-end", total, copy=copy),
                  _row("raw COPY (baseline)", run["baselines"]["raw_copy"], copy=copy),
                  _row("to_sql (baseline, slice)", run["baselines"]["to_sql"]),
                  _row("insert floor, no index", run["baselines"].get("insert_floor_heap"), copy=copy),
                  _row("insert floor, core's idx", run["baselines"].get("insert_floor_indexed"), copy=copy)]
        lines += ["", "insert floor = the batch's facts copied from core into an empty copy of "
                  "core.fact_dossier by one INSERT ... SELECT, without and with core's indexes: what the "
                  "publish step's heap and index writes cost at least",
                  "peak MiB = the step's peak RSS (a fresh process per step, peak reset when its clock "
                  "starts); start MiB = its RSS after imports, when the clock started"]
        ratio = run["ratio_to_copy"]
        lines.append(f"end-to-end (extract+stage+validate+publish+marts) / raw COPY = {ratio:.1f}x "
                     f"(target <= {TARGET_RATIO:.0f}x{', met' if ratio <= TARGET_RATIO else ', NOT met'})")
        slowest = max(run["stages"], key=lambda s: s["seconds"])
        worst = slowest["seconds"] / copy
        verdict = "met" if worst <= TARGET_STAGE_RATIO else "NOT met"
        lines.append(f"slowest stage: {slowest['stage']} = {worst:.1f}x raw COPY (target <= "
                     f"{TARGET_STAGE_RATIO}x per stage, {verdict})")
        if run["to_sql_factor"]:
            lines.append(f"to_sql is {run['to_sql_factor']:.1f}x slower than COPY (rows/s on "
                         f"{run['baselines']['to_sql']['rows']:,} rows)")
        lines.append(f"rows published {run['rows_published']:,}, quarantined {run['rows_quarantined']:,}")
        lines.append(f"peak memory: {run['peak_rss_mib']:.0f} MiB in step {run['peak_rss_stage']} "
                     f"(target < {TARGET_PEAK_MIB} MiB at 5M rows); orchestrator "
                     f"{figures['orchestrator_peak_rss_mib']:.0f} MiB")
    marts_run = figures.get("mart_facts")
    if marts_run:
        cold, warm = marts_run["rebuild_after_load"], marts_run["rebuild_after_analyze"]
        lines += ["", header, _row("mart facts COPY", marts_run["load"]),
                  _row("rebuild_month (loaded)", cold), _row("rebuild_month (analyzed)", warm),
                  f"rebuild_month({marts_run['month']}) over {cold['rows']:,} facts "
                  f"({marts_run['load'].get('status_events', 0):,} status events) "
                  f"({cold['facts_in_month']:,} in the month): {cold['seconds']:.2f} s right after the load, "
                  f"{warm['seconds']:.2f} s after VACUUM ANALYZE ({warm['vacuum_analyze_seconds']:.1f} s) "
                  f"(target < {TARGET_MART_SECONDS:.0f} s)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spawn = not args.in_process
    work = Path(tempfile.mkdtemp(prefix="tthc-bench-"))
    environment = {"TTHC_DATA_DIR": str(work / "data"), "TTHC_LANDING_DIR": str(work / "landing"),
                   "TTHC_INBOX_DIR": str(work / "inbox"), "TTHC_GX_DOCS_DIR": str(work / "gx-docs"),
                   "GX_ANALYTICS_ENABLED": "false"}
    saved = {k: os.environ.get(k) for k in [*environment, "AIRFLOW_CONN_WAREHOUSE"]}
    os.environ.update(environment)
    database = f"tthc_bench_{uuid.uuid4().hex[:10]}"
    try:
        import psycopg
        from psycopg import sql

        server = server_url(args.server_url)
        url = server.rsplit("/", 1)[0] + "/" + database
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
        os.environ["AIRFLOW_CONN_WAREHOUSE"] = url  # before any pipeline module asks for it
        try:
            print(f"benchmark database {database}; files in {work}", flush=True)
            run_task("setup", {"url": url}, spawn=spawn)
            figures: dict[str, Any] = {"params": {k: (str(v) if isinstance(v, Path) else v)
                                                  for k, v in vars(args).items()},
                                       "machine": machine(url)}
            if args.rows > 0:
                figures["pipeline"] = run_pipeline(args, url, spawn)
            if args.mart_facts > 0:
                figures["mart_facts"] = run_mart_facts(args, url, spawn)
            figures["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
            figures["orchestrator_peak_rss_mib"] = round(_maxrss_mib(), 1)
            figures["children_peak_rss_mib"] = round(_children_maxrss_mib(), 1)
            print("\n" + report(figures), flush=True)
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False, default=str),
                                     encoding="utf-8")
        finally:
            if args.keep:
                print(f"kept: database {url}, files in {work}")
            else:
                with psycopg.connect(server, autocommit=True) as conn:
                    conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                        sql.Identifier(database)))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
