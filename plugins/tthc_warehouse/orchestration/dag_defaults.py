"""Airflow-side helpers shared by the DAG files: defaults, pool, assets, the interval a run covers."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from airflow.sdk import Asset, AsyncCallback, DeadlineAlert, DeadlineReference

from tthc_warehouse.ops.alerts import DEADLINE_HOUR, FailureAlertNotifier

# The pool that caps concurrent warehouse writers (re-exported for the DAG files).
from tthc_warehouse.orchestration import WAREHOUSE_POOL as WAREHOUSE_POOL

log = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# Core tables as Assets: each publish emits an event whose extra names the months it touched.
CORE_ASSETS = {
    entity: Asset(name=f"core.{table}", uri=f"warehouse://core/{table}", group="warehouse")
    for entity, table in (("dossier", "fact_dossier"), ("payment", "fact_payment"), ("refund", "fact_refund"),
                          ("index766_snapshot", "fact_index766_snapshot"))
}


DEFAULT_ARGS = {
    "owner": "tthc-data",
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=30),
    "on_failure_callback": FailureAlertNotifier(),
}


# The logical date of a nightly run is the start of the day it loads; the run must be done by
# 06:00 Vietnam time the morning after that day: logical date + 30 hours.
NIGHTLY_DEADLINE = DeadlineAlert(
    reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
    interval=dt.timedelta(days=1, hours=DEADLINE_HOUR),
    callback=AsyncCallback("tthc_warehouse.ops.alerts.deadline_missed",
                           kwargs={"dag_id": "procedures_nightly"}),
)


def fail_fast_on_bad_data(fn: Callable) -> Callable:
    """Data and source errors fail at once (a retry cannot fix them); only outages are retried.

    A failed critical check, a file that cannot be read or lacks a column, a batch handed a
    table it did not validate: ``AirflowFailException``. A batch another run has taken over:
    skipped, saying so (that run loads it). Anything else (connection refused, server restart,
    HTTP 5xx, timeouts) propagates and gets the task's retries.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from tthc_warehouse.extract.base import SourceError
        from tthc_warehouse.ops.claims import BatchBusy, BatchSuperseded, NotValidated
        from tthc_warehouse.quality.gate import DataQualityError

        try:
            return fn(*args, **kwargs)
        except (DataQualityError, SourceError, NotValidated) as exc:
            raise AirflowFailException(str(exc)) from exc
        except (BatchSuperseded, BatchBusy) as exc:
            raise AirflowSkipException(str(exc)) from exc

    return wrapper


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
