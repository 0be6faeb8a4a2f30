"""File feeds (CSV, XLSX, JSON lines) read in bounded chunks, headers mapped to canonical names."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import logging
import unicodedata
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from tthc_warehouse.contract import ENTITIES
from tthc_warehouse.extract.base import (
    CHUNK_ROWS,
    MALFORMED_COLUMN,
    ROW_COLUMN,
    MissingColumnError,
    SourceError,
)

log = logging.getLogger(__name__)

SNIFF_BYTES = 64 * 1024
# A canonical column name is always accepted as its own header, whatever the mapping says.
CANONICAL_COLUMNS = sorted({c.name for e in ENTITIES.values() for c in e.columns})


def header_key(name: str) -> str:
    """Headers compared the way a person reads them: NFC, case-free, single spaces."""
    return " ".join(unicodedata.normalize("NFC", str(name)).casefold().split())


def map_headers(
    file: str, headers: list[str], mapping: dict[str, str], required: list[str]
) -> dict[str, str]:
    """Source header -> canonical column; fails naming the file and the missing columns."""
    wanted = {header_key(name): name for name in CANONICAL_COLUMNS}
    wanted.update({header_key(src): canon for src, canon in mapping.items()})
    found = {h: wanted[header_key(h)] for h in headers if header_key(h) in wanted}
    unknown = [h for h in headers if header_key(h) not in wanted]
    if unknown:  # a renamed column shows up here before its absence shows in the figures
        log.warning("%s: header(s) not in the feed's mapping, ignored: %s", file,
                    ", ".join(map(str, unknown)))
    missing = [c for c in required if c not in found.values()]
    if missing:
        names = {canon: src for src, canon in mapping.items()}
        raise MissingColumnError(file, [f"{c} ({names.get(c, c)})" for c in missing])
    return found


def detect_encoding(sample: bytes, declared: str | None = None) -> str:
    """UTF-8 with or without BOM, else Windows-1258 (legacy Vietnamese exports)."""
    if declared:
        return declared
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is not evidence of another encoding.
        if exc.start < len(sample) - 4:
            return "cp1258"
    return "utf-8"


def detect_delimiter(text: str, declared: str | None = None) -> str:
    if declared:
        return declared
    try:
        return csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _finish(frame: pd.DataFrame, columns: dict[str, str], rows: list[int]) -> pd.DataFrame:
    frame = frame[list(columns)].rename(columns=columns)
    frame.insert(0, ROW_COLUMN, rows)
    return frame


def read_csv(path: Path, mapping: dict[str, str], required: list[str], **options) -> Iterator[pd.DataFrame]:
    """``read_csv_arrow``'s chunks (the same options) as pandas frames of strings."""
    for table in read_csv_arrow(path, mapping, required, **options):
        yield table.to_pandas()


def read_csv_arrow(
    path: Path,
    mapping: dict[str, str],
    required: list[str],
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pa.Table]:
    """Chunks of raw strings (Arrow's CSV reader); row numbers are file lines (the header is line 1).

    A line with more or fewer fields than the header, and a last line the file ends inside (no
    line break after it: it may be cut), come out as malformed records, after the file's other
    rows; the other rows go on. A file that ends inside a quoted value cannot be read.
    """
    with path.open("rb") as fh:
        sample = fh.read(SNIFF_BYTES)
    encoding = detect_encoding(sample, encoding)
    sep = detect_delimiter(sample.decode(encoding, errors="replace"), delimiter)
    failure = f"{path.name}: cannot read as CSV ({encoding}, {sep!r})"
    headers = _header(sample.decode(encoding, errors="replace"), sep)
    if headers is None:
        raise SourceError(f"{failure}: the file is empty (no header line)")
    columns = map_headers(path.name, headers, mapping, required)
    try:
        yield from _CsvFile(path, encoding, sep, headers, columns).chunks(chunk_rows)
    except (pa.ArrowException, UnicodeError) as exc:
        raise SourceError(f"{failure}: {exc}") from exc


def _header(text: str, sep: str) -> list[str] | None:
    row = next(csv.reader(io.StringIO(text), delimiter=sep), None)
    return None if row is None else [unicodedata.normalize("NFC", h) for h in row]


class _CsvFile:
    """One CSV file read by Arrow (serially: invalid rows then carry their record number).

    Records are numbered by Arrow (header = 1, blank lines included: they come as rows of empty
    fields and are dropped); a record's line is its number plus the line breaks inside the quoted
    values of the records before it. Records with too many or too few fields are skipped by Arrow
    and reported here, with their line, after the file's rows.
    """

    BLOCK_BYTES = 4 << 20

    def __init__(self, path: Path, encoding: str, sep: str, headers: list[str], columns: dict[str, str]):
        self.path, self.sep, self.width = path, sep, len(headers)
        self.encoding = "utf8" if encoding.replace("-", "").lower() in ("utf8", "utf8sig") else encoding
        self.names = [f"f{i}" for i in range(len(headers))]
        self.mapped: dict[str, str] = {}  # field name -> canonical column (a header's first place)
        for name, header in zip(self.names, headers, strict=True):
            if header in columns and columns[header] not in self.mapped.values():
                self.mapped[name] = columns[header]
        self.invalid: list[tuple[int, int, str]] = []  # (record, fields seen, text), in file order
        self.next_record = 2  # the first record (header = 1) not numbered yet
        self.extra_lines = 0  # line breaks inside the values of the records numbered so far
        self.malformed: list[tuple[int, str]] = []  # (line, what is wrong)
        # the last record so far: (number, line, is it a row, may it end inside quotes)
        self.last: tuple[int, int, bool, bool] | None = None
        self._lines: Iterator[tuple[int, bytes]] | None = None  # for _blank_lines

    def _skip(self, row) -> str:
        self.invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    def chunks(self, size: int) -> Iterator[pa.Table]:
        reader = pcsv.open_csv(
            str(self.path),
            read_options=pcsv.ReadOptions(use_threads=False, block_size=self.BLOCK_BYTES, skip_rows=1,
                                          column_names=self.names, encoding=self.encoding),
            parse_options=pcsv.ParseOptions(delimiter=self.sep, newlines_in_values=True,
                                            ignore_empty_lines=False, invalid_row_handler=self._skip),
            # read as bytes: ``_text`` checks the UTF-8 only of the columns that are not plain ASCII
            convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(self.names, pa.binary()),
                                                strings_can_be_null=False),
        )
        pending: list[pa.Table] = []
        held = 0
        for batch in reader:
            table = self._rows(batch)
            if table.num_rows:
                pending.append(table)
                held += table.num_rows
            while held > size:  # the last rows wait for the end: the last one may be cut
                whole = pa.concat_tables(pending)
                yield whole.slice(0, size)
                pending, held = [whole.slice(size)], held - size
        self._invalid_at_end()
        rows = pa.concat_tables(pending) if pending else None
        if self.last is not None:
            cut = _ends_mid_record(self.path)
            self._check_quotes(cut)
            if cut:
                rows = self._cut(rows)
        while rows is not None and rows.num_rows:
            yield rows.slice(0, size)
            rows = rows.slice(size) if rows.num_rows > size else None
        if self.malformed:
            yield self._malformed_table()

    def _rows(self, batch: pa.RecordBatch) -> pa.Table:
        """The batch's rows numbered by line, mapped columns only, blank lines left out."""
        n = batch.num_rows
        if n == 0:
            return pa.table({ROW_COLUMN: pa.array([], pa.int64()), **{c: pa.array([], pa.string())
                                                                      for c in self.mapped.values()}})
        pending = np.array([r for r, _, _ in self.invalid if r >= self.next_record], dtype=np.int64)
        shifted = pending - self.next_record - np.arange(len(pending))
        records = self.next_record + np.arange(n) + np.searchsorted(shifted, np.arange(n), side="right")
        breaks = np.zeros(n, dtype=np.int64)
        for column in batch.columns:
            if 10 in _value_bytes(column):  # a quoted value with a line break
                breaks += pc.count_substring(column, b"\n").to_numpy(zero_copy_only=False)
        lines = records + self._extra_before(records, breaks)
        self.next_record = int(records[-1]) + 1
        blank = self._blank(batch, lines)
        self.last = (int(records[-1]), int(lines[-1]), not blank[-1], bool(breaks[-1]))
        text = {name: _text(column) for name, column in zip(self.names, batch.columns, strict=True)}
        table = pa.table({ROW_COLUMN: pa.array(lines, pa.int64()),
                          **{canonical: text[name] for name, canonical in self.mapped.items()}})
        return table.filter(pa.array(~blank)) if blank.any() else table

    def _extra_before(self, records: np.ndarray, breaks: np.ndarray) -> np.ndarray:
        """Line breaks inside the values of all records before each of ``records`` (and the invalid
        ones among them, whose lines are noted)."""
        invalid = [(r, t) for r, _, t in self.invalid if self.next_record <= r < records[-1]]
        if not invalid and not breaks.any():
            return np.full(len(records), self.extra_lines, dtype=np.int64)
        numbers = np.concatenate([records, [r for r, _ in invalid]]).astype(np.int64)
        counts = np.concatenate([breaks, [t.count("\n") for _, t in invalid]]).astype(np.int64)
        order = np.argsort(numbers, kind="stable")
        before = np.empty(len(numbers), dtype=np.int64)
        before[order] = self.extra_lines + np.cumsum(counts[order]) - counts[order]
        for (record, _), extra in zip(invalid, before[len(records):], strict=True):
            self._note_invalid(record, record + int(extra))
        self.extra_lines = int(before[order[-1]] + counts[order[-1]])
        return before[:len(records)]

    def _invalid_at_end(self) -> None:
        """Lines of the invalid records after the last row."""
        for number, _, text in self.invalid:
            if number >= self.next_record:
                line = number + self.extra_lines
                self._note_invalid(number, line)
                self.extra_lines += text.count("\n")
                self.next_record = number + 1
                self.last = (number, line, False, '"' in text)

    def _note_invalid(self, record: int, line: int) -> None:
        fields = next(seen for r, seen, _ in self.invalid if r == record)
        hint = ("a delimiter inside an unquoted value?" if fields > self.width
                else "a missing delimiter, or a line break inside an unquoted value?")
        self.malformed.append((line, f"expected {self.width} fields, saw {fields} ({hint})"))

    def _blank(self, batch: pa.RecordBatch, lines: np.ndarray) -> np.ndarray:
        """Rows of a blank line (Arrow reads one as a row of empty fields; a line of delimiters
        alone is such a row too, but a record, which is kept)."""
        blank = pc.equal(pc.binary_length(batch.column(0)), 0).to_numpy(zero_copy_only=False)
        for column in batch.columns[1:]:
            if not blank.any():
                return blank
            blank &= pc.equal(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
        if blank.any() and self.width > 1:
            blank &= np.isin(lines, self._blank_lines(set(lines[blank].tolist())))
        return blank

    def _blank_lines(self, candidates: set[int]) -> list[int]:
        """Which of these lines are empty (seldom asked: only where a row has no value at all).

        The file is scanned once, forward: each batch asks about lines after the last one's."""
        if self._lines is None:
            self._lines = enumerate(_read_lines(self.path), start=1)
        found = []
        last = max(candidates)
        for number, line in self._lines:
            if number in candidates and not line.strip(b"\r\n"):
                found.append(number)
            if number >= last:
                break
        return found

    def _cut(self, rows: pa.Table | None) -> pa.Table | None:
        """The last record is cut: flag it, whether it had every field or not."""
        cut = "the file ends inside this record (no line break after it): it may be cut"
        _, line, valid, _ = self.last
        if not valid:
            self.malformed = [(n, cut if n == line else what) for n, what in self.malformed]
            return rows
        flags = pa.array([None] * (rows.num_rows - 1) + [cut], pa.string())
        return rows.append_column(MALFORMED_COLUMN, flags)

    def _check_quotes(self, cut: bool) -> None:
        """A quote opened in the last record and never closed takes the rest of the file with it."""
        _, line, _, suspect = self.last
        if not (suspect or cut):  # a whole last record, no line break in its values, no stray quote
            return
        with self.path.open("rb") as fh:
            for _ in range(line - 1):
                fh.readline()
            tail = fh.read()
        if _inside_quotes(tail, self.sep.encode()):
            raise SourceError(f"{self.path.name}: cannot read as CSV: a quoted value opened on line "
                              f"{line} is not closed before the end of the file")

    def _malformed_table(self) -> pa.Table:
        self.malformed.sort()
        return pa.table({ROW_COLUMN: pa.array([n for n, _ in self.malformed], pa.int64()),
                         **{c: pa.nulls(len(self.malformed), pa.string()) for c in self.mapped.values()},
                         MALFORMED_COLUMN: pa.array([what for _, what in self.malformed], pa.string())})


def _text(column: pa.Array) -> pa.Array:
    """Bytes as UTF-8 text: plain ASCII as it is, anything else checked (a bad byte fails the file)."""
    text = column.view(pa.string())
    data = _value_bytes(column)
    if len(data) and int(data.max()) >= 0x80:
        text.validate(full=True)  # raises on a byte sequence that is not UTF-8
    return text


def _read_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from fh


def _value_bytes(column: pa.Array) -> np.ndarray:
    data = column.buffers()[2]
    return np.zeros(0, dtype=np.uint8) if data is None else np.frombuffer(data, dtype=np.uint8)


def _inside_quotes(data: bytes, sep: bytes) -> bool:
    """Whether CSV ``data`` (from the start of a record) ends inside a quoted value."""
    quoted = closed = False
    start = True  # at the start of a field
    for byte in data:
        char = bytes((byte,))
        if char == b'"' and (quoted or start or closed):
            quoted, closed = not quoted, quoted  # "" inside quotes: closes, then reopens
            start = False
            continue
        closed = False
        if not quoted:
            start = char in (sep, b"\n", b"\r")
    return quoted


def _ends_mid_record(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False
        fh.seek(-1, 2)
        return fh.read(1) not in (b"\n", b"\r")


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_xlsx(
    path: Path,
    mapping: dict[str, str],
    required: list[str],
    *,
    sheet: int = 0,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """First sheet (or ``sheet``) of a workbook; row numbers are the sheet's row numbers."""
    from python_calamine import CalamineWorkbook

    try:
        rows = iter(CalamineWorkbook.from_path(str(path)).get_sheet_by_index(sheet).iter_rows())
        headers = [unicodedata.normalize("NFC", str(h)) for h in next(rows)]
    except StopIteration as exc:
        raise SourceError(f"{path.name}: the sheet is empty (no header row)") from exc
    except Exception as exc:  # calamine raises its own types for corrupt workbooks
        raise SourceError(f"{path.name}: cannot read as XLSX: {exc}") from exc
    columns = map_headers(path.name, headers, mapping, required)
    row = 2
    while batch := list(islice(rows, chunk_rows)):
        frame = pd.DataFrame(
            [[_cell_text(v) for v in r] for r in batch], columns=headers, dtype=object
        )
        yield _finish(frame, columns, list(range(row, row + len(batch))))
        row += len(batch)


def read_jsonl(
    path: Path, mapping: dict[str, str], required: list[str], *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """One JSON object per line; row numbers are line numbers. A line that is not a JSON object
    (broken, or cut at the end of the file) is a malformed record; the other lines go on."""
    with path.open(encoding="utf-8-sig") as fh:
        line_no = 0
        while lines := list(islice(fh, chunk_rows)):
            records = []
            for text in lines:
                line_no += 1
                if text.strip():
                    records.append(_json_record(path, line_no, text))
            if records:
                yield _records_frame(path.name, records, mapping, required)


def _json_record(path: Path, line_no: int, text: str) -> dict:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return {ROW_COLUMN: line_no, MALFORMED_COLUMN: f"not valid JSON: {exc.msg} at column {exc.colno}"}
    if not isinstance(record, dict):
        return {ROW_COLUMN: line_no, MALFORMED_COLUMN: f"a JSON {type(record).__name__}, not an object"}
    return {
        ROW_COLUMN: line_no,
        **{
            k: _cell_text(v)
            if not isinstance(v, (dict, list))
            else json.dumps(v, ensure_ascii=False)
            for k, v in record.items()
        },
    }


def _records_frame(
    file: str, records: list[dict], mapping: dict[str, str], required: list[str]
) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records)
    if MALFORMED_COLUMN in frame and frame[MALFORMED_COLUMN].notna().all():
        columns = {c: c for c in required}  # nothing to map: every line of the chunk is broken
        frame = frame.reindex(columns=[ROW_COLUMN, MALFORMED_COLUMN, *required])
    else:
        headers = [c for c in frame.columns if c not in (ROW_COLUMN, MALFORMED_COLUMN)]
        columns = map_headers(file, headers, mapping, required)
    out = frame[list(columns)].rename(columns=columns).astype(object)
    out.insert(0, ROW_COLUMN, frame[ROW_COLUMN].to_numpy())
    if MALFORMED_COLUMN in frame:
        out[MALFORMED_COLUMN] = frame[MALFORMED_COLUMN].to_numpy()
    return out


READERS = {"csv": read_csv, "xlsx": read_xlsx, "jsonl": read_jsonl}
