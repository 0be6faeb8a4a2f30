"""Alerts on their own: the failure notifier and the deadline callback record and send (to 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import httpx
import pytest

from tthc_warehouse.ops import alerts

pytestmark = pytest.mark.integration


@pytest.fixture
def webhook(monkeypatch):
    """A real HTTP endpoint on 127.0.0.1 wired as alerts_webhook: keeps what it receives and
    answers the scripted ``statuses`` first, then 204."""
    hook = SimpleNamespace(received=[], statuses=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.received.append({"auth": self.headers.get("Authorization"), **json.loads(body)})
            self.send_response(hook.statuses.pop(0) if hook.statuses else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_WEBHOOK", json.dumps({
        "conn_type": "http", "host": "127.0.0.1", "port": server.server_address[1], "schema": "http",
        "password": "hook-token", "extra": {"path": "/hooks/tthc"}}))
    yield hook
    server.shutdown()


def alerts_of(db, kind: str) -> list[tuple]:
    return db.execute("select dag_id, task_id, message from ops.alert where kind = %s order by alert_id",
                      (kind,)).fetchall()


def test_failure_notifier_records_and_posts(warehouse_url, db, webhook) -> None:
    ti = SimpleNamespace(dag_id="procedures_nightly", task_id="province.stage_dossiers", map_index=3,
                         rendered_map_index="Hải Dương", run_id="manual__x")
    alerts.FailureAlertNotifier().notify({"ti": ti, "exception": ValueError("ho-so.csv: cannot read")})
    recorded = alerts_of(db, "task_failed")[-1]
    assert recorded[:2] == ("procedures_nightly", "province.stage_dossiers[3]")
    assert "Hải Dương" in recorded[2] and "cannot read" in recorded[2]
    sent = webhook.received[-1]
    assert sent["kind"] == "task_failed" and sent["auth"] == "Bearer hook-token"


def test_deadline_callback_records_and_posts(warehouse_url, db, webhook) -> None:
    context = {"dag_run": {"dag_id": "procedures_nightly", "run_id": "scheduled__2024-09-30"}}
    asyncio.run(alerts.deadline_missed(context, dag_id="procedures_nightly"))
    recorded = alerts_of(db, "deadline_missed")[-1]
    assert "06:00 Vietnam time" in recorded[2] and "scheduled__2024-09-30" in recorded[2]
    assert webhook.received[-1]["kind"] == "deadline_missed"


def test_the_webhook_is_retried_on_outages_not_on_refusals(webhook) -> None:
    conn = alerts._webhook_connection(alerts.WEBHOOK_CONN_ID)
    sleeps: list[float] = []
    webhook.statuses[:] = [503, 502]
    alerts.post_webhook(conn, {"kind": "test_only"}, sleep=sleeps.append)
    assert len(webhook.received) == 3 and sleeps == [1.0, 2.0]
    webhook.statuses[:] = [400]
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        alerts.post_webhook(conn, {"kind": "test_only"}, sleep=sleeps.append)
    assert len(webhook.received) == 4 and sleeps == [1.0, 2.0]


def test_without_a_webhook_the_alert_is_still_recorded(warehouse_url, db, monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_ALERTS_WEBHOOK", raising=False)
    assert alerts.raise_alert(kind="test_only", message="recorded, not sent") is False
    assert alerts_of(db, "test_only")[-1][2] == "recorded, not sent"


def test_the_nightly_dag_carries_the_0600_deadline() -> None:
    import datetime as dt

    from airflow.sdk import DeadlineReference

    from tthc_warehouse.orchestration.dag_defaults import NIGHTLY_DEADLINE

    assert NIGHTLY_DEADLINE.reference == DeadlineReference.DAGRUN_LOGICAL_DATE
    # the logical date is 00:00 of the loaded day; + 30 h = 06:00 the next morning
    assert NIGHTLY_DEADLINE.interval == dt.timedelta(hours=30)
