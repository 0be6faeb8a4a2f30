"""Variants of the real responses, built here: each gives its stated outcome."""

from __future__ import annotations

import datetime
import json
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tthc_warehouse.extract.dvcqg import Index766FormatError, parse_response

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dvcqg"
DVC, PAYMENT = "dvc-progress-tree.month-all.json", "formality-online-payment-tree.month-all.json"
DIGITIZED, TRANSPARENCY = "dossier-digitized.month-all.json", "transparency.month-all.json"
GROUPS = {DVC: "dvc-progress", PAYMENT: "online-payment", DIGITIZED: "dossier-digitized",
          TRANSPARENCY: "transparency"}


def _doc(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_bytes())


def _parse(name: str, payload: Any, month: int = 8) -> list[dict]:
    pages = [json.dumps(p, ensure_ascii=False) for p in payload] if isinstance(payload, list) \
        else json.dumps(payload, ensure_ascii=False)
    return parse_response(pages, group=GROUPS[name], period_type="month",
                          period_start=datetime.date(2026, month, 1),
                          captured_at=datetime.datetime(2026, 9, 28, tzinfo=datetime.UTC),
                          source=name)


def _rows(rows: list[dict], code: str) -> dict[str, dict]:
    return {r["indicator_code"]: r for r in rows if r["unit_code"] == code}


def test_grandchildren_are_read_with_their_parent() -> None:
    doc = _doc(DVC)
    kids = doc["data"]["children"]
    grandchild = dict(kids[5], departmentCode="H44.05.01", departmentName="Phòng A",
                      departmentId="g-1")
    kids[4]["children"] = [dict(grandchild, children=[dict(grandchild, departmentCode="H44.5.1.1",
                                                           departmentId="g-2")])]
    rows = _parse(DVC, doc)
    assert len({r["unit_code"] for r in rows}) == 166
    assert _rows(rows, "H44.05.01")["TOTAL"]["parent_code"] == kids[4]["departmentCode"]
    assert _rows(rows, "H44.5.1.1")["ON_TIME"]["parent_code"] == "H44.05.01"


def _pages(doc: dict[str, Any], split: int) -> list[dict[str, Any]]:
    first, second = json.loads(json.dumps(doc)), json.loads(json.dumps(doc))
    items = doc["data"]["evaluation"]
    first["data"]["evaluation"], second["data"]["evaluation"] = items[:split], items[split:]
    for i, page in enumerate((first, second), 1):
        page["data"]["pagination"].update(currentPage=i, pageSize=split, totalPages=2)
    return [first, second]


def test_two_pages_make_one_month() -> None:
    pages = _pages(_doc(DIGITIZED), 100)
    assert len({r["unit_code"] for r in _parse(DIGITIZED, pages)}) == 164


def test_one_page_of_two_is_refused() -> None:
    with pytest.raises(Index766FormatError, match=r"pagination\.total: 100 units on 1 page\(s\)"
                                                  r", the portal says 163"):
        _parse(DIGITIZED, _pages(_doc(DIGITIZED), 100)[:1])


def test_an_empty_page_is_refused() -> None:
    doc = _doc(DIGITIZED)
    doc["data"]["evaluation"] = []
    with pytest.raises(Index766FormatError, match="0 units on 1 page"):
        _parse(DIGITIZED, doc)


def test_codes_with_spaces_and_nfd_names_are_normalised() -> None:
    doc = _doc(DIGITIZED)
    item = doc["data"]["evaluation"][6]
    code, name = item["departmentCode"], item["departmentName"]
    item.update(departmentCode=f"  {code.lower()} ",
                departmentName=" " + unicodedata.normalize("NFD", name) + "  ")
    row = _rows(_parse(DIGITIZED, doc), code)["TOTAL"]
    assert row["unit_name"] == name and unicodedata.is_normalized("NFC", row["unit_name"])


def test_a_number_as_text_is_taken_when_exact() -> None:
    doc = _doc(DVC)
    doc["data"]["children"][7].update(totalOnTime=str(doc["data"]["children"][7]["totalOnTime"]))
    on_time = _rows(_parse(DVC, doc), doc["data"]["children"][7]["departmentCode"])["ON_TIME"]
    assert on_time["parse_error"] is None and isinstance(on_time["numerator"], Decimal)


def test_an_inexact_number_quarantines_its_unit_only() -> None:
    doc = _doc(PAYMENT)
    doc["data"]["children"][3].update(totalFeeFormality="1.234,5")
    rows = _parse(PAYMENT, doc)
    code = doc["data"]["children"][3]["departmentCode"]
    unit = _rows(rows, code)
    assert len(unit) == 4
    assert all("totalFeeFormality: '1.234,5' is not an exact number" in r["parse_error"]
               for r in unit.values())
    assert all(r["recomputed_score"] is None for r in unit.values())
    assert sum(1 for r in rows if r["parse_error"]) == 4


def test_a_provisional_flag_is_kept() -> None:
    sync = _rows(_parse(TRANSPARENCY, _doc(TRANSPARENCY)),
                 "019d2be3-6a88-732b-8b17-b68020c8553a")["DOSSIER_SYNC"]
    assert sync["data_quality_status"] == "TEMP_NATIONAL_REPORT_DENOMINATOR"
    assert sync["data_quality_message"].startswith("Mẫu số BCQG/GRIS")
    assert sync["department_id"] == "019d2be3-6a88-732b-8b17-b68020c8553a"


def test_a_wrong_period_is_refused() -> None:
    with pytest.raises(Index766FormatError, match="monthlyChart: the payload has figures for "
                                                  "month 08, the file is for 2026-07"):
        _parse(DVC, _doc(DVC), month=7)


def test_counters_keep_every_published_number() -> None:
    province = _rows(_parse(PAYMENT, _doc(PAYMENT)), "H44")["TOTAL"]
    counters = json.loads(province["counters"])
    assert counters["totalFeeDossierFormalityDistinct"] == 310
    assert counters["totalScore"] == 6.25
