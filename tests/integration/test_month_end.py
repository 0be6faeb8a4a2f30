"""Figures that never restate (issue 11, DOMAIN §6) against hand-built histories.

Each defect gets a small history in a database of its own, and every expected figure is computed
here in Python from those records (the status history walked by hand, the working days from a
hand-written calendar of late April 2024), never read back from the SQL.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from psycopg import sql

from tests.conftest import migrated_warehouse
from tthc_warehouse.marts import builder

pytestmark = pytest.mark.integration

D = dt.datetime
AS_OF = D(2024, 5, 31, 12)  # the newest source_updated_at: the data's as-of instant
MONTHS = [dt.date(2024, m, 1) for m in range(1, 6)]
GRACE_DAYS, MIN_DOSSIERS = 15, 10  # ref.setting rows of 0008
AGENCIES = [("27.SO-TP", "27", "Sở Tư pháp - Tỉnh Bắc Ninh", "province"),
            ("27.H01", "27", "UBND thành phố Bắc Ninh", "district"),
            ("27.H01.X01", "27", "UBND phường Tân An - thành phố Bắc Ninh", "commune"),
            ("96.H01", "96", "UBND thành phố Cà Mau", "district")]


def dossier(code, received, events, agency="27.SO-TP", **kw) -> dict:
    """A fact_dossier row whose current state is its last event; ``events`` is (at, status)."""
    last_at, status = events[-1]
    finished = last_at if status in (3, 7, 8, 9, 10) else None
    row = dict(dossier_code=code, procedure_code="1.000001", receiving_agency_code=agency,
               processing_agency_code=agency, province_code=agency[:2], channel=1,
               received_at=received, due_at=received + dt.timedelta(days=10), finished_at=finished,
               returned_at=finished if status == 10 else None, status=status, supplement_count=0,
               supplement_days=0, components_digitized=True, result_digitized=True,
               requires_paper_result=False, synced_to_portal=True, paid_online=0, fee_amount=0,
               source_updated_at=last_at, batch_id="test")
    row.update(kw)
    return {"row": row, "events": events}


def histories() -> list[dict]:
    jan = D(2024, 1, 15, 9)
    return [
        # Defect 1: in supplement at the January end, stopped on 15 February (the Bắc Ninh case).
        dossier("S1", jan, [(jan, 2), (D(2024, 1, 22, 10), 5), (D(2024, 2, 15, 10), 8)],
                due_at=D(2024, 1, 29, 17), supplement_count=2),
        # Withdrawn and not accepted after the month end, not yet due at it.
        dossier("S2", D(2024, 1, 25, 9), [(D(2024, 1, 25, 9), 4), (D(2024, 2, 2, 9), 7)],
                due_at=D(2024, 2, 10, 17)),
        dossier("S3", D(2024, 1, 30, 9), [(D(2024, 1, 30, 9), 2), (D(2024, 2, 1, 9), 3)],
                due_at=D(2024, 2, 13, 17)),
        # In progress and overdue at the January end; its later events arrive in a later load.
        dossier("K1", D(2024, 1, 20, 9), [(D(2024, 1, 20, 9), 4)], due_at=D(2024, 1, 26, 17)),
        # Defect 2: in status 2 on 31 January, result returned on 19 February, due 25 January.
        dossier("F1", D(2024, 1, 10, 9), [(D(2024, 1, 10, 9), 2), (D(2024, 2, 19, 9), 10)],
                due_at=D(2024, 1, 25, 17)),
        # Defect 3: the Cà Mau case (12 waiting days from Monday 15 January 16:46) and a deadline
        # that calendar days put on Saturday 27 April, before the 29 April - 1 May holidays.
        dossier("C1", D(2024, 1, 5, 9), [(D(2024, 1, 5, 9), 5), (D(2024, 1, 29, 7, 57), 10)],
                agency="96.H01", due_at=D(2024, 1, 15, 16, 46), supplement_count=1,
                supplement_days=12),
        dossier("C2", D(2024, 4, 10, 9), [(D(2024, 4, 10, 9), 5), (D(2024, 5, 2, 10), 9)],
                due_at=D(2024, 4, 22, 17), supplement_count=1, supplement_days=5),
        # Not accepted (status 3) in March beside one received dossier.
        dossier("N1", D(2024, 3, 5, 9), [(D(2024, 3, 5, 9), 2), (D(2024, 3, 5, 15), 3)],
                agency="27.H01"),
        dossier("N2", D(2024, 3, 6, 9), [(D(2024, 3, 6, 9), 2), (D(2024, 3, 8, 9), 10)],
                agency="27.H01"),
        # Refunds: stopped on 6 May, paid before; one refund asked on day 10, one never, and one
        # dossier stopped on 25 May, still inside the grace period at the as-of date.
        *[dossier(f"R{i}", D(2024, 5, 2, 9), [(D(2024, 5, 2, 9), 4), (stop, 8)], agency="27.H01",
                  fee_amount=100_000)
          for i, stop in ((1, D(2024, 5, 6, 9)), (2, D(2024, 5, 6, 9)), (3, D(2024, 5, 25, 9)))],
        dossier("LAST", D(2024, 5, 20, 9), [(D(2024, 5, 20, 9), 2), (AS_OF, 4)], agency="27.H01"),
        *weak_units(),
    ]


def weak_units() -> list[dict]:
    """April: a commune with 3 dossiers and a district with 10, all without digitized components."""
    out = []
    for agency, n in (("27.H01.X01", 3), ("27.H01", MIN_DOSSIERS)):
        for i in range(n):
            at = D(2024, 4, 2 + i, 9)
            out.append(dossier(f"W-{agency}-{i}", at, [(at, 2), (at + dt.timedelta(days=1), 10)],
                               agency=agency, components_digitized=False))
    return out


def payments() -> list[dict]:
    base = dict(province_code="27", gateway="national", source_updated_at=D(2024, 5, 3),
                batch_id="test")
    return [{**base, "transaction_id": f"T{i}", "dossier_code": f"R{i}", "amount": 100_000,
             "paid_at": D(2024, 5, 2, 10), "status": "success", "steps": 4} for i in (1, 2, 3)] + [
        {**base, "transaction_id": "T9", "dossier_code": "R1", "amount": 100_000,
         "paid_at": D(2024, 5, 2, 9), "status": "failed", "steps": 12}]


def refunds() -> list[dict]:
    base = dict(province_code="27", reason="stopped", amount=100_000, method="manual",
                batch_id="test")
    return [
        {**base, "refund_id": "RF1", "transaction_id": "T1", "dossier_code": "R1",
         "requested_at": D(2024, 5, 16, 9), "status": "pending", "completed_at": None,
         "source_updated_at": D(2024, 5, 16, 9)},  # asked on day 10 after the stop
        {**base, "refund_id": "RF9", "transaction_id": None, "dossier_code": "N1",
         "requested_at": D(2024, 3, 20, 9), "status": "failed", "completed_at": None,
         "source_updated_at": D(2024, 4, 10, 9)},  # failed on 10 April: pending at the March end
    ]


# ---- the independent computation ---------------------------------------------------------------

def month_end(month: dt.date) -> D:
    return D(month.year + month.month // 12, month.month % 12 + 1, 1)


def status_at(history: dict, instant: D) -> int | None:
    seen = [status for at, status in history["events"] if at < instant]
    return seen[-1] if seen else None


def in_progress_at(history: dict, instant: D) -> bool:
    d = history["row"]
    return d["received_at"] < instant and status_at(history, instant) in (2, 4, 5, 6)


def working_day(day: dt.date) -> bool:
    """Vietnam, spring 2024 (hand-written): weekends, 29 Apr (for Saturday 4 May), 30 Apr, 1 May."""
    off = {dt.date(2024, 4, 29), dt.date(2024, 4, 30), dt.date(2024, 5, 1)}
    return (day.weekday() < 5 or day == dt.date(2024, 5, 4)) and day not in off


def deadline_766(d: dict) -> D:
    day, left = d["due_at"].date(), d["supplement_days"]
    while left:
        day += dt.timedelta(days=1)
        left -= working_day(day)
    return D.combine(day, d["due_at"].time())


def overdue_at_end(d: dict, instant: D) -> tuple[bool, bool]:
    late_766 = d["supplement_count"] > 1 or deadline_766(d) < instant
    return late_766, d["due_at"].date() < (instant - dt.timedelta(days=1)).date()


# ---- the database ------------------------------------------------------------------------------

def insert(conn, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    statement = sql.SQL("insert into {} ({}) values ({})").format(
        sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(map(sql.Placeholder, columns)))
    conn.cursor().executemany(statement, rows)


def load(conn, records: list[dict]) -> None:
    insert(conn, "core.fact_dossier", [h["row"] for h in records])
    insert(conn, "core.fact_dossier_status_event",
           [dict(dossier_code=h["row"]["dossier_code"], status=s, event_at=at, batch_id="test")
            for h in records for at, s in h["events"]])


def rebuild(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("set role tthc_loader")
        conn.commit()
        builder.rebuild_months(conn, MONTHS[:1])


@pytest.fixture(scope="module")
def url(server_url):
    with migrated_warehouse(server_url, "tthc_month_end") as url:
        with psycopg.connect(url) as conn:
            conn.cursor().executemany(
                "insert into ref.agency (agency_code, province_code, name, agency_level) "
                "values (%s, %s, %s, %s)", AGENCIES)
            load(conn, histories())
            insert(conn, "core.fact_payment", payments())
            insert(conn, "core.fact_refund", refunds())
            conn.commit()
        rebuild(url)
        yield url


@pytest.fixture
def db(url):
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def one(conn, query: str, params=None) -> dict:
    cursor = conn.execute(query, params)
    rows = cursor.fetchall()
    assert len(rows) == 1, rows
    return dict(zip([c.name for c in cursor.description], rows[0], strict=True))


def stocks(conn, month: dt.date) -> dict:
    return {r[0]: r[1:] for r in conn.execute(
        "select agency_code, in_progress_at_month_end, in_progress_overdue_766, "
        "in_progress_overdue_provincial, on_time_rate_766, on_time_rate_provincial "
        "from mart.agency_monthly_counts where month = %s", (month,))}


# ---- the tests ---------------------------------------------------------------------------------

def expected_stocks(month: dt.date, agency: str) -> tuple[int, int, int]:
    end = month_end(month)
    rows = [h["row"] for h in histories()
            if h["row"]["processing_agency_code"] == agency and in_progress_at(h, end)]
    late = [overdue_at_end(d, end) for d in rows]
    return len(rows), sum(a for a, _ in late), sum(b for _, b in late)


def test_a_dossier_stopped_after_the_month_end_stays_in_that_months_stock(db) -> None:
    january = one(db, "select * from mart.agency_monthly_counts where month = '2024-01-01' "
                      "and agency_code = '27.SO-TP'")
    stock = expected_stocks(dt.date(2024, 1, 1), "27.SO-TP")
    assert stock == (5, 3, 3)  # S1, S2, S3, K1, F1; overdue: S1, K1, F1
    assert (january["in_progress_at_month_end"], january["in_progress_overdue_766"],
            january["in_progress_overdue_provincial"]) == stock
    assert january["on_time_rate_766"] == round(100 * (5 - 3) / 5, 2)
    february = one(db, "select in_progress_at_month_end from mart.agency_monthly_counts "
                       "where month = '2024-02-01' and agency_code = '27.SO-TP'")
    assert february["in_progress_at_month_end"] == expected_stocks(dt.date(2024, 2, 1), "27.SO-TP")[0]


def test_in_progress_overdue_rows_carry_the_status_at_the_month_end(db) -> None:
    listed = dict(db.execute("select dossier_code, status from mart.overdue_dossiers "
                             "where month = '2024-01-01' and overdue_kind = 'in_progress'"))
    end = month_end(dt.date(2024, 1, 1))
    expected = {h["row"]["dossier_code"]: status_at(h, end) for h in histories()
                if in_progress_at(h, end) and any(overdue_at_end(h["row"], end))}
    assert listed == expected == {"S1": 5, "K1": 4, "F1": 2}


def test_the_766_deadline_counts_waiting_days_as_working_days(db) -> None:
    by_code = {h["row"]["dossier_code"]: h["row"] for h in histories()}
    assert deadline_766(by_code["C1"]) == D(2024, 1, 31, 16, 46)
    # calendar days would give Saturday 27 April; the 29 Apr - 1 May holidays push it to 2 May
    assert deadline_766(by_code["C2"]) == D(2024, 5, 2, 17)
    rows = dict(db.execute("select dossier_code, due_766 from mart.dossier_flags "
                           "where dossier_code in ('C1', 'C2')"))
    assert rows == {c: deadline_766(by_code[c]) for c in ("C1", "C2")}
    ca_mau = one(db, "select dossiers_finished, finished_on_time_766 from "
                     "mart.agency_monthly_counts where month = '2024-01-01' and agency_code = '96.H01'")
    assert ca_mau == {"dossiers_finished": 1, "finished_on_time_766": 1}
    april = one(db, "select overdue_766, overdue_provincial, due_766 from mart.overdue_dossiers "
                    "where month = '2024-04-01' and dossier_code = 'C2'")
    assert april == {"overdue_766": False, "overdue_provincial": True,
                     "due_766": D(2024, 5, 2, 17)}
    may = one(db, "select finished_on_time_766 from mart.agency_monthly_counts "
                  "where month = '2024-05-01' and agency_code = '27.SO-TP'")
    assert may["finished_on_time_766"] == 1


def test_not_accepted_dossiers_are_out_of_the_received_counts(db) -> None:
    march = [h["row"] for h in histories()
             if h["row"]["received_at"].month == 3 and h["row"]["processing_agency_code"] == "27.H01"]
    row = one(db, "select dossiers_received, synced_received, not_accepted_received "
                  "from mart.agency_monthly_counts where month = '2024-03-01' and agency_code = '27.H01'")
    assert row == {"dossiers_received": sum(d["status"] != 3 for d in march),
                   "synced_received": sum(d["status"] != 3 for d in march),
                   "not_accepted_received": sum(d["status"] == 3 for d in march)}
    province = one(db, "select dossiers_received, not_accepted_received, digitization_rate_766 "
                       "from mart.monthly_compliance where month = '2024-03-01' and province_code = '27'")
    assert province == {"dossiers_received": 1, "not_accepted_received": 1,
                        "digitization_rate_766": 100}


def test_a_unit_with_three_dossiers_has_too_few_to_be_weak(db) -> None:
    april = {r[0]: r[1:] for r in db.execute(
        "select agency_code, dossiers_received, is_weak, too_few_dossiers, weak_reason, agency_name "
        "from mart.agency_monthly_compliance where month = '2024-04-01'")}
    received = {}
    for h in histories():
        d = h["row"]
        if d["received_at"].month == 4:
            received[d["processing_agency_code"]] = received.get(d["processing_agency_code"], 0) + 1
    assert {a: r[0] for a, r in april.items()} == received == {
        "27.H01.X01": 3, "27.H01": 10, "27.SO-TP": 1}
    for agency, n in received.items():
        _, weak, too_few, reason, name = april[agency]
        assert too_few is (n < MIN_DOSSIERS) and weak is (n >= MIN_DOSSIERS), agency
        assert reason.startswith("too few dossiers") is too_few, reason
        assert name == dict((a[0], a[2]) for a in AGENCIES)[agency]


def test_refund_never_requested_waits_for_the_grace_period(db) -> None:
    flagged = {r[0] for r in db.execute(
        "select case_id from mart.payment_refund_issues where month = '2024-05-01' "
        "and issue_code = 'refund_never_requested'")}
    ended = {h["row"]["dossier_code"]: h["events"][-1][0] for h in histories()}
    refunded = {r["transaction_id"] for r in refunds()}
    expected = {p["transaction_id"] for p in payments() if p["status"] == "success"
                and p["transaction_id"] not in refunded
                and ended[p["dossier_code"]] + dt.timedelta(days=GRACE_DAYS) <= AS_OF}
    assert flagged == expected == {"T2"}  # T1 asked on day 10, T3 stopped 6 days before as-of


def test_payment_steps_and_failed_refunds(db) -> None:
    ok = [p for p in payments() if p["status"] == "success" and p["paid_at"].month == 5]
    may = one(db, "select payments, payments_failed, steps_total, steps_counted, avg_steps "
                  "from mart.payment_refund_summary where month = '2024-05-01'")
    assert may == {"payments": 4, "payments_failed": 1, "steps_total": sum(p["steps"] for p in ok),
                   "steps_counted": len(ok), "avg_steps": 4}
    excessive = db.execute("select count(*) from mart.payment_refund_issues "
                           "where issue_code = 'excessive_steps'").fetchone()[0]
    assert excessive == 0  # the 12-step attempt failed
    pending = dict(db.execute(
        "select month, refunds_pending_at_month_end from mart.payment_refund_summary "
        "where month in ('2024-03-01', '2024-04-01')"))
    assert pending.get(dt.date(2024, 3, 1)) == 1  # RF9 failed on 10 April
    assert pending.get(dt.date(2024, 4, 1), 0) == 0


def test_rebuilding_a_closed_month_after_later_events_leaves_its_stocks(url, db) -> None:
    """K1 is stopped in March: January and February keep it in their stocks."""
    before = {m: stocks(db, m) for m in MONTHS[:2]}
    overdue = db.execute("select * from mart.overdue_dossiers where month < '2024-03-01' "
                         "order by month, dossier_code").fetchall()
    with psycopg.connect(url) as conn:
        conn.execute("insert into core.fact_dossier_status_event values ('K1', 8, %s, 'later')",
                     (D(2024, 3, 1, 9),))
        conn.execute("update core.fact_dossier set status = 8, finished_at = %s, "
                     "source_updated_at = %s where dossier_code = 'K1'", (D(2024, 3, 1, 9),) * 2)
    rebuild(url)
    assert {m: stocks(db, m) for m in MONTHS[:2]} == before
    assert db.execute("select * from mart.overdue_dossiers where month < '2024-03-01' "
                      "order by month, dossier_code").fetchall() == overdue
    march = stocks(db, dt.date(2024, 3, 1)).get("27.SO-TP", (0,))
    assert march[0] == 0  # stopped on 1 March: no longer in progress at the March end
