"""Working days (Vietnam's public holidays) and office hours, at minute resolution."""

from __future__ import annotations

import bisect
import datetime as dt
import random

import holidays

from tthc_warehouse.simulator.params import MONTH_WEIGHTS

# One-stop desks: 07:30-11:30 and 13:30-17:00 (minutes since midnight).
OFFICE_HOURS = ((450, 690), (810, 1020))
_OFFICE_MINUTES = sum(b - a for a, b in OFFICE_HOURS)
HORIZON_DAYS = 500  # working days are listed this far past the end, for due dates and refunds


class Clock:
    """The simulated calendar of [start, end): working days, office times, reception days."""

    def __init__(self, start: dt.date, end: dt.date):
        if end <= start:
            raise ValueError(f"empty period: {start} .. {end}")
        self.start, self.end = start, end
        self.end_at = dt.datetime.combine(end, dt.time())
        last = end + dt.timedelta(days=HORIZON_DAYS)
        off = holidays.country_holidays("VN", years=range(start.year, last.year + 1))
        span = (last - start).days
        days = (start + dt.timedelta(days=i) for i in range(span))
        self.workdays = [d for d in days if d.weekday() < 5 and d not in off]

    def period_workdays(self) -> list[dt.date]:
        """Working days inside [start, end)."""
        return self.workdays[: bisect.bisect_left(self.workdays, self.end)]

    def reception_days(self, rng: random.Random, n: int) -> list[dt.date]:
        """``n`` working days in the period, weighted by month, in date order."""
        days = self.period_workdays()
        weights = [MONTH_WEIGHTS[d.month] for d in days]
        return sorted(rng.choices(days, weights=weights, k=n))

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The working day ``n`` working days after ``day`` (or the next one, for n = 0)."""
        i = bisect.bisect_left(self.workdays, day) + n
        return self.workdays[min(i, len(self.workdays) - 1)]

    def next_workday(self, day: dt.date) -> dt.date:
        """``day`` itself if it is a working day, else the next one."""
        return self.add_workdays(day, 0)

    def office_time(self, rng: random.Random, day: dt.date) -> dt.datetime:
        """A uniformly random minute of the day's office hours."""
        minute = rng.randrange(_OFFICE_MINUTES)
        for begin, stop in OFFICE_HOURS:
            if minute < stop - begin:
                return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=begin + minute)
            minute -= stop - begin
        raise AssertionError("unreachable")

    def after(self, rng: random.Random, moment: dt.datetime, day: dt.date) -> dt.datetime:
        """An office time on ``day`` strictly after ``moment`` (a few minutes later if needed)."""
        at = self.office_time(rng, day)
        if at <= moment:
            at = moment + dt.timedelta(minutes=rng.randint(5, 120))
        return at

    def any_time(self, rng: random.Random, day: dt.date, first_hour: int = 6) -> dt.datetime:
        """Any minute from ``first_hour`` to midnight (online submissions, night and weekend)."""
        minute = rng.randrange(first_hour * 60, 24 * 60)
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)

    def random_day(self, rng: random.Random) -> dt.date:
        """Any calendar day of the period."""
        return self.start + dt.timedelta(days=rng.randrange((self.end - self.start).days))
