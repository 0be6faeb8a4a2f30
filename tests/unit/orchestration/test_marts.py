"""The mart DAG rebuilds exactly the months that the core tables' asset events name."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tthc_warehouse.orchestration.marts import months_named

pytestmark = pytest.mark.unit


def test_months_come_from_every_event_and_the_manual_param() -> None:
    events = {
        "core.fact_dossier": [SimpleNamespace(extra={"months": ["2024-01-01", "2024-09-01"], "rows": 12}),
                              SimpleNamespace(extra={"months": ["2024-09-01"]})],
        "core.fact_refund": [SimpleNamespace(extra={"months": ["2024-08-01"]}), SimpleNamespace(extra=None)],
    }
    expected = ["2024-01-01", "2024-03-01", "2024-08-01", "2024-09-01"]
    assert months_named(events, ["2024-03-15"]) == expected


def test_no_events_and_no_param_rebuilds_nothing() -> None:
    assert months_named({}, []) == []
