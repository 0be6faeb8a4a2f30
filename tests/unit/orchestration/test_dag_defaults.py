"""The interval a nightly run loads: its data interval in Vietnam time, or the manual params."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tthc_warehouse.extract.base import MissingColumnError, SourceError
from tthc_warehouse.ops.claims import NotValidated
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


def _raising(exc: Exception):
    def step():
        raise exc
    return step


@pytest.mark.parametrize("exc", [
    pytest.param(SourceError("ho-so-20240101.csv: cannot read as CSV"), id="empty or unreadable file"),
    pytest.param(MissingColumnError("a.csv", ["status"]), id="missing column"),
    pytest.param(NotValidated("b: staging.t is not the table this attempt validated"), id="unvalidated"),
])
def test_source_and_data_errors_fail_at_once(exc: Exception) -> None:
    """Issue 10, defect 5: an empty file took 24.5 minutes of retries to fail."""
    from airflow.sdk.exceptions import AirflowFailException

    from tthc_warehouse.orchestration.dag_defaults import fail_fast_on_bad_data

    with pytest.raises(AirflowFailException, match=re.escape(str(exc))):
        fail_fast_on_bad_data(_raising(exc))()


def test_outages_are_left_to_retries_and_a_lost_batch_is_skipped() -> None:
    import psycopg
    from airflow.sdk.exceptions import AirflowSkipException

    from tthc_warehouse.extract.http_api import FeedUnavailable
    from tthc_warehouse.ops.claims import BatchSuperseded
    from tthc_warehouse.orchestration.dag_defaults import fail_fast_on_bad_data

    for exc in (psycopg.OperationalError("connection refused"), FeedUnavailable("page 1: 503")):
        with pytest.raises(type(exc)):
            fail_fast_on_bad_data(_raising(exc))()
    with pytest.raises(AirflowSkipException, match="staged again"):
        fail_fast_on_bad_data(_raising(BatchSuperseded("b: staged again since")))()
