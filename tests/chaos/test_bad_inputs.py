"""A corpus of bad input: each case is one bad record (or a bad file) among good rows.

A case passes when the bad record ends in a quarantine row naming it (and the good rows are
published), when a value that only looks dangerous is stored verbatim, or when a file that cannot
be loaded fails its batch at once with an error naming the file or the check.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.chaos import harness
from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.extract.base import SourceError
from tthc_warehouse.quality.gate import DataQualityError

pytestmark = pytest.mark.chaos
G = harness.good
FIRST_DAY = dt.date(2025, 4, 1)

# name -> (province, bad row overrides | a whole-file writer, expected: quarantine | verbatim | error)
ROW_CASES = {
    "amount_en_locale": {"fee_amount": "1,234.5"},
    "amount_de_locale": {"fee_amount": "1.234,50"},
    "amount_decimal": {"fee_amount": "12.34"},
    "amount_words": {"fee_amount": "năm mươi nghìn"},
    "amount_negative": {"fee_amount": "-5000"},
    "date_impossible": {"received_at": "31/02/2024 08:00"},
    "date_us_order": {"received_at": "02/31/2024"},
    "date_text": {"received_at": "hôm qua"},
    "status_unknown_code": {"status": "11"},
    "status_unknown_label": {"status": "Trạng thái lạ"},
    "code_missing": {"dossier_code": ""},
    "updated_missing": {"source_updated_at": ""},
    "due_before_received": {"due_at": "2024-01-01 08:00:00"},
    "procedure_code_shape": {"procedure_code": "TTHC-1"},
    "updated_after_interval": {"source_updated_at": "2030-01-01 00:00:00"},
    "channel_unknown": {"channel": "9"},
    "count_scientific": {"supplement_count": "1e1"},
    "count_decimal": {"supplement_count": "2.0"},
    "bool_unknown": {"components_digitized": "maybe"},
    "nul_byte": {"procedure_name": "a\x00b"},
    "key_too_long": {"dossier_code": "X" * 300},
    "agency_code_too_long": {"receiving_agency_code": "A" * 300},
}
VERBATIM_CASES = {
    "sql_injection": "'); drop table core.fact_dossier; --",
    "copy_end_marker": "\\.",
    "copy_null_marker": "\\N",
    "tab_and_newline": "a\tb\nc",
    "dollar_quotes": "$$ select 1 $$",
}
HEADER = [*harness.HEADER, "procedure_name", "channel", "supplement_count", "receiving_agency_code"]


def write_rows(inbox: Path, day: str, bad: dict | None, extra: str = "") -> list[str]:
    rows = [G(f"{day}-ok-1", "01", day), G(f"{day}-ok-2", "01", day)]
    if bad is not None:
        rows.insert(1, G(f"{day}-bad", "01", day, **bad))
    path = harness.write_day(inbox, "01", day, rows, header=HEADER)
    if extra:
        path.write_bytes(path.read_bytes() + extra.encode())
    return [r["dossier_code"] for r in rows]


def file_cases(inbox: Path, day: str) -> dict:
    """Whole-file problems: name -> function writing the day's file."""
    path = harness.day_file(inbox, "01", day)
    return {
        "empty_file": lambda: path.write_bytes(b""),
        "required_column_missing": lambda: harness.write_day(
            inbox, "01", day, [G("x", "01", day)], header=[h for h in harness.HEADER if h != "status"]),
        "unterminated_quote": lambda: path.write_text(",".join(harness.HEADER) + '\n"abc,1\n'),
        "not_delivered": lambda: None,
        "wrong_province_file": lambda: harness.write_day(inbox, "01", day, [G("wp", "79", day)]),
    }


def case_days() -> list[tuple[str, str]]:
    names = ([("row", n) for n in ROW_CASES] + [("verbatim", n) for n in VERBATIM_CASES]
             + [("line", n) for n in ("extra_field", "cut_last_record")]
             + [("file", n) for n in ("empty_file", "required_column_missing", "unterminated_quote",
                                      "not_delivered", "wrong_province_file")]
             + [("jsonl", n) for n in ("broken_json", "json_array", "json_float_amount", "json_text_amount")])
    return names


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch, warehouse_url) -> Path:
    return harness.configure(tmp_path, monkeypatch)


@pytest.mark.parametrize(("kind", "name"), case_days(), ids=lambda v: v)
def test_bad_input_ends_in_quarantine_or_a_clear_error(kind, name, inbox, warehouse_url, db, figures) -> None:
    index = case_days().index((kind, name))
    day = (FIRST_DAY + dt.timedelta(days=index)).isoformat()
    warehouse = Warehouse(warehouse_url)
    figures["bad_inputs"] += 1
    check = {"row": _row_case, "verbatim": _verbatim_case, "line": _line_case, "file": _file_case,
             "jsonl": _jsonl_case}[kind]
    check(name, day, inbox, warehouse, db)
    figures["bad_inputs_clear"] += 1


def _published_good_rows_and_quarantined_bad(db, steps, codes: list[str], bad_row: int) -> None:
    assert harness.core_codes(db, steps.day + "-ok") == {c for c in codes if "-ok-" in c}
    reasons = harness.quarantine_of(db, steps.batch_id)
    assert reasons.get(bad_row), reasons


def _row_case(name: str, day: str, inbox, warehouse, db) -> None:
    codes = write_rows(inbox, day, ROW_CASES[name])
    steps = harness.Steps(warehouse, "01", day)
    steps.all()
    _published_good_rows_and_quarantined_bad(db, steps, codes, 3)
    assert harness.core_codes(db, f"{day}-bad") == set()


def _verbatim_case(name: str, day: str, inbox, warehouse, db) -> None:
    write_rows(inbox, day, {"procedure_name": VERBATIM_CASES[name]})
    harness.Steps(warehouse, "01", day).all()
    stored = db.execute("select procedure_name from core.fact_dossier where dossier_code = %s",
                        (f"{day}-bad",)).fetchone()
    db.commit()
    assert stored == (VERBATIM_CASES[name],)


def _line_case(name: str, day: str, inbox, warehouse, db) -> None:
    codes = write_rows(inbox, day, None)
    path = harness.day_file(inbox, "01", day)
    text = path.read_text(encoding="utf-8")
    if name == "extra_field":
        text = text.replace(f"{day}-ok-2,", f"{day}-ok-2,surplus,", 1)
        expected_ok = {codes[0]}
    else:
        text = text.rstrip("\r\n")[:-3]
        expected_ok = {codes[0]}
    path.write_text(text, encoding="utf-8", newline="")
    steps = harness.Steps(warehouse, "01", day)
    steps.all()
    assert harness.core_codes(db, day + "-ok") == expected_ok
    assert 3 in harness.quarantine_of(db, steps.batch_id)


def _file_case(name: str, day: str, inbox, warehouse, db) -> None:
    file_cases(inbox, day)[name]()
    steps = harness.Steps(warehouse, "01", day)
    with pytest.raises((SourceError, DataQualityError)) as info:
        steps.all()
    message = str(info.value)
    assert day.replace("-", "") in message or "critical" in message, message
    assert harness.batch_row(db, steps.batch_id)["status"] == "failed"


def _jsonl_case(name: str, day: str, inbox, warehouse, db) -> None:
    good = [G(f"{day}-ok-1", "77", day), G(f"{day}-ok-2", "77", day)]
    bad: str | dict = {"broken_json": '{"dossier_code": "x", ', "json_array": "[1, 2]",
                       "json_float_amount": G(f"{day}-bad", "77", day) | {"fee_amount": 1234.5},
                       "json_text_amount": G(f"{day}-bad", "77", day, fee_amount="1.234.567")}[name]
    harness.write_jsonl(inbox, "77", day, [good[0], bad, good[1]])
    steps = harness.Steps(warehouse, "77", day)
    steps.all()
    _published_good_rows_and_quarantined_bad(db, steps, [g["dossier_code"] for g in good], 2)
