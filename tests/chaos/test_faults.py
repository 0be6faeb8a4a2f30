"""Kills at each step, backends terminated before and after the commit, two runs of one interval.

Each scenario loads one day of province 79 after a clean run of the same day gave the reference
checksum; the core rows are removed between, so the faulty run must rebuild them exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.chaos import harness
from tests.chaos.child import POINTS
from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.ops import batches, claims

pytestmark = pytest.mark.chaos
ROWS = 40


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch, warehouse_url) -> Path:
    return harness.configure(tmp_path, monkeypatch)


def reference(inbox: Path, warehouse: Warehouse, db, day: str, prefix: str) -> tuple[int, str]:
    """Write the day, load it cleanly, take the checksum, then remove its rows from core."""
    rows = [harness.good(f"{prefix}{i:03d}", "79", day, status=str(1 + i % 10)) for i in range(ROWS)]
    harness.write_day(inbox, "79", day, [*rows, harness.good(f"{prefix}bad", "79", day, fee_amount="-1")])
    harness.Steps(warehouse, "79", day, "manual__clean").all()
    clean = harness.core_checksum(db, prefix)
    db.execute("delete from core.fact_dossier where dossier_code like %s", (prefix + "%",))
    db.commit()
    return clean


def tally(figures, db, prefix: str, clean: tuple[int, str]) -> bool:
    count, checksum = harness.core_checksum(db, prefix)
    distinct = db.execute("select count(distinct dossier_code) from core.fact_dossier where dossier_code "
                          "like %s", (prefix + "%",)).fetchone()[0]
    db.commit()
    figures["rows_lost"] += max(clean[0] - distinct, 0)
    figures["rows_duplicated"] += count - distinct
    figures["checksums"] += 1
    figures["checksums_equal"] += checksum == clean[1]
    return checksum == clean[1]


def retry_from(state: Path, steps: harness.Steps) -> None:
    """What Airflow does after the kill: retry the task that died with its input, then go on."""
    data = json.loads(state.read_text()) if state.exists() else None
    if data is None:
        steps.all()
    elif "quality" in data:
        steps.publish(data)
    elif "staging" in data:
        steps.publish(steps.validate(data))
    elif "landed" in data:
        steps.publish(steps.validate(steps.stage(data)))


@pytest.mark.parametrize("point", list(POINTS))
def test_a_kill_at_each_step_then_a_retry_converges(point, inbox, warehouse_url, db, figures,
                                                    tmp_path) -> None:
    day = f"2025-03-{1 + list(POINTS).index(point):02d}"
    prefix = f"KILL-{point}-"
    warehouse = Warehouse(warehouse_url)
    clean = reference(inbox, warehouse, db, day, prefix)
    state = tmp_path / "state.json"
    child = subprocess.run([sys.executable, "-m", "tests.chaos.child", point, "79", day, "manual__kill",
                            str(state)], env=os.environ.copy(), cwd=Path(__file__).parents[2], check=False,
                           capture_output=True, text=True)
    assert child.returncode == -9, child.stderr[-2000:]
    figures["kills"] += 1
    row = harness.batch_row(db, harness.Steps(warehouse, "79", day).batch_id)
    in_core = harness.core_checksum(db, prefix)[0]
    assert not (row["status"] == "running" and in_core), "ops.batch says running while rows are in core"
    retry_from(state, harness.Steps(warehouse, "79", day, "manual__kill"))
    assert harness.batch_row(db, row["batch_id"])["status"] == "published"
    harness.Steps(warehouse, "79", day, "manual__rerun").all()
    figures["kills_survived"] += tally(figures, db, prefix, clean)


@pytest.mark.parametrize("when", ["before_commit", "after_commit"])
def test_a_backend_terminated_during_publish_then_a_retry_converges(when, inbox, warehouse_url, server_url,
                                                                    db, figures, monkeypatch) -> None:
    day = "2025-03-10" if when == "before_commit" else "2025-03-11"
    prefix = f"TERM-{when}-"
    warehouse = Warehouse(warehouse_url)
    clean = reference(inbox, warehouse, db, day, prefix)
    steps = harness.Steps(warehouse, "79", day, "manual__term")
    validated = steps.validate(steps.stage(steps.extract()))
    module, name = (batches, "advance_watermark") if when == "before_commit" else (claims, "_unlock")
    original = getattr(module, name)

    def terminate(conn, *args, **kwargs):
        with psycopg.connect(warehouse_url, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", (conn.info.backend_pid,))
        return original(conn, *args, **kwargs)

    monkeypatch.setattr(module, name, terminate)
    with pytest.raises(psycopg.OperationalError):
        steps.publish(validated)
    monkeypatch.setattr(module, name, original)
    figures["terminations"] += 1
    figures["retries"] += when == "after_commit"
    result = steps.publish(validated)
    figures["retries_ok"] += when == "after_commit" and result["rows_published"] == ROWS
    figures["terminations_survived"] += tally(figures, db, prefix, clean)


def test_two_runs_of_one_interval_at_once_converge(inbox, warehouse_url, db, figures, tmp_path) -> None:
    day = "2025-03-12"
    prefix = "RACE-"
    warehouse = Warehouse(warehouse_url)
    clean = reference(inbox, warehouse, db, day, prefix)
    command = [sys.executable, "-m", "tests.chaos.child", "none", "79", day]
    runs = [subprocess.Popen([*command, f"manual__race{i}", str(tmp_path / f"race{i}.json")],
                             env=os.environ.copy(), cwd=Path(__file__).parents[2], stderr=subprocess.PIPE,
                             text=True) for i in (1, 2)]
    outcomes = [(run.wait(), run.stderr.read()) for run in runs]
    figures["races"] += 1
    for code, stderr in outcomes:  # each run publishes or leaves cleanly to the other
        assert code == 0 or "BatchSuperseded" in stderr, stderr[-2000:]
    assert harness.batch_row(db, harness.Steps(warehouse, "79", day).batch_id)["status"] == "published"
    figures["races_clean"] += tally(figures, db, prefix, clean)
