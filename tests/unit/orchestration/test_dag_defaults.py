"""The interval a nightly run loads: its data interval in Vietnam time, or the manual params."""

from __future__ import annotations

import datetime as dt

import pytest

from tthc_warehouse.orchestration.dag_defaults import batch_interval

pytestmark = pytest.mark.unit
UTC = dt.UTC


def test_the_data_interval_is_read_as_vietnam_wall_clock_time() -> None:
    context = {"params": {}, "data_interval_start": dt.datetime(2023, 12, 31, 17, tzinfo=UTC),
               "data_interval_end": dt.datetime(2024, 1, 1, 17, tzinfo=UTC)}
    assert batch_interval(context) == (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2))


def test_manual_dates_replace_the_interval() -> None:
    context = {"params": {"from_date": "2024-01-01", "to_date": "2024-10-01"}}
    assert batch_interval(context) == (dt.datetime(2024, 1, 1), dt.datetime(2024, 10, 1))


@pytest.mark.parametrize(("params", "message"), [
    ({"from_date": "2024-01-01", "to_date": None}, "give both"),
    ({"from_date": "2024-02-01", "to_date": "2024-01-01"}, "must be after"),
])
def test_incomplete_or_reversed_manual_dates_are_refused(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        batch_interval({"params": params})
