"""The benchmark (`make bench`) still runs end to end on a tiny input: a check, not a timing.

It runs against the test session's PostgreSQL server in a database of its own (created and
dropped by the benchmark), with every step in a spawned process as in a real run.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
ROWS = 2000


@pytest.fixture(scope="module")
def pipeline_bench():
    sys.path.insert(0, str(BENCH_DIR))  # spawned step processes inherit sys.path
    try:
        yield importlib.import_module("pipeline_bench")
    finally:
        sys.path.remove(str(BENCH_DIR))


def test_benchmark_runs_every_stage_on_all_rows(pipeline_bench, server_url: str, tmp_path: Path) -> None:
    before = os.environ.get("AIRFLOW_CONN_WAREHOUSE")
    figures_file = tmp_path / "bench.json"

    code = pipeline_bench.main(["--rows", str(ROWS), "--tosql-rows", "500", "--server-url", server_url,
                                "--json", str(figures_file)])

    assert code == 0
    assert os.environ.get("AIRFLOW_CONN_WAREHOUSE") == before  # the session's warehouse is left alone
    run = json.loads(figures_file.read_text(encoding="utf-8"))["pipeline"]
    stages = {s["stage"]: s for s in run["stages"]}
    assert list(stages) == ["extract", "stage", "validate", "publish", "marts"]
    assert {name: s["rows"] for name, s in stages.items()} == dict.fromkeys(stages, ROWS)
    assert run["rows_published"] == ROWS
    assert run["rows_quarantined"] == 0
    assert run["baselines"]["raw_copy"]["rows"] == ROWS
    assert run["baselines"]["to_sql"]["rows"] == 500
    # what publishing the batch costs PostgreSQL at least, without and with core's indexes
    assert run["baselines"]["insert_floor_heap"]["rows"] == ROWS
    assert run["baselines"]["insert_floor_indexed"]["rows"] == ROWS
    assert all(s["seconds"] > 0 and s["peak_rss_mib"] > 0 for s in run["stages"])
    assert run["ratio_to_copy"] > 0
    assert all(s["ratio_to_copy"] > 0 for s in run["stages"])  # each stage against COPY, same run
