"""Airflow-side helpers shared by the DAG files: defaults, pool, the interval a run covers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WAREHOUSE_POOL = "warehouse_writers"  # caps concurrent writers to the warehouse

DEFAULT_ARGS = {
    "owner": "tthc-data",
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=30),
}


def local_naive(value: dt.datetime) -> dt.datetime:
    """A zone-aware instant as Vietnam wall-clock time, the way the sources write timestamps."""
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def batch_interval(context) -> tuple[dt.datetime, dt.datetime]:
    """The run's data interval in Vietnam time, or the manual ``from_date``/``to_date`` params."""
    params = context["params"]
    if params.get("from_date") or params.get("to_date"):
        if not (params.get("from_date") and params.get("to_date")):
            raise ValueError("give both from_date and to_date for a manual load")
        start = dt.datetime.fromisoformat(params["from_date"])
        end = dt.datetime.fromisoformat(params["to_date"])
        if end <= start:
            raise ValueError(f"to_date {end:%Y-%m-%d} must be after from_date {start:%Y-%m-%d}")
        return start, end
    return local_naive(context["data_interval_start"]), local_naive(context["data_interval_end"])
