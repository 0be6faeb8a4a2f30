"""The marts against an independent computation from a hand-built dataset.

A fresh database gets hand-made core rows hitting the edge cases (supplement requests, missing
due dates, withdrawn/stopped dossiers, zero fees, refunds across months, dossiers open across
month ends, the 2025 merger of Hải Dương into Hải Phòng, a Hải-Dương-like 99 % vs 88.89 % month).
The expected values are computed here in Python/pandas from the same records with the DOMAIN §4
definitions; money is compared as integers and totals are checked in SQL (numeric).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from tests.conftest import migrated_warehouse
from tthc_warehouse.db import objects
from tthc_warehouse.marts import builder
from tthc_warehouse.paths import SQL_DIR
from tthc_warehouse.reference import loader

pytestmark = pytest.mark.integration

T = dt.datetime(2025, 8, 20, 12, 0)  # newest source_updated_at: the data's as-of instant
UPDATED = dt.datetime(2025, 8, 1)
TARGET = Decimal("80.00")  # DOMAIN §4 digitization target (ref.target)
LIMIT_DAYS, EXCESSIVE_STEPS, TOLERANCE = 15, 8, Decimal("0.5")  # ref.setting rows of 0003
GRACE_DAYS = 15  # ref.setting refund_request_grace_days (0008)
WORKING_DAYS = loader.working_day_set(loader.working_day_rows(dt.date(2023, 12, 1), dt.date(2025, 12, 31)))
UNIT_2025 = {"30": "31", "31": "31", "27": "24", "46": "46", "11": "11"}  # DOMAIN §5
MART_TABLES = ("agency_monthly_counts", "monthly_compliance", "overdue_dossiers",
               "payment_refund_issues", "payment_refund_summary", "index766_reconciliation",
               "index766_scorecard")
D = dt.datetime


# ---- the hand-built records -------------------------------------------------------------------

def dossier(code, province, received, agency="H30-UB", **kw) -> dict:
    """A fact_dossier row: due in 10 days, finished on time after 2 unless told otherwise."""
    status = kw.pop("status", 10)
    later = (lambda days: received + dt.timedelta(days=days)) if received else (lambda days: None)
    finished = kw.pop("finished", later(2) if status in (9, 10) else None)
    row = dict(
        dossier_code=code, procedure_code=kw.pop("procedure", "1.000001"), procedure_name=None,
        field_code=None, receiving_agency_code=agency, processing_agency_code=agency,
        agency_level=None, province_code=province, channel=1, submitted_at=received,
        received_at=received, due_at=later(10), finished_at=finished,
        returned_at=finished, status=status, supplement_count=0, supplement_days=0,
        components_digitized=True, result_digitized=True, requires_paper_result=False,
        synced_to_portal=True, paid_online=0, fee_amount=0, source_updated_at=UPDATED,
        batch_id="test",
    )
    row.update(kw)
    return row


def hai_duong_month() -> list[dict]:
    """March 2024 in Hải Dương: components 99/100, 766 rule 80/90 (10 unsynced, 9 no e-result)."""
    rows = []
    for i in range(100):
        received = D(2024, 3, 1, 8) + dt.timedelta(days=i % 28, minutes=i)
        kw = dict(agency="H30-TP", synced_to_portal=i >= 10, components_digitized=i != 10,
                  requires_paper_result=i % 2 == 0 or 11 <= i < 20, result_digitized=not 11 <= i < 20,
                  channel=2 if i % 3 == 0 else (None if i % 7 == 0 else 1),
                  fee_amount=20000 if i % 4 == 0 else 0,
                  paid_online=1 if i % 8 == 0 else (2 if i % 6 == 0 else 0))
        if i >= 90:
            kw.update(status=4, result_digitized=False)
        rows.append(dossier(f"HD-{i:03d}", "30", received, **kw))
    return rows


def falling_agency() -> list[dict]:
    """Bắc Ninh commune desk: 766 digitization 100, 90, 80, 70 % in Jan-Apr 2024."""
    return [dossier(f"BN-{k}-{j}", "27", D(2024, k + 1, 3 + j, 9), agency="H27-XA",
                    components_digitized=j < 10 - k)
            for k in range(4) for j in range(10)]


def edge_dossiers() -> list[dict]:
    jan = D(2024, 1, 3, 8)
    return [
        dossier("E01", "30", jan, supplement_count=2),  # 766 late, provincial on time
        dossier("E02", "30", jan, due_at=None),  # no due date, finished
        dossier("E03", "30", jan, due_at=None, status=4),  # no due date, open for ever
        dossier("E04", "30", jan, status=7, fee_amount=50000),  # withdrawn, paid, no refund
        dossier("E05", "30", jan, status=8, fee_amount=100000),  # stopped, refund across months
        dossier("E06", "30", jan, status=3, fee_amount=30000),  # not accepted, refunded
        dossier("E07", "30", jan, fee_amount=0, paid_online=1, procedure="1.000002"),  # zero fee
        dossier("E08", "30", D(2024, 1, 20, 9), due_at=D(2024, 2, 5, 17),
                finished=D(2024, 2, 3, 10)),  # open at the January end, on time in February
        dossier("E09", "30", D(2024, 1, 5, 9), due_at=D(2024, 1, 25, 17),
                finished=D(2024, 2, 10, 10), requires_paper_result=True),  # overdue, late
        dossier("E10", "30", D(2024, 1, 22, 9), due_at=D(2024, 1, 31, 10),
                finished=D(2024, 1, 31, 16)),  # same day, later hour
        dossier("E11", "30", D(2024, 1, 2, 9), due_at=D(2024, 1, 10, 12), supplement_count=1,
                supplement_days=3, finished=D(2024, 1, 12, 9)),  # waiting days subtracted
        dossier("E12", "30", D(2024, 1, 8, 9), status=9, finished=None,
                returned_at=D(2024, 1, 15, 9)),  # finished time from returned_at
        dossier("E13", "30", D(2024, 1, 9, 9), status=10, finished=None, returned_at=None,
                requires_paper_result=True, result_digitized=False),  # no finishing time
        dossier("E14", "30", D(2024, 1, 10, 9), due_at=D(2024, 1, 31, 10), status=5),
        dossier("E15", "30", None, status=1, due_at=None, submitted_at=D(2024, 1, 9)),  # new
        dossier("E16", "30", D(2024, 2, 2, 9), agency=None, channel=2, fee_amount=15000,
                paid_online=2),  # no processing agency
        dossier("E18", "30", D(2024, 1, 29, 9), status=3, fee_amount=40000),
        dossier("E19", "30", D(2024, 2, 1, 9), status=7, fee_amount=25000),
    ]


def later_dossiers() -> list[dict]:
    return [
        dossier("H1", "46", D(2024, 12, 20, 9), agency="H46-TP", due_at=D(2025, 1, 5, 17),
                finished=D(2025, 1, 10, 9)),  # Thừa Thiên Huế, finished late under Huế
        dossier("H2", "46", D(2025, 1, 6, 9), agency="H46-TP"),
        dossier("M1", "30", D(2025, 6, 10, 9), agency="H30-TP"),
        dossier("M2", "30", D(2025, 6, 20, 9), agency="H30-TP", due_at=D(2025, 7, 10, 17),
                status=4),  # Hải Dương dossier still open after the merger
        dossier("M3", "31", D(2025, 6, 25, 9), agency="H31-TP"),
        dossier("M4", "31", D(2025, 7, 2, 9), agency="H31-TP", due_at=D(2025, 7, 12, 17),
                finished=D(2025, 7, 20, 9), channel=2),
        dossier("P1", "31", D(2025, 8, 5, 9), agency="H31-TP", due_at=D(2025, 8, 25, 17),
                status=4),  # due after the as-of date: not overdue yet
        dossier("P2", "31", D(2025, 8, 1, 9), agency="H31-TP", due_at=D(2025, 8, 15, 17),
                status=5, source_updated_at=T),
    ]


def dossiers() -> list[dict]:
    return hai_duong_month() + falling_agency() + edge_dossiers() + later_dossiers()


def ended_at(d: dict) -> dt.datetime | None:
    """When a dossier reached its current status: its finishing time, or a day after receipt
    for one ended without a result (3, 7, 8) or finished with no recorded time."""
    if d["status"] in (2, 4, 5, 6):
        return None
    return finish_time(d) or d["received_at"] + dt.timedelta(days=1)


def status_events(records: list[dict]) -> list[dict]:
    """The status history: received (in its current status while in progress), then the end."""
    out = []
    for d in records:
        if d["received_at"] is None:
            continue
        end = ended_at(d)
        history = [(d["received_at"], 2), (end, d["status"])] if end else [(d["received_at"], d["status"])]
        out += [dict(dossier_code=d["dossier_code"], status=status, event_at=at, batch_id="test")
                for at, status in history]
    return out


def payment(tx, dossier_code, province, amount, paid_at, gateway="national", status="success",
            steps=4) -> dict:
    return dict(transaction_id=tx, dossier_code=dossier_code, province_code=province,
                amount=amount, paid_at=paid_at, gateway=gateway, status=status, steps=steps,
                source_updated_at=UPDATED, batch_id="test")


def refund(rid, tx, dossier_code, requested_at, amount, method="automatic", status="completed",
           completed_at=None, province="30", reason="withdrawn") -> dict:
    return dict(refund_id=rid, transaction_id=tx, dossier_code=dossier_code, province_code=province,
                reason=reason, requested_at=requested_at, amount=amount, method=method,
                status=status, completed_at=completed_at, source_updated_at=UPDATED,
                batch_id="test")


def payments() -> list[dict]:
    return [
        payment("T04", "E04", "30", 50000, D(2024, 1, 8, 10), steps=5),
        payment("T05", "E05", "30", 100000, D(2024, 1, 9, 10), gateway="local", steps=9),
        payment("T06", "E06", "30", 30000, D(2024, 1, 11, 10)),
        payment("T07", "E07", "30", 20000, D(2024, 1, 12, 10), status="failed", steps=12),
        payment("T08", "E07", "30", 20000, D(2024, 1, 14, 10), status="abandoned", steps=None),
        payment("T16", "E16", "30", 15000, D(2024, 2, 2, 10), gateway="local", steps=8),
        payment("T18", "E18", "30", 40000, D(2024, 1, 30, 10), steps=3),
        payment("T19", "E19", "30", 25000, D(2024, 2, 1, 12), steps=6),
        payment("TM1", "M1", "30", 10000, D(2025, 6, 11, 10)),
        payment("TM4", "M4", "31", 12000, D(2025, 7, 3, 10), gateway="local", steps=7),
    ]


def refunds() -> list[dict]:
    return [
        refund("R05", "T05", "E05", D(2024, 1, 10, 9), 100000, method="manual",
               completed_at=D(2024, 2, 20, 9), reason="stopped"),  # pending over limit in Jan
        refund("R06", "T06", "E06", D(2024, 1, 11, 15), 30000, completed_at=D(2024, 1, 13, 9),
               reason="not_accepted"),
        refund("R18", "T18", "E18", D(2024, 2, 10, 9), 40000, status="failed",
               reason="not_accepted"),
        refund("R19", None, "E19", D(2024, 2, 12, 9), 25000, completed_at=D(2024, 2, 25, 9)),
        refund("R404", "T404", "E07", D(2024, 2, 5, 9), 20000, method="manual",
               completed_at=D(2024, 3, 20, 9), reason="duplicate"),  # no such payment
        refund("RM4", "TM4", "M4", D(2025, 7, 25, 9), 12000, method="manual", status="pending",
               province="31", reason="over_payment"),  # pending at the as-of date
    ]


def snapshot(unit, province, period, group, code, num, den, ratio, captured, parent=None,
             period_type="month") -> dict:
    return dict(unit_code=unit, unit_name=f"UBND {unit}", unit_level="PROVINCE",
                parent_code=parent, province_code=province, period_type=period_type,
                period_start=period, indicator_group=group, indicator_code=code, numerator=num,
                denominator=den, ratio=ratio, score=None, max_score=None, captured_at=captured,
                batch_id="test")


def snapshots() -> list[dict]:
    march, tz = dt.date(2024, 3, 1), dt.UTC
    digitized = ("dossier-digitized", "SO_HOA_GIAY_TO_GIAI_QUYET")
    return [
        snapshot("H30", "30", march, *digitized, 70, 90, Decimal("77.78"), D(2024, 4, 2, tzinfo=tz)),
        snapshot("H30", "30", march, *digitized, 81, 91, Decimal("89.01"), D(2024, 4, 10, tzinfo=tz)),
        snapshot("H30", "30", march, "dvc-progress", "ON_TIME", 50, 100, Decimal("50.00"),
                 D(2024, 4, 10, tzinfo=tz)),
        snapshot("H30", "30", march, "provide-online", "ONLINE_SUBMISSION", 40, 100, None,
                 D(2024, 4, 10, tzinfo=tz)),
        snapshot("H30-1", "30", march, *digitized, 1, 1, Decimal("100"), D(2024, 4, 10, tzinfo=tz),
                 parent="H30"),  # a department, not the province node
        snapshot("H30", "30", dt.date(2024, 1, 1), *digitized, 1, 1, Decimal("100"),
                 D(2024, 4, 10, tzinfo=tz), period_type="quarter"),
        snapshot("H27", "27", march, *digitized, 8, 10, Decimal("80.00"), D(2024, 4, 10, tzinfo=tz)),
        snapshot("H11", "11", march, *digitized, 5, 10, Decimal("50.00"), D(2024, 4, 10, tzinfo=tz)),
    ]


REFERENCE = {
    "ref.agency": [dict(agency_code="H30-TP", province_code="30", name="Sở Tư pháp Hải Dương",
                        agency_level="province"),
                   dict(agency_code="H30-UB", province_code="30", name="UBND huyện Nam Sách",
                        agency_level="district"),
                   dict(agency_code="H27-XA", province_code="27", name="UBND xã Hòa Long",
                        agency_level="commune")],
    "ref.procedure": [dict(procedure_code="1.000001", name="Cấp bản sao trích lục hộ tịch",
                           field_code="HT", requires_paper_result=True),
                      dict(procedure_code="1.000002", name="Đăng ký khai sinh", field_code="HT",
                           requires_paper_result=False)],
}


# ---- the rules, written out independently of the SQL (DOMAIN §4) ------------------------------

class Period:
    """A month (or January..month) evaluated at its end, or at T while it is not over."""

    def __init__(self, month: dt.date, start: dt.date | None = None):
        self.month = month
        self.start = D.combine(start or month, dt.time())
        self.end = D.combine(next_month(month), dt.time())
        self.at = min(self.end, T)
        self.day = min(next_month(month) - dt.timedelta(days=1), T.date())


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def all_months() -> list[dt.date]:
    months, month = [], dt.date(2024, 1, 1)
    while month <= T.date():
        months.append(month)
        month = next_month(month)
    return months


def pct(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(100 * numerator) / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def mean(total: int, count: int) -> Decimal | None:
    return (Decimal(total) / count).quantize(Decimal("0.01"), ROUND_HALF_UP) if count else None


def finish_time(d: dict) -> dt.datetime | None:
    """Status 9/10 only: finished_at, else returned_at."""
    return (d["finished_at"] or d["returned_at"]) if d["status"] in (9, 10) else None


def in_on_time_scope(d: dict) -> bool:
    return d["status"] in (2, 4, 5, 6) or finish_time(d) is not None


def due_766(d: dict) -> dt.datetime | None:
    """The due date moved by the waiting days, counted in working days (DOMAIN §6.2)."""
    if d["due_at"] is None:
        return None
    day, left = d["due_at"].date(), d["supplement_days"]
    while left:
        day += dt.timedelta(days=1)
        left -= day in WORKING_DAYS
    return dt.datetime.combine(day, d["due_at"].time())


def on_time_766(d: dict) -> bool:
    return d["supplement_count"] <= 1 and d["due_at"] is not None and finish_time(d) <= due_766(d)


def on_time_provincial(d: dict) -> bool:
    return d["due_at"] is None or finish_time(d).date() <= d["due_at"].date()


def open_overdue_766(d: dict, at: dt.datetime) -> bool:
    return d["supplement_count"] > 1 or d["due_at"] is None or due_766(d) < at


def open_overdue_provincial(d: dict, day: dt.date) -> bool:
    return d["due_at"] is not None and d["due_at"].date() < day


def digitized_766(d: dict) -> bool:
    paper_done = d["requires_paper_result"] and d["status"] in (9, 10)
    return d["synced_to_portal"] and d["components_digitized"] and (not paper_done or d["result_digitized"])


def states(d: dict, p: Period) -> tuple[bool, bool, bool]:
    """(received in the period, finished in it, open at its end)."""
    received = p.start <= d["received_at"] < p.end and d["status"] != 3  # 3: never received
    finish = finish_time(d)
    finished = finish is not None and p.start <= finish < p.end
    still_open = in_on_time_scope(d) and d["received_at"] < p.end and (finish is None or finish >= p.end)
    return received, finished, still_open


def measures(d: dict, p: Period) -> dict[str, bool] | None:
    recv, fin, still_open = states(d, p)
    if not (recv or fin or still_open or p.start <= d["received_at"] < p.end):
        return None
    synced, comp, paper = d["synced_to_portal"], d["components_digitized"], d["requires_paper_result"]
    return {
        "dossiers_received": recv, "synced_received": recv and synced,
        "digitized_766": recv and digitized_766(d), "digitized_provincial": recv and comp,
        "unsynced_digitized": recv and comp and not synced,
        "e_result_missing": recv and synced and comp and paper and d["status"] in (9, 10)
        and not d["result_digitized"],
        "components_not_digitized": recv and synced and not comp,
        "online_received": recv and d["channel"] == 2,
        "fee_bearing_received": recv and d["fee_amount"] > 0,
        "paid_online_received": recv and d["fee_amount"] > 0 and d["paid_online"] in (1, 2),
        "dossiers_finished": fin,
        "finished_on_time_766": fin and on_time_766(d),
        "finished_late_766": fin and not on_time_766(d),
        "finished_on_time_provincial": fin and on_time_provincial(d),
        "finished_late_provincial": fin and not on_time_provincial(d),
        "paper_result_finished": fin and paper,
        "e_result_finished": fin and paper and d["result_digitized"],
        "in_progress_at_month_end": still_open,
        "in_progress_overdue_766": still_open and open_overdue_766(d, p.at),
        "in_progress_overdue_provincial": still_open and open_overdue_provincial(d, p.day),
        "not_accepted_received": p.start <= d["received_at"] < p.end and d["status"] == 3,
        "no_due_date_counted": (fin or still_open) and d["due_at"] is None,
    }


COUNTS = list(measures(dossier("x", "30", D(2024, 1, 1)), Period(dt.date(2024, 1, 1))))
FLOWS = [c for c in COUNTS if c not in ("in_progress_at_month_end", "in_progress_overdue_766",
                                         "in_progress_overdue_provincial")]
YTD = ["dossiers_received", "synced_received", "digitized_766", "digitized_provincial",
       "online_received", "fee_bearing_received", "paid_online_received", "dossiers_finished",
       "finished_on_time_766", "finished_on_time_provincial", "paper_result_finished",
       "e_result_finished"]


def counted(records: Iterable[dict], period: Period, keys: tuple[str, ...]) -> pd.DataFrame:
    """Sum of the measures per key columns over the dossiers active in the period."""
    rows = []
    for d in records:
        if d["received_at"] is not None and (m := measures(d, period)) is not None:
            rows.append({"province_code": d["province_code"],
                         "agency_code": d["processing_agency_code"] or "(none)", **m})
    frame = pd.DataFrame(rows, columns=["province_code", "agency_code", *COUNTS])
    return frame.groupby(list(keys), as_index=False)[COUNTS].sum()


def rates(row: dict, suffix: str = "") -> dict[str, Decimal | None]:
    s, stock = suffix, row["in_progress_at_month_end"]
    base = row[f"dossiers_finished{s}"] + stock
    return {
        f"digitization_rate_766{s}": pct(row[f"digitized_766{s}"], row[f"synced_received{s}"]),
        f"digitization_rate_provincial{s}": pct(row[f"digitized_provincial{s}"],
                                                row[f"dossiers_received{s}"]),
        f"online_submission_rate{s}": pct(row[f"online_received{s}"], row[f"dossiers_received{s}"]),
        f"online_payment_rate{s}": pct(row[f"paid_online_received{s}"], row[f"fee_bearing_received{s}"]),
        f"e_result_rate{s}": pct(row[f"e_result_finished{s}"], row[f"paper_result_finished{s}"]),
        f"on_time_rate_766{s}": pct(row[f"finished_on_time_766{s}"] + stock
                                    - row["in_progress_overdue_766"], base),
        f"on_time_rate_provincial{s}": pct(row[f"finished_on_time_provincial{s}"] + stock
                                           - row["in_progress_overdue_provincial"], base),
    }


def rank(values: list[Decimal | None]) -> list[int]:
    """SQL rank() over (order by value desc nulls last)."""
    def better(a, b):
        return (b is None and a is not None) or (a is not None and b is not None and a > b)
    return [1 + sum(better(other, v) for other in values) for v in values]


PROVINCE = {"30": "Hải Dương", "31": "Hải Phòng", "27": "Bắc Ninh", "11": "Điện Biên"}
UNIT_NAME = {"31": "Hải Phòng", "24": "Bắc Ninh", "46": "Huế", "11": "Điện Biên"}


def province_name(code: str, on: dt.date) -> str:
    return PROVINCE.get(code) or ("Huế" if on >= dt.date(2025, 1, 1) else "Thừa Thiên Huế")


def expected_agency(records: list[dict]) -> list[dict]:
    out = []
    for month in all_months():
        frame = counted(records, Period(month), ("province_code", "agency_code"))
        for row in frame.to_dict("records"):
            row = {k: (int(v) if k in COUNTS else v) for k, v in row.items()}
            out.append({**row, "month": month, **rates(row),
                        "meets_digitization_target": _meets(rates(row)["digitization_rate_766"])})
    return out


def _meets(value: Decimal | None) -> bool | None:
    return None if value is None else value >= TARGET


def expected_monthly(records: list[dict]) -> list[dict]:
    out = []
    for month in all_months():
        frame = counted(records, Period(month), ("province_code",))
        year = counted(records, Period(month, start=month.replace(month=1)), ("province_code",))
        ytd = {r["province_code"]: r for r in year.to_dict("records")}
        rows = []
        for row in frame.to_dict("records"):
            row = {k: (int(v) if k in COUNTS else v) for k, v in row.items()}
            row.update({f"{c}_ytd": int(ytd[row["province_code"]][c]) for c in YTD})
            row.update(month=month, **rates(row), **rates(row, "_ytd"))
            row["meets_digitization_target"] = _meets(row["digitization_rate_766"])
            row["meets_digitization_target_ytd"] = _meets(row["digitization_rate_766_ytd"])
            row["province_name"] = province_name(row["province_code"], month)
            row["province_code_2025"] = UNIT_2025[row["province_code"]]
            rows.append(row)
        for key in ("", "_ytd"):
            for row, r in zip(rows, rank([x[f"digitization_rate_766{key}"] for x in rows]), strict=True):
                row[f"digitization_rank{key}"] = r
        out += rows
    return out


def expected_weak(agency_rows: list[dict]) -> dict[tuple, tuple]:
    """(province, agency, month) -> (rank in province, below target, digitization falling,
    on-time falling): falling = the rate fell in each of the last three months."""
    by_key = {(r["province_code"], r["agency_code"], r["month"]): r for r in agency_rows}

    def falling(key, column) -> bool:
        province, agency, month = key
        chain = [month]
        for _ in range(3):
            chain.append((chain[-1] - dt.timedelta(days=1)).replace(day=1))
        values = [by_key.get((province, agency, m), {}).get(column) for m in chain]
        return None not in values and all(a < b for a, b in itertools.pairwise(values))

    out = {}
    for (province, month), group in pd.DataFrame(agency_rows).groupby(["province_code", "month"]):
        rows = group.to_dict("records")
        ranks = rank([r["digitization_rate_766"] for r in rows])
        for row, r in zip(rows, ranks, strict=True):
            key = (province, row["agency_code"], month)
            value = row["digitization_rate_766"]
            out[key] = (r, value is not None and value < TARGET,
                        falling(key, "digitization_rate_766"), falling(key, "on_time_rate_766"))
    return out


def overdue_row(d: dict, finished: bool, at: dt.datetime, day: dt.date, calendar: set) -> dict | None:
    late_766 = not on_time_766(d) if finished else open_overdue_766(d, at)
    late_provincial = not on_time_provincial(d) if finished else open_overdue_provincial(d, day)
    if not (late_766 or late_provincial):
        return None
    end = finish_time(d).date() if finished else day
    due = d["due_at"].date() if d["due_at"] else None
    return {
        "dossier_code": d["dossier_code"], "overdue_kind": "finished_late" if finished else "in_progress",
        "overdue_766": late_766, "overdue_provincial": late_provincial, "as_of": day,
        "days_overdue": None if due is None else max((end - due).days, 0),
        "working_days_overdue": None if due is None else sum(due < x <= end for x in calendar),
        "province_name": province_name(d["province_code"], d["received_at"].date()),
        "agency_code": d["processing_agency_code"] or "(none)",
        "finished_at": finish_time(d) if finished else None,
    }


def expected_overdue(records: list[dict], calendar: set) -> list[dict]:
    out = []
    for month in all_months():
        p = Period(month)
        for d in records:
            if d["received_at"] is None or not in_on_time_scope(d):
                continue
            _, finished, still_open = states(d, p)
            if finished or still_open:
                row = overdue_row(d, finished, p.at, p.day, calendar)
                out += [{**row, "month": month}] if row else []
    return out


def expected_overdue_now(records: list[dict], calendar: set) -> list[dict]:
    rows = [overdue_row(d, finish_time(d) is not None, T, T.date(), calendar)
            for d in records if d["received_at"] is not None and in_on_time_scope(d)]
    return [r for r in rows if r]


def pending_at(r: dict, end: dt.datetime) -> bool:
    """A failed refund leaves the stock when it failed (no time given: the source's update)."""
    return r["status"] == "pending" or (r["status"] == "completed" and r["completed_at"] >= end) or (
        r["status"] == "failed" and (r["completed_at"] or r["source_updated_at"]) >= end)


def expected_issues(dossier_rows, payment_rows, refund_rows) -> list[dict]:
    status = {d["dossier_code"]: d["status"] for d in dossier_rows}
    ended = {d["dossier_code"]: ended_at(d) for d in dossier_rows if d["received_at"]}
    paid = {p["transaction_id"]: p for p in payment_rows if p["status"] == "success"}
    first_paid = {}  # a refund naming no transaction belongs to the dossier's first payment
    for p in sorted(paid.values(), key=lambda p: p["paid_at"], reverse=True):
        first_paid[p["dossier_code"]] = p
    out = []
    for month in all_months():
        p = Period(month)
        for r in refund_rows:
            days = (p.day - r["requested_at"].date()).days
            pay = paid.get(r["transaction_id"]) if r["transaction_id"] else first_paid.get(r["dossier_code"])
            base = dict(month=month, case_id=r["refund_id"], refund_amount=r["amount"],
                        province_code=r["province_code"], payment_amount=pay and pay["amount"])
            if r["requested_at"] < p.end and pending_at(r, p.end) and days > LIMIT_DAYS:
                out.append({**base, "issue_code": "refund_pending_over_limit", "days_pending": days})
            if not p.start <= r["requested_at"] < p.end:
                continue
            for code, hit in (("manual_refund", r["method"] == "manual"),
                              ("refund_failed", r["status"] == "failed"),
                              ("refund_without_payment", pay is None)):
                out += [{**base, "issue_code": code, "days_pending": None}] if hit else []
        for pay in payment_rows:
            if not p.start <= pay["paid_at"] < p.end:
                continue
            refunded = any(r["transaction_id"] == pay["transaction_id"] or (
                r["transaction_id"] is None and r["dossier_code"] == pay["dossier_code"])
                for r in refund_rows)
            base = dict(month=month, case_id=pay["transaction_id"], refund_amount=None,
                        province_code=pay["province_code"],
                        payment_amount=pay["amount"], days_pending=None)
            if pay["status"] == "success" and status.get(pay["dossier_code"]) in (3, 7, 8) and not refunded \
                    and ended[pay["dossier_code"]] + dt.timedelta(days=GRACE_DAYS) <= T:
                out.append({**base, "issue_code": "refund_never_requested"})
            if pay["status"] == "success" and pay["steps"] is not None and pay["steps"] >= EXCESSIVE_STEPS:
                out.append({**base, "issue_code": "excessive_steps"})
    return out


def expected_summary(payment_rows, refund_rows, issues) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for month in all_months():
        p = Period(month)
        pays = [x for x in payment_rows if p.start <= x["paid_at"] < p.end]
        asked = [x for x in refund_rows if p.start <= x["requested_at"] < p.end]
        pending = [x for x in refund_rows if x["requested_at"] < p.end and pending_at(x, p.end)]
        cases = [i for i in issues if i["month"] == month]
        for province in {x["province_code"] for x in pays + asked + pending} | {
                i["province_code"] for i in cases if i["issue_code"] in (
                    "refund_pending_over_limit", "refund_never_requested")}:
            out[(province, month)] = summary_row(
                [x for x in pays if x["province_code"] == province],
                [x for x in asked if x["province_code"] == province],
                [x for x in pending if x["province_code"] == province],
                [i for i in cases if i["province_code"] == province])
    return out


def summary_row(pays, asked, pending, cases) -> dict:
    ok = [x for x in pays if x["status"] == "success"]
    steps = [x["steps"] for x in ok if x["steps"] is not None]  # successful payments only
    done = [x for x in asked if x["status"] == "completed"]
    over = [i for i in cases if i["issue_code"] == "refund_pending_over_limit"]
    never = [i for i in cases if i["issue_code"] == "refund_never_requested"]
    return {
        "payments": len(pays), "payments_succeeded": len(ok),
        "payments_failed": sum(x["status"] == "failed" for x in pays),
        "payments_abandoned": sum(x["status"] == "abandoned" for x in pays),
        "amount_paid": sum(x["amount"] for x in ok),
        "national_platform_payments": sum(x["gateway"] == "national" for x in ok),
        "avg_steps": mean(sum(steps), len(steps)),
        "steps_p90": (Decimal(str(pd.Series(steps, dtype=float).quantile(0.9))).quantize(
            Decimal("0.01"), ROUND_HALF_UP) if steps else None),
        "refunds_required": len(asked),
        "refunds_automatic": sum(x["method"] == "automatic" for x in asked),
        "refunds_manual": sum(x["method"] == "manual" for x in asked),
        "refunds_completed": len(done), "refunds_failed": sum(x["status"] == "failed" for x in asked),
        "refunds_pending": sum(x["status"] == "pending" for x in asked),
        "refund_amount_required": sum(x["amount"] for x in asked),
        "amount_refunded": sum(x["amount"] for x in done),
        "avg_days_to_refund": mean(sum((x["completed_at"].date() - x["requested_at"].date()).days
                                       for x in done), len(done)),
        "refunds_pending_at_month_end": len(pending),
        "amount_pending_at_month_end": sum(x["amount"] for x in pending),
        "refunds_pending_over_limit": len(over),
        "amount_pending_over_limit": sum(i["refund_amount"] for i in over),
        "refunds_never_requested": len(never),
        "amount_never_requested": sum(i["payment_amount"] for i in never),
    }


INDICATORS = {"digitization": ("dossier-digitized", "SO_HOA_GIAY_TO_GIAI_QUYET"),
              "on_time": ("dvc-progress", "ON_TIME"),
              "online_payment": ("online-payment", "ONLINE_PAYMENT"),
              "online_submission": ("provide-online", "ONLINE_SUBMISSION")}


def ours(row: dict) -> dict[str, tuple[int, int]]:
    stock = row["in_progress_at_month_end"]
    return {"digitization": (row["digitized_766"], row["synced_received"]),
            "on_time": (row["finished_on_time_766"] + stock - row["in_progress_overdue_766"],
                        row["dossiers_finished"] + stock),
            "online_payment": (row["paid_online_received"], row["fee_bearing_received"]),
            "online_submission": (row["online_received"], row["dossiers_received"])}


def published(snapshot_rows: list[dict]) -> dict[tuple, dict]:
    """(province, month, indicator) -> the latest capture of the province node."""
    latest: dict[tuple, dict] = {}
    wanted = {v: k for k, v in INDICATORS.items()}
    for s in sorted(snapshot_rows, key=lambda s: s["captured_at"]):
        code = wanted.get((s["indicator_group"], s["indicator_code"]))
        if code and s["parent_code"] is None and s["period_type"] == "month":
            latest[(s["province_code"], s["period_start"], code)] = s
    return latest


def expected_reconciliation(monthly: list[dict], snapshot_rows: list[dict]) -> dict[tuple, dict]:
    portal = published(snapshot_rows)
    out = {}
    for row in monthly:
        for indicator, (n, d) in ours(row).items():
            out[(row["province_code"], row["month"], indicator)] = {"our_numerator": n,
                                                                    "our_denominator": d}
    for key in portal:
        out.setdefault(key, {"our_numerator": None, "our_denominator": None})
    for key, row in out.items():
        s = portal.get(key)
        our_rate = None if row["our_numerator"] is None else pct(row["our_numerator"],
                                                                 row["our_denominator"])
        rate = None if s is None else (
            s["ratio"] if s["ratio"] is not None else pct(s["numerator"], s["denominator"]))
        row.update(our_rate=our_rate, portal_rate=rate,
                   diff_pp=None if rate is None or our_rate is None else rate - our_rate,
                   status="not published" if rate is None else (
                       "match" if our_rate is not None and abs(rate - our_rate) <= TOLERANCE
                       else "mismatch"))
    return out


def by_2025(monthly: list[dict]) -> dict[tuple, dict]:
    """Sum the provinces' monthly counts into their 2025 unit; year to date as running sums."""
    frame = pd.DataFrame(monthly)
    frame["unit"] = frame.province_code.map(UNIT_2025)
    sums = frame.groupby(["unit", "month"], as_index=False)[COUNTS].sum().sort_values(["unit", "month"])
    sums["year"] = sums.month.map(lambda m: m.year)
    for column in YTD:
        sums[f"{column}_ytd"] = sums.groupby(["unit", "year"])[column].cumsum()
    out = {}
    for row in sums.to_dict("records"):
        row = {k: (int(v) if k in COUNTS or k.endswith("_ytd") else v) for k, v in row.items()}
        out[(row["unit"], row["month"])] = {**row, **rates(row), **rates(row, "_ytd")}
    for month in {m for _, m in out}:
        group = [r for (_, m), r in out.items() if m == month]
        for key in ("", "_ytd"):
            ranks = rank([r[f"digitization_rate_766{key}"] for r in group])
            for row, r in zip(group, ranks, strict=True):
                row[f"digitization_rank{key}"] = r
    return out


# ---- the database ------------------------------------------------------------------------------

def insert(conn: psycopg.Connection, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    statement = sql.SQL("insert into {} ({}) values ({})").format(
        sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(map(sql.Placeholder, columns)))
    with conn.cursor() as cur:
        cur.executemany(statement, rows)


def rebuild_as_loader(url: str) -> dict:
    with psycopg.connect(url) as conn:
        conn.execute("set role tthc_loader")
        conn.commit()
        return builder.rebuild_months(conn, [dt.date(2024, 3, 1), dt.date(2024, 1, 15), dt.date(2025, 7, 1)])


@pytest.fixture(scope="module")
def mart_url(server_url):
    """A fresh warehouse holding only the hand-built records, marts rebuilt as the loader."""
    with migrated_warehouse(server_url, "tthc_marts") as url:
        with psycopg.connect(url) as conn:
            for table, rows in {**REFERENCE, "core.fact_dossier": dossiers(),
                                "core.fact_dossier_status_event": status_events(dossiers()),
                                "core.fact_payment": payments(), "core.fact_refund": refunds(),
                                "core.fact_index766_snapshot": snapshots()}.items():
                insert(conn, table, rows)
            conn.commit()
        rebuild_as_loader(url)
        yield url


@pytest.fixture
def db(mart_url):
    with psycopg.connect(mart_url, autocommit=True) as conn:
        yield conn


def rows(conn: psycopg.Connection, query: str, params=None) -> list[dict]:
    cursor = conn.execute(query, params)
    names = [c.name for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def keyed(records: Iterable[dict], *key: str) -> dict[tuple, dict]:
    return {tuple(r[k] for k in key): r for r in records}


def assert_matches(actual: dict[tuple, dict], expected: dict[tuple, dict], columns: Iterable[str]) -> None:
    assert sorted(actual) == sorted(expected)
    for key, want in expected.items():
        got = {c: actual[key][c] for c in columns}
        assert got == {c: want[c] for c in columns}, key


def calendar(conn) -> set[dt.date]:
    return {r[0] for r in conn.execute("select day from ref.working_day where is_working_day")}


# ---- the tests ---------------------------------------------------------------------------------

RATES = list(rates({**dict.fromkeys(COUNTS, 0), **{f"{c}_ytd": 0 for c in YTD}}))
RATES_YTD = list(rates({**dict.fromkeys(COUNTS, 0), **{f"{c}_ytd": 0 for c in YTD}}, "_ytd"))


def test_agency_counts_match_an_independent_computation(db) -> None:
    expected = keyed(expected_agency(dossiers()), "province_code", "agency_code", "month")
    actual = keyed(rows(db, "select * from mart.agency_monthly_counts"),
                   "province_code", "agency_code", "month")
    assert_matches(actual, expected, [*COUNTS, *RATES, "meets_digitization_target"])
    assert {r["digitization_target_pct"] for r in actual.values()} == {TARGET}
    names = {k[1]: (r["agency_name"], r["agency_level"]) for k, r in actual.items()}
    assert names["H30-TP"] == ("Sở Tư pháp Hải Dương", "province")
    assert names["(none)"] == (None, None)  # E16 names no processing agency


def test_agency_rank_and_weak_units(db) -> None:
    agency = expected_agency(dossiers())
    expected = expected_weak(agency)
    actual = {(r["province_code"], r["agency_code"], r["month"]): (
        r["rank_in_province"], r["below_target"], r["digitization_falling"], r["on_time_falling"])
        for r in rows(db, "select * from mart.agency_monthly_compliance")}
    assert actual == expected
    weak = rows(db, "select agency_code, month, weak_reason from mart.agency_monthly_compliance "
                    "where is_weak and agency_code = 'H27-XA'")
    assert [(r["month"], r["weak_reason"]) for r in weak] == [(
        dt.date(2024, 4, 1), "digitization 70.00 % below the 80.00 % target; "
                             "digitization rate fell three months in a row")]


def test_monthly_compliance_matches_an_independent_computation(db) -> None:
    expected = keyed(expected_monthly(dossiers()), "province_code", "month")
    actual = keyed(rows(db, "select * from mart.monthly_compliance"), "province_code", "month")
    ytd = [f"{c}_ytd" for c in YTD]
    columns = [*COUNTS, *ytd, *RATES, *RATES_YTD, "digitization_rank", "digitization_rank_ytd",
               "meets_digitization_target", "meets_digitization_target_ytd", "province_name",
               "province_code_2025"]
    assert_matches(actual, expected, columns)
    # Hải Dương (30) keeps rows after the merger only while its dossiers are still open (M2, E03).
    assert actual[("30", dt.date(2025, 8, 1))]["province_name_2025"] == "Hải Phòng"
    assert actual[("46", dt.date(2024, 12, 1))]["province_name"] == "Thừa Thiên Huế"
    assert actual[("46", dt.date(2025, 1, 1))]["province_name"] == "Huế"


def test_edge_cases_land_where_the_rules_say(db) -> None:
    jan = rows(db, "select * from mart.monthly_compliance where province_code = '30' "
                   "and month = '2024-01-01'")[0]
    # E10 (same day, later hour) and E01/E02 are late by 766 only; E11 is late by dates only.
    assert jan["finished_late_766"] - jan["finished_late_provincial"] == 3 - 1
    # Open at the January end: E03 (no due date), E08 (not yet due), E09 (due 25th), E14 (due
    # the 31st at 10:00: overdue by timestamps, not yet by dates).
    assert (jan["in_progress_at_month_end"], jan["in_progress_overdue_766"],
            jan["in_progress_overdue_provincial"]) == (4, 3, 1)
    aug = rows(db, "select * from mart.monthly_compliance where province_code = '31' "
                   "and month = '2025-08-01'")[0]
    # August is not over at the data's as-of (20 Aug): P1 (due 25 Aug) is not overdue yet.
    assert (aug["in_progress_at_month_end"], aug["in_progress_overdue_766"]) == (2, 1)


def test_hai_duong_gap_is_explained_by_the_breakdown(db) -> None:
    row = rows(db, "select * from mart.index766_reconciliation where province_code = '30' "
                   "and month = '2024-03-01' and indicator = 'digitization'")[0]
    assert (row["provincial_rate"], row["rate_766"]) == (Decimal("99.00"), Decimal("88.89"))
    assert row["digitized_provincial"] - row["unsynced_digitized"] - row["e_result_missing"] == (
        row["digitized_766"])
    assert row["dossiers_received"] - row["received_not_synced"] == row["synced_received"]
    assert (row["received_not_synced"], row["unsynced_digitized"], row["e_result_missing"],
            row["components_not_digitized"]) == (10, 10, 9, 1)
    assert (row["portal_numerator"], row["portal_denominator"], row["denominator_diff"]) == (81, 91, 1)
    assert row["status"] == "match" and row["diff_pp"] == Decimal("0.12")


def test_reconciliation_matches_an_independent_computation(db) -> None:
    expected = expected_reconciliation(expected_monthly(dossiers()), snapshots())
    actual = keyed(rows(db, "select * from mart.index766_reconciliation"),
                   "province_code", "month", "indicator")
    assert_matches(actual, expected, ["our_numerator", "our_denominator", "our_rate",
                                      "portal_rate", "diff_pp", "status"])
    statuses = {k[2]: r["status"] for k, r in actual.items() if k[:2] == ("30", dt.date(2024, 3, 1))}
    assert statuses == {"digitization": "match", "on_time": "mismatch",
                        "online_payment": "not published", "online_submission": "mismatch"}
    assert actual[("11", dt.date(2024, 3, 1), "digitization")]["our_rate"] is None


OVERDUE_COLUMNS = ["overdue_kind", "overdue_766", "overdue_provincial", "as_of", "days_overdue",
                   "working_days_overdue", "province_name", "agency_code", "finished_at"]


def test_overdue_snapshots_match_an_independent_computation(db) -> None:
    expected = keyed(expected_overdue(dossiers(), calendar(db)), "month", "dossier_code")
    actual = keyed(rows(db, "select * from mart.overdue_dossiers"), "month", "dossier_code")
    assert_matches(actual, expected, OVERDUE_COLUMNS)
    e09 = actual[(dt.date(2024, 1, 1), "E09")]
    assert (e09["overdue_kind"], e09["days_overdue"], e09["procedure_name"]) == (
        "in_progress", 6, "Cấp bản sao trích lục hộ tịch")


def test_overdue_now_is_evaluated_at_the_newest_data(db) -> None:
    expected = keyed(expected_overdue_now(dossiers(), calendar(db)), "dossier_code")
    actual = keyed(rows(db, "select * from mart.overdue_dossiers_current"), "dossier_code")
    assert_matches(actual, expected, OVERDUE_COLUMNS)
    assert {r["as_of_at"] for r in actual.values()} == {T}
    assert ("P1",) not in actual and actual[("P2",)]["days_overdue"] == 5


def test_payment_issues_match_an_independent_computation(db) -> None:
    expected = keyed(expected_issues(dossiers(), payments(), refunds()), "month", "issue_code", "case_id")
    actual = keyed(rows(db, "select * from mart.payment_refund_issues"), "month", "issue_code", "case_id")
    assert_matches(actual, expected, ["province_code", "refund_amount", "payment_amount", "days_pending"])
    codes = {k[1] for k in actual}
    assert codes == {"refund_pending_over_limit", "manual_refund", "refund_failed",
                     "refund_without_payment", "refund_never_requested", "excessive_steps"}
    assert actual[(dt.date(2024, 1, 1), "refund_pending_over_limit", "R05")]["issue"] == (
        "refund pending 21 days at the month end, beyond the 15-day limit")


def test_payment_summary_matches_an_independent_computation(db) -> None:
    issues = expected_issues(dossiers(), payments(), refunds())
    expected = expected_summary(payments(), refunds(), issues)
    actual = keyed(rows(db, "select * from mart.payment_refund_summary"), "province_code", "month")
    assert_matches(actual, expected, list(next(iter(expected.values()))))
    assert {r["refund_time_limit_days"] for r in actual.values()} == {LIMIT_DAYS}


def test_money_adds_up_in_sql(db) -> None:
    checks = {
        "paid": "select (select sum(amount_paid) from mart.payment_refund_summary) = "
                "(select sum(amount) from core.fact_payment where status = 'success')",
        "refunds": "select (select sum(refund_amount_required) from mart.payment_refund_summary) = "
                   "(select sum(amount) from core.fact_refund)",
        "by_2025": "select (select sum(amount_paid) from mart.payment_refund_summary_by_2025_unit) = "
                   "(select sum(amount_paid) from mart.payment_refund_summary)",
        "pending_limit": "select bool_and(s.amount_pending_over_limit = coalesce((select "
                         "sum(i.refund_amount) from mart.payment_refund_issues i where i.month = "
                         "s.month and i.province_code = s.province_code and i.issue_code = "
                         "'refund_pending_over_limit'), 0)) from mart.payment_refund_summary s",
    }
    for name, query in checks.items():
        assert db.execute(query).fetchone()[0] is True, name


def test_2025_unit_views_re_aggregate_the_counts(db) -> None:
    expected = by_2025(expected_monthly(dossiers()))
    actual = keyed(rows(db, "select * from mart.monthly_compliance_by_2025_unit"),
                   "province_code_2025", "month")
    ytd = [f"{c}_ytd" for c in YTD]
    assert_matches(actual, expected, [*COUNTS, *ytd, *RATES, *RATES_YTD, "digitization_rank",
                                      "digitization_rank_ytd"])
    june = actual[("31", dt.date(2025, 6, 1))]
    assert june["dossiers_received"] == 3 and june["province_name_2025"] == "Hải Phòng"  # M1-M3
    payments_2025 = keyed(rows(db, "select * from mart.payment_refund_summary_by_2025_unit"),
                          "province_code_2025", "month")
    assert payments_2025[("31", dt.date(2025, 6, 1))]["amount_paid"] == 10000  # paid in Hải Dương
    assert payments_2025[("31", dt.date(2025, 7, 1))]["refunds_manual"] == 1


def checksums(conn, month: dt.date | None = None) -> dict[str, tuple]:
    query = sql.SQL("select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                    "from {} t where %(month)s::date is null or month = %(month)s::date")
    return {t: conn.execute(query.format(sql.Identifier("mart", t)), {"month": month}).fetchone()
            for t in MART_TABLES}


def test_rebuilding_again_gives_identical_tables(mart_url, db) -> None:
    before = checksums(db)
    rebuilt = rebuild_as_loader(mart_url)
    assert list(rebuilt) == [m.isoformat() for m in all_months()]  # forward through the newest data
    assert checksums(db) == before


def test_a_month_rebuilt_alone_equals_the_full_build(mart_url, db) -> None:
    """A month reads only core (and its own month of other marts): any order, even in parallel."""
    month = dt.date(2024, 3, 1)
    before = checksums(db, month)
    assert before["monthly_compliance"][0] == 2
    for table in MART_TABLES:
        db.execute(sql.SQL("delete from {}").format(sql.Identifier("mart", table)))
    with psycopg.connect(mart_url) as conn:
        builder.rebuild_month(conn, month)
    assert checksums(db, month) == before
    rebuild_as_loader(mart_url)


def test_months_to_rebuild_runs_through_the_newest_data(db) -> None:
    months = builder.months_to_rebuild(db, [dt.date(2025, 6, 10)])
    assert months == [dt.date(2025, 6, 1), dt.date(2025, 7, 1), dt.date(2025, 8, 1)]
    assert builder.months_to_rebuild(db, []) == []


def test_missing_setting_stops_the_rebuild(mart_url) -> None:
    with psycopg.connect(mart_url) as conn:
        conn.execute("delete from ref.setting where name = 'payment_excessive_steps'")
        with pytest.raises(ValueError, match="payment_excessive_steps"):
            builder.rebuild_month(conn, dt.date(2024, 1, 1))
        conn.rollback()


# ---- access and documentation ------------------------------------------------------------------

def mart_objects(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'mart' order by 1")]


def as_bi_reader(conn, statement: str) -> list[tuple]:
    with conn.transaction(force_rollback=True):
        conn.execute("set local role bi_reader")
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_working_days_between_counts_by_position_and_is_null_outside_the_calendar(db) -> None:
    """mart.working_days_between against a count of ref.working_day's rows: (from, to], at least
    0, null for a day before or after the calendar or a null day."""
    first, last = db.execute("select min(day), max(day) from ref.working_day").fetchone()
    pairs = [(first, first + dt.timedelta(days=40)), (first + dt.timedelta(days=3), last),
             (first + dt.timedelta(days=30), first + dt.timedelta(days=2)),
             (first - dt.timedelta(days=1), first + dt.timedelta(days=9)),
             (first, last + dt.timedelta(days=1)), (None, first)]
    counted = db.execute(
        "select a, b, mart.working_days_between(a, b, calendar.first_day, calendar.working_days_to), "
        "(select count(*) from ref.working_day as w where w.is_working_day and w.day > a and w.day <= b) "
        "from unnest(%s::date[], %s::date[]) as pair (a, b) cross join mart.working_day_calendar as calendar",
        ([a for a, _ in pairs], [b for _, b in pairs]),
    ).fetchall()
    db.rollback()
    assert [r[2] for r in counted[:3]] == [r[3] for r in counted[:2]] + [0]
    assert counted[0][2] > 20
    assert [r[2] for r in counted[3:]] == [None, None, None]


def test_bi_reader_reads_every_mart_table_and_view(db) -> None:
    objects = mart_objects(db)
    assert len(objects) == 17  # 7 tables, 10 views
    for name in objects:
        # Rows as bi_reader = rows as the superuser: read access, and no row hidden from it.
        owner_count = db.execute(f"select count(*) from mart.{name}").fetchone()[0]
        assert as_bi_reader(db, f"select count(*) from mart.{name}") == [(owner_count,)], name
    assert db.execute("select count(*) from mart.monthly_compliance").fetchone()[0] > 0


@pytest.mark.parametrize("statement", [
    "select 1 from core.fact_dossier limit 1",
    "select 1 from core.fact_refund limit 1",
    "select 1 from ref.setting limit 1",
    "select 1 from ref.province limit 1",
    "select 1 from ops.batch limit 1",
    "select 1 from quarantine.rejected_row limit 1",
    "create table staging.bi_probe (a int)",
    "create table mart.bi_probe (a int)",
    "create view mart.bi_probe as select 1",
])
def test_bi_reader_can_read_nothing_else(db, statement) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_bi_reader(db, statement)


def test_bi_reader_writes_nowhere_in_mart(db) -> None:
    for name in mart_objects(db):
        for statement in (f"delete from mart.{name}", f"update mart.{name} set month = month",
                          f"truncate mart.{name}"):
            with pytest.raises((psycopg.errors.InsufficientPrivilege,
                                psycopg.errors.WrongObjectType, psycopg.errors.UndefinedColumn,
                                psycopg.errors.ObjectNotInPrerequisiteState)):
                as_bi_reader(db, statement)


def test_every_mart_object_and_column_is_commented_with_the_vietnamese_term(db) -> None:
    vietnamese = re.compile(r"\([^()]*[^\x00-\x7f][^()]*\)$")
    described = db.execute(
        "select c.relname, a.attname, coalesce(col_description(c.oid, a.attnum), ''), "
        "coalesce(obj_description(c.oid, 'pg_class'), '') from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'mart' "
        "join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped "
        "where c.relkind in ('r', 'v')").fetchall()
    missing = [(t, c) for t, c, col, tab in described
               if not vietnamese.search(col) or not vietnamese.search(tab)]
    assert described and missing == []


def test_every_documented_column_exists_and_every_column_is_documented(db) -> None:
    """The <object>.yml files and the schema cannot drift apart in either direction."""
    in_schema = {(t, c) for t, c in db.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'mart'").fetchall()}
    docs = objects.load_docs()
    documented = {(doc.name, column) for doc in docs for column in doc.columns}
    assert sorted(documented - in_schema) == []
    assert sorted(in_schema - documented) == []
    assert {doc.name for doc in docs} == set(mart_objects(db))


def bi_examples() -> dict[str, str]:
    text = (SQL_DIR / "reports" / "bi_examples.sql").read_text(encoding="utf-8")
    blocks = re.split(r"^-- name: (\S+)\n", text, flags=re.M)[1:]
    return dict(zip(blocks[::2], blocks[1::2], strict=True))


@pytest.mark.parametrize("name", list(bi_examples()))
def test_bi_example_queries_run_as_bi_reader(db, name) -> None:
    assert as_bi_reader(db, bi_examples()[name]), name
