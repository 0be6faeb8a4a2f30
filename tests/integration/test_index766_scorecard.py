"""mart.index766_scorecard over the seven real portal fixtures (Phú Thọ, August 2026)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from psycopg import sql

from tthc_warehouse.extract.dvcqg import parse_response
from tthc_warehouse.marts import builder

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dvcqg"
MONTH = dt.date(2026, 8, 1)


def _load_fixtures(conn) -> None:
    for path in sorted(FIXTURES.glob("*.month-all.json")):
        rows = parse_response(path.read_bytes(), group=path.name, period_type="month",
                              period_start=MONTH, source=path.name, province_code="25",
                              captured_at=dt.datetime(2026, 9, 28, tzinfo=dt.UTC))
        columns = [c for c in rows[0] if c != "parse_error"]
        statement = sql.SQL("insert into core.fact_index766_snapshot ({}, batch_id) values ({}, "
                            "'fixtures')").format(sql.SQL(", ").join(map(sql.Identifier, columns)),
                                                  sql.SQL(", ").join(map(sql.Placeholder, columns)))
        with conn.cursor() as cur:
            cur.executemany(statement, rows)


def test_the_real_month_is_recomputed_unit_by_unit(db) -> None:
    try:
        _load_fixtures(db)
        builder.rebuild_month(db, MONTH)
        counts = dict(db.execute(
            "select status, count(*) from mart.index766_scorecard where month = %s group by 1",
            (MONTH,)).fetchall())
        units = db.execute(
            "select indicator_group, count(distinct unit_key) from mart.index766_scorecard "
            "where month = %s and indicator_code = 'TOTAL' group by 1", (MONTH,)).fetchall()
        province = db.execute(
            "select portal_score, recomputed_score, status from mart.index766_scorecard "
            "where month = %s and is_province and indicator_group = 'ALL'", (MONTH,)).fetchone()
    finally:
        db.rollback()
    assert dict(units) == dict.fromkeys(("ALL", "dvc-progress", "provide-online", "online-payment",
                                         "transparency", "handling-satisfaction",
                                         "dossier-digitized"), 164)
    assert "mismatch" not in counts and "not published" not in counts
    assert counts["provisional"] > 0  # DOSSIER_SYNC's TEMP_NATIONAL_REPORT_DENOMINATOR
    # 15.68 + 8.83 + 6.25 + 7.96 + 12.96 + 8.24: online services counted as published.
    assert tuple(map(str, province)) == ("59.92", "59.92", "explained")


def test_the_weak_agency_report_carries_the_portal_score(db) -> None:
    from tthc_warehouse.paths import read_sql

    cursor = db.execute(read_sql("reports/report_weak_agencies.sql"), {"month": MONTH})
    assert "portal_total_score" in [c.name for c in cursor.description]
    db.rollback()
