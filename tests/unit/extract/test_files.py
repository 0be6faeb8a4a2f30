"""File feeds on real files: encodings, delimiters, Vietnamese headers, bad values, missing columns."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from tthc_warehouse.contract import DOSSIER
from tthc_warehouse.extract.base import MALFORMED_COLUMN, MissingColumnError, SourceError
from tthc_warehouse.extract.feeds import load_mapping
from tthc_warehouse.extract.files import read_csv, read_jsonl, read_xlsx
from tthc_warehouse.load.normalize import normalize_chunk

pytestmark = pytest.mark.unit

VN = load_mapping("vn_headers")
HEADER = ["Mã hồ sơ", "Mã TTHC", "Mã tỉnh", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái",
          "Thành phần đã số hóa", "Lệ phí", "Ngày cập nhật", "Tên TTHC"]
ROWS = [
    ["HD-1", "1.005411", "30", "02/01/2024 08:00", "05/01/2024", "Đã tiếp nhận", "có", "1.234.567",
     "02/01/2024 08:00", "Đăng ký khai sinh"],
    ["HD-2", "1.005411", "30", "31/02/2024 09:00", "", "4", "không", "0", "02/01/2024 09:00",
     "Đăng ký kết hôn"],
    ["HD-3", "2.000123", "30", "03/01/2024", "", "Trạng thái lạ", "x", "12x5", "03/01/2024 10:00",
     "Cấp phiếu lý lịch tư pháp"],
    ["HD-4", "2.000123", "30", "04/01/2024 07:30", "10/01/2024 17:00", "10", "1", "50.000 đ",
     "04/01/2024 07:30", "Chứng thực bản sao"],
]


def write_csv(path: Path, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False,
              header: list[str] = HEADER, rows: list[list[str]] = ROWS) -> Path:
    lines = [delimiter.join(header)] + [delimiter.join(r) for r in rows]
    text = "\n".join(lines) + "\n"
    if encoding == "cp1258":  # legacy exports: base letter (â, ơ, ...) + combining tone mark
        from tthc_warehouse.simulator.render import cp1258_form

        text = cp1258_form(text)
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def parse(chunks) -> tuple[pd.DataFrame, list[dict]]:
    rows, errors = [], []
    for raw in chunks:
        result = normalize_chunk(raw, DOSSIER)
        rows.append(result.rows)
        errors += result.errors
    return pd.concat(rows), errors


@pytest.mark.parametrize(("delimiter", "encoding", "bom"), [
    (",", "utf-8", True), (";", "utf-8", False), ("\t", "utf-8", False), ("|", "utf-8", True),
    (";", "cp1258", False),
])
def test_csv_variants_parse_to_the_same_rows(tmp_path, delimiter, encoding, bom) -> None:
    path = write_csv(tmp_path / "ho-so.csv", delimiter, encoding, bom)
    rows, errors = parse(read_csv(path, VN, DOSSIER.required))
    assert list(rows.dossier_code) == ["HD-1", "HD-4"]  # the good rows are kept
    assert rows.iloc[0].procedure_name == unicodedata.normalize("NFC", "Đăng ký khai sinh")
    assert rows.iloc[0].received_at == pd.Timestamp("2024-01-02 08:00")
    assert rows.iloc[0].fee_amount == 1234567 and rows.iloc[1].fee_amount == 50000
    assert list(rows.status) == [2, 10]
    assert list(rows.components_digitized) == [True, True]
    bad = {(e["row"], e["column"]) for e in errors}
    assert bad == {(3, "received_at"), (4, "status"), (4, "fee_amount")}


def test_bad_value_errors_name_row_column_value_and_keep_raw(tmp_path) -> None:
    path = write_csv(tmp_path / "ho-so.csv")
    _, errors = parse(read_csv(path, VN, DOSSIER.required))
    error = next(e for e in errors if e["column"] == "received_at")
    assert error["row"] == 3 and error["value"] == "31/02/2024 09:00"
    assert "date" in error["reason"]
    assert error["raw"]["dossier_code"] == "HD-2"


def test_missing_required_column_names_file_and_column(tmp_path) -> None:
    header = [h for h in HEADER if h != "Mã TTHC"]
    rows = [[v for h, v in zip(HEADER, r, strict=True) if h != "Mã TTHC"] for r in ROWS]
    path = write_csv(tmp_path / "ho-so-20240102.csv", header=header, rows=rows)
    with pytest.raises(MissingColumnError) as info:
        list(read_csv(path, VN, DOSSIER.required))
    assert "ho-so-20240102.csv" in str(info.value)
    assert "procedure_code (Mã TTHC)" in str(info.value)


def test_header_only_file_still_checks_columns(tmp_path) -> None:
    path = write_csv(tmp_path / "empty.csv", header=HEADER[:3], rows=[])
    with pytest.raises(MissingColumnError):
        list(read_csv(path, VN, DOSSIER.required))
    ok = write_csv(tmp_path / "ok.csv", rows=[])
    assert sum(len(c) for c in read_csv(ok, VN, DOSSIER.required)) == 0


def test_chunks_are_bounded_and_rows_numbered_across_chunks(tmp_path) -> None:
    rows = [[f"HD-{i}", "1.005411", "30", "02/01/2024 08:00", "", "2", "1", "0",
             "02/01/2024 08:00", "x"] for i in range(7)]
    path = write_csv(tmp_path / "many.csv", rows=rows)
    chunks = list(read_csv(path, VN, DOSSIER.required, chunk_rows=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [int(r) for c in chunks for r in c["_row"]] == list(range(2, 9))


def test_undecodable_csv_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(",".join(HEADER).encode() + b"\n\xff\xfe\x00bad\n")
    with pytest.raises(SourceError, match=r"broken\.csv"):
        list(read_csv(path, VN, DOSSIER.required, encoding="utf-8"))


def test_xlsx_with_real_dates_and_text(tmp_path) -> None:
    import xlsxwriter

    path = tmp_path / "ho-so.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, ROWS[0])
    date_format = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    sheet.write_datetime(1, 3, dt.datetime(2024, 1, 2, 8, 0), date_format)
    sheet.write_number(1, 7, 1234567)
    sheet.write_row(2, 0, ROWS[1])
    book.close()
    rows, errors = parse(read_xlsx(path, VN, DOSSIER.required))
    assert list(rows.dossier_code) == ["HD-1"]
    assert rows.iloc[0].received_at == pd.Timestamp("2024-01-02 08:00")
    assert rows.iloc[0].fee_amount == 1234567
    assert [(e["row"], e["column"]) for e in errors] == [(3, "received_at")]


def test_jsonl_with_portal_field_names(tmp_path) -> None:
    records = [
        {"MaHoSo": "CM-1", "MaTTHC": "1.005411", "MaTinh": "96",
         "NgayTiepNhan": "2024-01-02T08:00:00",
         "TrangThaiHoSo": 10, "HoSoCoThanhPhanSoHoa": True, "LePhi": 150000,
         "NgayCapNhat": "2024-01-03T08:00:00"},
        {"MaHoSo": "CM-2", "MaTTHC": "1.005411", "MaTinh": "96", "NgayTiepNhan": "not a date",
         "TrangThaiHoSo": 4, "NgayCapNhat": "2024-01-03T08:00:00"},
    ]
    path = tmp_path / "hoso.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    rows, errors = parse(read_jsonl(path, load_mapping("portal_fields"), DOSSIER.required))
    assert list(rows.dossier_code) == ["CM-1"]
    assert rows.iloc[0].components_digitized and rows.iloc[0].fee_amount == 150000
    assert [(e["row"], e["column"]) for e in errors] == [(2, "received_at")]


def test_a_broken_jsonl_line_is_a_malformed_record_and_the_others_go_on(tmp_path) -> None:
    """Issue 10, defect 4: one broken line used to fail the whole file."""
    path = tmp_path / "hoso.jsonl"
    path.write_text('{"MaHoSo": "A"}\n{"MaHoSo": \n[1]\n{"MaHoSo": "D"}\n{"MaHoSo": "E')
    frame = pd.concat(read_jsonl(path, load_mapping("portal_fields"), ["dossier_code"]))
    assert frame.set_index("_row")["dossier_code"].dropna().to_dict() == {1: "A", 4: "D"}
    malformed = frame.set_index("_row")[MALFORMED_COLUMN].dropna()
    assert list(malformed.index) == [2, 3, 5] and "not valid JSON" in malformed[2]
    assert "not an object" in malformed[3]


def test_canonical_headers_need_no_mapping(tmp_path) -> None:
    path = tmp_path / "dossiers.tsv"
    header = ["dossier_code", "procedure_code", "province_code", "status", "source_updated_at"]
    path.write_text("\t".join(header) + "\nNA-1\t1.005411\t40\t9\t2024-01-05 10:00:00\n")
    rows, errors = parse(read_csv(path, load_mapping("canonical"), DOSSIER.required))
    assert errors == [] and list(rows.status) == [9]


def test_a_line_with_an_extra_field_is_malformed_and_the_rows_keep_their_line_numbers(tmp_path) -> None:
    """Issue 10, defect 4: an extra field used to fail the whole file."""
    extra = [*ROWS[0][:7], "1.234", "567", *ROWS[0][8:]]  # an unquoted comma in the fee
    path = write_csv(tmp_path / "a.csv", rows=[ROWS[3], extra, ROWS[3]])
    frame = pd.concat(read_csv(path, VN, DOSSIER.required, chunk_rows=1), ignore_index=True)
    assert frame["_row"].tolist() == [2, 4, 3]
    assert frame[MALFORMED_COLUMN].notna().tolist() == [False, False, True]
    assert "expected 10 fields, saw 11" in frame[MALFORMED_COLUMN].iloc[2]
    rows, errors = parse([frame])
    assert len(rows) == 2 and [(e["row"], e["column"]) for e in errors] == [(3, "(record)")]


def test_a_file_that_ends_inside_its_last_record_is_detected(tmp_path) -> None:
    """Issue 10, defect 3: a last line cut inside the amount loaded the fragment."""
    path = write_csv(tmp_path / "cut.csv", header=HEADER[:8], rows=[r[:8] for r in ROWS[:2]])
    path.write_bytes(path.read_bytes().rstrip(b"\n")[:-2])  # "0" -> cut; "1.234.567" kept
    frame = pd.concat(read_csv(path, {k: v for k, v in VN.items() if k in HEADER[:8]}, []))
    assert frame[MALFORMED_COLUMN].notna().tolist() == [False, True]
    assert "ends inside this record" in frame[MALFORMED_COLUMN].iloc[1]


def test_a_missing_mapped_column_fails_and_unknown_headers_are_reported(tmp_path, caplog) -> None:
    """Issue 10, defect 3: a renamed optional column loaded every row with its default."""
    from tthc_warehouse.extract.feeds import EntityFeed
    from tthc_warehouse.extract.sources import FileSource

    header = [h if h != "Thành phần đã số hóa" else "Thanh phan so hoa (moi)" for h in HEADER]
    path = write_csv(tmp_path / "renamed.csv", header=header)
    source = FileSource(EntityFeed("dossier", "csv", "x.csv", "vn_headers"), "30", tmp_path)
    with pytest.raises(MissingColumnError, match="components_digitized"):
        list(read_csv(path, VN, source.expected_columns(VN)))
    assert "Thanh phan so hoa (moi)" in caplog.text


def test_json_feeds_default_to_json_integers_and_csv_to_vietnamese_amounts(tmp_path) -> None:
    from tthc_warehouse.extract.feeds import EntityFeed
    from tthc_warehouse.extract.sources import FileSource

    def style(fmt: str, **options) -> str:
        feed = EntityFeed("dossier", fmt, "x", options=options)
        return FileSource(feed, "30", tmp_path).value_format.numbers

    styles = (style("jsonl"), style("csv"), style("xlsx"), style("csv", numbers="en"))
    assert styles == ("json", "vi", "vi", "en")


def test_a_line_with_too_few_fields_is_malformed_and_the_others_go_on(tmp_path) -> None:
    """A short line in the middle of a file used to load with its missing fields empty."""
    short = ROWS[0][:8]  # a line break typed inside a value, or fields left out
    path = write_csv(tmp_path / "short.csv", rows=[ROWS[3], short, ROWS[3]])
    frame = pd.concat(read_csv(path, VN, DOSSIER.required), ignore_index=True)
    assert frame["_row"].tolist() == [2, 4, 3]
    assert "expected 10 fields, saw 8" in frame[MALFORMED_COLUMN].iloc[2]
    rows, errors = parse([frame])
    assert list(rows["_row"]) == [2, 4] and [(e["row"], e["column"]) for e in errors] == [(3, "(record)")]


def test_rows_are_numbered_by_file_line_past_blank_lines_and_line_breaks_in_values(tmp_path) -> None:
    """Blank lines are skipped, a quoted value may hold line breaks: rows keep their file lines."""
    lines = [",".join(HEADER), ",".join(ROWS[0]), "", ",".join(ROWS[3][:9]) + ',"Chứng\nthực bản sao"',
             ",".join(ROWS[0][:7]) + ',"1.234",567,' + ",".join(ROWS[0][8:]),  # an extra field: line 6
             ",," * 4 + ",", "", "", ",".join(ROWS[1][:1]), ",".join(ROWS[2])]
    path = tmp_path / "lines.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = pd.concat(read_csv(path, VN, DOSSIER.required, chunk_rows=2), ignore_index=True)
    frame = frame.set_index("_row")
    assert frame.index.tolist() == [2, 4, 7, 11, 6, 10]  # rows, then the malformed records
    assert frame.loc[4, "procedure_name"] == "Chứng\nthực bản sao"
    assert frame.loc[7].drop(MALFORMED_COLUMN).tolist() == [""] * 10  # delimiters alone: a record
    assert frame.loc[11, "dossier_code"] == "HD-3"
    assert "saw 11" in frame.loc[6, MALFORMED_COLUMN] and "saw 1 " in frame.loc[10, MALFORMED_COLUMN]


def test_a_quoted_value_left_open_fails_the_file(tmp_path) -> None:
    """The rest of the file would be one value: as pandas did, the file cannot be read."""
    lines = [",".join(HEADER), ",".join(ROWS[0]), ",".join(ROWS[3]).replace("Chứng thực", '"Chứng thực'),
             ",".join(ROWS[0])]
    path = tmp_path / "open.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"open\.csv.*line 3"):
        list(read_csv(path, VN, DOSSIER.required))


def test_crlf_lines_a_bom_and_no_line_break_at_the_end(tmp_path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([",".join(HEADER), ",".join(ROWS[0]), ",".join(ROWS[3])])
                     .encode())
    frame = pd.concat(read_csv(path, VN, DOSSIER.required), ignore_index=True)
    assert frame["_row"].tolist() == [2, 3] and frame["dossier_code"].tolist() == ["HD-1", "HD-4"]
    assert frame[MALFORMED_COLUMN].notna().tolist() == [False, True]  # the last one may be cut


def test_bytes_that_are_not_utf8_in_any_column_fail_the_file(tmp_path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes((",".join(HEADER) + ",Ghi chú\n").encode() + ",".join(ROWS[0]).encode() + b",caf\xe9\n")
    with pytest.raises(SourceError, match=r"latin\.csv"):
        list(read_csv(path, VN, DOSSIER.required, encoding="utf-8"))


def test_a_file_cut_inside_a_quoted_value_cannot_be_read(tmp_path) -> None:
    path = tmp_path / "cut-quote.csv"
    path.write_text("\n".join([",".join(HEADER), ",".join(ROWS[0]),
                               ",".join(ROWS[3][:9]) + ',"Chứng thực']), encoding="utf-8")
    with pytest.raises(SourceError, match="line 3"):
        list(read_csv(path, VN, DOSSIER.required))
