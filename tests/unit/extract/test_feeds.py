"""Feed configuration: the calendar days an interval covers and the files that hold them."""

from __future__ import annotations

import datetime as dt

import pytest

from tthc_warehouse.extract.feeds import EntityFeed, days_in, file_periods

pytestmark = pytest.mark.unit
D = dt.date


@pytest.mark.parametrize(("start", "end", "days"), [
    (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2), [D(2024, 1, 1)]),  # one nightly interval
    (dt.datetime(2024, 1, 30), dt.datetime(2024, 2, 2), [D(2024, 1, 30), D(2024, 1, 31), D(2024, 2, 1)]),
    (dt.datetime(2024, 1, 1, 6), dt.datetime(2024, 1, 1, 18), [D(2024, 1, 1)]),  # within one day
    (dt.datetime(2024, 1, 1, 6), dt.datetime(2024, 1, 2, 6), [D(2024, 1, 1), D(2024, 1, 2)]),  # ends mid-day
])
def test_days_in_covers_every_local_day_touched(start, end, days) -> None:
    assert days_in(start, end) == days


def test_a_monthly_template_names_one_file_per_month_with_its_first_day() -> None:
    feed = EntityFeed("index766_snapshot", "dvcqg", path="dvcqg/{province_code}/x-{day:%Y-%m}.json")
    days = days_in(dt.datetime(2024, 1, 30), dt.datetime(2024, 2, 3))
    expected = {"x-2024-01.json": D(2024, 1, 30), "x-2024-02.json": D(2024, 2, 1)}
    assert file_periods(feed, "30", days) == expected


def test_a_daily_template_names_one_file_per_day() -> None:
    feed = EntityFeed("dossier", "csv", path="{province_code}/ho-so-{day:%Y%m%d}.csv")
    assert list(file_periods(feed, "30", [D(2024, 1, 1), D(2024, 1, 2)])) == ["ho-so-20240101.csv",
                                                                              "ho-so-20240102.csv"]
