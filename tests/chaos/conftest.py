"""Figures of the fault-injection suite, printed at the end of ``make chaos``."""

from __future__ import annotations

from collections import Counter

import pytest

FIGURES: Counter = Counter()
NOTES: list[str] = []


@pytest.fixture(scope="session")
def figures() -> Counter:
    return FIGURES


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    f = FIGURES
    lines = [
        "fault injection (tests/chaos):",
        f"  kills survived:                       {f['kills_survived']} of {f['kills']}",
        f"  backend terminations survived:        {f['terminations_survived']} of {f['terminations']}",
        f"  concurrent runs of one interval:      {f['races_clean']} clean of {f['races']}",
        f"  retries after commit (no-op success): {f['retries_ok']} of {f['retries']}",
        f"  rows lost:                            {f['rows_lost']}",
        f"  rows duplicated:                      {f['rows_duplicated']}",
        f"  checksums equal to a clean run:       {f['checksums_equal']} of {f['checksums']}",
        f"  bad inputs with a clear error or a named quarantine row, good rows published: "
        f"{f['bad_inputs_clear']} of {f['bad_inputs']}",
        *(f"  ! {note}" for note in NOTES),
    ]
    terminalreporter.write_line("")
    for line in lines:
        terminalreporter.write_line(line)
