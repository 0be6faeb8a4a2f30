"""File feeds (CSV, XLSX, JSON lines) read in bounded chunks, headers mapped to canonical names."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pandas as pd

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


def read_csv(
    path: Path,
    mapping: dict[str, str],
    required: list[str],
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """Chunks of raw strings; row numbers are file lines (the header is line 1).

    A line with more fields than the header, and a last line the file ends inside (no line
    break after it: it may be cut), come out as malformed records; the other rows go on.
    """
    with path.open("rb") as fh:
        sample = fh.read(SNIFF_BYTES)
    encoding = detect_encoding(sample, encoding)
    sep = detect_delimiter(sample.decode(encoding, errors="replace"), delimiter)
    try:
        headers = [unicodedata.normalize("NFC", h) for h in
                   pd.read_csv(path, sep=sep, encoding=encoding, nrows=0, dtype=str).columns]
        columns = map_headers(path.name, headers, mapping, required)
        reader = pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False,
                             chunksize=chunk_rows, encoding_errors="strict", on_bad_lines="warn")
        yield from _csv_chunks(path, reader, columns)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{path.name}: cannot read as CSV ({encoding}, {sep!r}): {exc}") from exc


def _csv_chunks(path: Path, reader, columns: dict[str, str]) -> Iterator[pd.DataFrame]:
    """Mapped chunks numbered by file line (skipped lines left out), then the malformed lines."""
    line, skipped, pending = 2, {}, None
    chunks = iter(reader)
    while True:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            chunk = next(chunks, None)
        skipped.update(_skipped_lines(caught))
        if chunk is None:
            break
        chunk.columns = [unicodedata.normalize("NFC", h) for h in chunk.columns]
        numbers = _numbers(line, len(chunk), skipped)
        line = numbers[-1] + 1 if numbers else line
        if pending is not None:
            yield pending
        pending = _finish(chunk, columns, numbers)
    if pending is not None and _ends_mid_record(path):
        pending.loc[pending.index[-1], MALFORMED_COLUMN] = (
            "the file ends inside this record (no line break after it): it may be cut")
    if pending is not None:
        yield pending
    if skipped:
        yield _malformed_frame(columns.values(), skipped)


def _skipped_lines(caught: list[warnings.WarningMessage]) -> dict[int, str]:
    """Lines pandas skipped -> why (``Skipping line 7: expected 11 fields, saw 12``)."""
    found = {}
    for warning in caught:
        for match in re.finditer(r"Skipping line (\d+): (.+)", str(warning.message)):
            found[int(match.group(1))] = f"{match.group(2).strip()} (a delimiter inside an unquoted value?)"
    return found


def _numbers(first: int, count: int, skipped: dict[int, str]) -> list[int]:
    numbers, line = [], first
    while len(numbers) < count:
        if line not in skipped:
            numbers.append(line)
        line += 1
    return numbers


def _ends_mid_record(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False
        fh.seek(-1, 2)
        return fh.read(1) not in (b"\n", b"\r")


def _malformed_frame(columns, problems: dict[int, str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: [None] * len(problems) for c in columns}, dtype=object)
    frame.insert(0, ROW_COLUMN, sorted(problems))
    frame[MALFORMED_COLUMN] = [problems[n] for n in sorted(problems)]
    return frame


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
