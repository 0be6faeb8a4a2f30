"""Alerts: task failures and missed deadlines, recorded in ``batches.alert`` and sent to a webhook.

The webhook is an Airflow connection, ``alerts_webhook`` (``AIRFLOW_CONN_ALERTS_WEBHOOK``, e.g.
``https://hooks.example/...`` for a chat room); its password, if any, is sent as a bearer token.
With no connection configured the alert is only recorded, which is what a laptop wants.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
import tenacity
from airflow.sdk import BaseNotifier

from tthc_warehouse.ops import batches

log = logging.getLogger(__name__)
WEBHOOK_CONN_ID = "alerts_webhook"
DEADLINE_HOUR = 6  # the nightly run must have finished by 06:00 Vietnam time


def _webhook_connection(conn_id: str):
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception:  # not configured: record only
        return None


def _worth_retrying(exc: BaseException) -> bool:
    """Connection failures, timeouts, 429 and 5xx may pass; another 4xx will not."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


def post_webhook(conn, payload: dict, timeout: float = 10.0, attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep) -> None:
    """POST the alert as JSON; the URL comes from the connection (schema, host, port, path)."""
    scheme = conn.schema or "https"
    host = conn.host if "://" in (conn.host or "") else f"{scheme}://{conn.host}"
    url = f"{host}:{conn.port}" if conn.port else host
    path = (conn.extra_dejson or {}).get("path", "")
    headers = {"Authorization": f"Bearer {conn.password}"} if conn.password else {}
    # short backoff: a failure callback should not hold its worker slot for long
    for attempt in tenacity.Retrying(stop=tenacity.stop_after_attempt(attempts),
                                     wait=tenacity.wait_exponential(multiplier=1, max=10),
                                     retry=tenacity.retry_if_exception(_worth_retrying),
                                     sleep=sleep, reraise=True):
        with attempt:
            httpx.post(url + path, json=payload, headers=headers, timeout=timeout).raise_for_status()


def raise_alert(*, kind: str, message: str, dag_id: str | None = None, run_id: str | None = None,
                task_id: str | None = None, conn_id: str = WEBHOOK_CONN_ID) -> bool:
    """Record the alert in batches.alert, then send it; return whether the webhook got it."""
    from tthc_warehouse.db.warehouse import Warehouse

    try:
        with Warehouse.from_airflow().connect() as conn:
            batches.record_alert(conn, kind=kind, message=message, dag_id=dag_id, run_id=run_id,
                                 task_id=task_id)
    except Exception:  # the warehouse may be what is down: still try to tell someone
        log.exception("could not record the alert in batches.alert")
    connection = _webhook_connection(conn_id)
    if connection is None:
        return False
    payload = {"kind": kind, "text": message, "dag_id": dag_id, "run_id": run_id, "task_id": task_id}
    try:
        post_webhook(connection, payload)
    except httpx.HTTPError as exc:
        log.error("alert webhook %s failed: %s", conn_id, exc)
        return False
    return True


class FailureAlertNotifier(BaseNotifier):
    """on_failure_callback: one alert per failed task instance, with its error."""

    template_fields = ("conn_id",)

    def __init__(self, conn_id: str = WEBHOOK_CONN_ID):
        super().__init__()
        self.conn_id = conn_id

    def notify(self, context) -> None:
        ti = context["ti"]
        label = getattr(ti, "rendered_map_index", None) or ti.map_index
        error = str(context.get("exception") or "task failed")[:4000]
        raise_alert(kind="task_failed", message=f"{ti.dag_id}.{ti.task_id}[{label}] failed: {error}",
                    dag_id=ti.dag_id, run_id=ti.run_id, task_id=f"{ti.task_id}[{ti.map_index}]",
                    conn_id=self.conn_id)


async def deadline_missed(context: dict | None = None, **kwargs) -> None:
    """DeadlineAlert callback (runs in the triggerer): the nightly run is not done by 06:00."""
    context = context or {}
    dag_run = context.get("dag_run") or {}
    get = dag_run.get if isinstance(dag_run, dict) else lambda key: getattr(dag_run, key, None)
    message = (f"{get('dag_id') or kwargs.get('dag_id')}: run {get('run_id')} has not finished by "
               f"{DEADLINE_HOUR:02d}:00 Vietnam time; the marts are not fresh for the morning")
    await asyncio.to_thread(raise_alert, kind="deadline_missed", message=message,
                            dag_id=get("dag_id") or kwargs.get("dag_id"), run_id=get("run_id"))
