"""Parsers and cleaning of normalize: formats, Unicode forms, nulls, and exact error reasons."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tthc_warehouse.contract import DOSSIER, PAYMENT
from tthc_warehouse.load import formats, normalize
from tthc_warehouse.load.formats import ValueFormat

pytestmark = pytest.mark.unit
VI_AMOUNT = "not a VND amount as this feed writes them (1.234.567 or 1234567)"

NFD = unicodedata.normalize("NFD", "Hải Dương")


def chunk(**columns: list[str | None]) -> pd.DataFrame:
    """A raw chunk as the CSV reader yields it: ``str`` columns, rows numbered from line 2."""
    size = len(next(iter(columns.values())))
    base = {"dossier_code": [f"HD-{i}" for i in range(size)], "procedure_code": ["1.005411"] * size,
            "province_code": ["30"] * size, "status": ["2"] * size,
            "source_updated_at": ["02/01/2024 08:00"] * size}
    frame = pd.DataFrame({k: pd.array(v, dtype="str") for k, v in (base | columns).items()})
    frame.insert(0, "_row", np.arange(2, size + 2))
    return frame


def errors_of(raw: pd.DataFrame) -> list[tuple[int, str, str | None, str]]:
    return [(e["row"], e["column"], e["value"], e["reason"])
            for e in normalize.normalize_chunk(raw, DOSSIER).errors]


def test_clean_text_strips_normalises_and_nulls_empty_values() -> None:
    raw = pd.Series(["  a  ", NFD, "", " \t", None, "x,\"y\"\n"], dtype=object)
    out = normalize.clean_text(raw).tolist()
    assert out == ["a", "Hải Dương", None, None, None, 'x,"y"']
    assert unicodedata.is_normalized("NFC", out[1])


def test_clean_text_reads_non_string_values_as_pandas_prints_them() -> None:
    raw = pd.Series([5, 2.5, True, float("nan"), pd.NA, " 7 "], dtype=object)
    assert normalize.clean_text(raw).tolist() == ["5", "2.5", "True", None, None, "7"]
    assert normalize.clean_text(pd.Series([None, None], dtype=object)).tolist() == [None, None]


def test_nfd_labels_and_words_parse_like_nfc() -> None:
    raw = chunk(status=[unicodedata.normalize("NFD", "Đang xử lý"), "đã TIẾP nhận"],
                components_digitized=[unicodedata.normalize("NFD", "không"), "CÓ"],
                procedure_name=[NFD, "Hải Dương"])
    rows = normalize.normalize_chunk(raw, DOSSIER).rows
    assert list(rows.status) == [4, 2]
    assert list(rows.components_digitized) == [False, True]
    assert list(rows.procedure_name) == ["Hải Dương", "Hải Dương"]


def test_mixed_date_formats_in_one_column() -> None:
    values = ["02/01/2024 08:00", "2024-01-03T09:15:00", "04/01/2024", "2024-01-05 10:20",
              "5/1/2024 7:05", "06/01/2024 11:12:13", "2024-01-07", None, ""]
    rows = normalize.normalize_chunk(chunk(received_at=values), DOSSIER).rows
    assert rows.received_at.tolist()[:7] == [pd.Timestamp(v) for v in (
        "2024-01-02 08:00", "2024-01-03 09:15", "2024-01-04", "2024-01-05 10:20",
        "2024-01-05 07:05", "2024-01-06 11:12:13", "2024-01-07")]
    assert rows.received_at.iloc[7:].isna().all() and rows.received_at.dtype == "datetime64[us]"


def test_iso_first_value_does_not_hide_later_vietnamese_dates() -> None:
    parsed = normalize.parse_timestamp(pd.Series(["2024-01-02", "03/01/2024 08:00", "x"],
                                                 dtype="string"))
    assert parsed.values.tolist()[:2] == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03 08:00")]
    assert parsed.bad.tolist() == [False, False, True]


def test_bad_values_keep_their_row_column_value_and_reason() -> None:
    raw = chunk(received_at=["31/02/2024 09:00", "02/01/2024 08:00", None],
                fee_amount=["12x5", "1.234.567", "150000 đ"],
                channel=["1.5", "2", "abc"],
                components_digitized=["maybe", "x", "chưa"],
                status=["2", "Trạng thái lạ", "11"])
    assert errors_of(raw) == [  # contract column order, then row order
        (2, "channel", "1.5", "not a whole number"),
        (4, "channel", "abc", "not a whole number"),
        (2, "received_at", "31/02/2024 09:00", "not a date (dd/MM/yyyy [HH:mm])"),
        (3, "status", "Trạng thái lạ", "not a dossier status code or label"),
        (4, "status", "11", "not a dossier status code or label"),
        (2, "components_digitized", "maybe", "not a yes/no value"),
        (2, "fee_amount", "12x5", VI_AMOUNT),
    ]


def test_required_values_missing_after_cleaning() -> None:
    raw = chunk(dossier_code=["  ", "HD-2"], source_updated_at=["", "2024-01-02"])
    assert errors_of(raw) == [(2, "dossier_code", None, "required value missing"),
                              (2, "source_updated_at", None, "required value missing")]


def test_money_and_int_forms() -> None:
    raw = chunk(fee_amount=["1.234.567", "1234567", "150000 đ", "50.000 VNĐ", "0", None],
                supplement_days=["007", "10", "2", " 4 ", "-3", None])
    rows = normalize.normalize_chunk(raw, DOSSIER).rows
    assert rows.fee_amount.tolist()[:5] == [1234567, 1234567, 150000, 50000, 0]
    assert rows.supplement_days.tolist()[:5] == [7, 10, 2, 4, -3]
    assert rows.fee_amount.dtype == "Int64" and rows.fee_amount.isna().iloc[5]


@pytest.mark.parametrize(("style", "value"), [
    ("vi", "1,234.5"), ("vi", "1.234,50"), ("vi", "1,234,567"), ("vi", "12.34"), ("vi", "1.2345"),
    ("json", "1234.5"), ("json", "1.234.567"), ("en", "1.234.567"), ("en", "1,234.50"),
])
def test_an_amount_in_another_locale_is_quarantined_never_reinterpreted(style: str, value: str) -> None:
    """Issue 10, defect 3: these loaded 10-100x too large."""
    result = normalize.normalize_chunk(chunk(fee_amount=[value, "0"]), DOSSIER, ValueFormat(numbers=style))
    assert [(e["column"], e["value"]) for e in result.errors] == [("fee_amount", value)]
    assert "not a VND amount as this feed writes them" in result.errors[0]["reason"]
    assert result.rows.fee_amount.tolist() == [0]


@pytest.mark.parametrize("value", ["1e1", "2.0", "1.234", "0x1f"])
def test_counts_and_codes_are_whole_numbers_as_written(value: str) -> None:
    errors = normalize.normalize_chunk(chunk(supplement_days=[value]), DOSSIER).errors
    assert [(e["column"], e["reason"]) for e in errors] == [("supplement_days", "not a whole number")]


def test_a_text_value_with_a_nul_byte_is_quarantined_not_sent_to_copy() -> None:
    errors = normalize.normalize_chunk(chunk(procedure_name=["a\x00b", "ok"]), DOSSIER).errors
    assert [(e["row"], e["column"], e["reason"]) for e in errors] == [
        (2, "procedure_name", "contains a NUL byte")]


def test_all_null_and_missing_columns_are_null_not_bad() -> None:
    raw = chunk(fee_amount=[None, ""], due_at=["", None])
    result = normalize.normalize_chunk(raw, DOSSIER)
    assert result.errors == [] and len(result.rows) == 2
    assert result.rows.fee_amount.isna().all() and result.rows.due_at.isna().all()
    assert result.rows.returned_at.isna().all()  # a column the file does not have
    assert result.rows.components_digitized.dtype == "boolean"


def test_repeated_values_are_parsed_per_distinct_value_and_spread_back() -> None:
    text = pd.Series(["có", None, "không", "có", "??", None], index=[10, 11, 12, 13, 14, 15],
                     dtype=object)
    parsed = normalize.parse_distinct(normalize.parse_bool, text)
    assert parsed.values.tolist() == [True, pd.NA, False, True, pd.NA, pd.NA]
    assert parsed.bad.tolist() == [False, False, False, False, True, False]
    assert list(parsed.values.index) == list(text.index) and parsed.reason == "not a yes/no value"


def test_payment_money_required_and_bad() -> None:
    raw = pd.DataFrame({"_row": [2, 3], "transaction_id": ["T1", "T2"], "dossier_code": ["D", "D"],
                        "province_code": ["30", "30"], "amount": ["1.000 đ", "một nghìn"],
                        "paid_at": ["2024-01-02T08:00:00", "2024-01-02T08:00:00"],
                        "gateway": ["national", "local"], "status": ["success", "success"],
                        "source_updated_at": ["2024-01-02", "2024-01-02"]}, dtype=object)
    result = normalize.normalize_chunk(raw, PAYMENT)
    assert result.rows.amount.tolist() == [1000]
    assert [(e["row"], e["value"], e["reason"]) for e in result.errors] == [
        (3, "một nghìn", VI_AMOUNT)]


def test_a_whole_number_past_postgresql_integer_is_quarantined_not_a_failed_copy() -> None:
    """2147483648 used to reach COPY and fail the whole stage (integer column)."""
    raw = chunk(channel=["2147483648", "7", "-2147483649"])
    assert errors_of(raw) == [(2, "channel", "2147483648", "a whole number out of range"),
                              (4, "channel", "-2147483649", "a whole number out of range")]
    assert normalize.normalize_chunk(raw, DOSSIER).rows.channel.tolist() == [7]


def test_year_zero_is_not_a_date() -> None:
    """pandas read 0000-01-01 (ISO path); PostgreSQL refused it at COPY, failing the stage."""
    assert errors_of(chunk(received_at=["0000-01-01", "0001-01-01"])) == [
        (2, "received_at", "0000-01-01", "not a date (dd/MM/yyyy [HH:mm])")]


@pytest.mark.parametrize(("column", "values", "expected"), [
    ("fee_amount", ["50.000\u00a0đ", " 1.234.567 VNĐ ", "1.234.567đồng", "50.000 Đ", "1 ĐỒNG", "₫5", "5 ₫"],
     [50000, 1234567, 1234567, 50000, 1, None, 5]),
    ("components_digitized", ["CÓ", "Có", "X", "N", "yes ", "ja", "T", "đã"],
     [True, True, True, False, True, None, True, True]),
    ("status", ["+5", "5.0", "1e1", "10.0", "0", "Đã Trả Kết Quả", "٥", " 3 ", "03"],
     [5, 5, 10, 10, None, 10, None, 3, 3]),
    ("supplement_count", ["007", "-3", "+3", " 4 ", "１２", "0"], [7, -3, None, 4, None, 0]),
    ("received_at", ["05/01/2024\u00a007:05", "2024-01-05t07:05:00", "2024-03- 4", "05/01/2024 07:05:60",
                     "31/02/2024", "5/1/2024 7:5", "05/01/2024  07:05"],
     ["2024-01-05 07:05", "2024-01-05 07:05", "2024-03-04", "2024-01-05 07:06", None, "2024-01-05 07:05",
      "2024-01-05 07:05"]),
])
def test_tricky_values_read_as_the_pandas_rules_read_them(column: str, values: list, expected: list) -> None:
    """The rules moved from pandas (Python ``re``) to Arrow (RE2): Unicode white space before a
    currency, case-free words and labels, to_numeric's status codes, strptime's dates stay as they were."""
    result = normalize.normalize_chunk(chunk(**{column: values}), DOSSIER)
    got = dict(zip(result.rows["_row"], result.rows[column], strict=True))
    read = [got.get(row) for row in range(2, len(values) + 2)]
    if column == "received_at":
        expected = [None if e is None else pd.Timestamp(e) for e in expected]
    assert read == expected
    assert {e["row"] - 2 for e in result.errors} == {i for i, e in enumerate(expected) if e is None}


@pytest.mark.parametrize(("column", "usual", "odd"), [
    ("received_at", ["01/03/2024 07:30", "29/02/2024 23:59", "", "31/12/1999 00:00"], "5/1/2024 7:05"),
    ("returned_at", ["2024-03-01T07:30:00", "", "2024-02-29T23:59:59"], " 2024-03-01T07:30:00"),
    ("channel", ["1", "", "2", "0"], "-1"),
    ("status", ["10", "2", "1"], "Đang xử lý"),
    ("components_digitized", ["1", "0", "", "x"], "có"),
    ("fee_amount", ["50000", "0", ""], "50.000"),
])
def test_usual_values_read_the_same_whichever_path_reads_them(column: str, usual: list, odd: str) -> None:
    """A column of values in the usual exact form is read from its bytes by numpy; one odd value
    sends the whole column through the parser (per distinct cleaned value): same values."""
    fast = normalize.normalize_chunk(chunk(**{column: usual}), DOSSIER).rows[column].tolist()
    both = normalize.normalize_chunk(chunk(**{column: [*usual, odd]}), DOSSIER).rows[column].tolist()
    assert both[:len(usual)] == fast and not pd.isna(both[-1])


def test_zero_padded_dates_read_by_numpy_are_those_the_parser_reads() -> None:
    rng = np.random.default_rng(7)
    digits = rng.integers(0, 10, size=(4000, 12))
    values = [f"{d[0]}{d[1] % 4}/{d[2] % 2}{d[3]}/{1990 + d[4] * 5 + d[5]} {d[6] % 3}{d[7]}:{d[8] % 7}{d[9]}"
              for d in digits]
    values += ["29/02/2023 10:00", "29/02/2024 10:00", "01/01/2024 24:00", "1a/01/2024 10:00"]
    text = pa.array(values)
    micros, handled = normalize._fast_dates(text, ValueFormat())
    parsed, bad, _ = formats.timestamps(text, ValueFormat().date_formats)
    assert handled.tolist() == (~bad).tolist()
    read = pc.cast(parsed, pa.int64()).to_numpy(zero_copy_only=False)
    assert micros[handled].tolist() == read[handled].tolist()
    assert 0 < handled.sum() < len(values)
