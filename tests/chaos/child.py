"""A worker process that runs one batch's steps and SIGKILLs itself at the injection point.

``python -m tests.chaos.child <point> <province> <day> <run_id> <state.json>``: the steps' last
output before the kill is written to ``state.json`` (what Airflow keeps as XCom), so the parent
can retry the step that died the way Airflow would.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from tests.chaos import harness
from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.extract import landing
from tthc_warehouse.load import staging
from tthc_warehouse.ops import batches, claims
from tthc_warehouse.quality import gate

# point -> (module, function) whose call is where the process dies
POINTS = {
    "extract": (landing, "land", "after"),
    "stage": (staging, "quarantine_parse_errors", "before"),  # rows COPYed, not committed
    "validate": (gate, "quarantine_failures", "before"),  # GX ran, nothing recorded
    "publish_before_commit": (batches, "advance_watermark", "after"),  # merged, not committed
    "publish_after_commit": (claims, "_unlock", "before"),  # committed, lock not yet released
}


def die_at(point: str) -> None:
    if point == "publish_after_commit":  # _unlock ends every step: arm it only once publish merged
        _arm_after(batches, "advance_watermark")
    module, name, when = POINTS[point]
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        if when == "before" and ARMED[0]:
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if ARMED[0]:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(module, name, wrapper)


ARMED = [True]


def _arm_after(module, name: str) -> None:
    ARMED[0] = False
    original = getattr(module, name)

    def arm(*args, **kwargs):
        result = original(*args, **kwargs)
        ARMED[0] = True
        return result

    setattr(module, name, arm)


def main(point: str, province: str, day: str, run_id: str, state: Path) -> None:
    steps = harness.Steps(Warehouse.from_env(), province, day, run_id)
    if point != "none":
        die_at(point)
    output = steps.extract()
    for step in (steps.stage, steps.validate):
        state.write_text(json.dumps(output))
        output = step(output)
    state.write_text(json.dumps(output))
    steps.publish(output)
    state.write_text(json.dumps({"done": True}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], Path(sys.argv[5]))
