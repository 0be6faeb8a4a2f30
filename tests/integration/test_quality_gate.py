"""Write-audit-publish on hand-built feeds: quarantine with reasons, critical stops, reruns, late updates.

Two provinces not used by the simulator (Hà Nội 01, TP Hồ Chí Minh 79) get small CSV feeds written
here, so every expected row is known by construction.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from tthc_warehouse.load import publish
from tthc_warehouse.local import runner

pytestmark = pytest.mark.integration

HEADER = ["dossier_code", "procedure_code", "province_code", "received_at", "due_at", "finished_at",
          "status", "fee_amount", "components_digitized", "synced_to_portal", "source_updated_at"]


def good(code: str, province: str, day: str, **overrides) -> dict:
    row = {"dossier_code": code, "procedure_code": "1.005411", "province_code": province,
           "received_at": f"{day} 08:00:00", "due_at": f"{day} 17:00:00", "finished_at": "",
           "status": "4", "fee_amount": "50000", "components_digitized": "1", "synced_to_portal": "1",
           "source_updated_at": f"{day} 08:00:00"}
    return {**row, **overrides}


@pytest.fixture
def feeds(tmp_path: Path, monkeypatch, warehouse_url, airflow_db) -> Path:
    """Point the pipeline at a two-province config and an inbox of our own."""
    config = tmp_path / "feeds.yaml"
    entry = ('  - {{province_code: "{0}", province_name: {1},'
             ' dossier: {{format: csv, path: "{0}/{{day:%Y%m%d}}.csv"}}}}\n')
    config.write_text("provinces:\n" + entry.format("01", "Hà Nội") + entry.format("79", "TP Hồ Chí Minh"),
                      encoding="utf-8")
    monkeypatch.setenv("TTHC_FEEDS_FILE", str(config))
    monkeypatch.setenv("TTHC_INBOX_DIR", str(tmp_path / "inbox"))
    return tmp_path / "inbox"


def write_day(inbox: Path, province: str, day: str, rows: list[dict]) -> None:
    path = inbox / province / f"{day.replace('-', '')}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, HEADER)
        writer.writeheader()
        writer.writerows(rows)


def run(day: str, days: int = 1) -> str:
    start = dt.date.fromisoformat(day)
    return runner.run_nightly(start, start + dt.timedelta(days=days), ["01", "79"], retries=0)


def core_codes(db, prefix: str) -> set[str]:
    rows = db.execute("select dossier_code from core.fact_dossier where dossier_code like %s",
                      (prefix + "%",)).fetchall()
    return {r[0] for r in rows}


def quarantined(db, prefix: str) -> set[tuple[str, str]]:
    rows = db.execute("select raw->>'dossier_code', expectation from quarantine.rejected_row "
                      "where raw->>'dossier_code' like %s", (prefix + "%",)).fetchall()
    return {(r[0], r[1]) for r in rows}


def test_bad_rows_go_to_quarantine_with_reasons_and_the_rest_is_published(feeds, db) -> None:
    day = "2024-11-04"
    write_day(feeds, "01", day, [
        good("Q-OK-1", "01", day), good("Q-OK-2", "01", day, fee_amount="0"),
        good("Q-BADDATE", "01", day, received_at="31/02/2024 08:00"),
        good("Q-NEGFEE", "01", day, fee_amount="-5000"),
        good("Q-DUE", "01", day, due_at="2024-11-01 08:00:00"),
        good("Q-PROC", "01", day, procedure_code="TTHC-1"),
        good("Q-LATE", "01", day, source_updated_at="2024-11-06 09:00:00"),
    ])
    write_day(feeds, "79", day, [good("Q-HCM-1", "79", day)])
    assert run(day) == "success"
    db.commit()
    assert core_codes(db, "Q-") == {"Q-OK-1", "Q-OK-2", "Q-HCM-1"}
    assert quarantined(db, "Q-") == {
        ("Q-BADDATE", "parse"),
        ("Q-NEGFEE", "expect_column_values_to_be_between(fee_amount)"),
        ("Q-DUE", "expect_column_pair_values_a_to_be_greater_than_b(due_at >= received_at)"),
        ("Q-PROC", "expect_column_values_to_match_regex(procedure_code)"),
        ("Q-LATE", "unexpected_rows_expectation(source_updated_at not after the interval's end)"),
    }
    reason = db.execute("select reason from quarantine.rejected_row where raw->>'dossier_code' = 'Q-BADDATE'"
                        ).fetchone()[0]
    assert "20241104.csv row 4 column received_at" in reason
    counts = db.execute("select rows_read, rows_staged, rows_quarantined, rows_published from ops.batch "
                        "where batch_id = 'dossier:01:20241104T0000-20241105T0000'").fetchone()
    assert counts == (7, 6, 5, 2)


def test_a_critical_failure_stops_only_that_province(feeds, db) -> None:
    day = "2024-11-11"
    write_day(feeds, "01", day, [good("C-HN-1", "01", day), good("C-HN-2", "01", day)])
    write_day(feeds, "79", day, [good("C-HCM-1", "79", day), good("C-HCM-2", "01", day),
                                 good("C-HCM-3", "01", day)])
    assert run(day) == "failed"
    db.commit()
    assert core_codes(db, "C-") == {"C-HN-1", "C-HN-2"}
    status, error = db.execute("select status, error from ops.batch "
                               "where batch_id = 'dossier:79:20241111T0000-20241112T0000'").fetchone()
    assert status == "failed"
    assert "expect_column_values_to_be_in_set(province_code) [critical]: 2 unexpected" in error
    alerts = db.execute("select count(*) from ops.alert where message like %s", ("%dossier:79:20241111%",))
    assert alerts.fetchone()[0] >= 1


def checksum(db) -> str:
    return db.execute("select md5(string_agg(t::text, '|' order by t::text)) from core.fact_dossier t "
                      "where dossier_code like 'K-%'").fetchone()[0]


def test_a_publish_killed_midway_leaves_nothing_and_a_rerun_is_clean(feeds, db, monkeypatch) -> None:
    day = "2024-11-18"
    write_day(feeds, "01", day, [good(f"K-{i}", "01", day) for i in range(50)])
    write_day(feeds, "79", day, [good(f"K-HCM-{i}", "79", day) for i in range(5)])
    crash = dict(publish.PUBLISH_STATEMENTS)
    crash["dossier"] = (*crash["dossier"][:1], "reports/crash_for_tests.sql")
    monkeypatch.setattr(publish, "PUBLISH_STATEMENTS", crash)
    monkeypatch.setattr("tthc_warehouse.paths.read_sql", _read_sql_with_crash)
    assert run(day) == "failed"
    db.commit()
    assert core_codes(db, "K-") == set()  # the merge ran, then the transaction died: nothing kept
    monkeypatch.undo()
    monkeypatch.setenv("TTHC_FEEDS_FILE", str(feeds.parent / "feeds.yaml"))
    monkeypatch.setenv("TTHC_INBOX_DIR", str(feeds))
    assert run(day) == "success"
    db.commit()
    after_recovery = checksum(db)
    assert run(day) == "success"
    db.commit()
    assert checksum(db) == after_recovery and len(core_codes(db, "K-")) == 55


def _read_sql_with_crash(relative: str) -> str:
    if relative == "reports/crash_for_tests.sql":
        return "select 1 / 0 from {staging} limit 1"  # the process dies after the merge statement
    from tthc_warehouse.paths import SQL_DIR

    return (SQL_DIR / relative).read_text(encoding="utf-8")


def test_a_late_update_from_an_earlier_month_updates_it_and_names_that_month(feeds, db) -> None:
    write_day(feeds, "01", "2024-10-07", [good("L-1", "01", "2024-10-07")])
    write_day(feeds, "79", "2024-10-07", [])
    assert run("2024-10-07") == "success"
    finished = good("L-1", "01", "2024-10-07", status="10", finished_at="2024-12-02 10:00:00",
                    source_updated_at="2024-12-02 10:00:00")
    write_day(feeds, "01", "2024-12-02", [finished])
    write_day(feeds, "79", "2024-12-02", [])
    assert run("2024-12-02") == "success"
    db.commit()
    status = db.execute("select status from core.fact_dossier where dossier_code = 'L-1'").fetchone()[0]
    assert status == 10
    months = db.execute("select months_touched from ops.batch "
                        "where batch_id = 'dossier:01:20241202T0000-20241203T0000'").fetchone()[0]
    assert months == [dt.date(2024, 10, 1)]
    assert {"2024-10-01"} <= set(_last_asset_event_months("core.fact_dossier"))


def _last_asset_event_months(asset_name: str) -> list[str]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        event = session.scalars(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == asset_name, AssetEvent.extra["province_code"].as_string() == "01")
            .order_by(AssetEvent.timestamp.desc()).limit(1)).one()
        return event.extra["months"]
