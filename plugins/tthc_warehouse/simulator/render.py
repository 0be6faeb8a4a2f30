"""Canonical records printed the way each province's system exports them (CSV, XLSX, JSON lines)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import xlsxwriter

from tthc_warehouse.contract import DOSSIER_STATUS, Entity
from tthc_warehouse.simulator.params import Style

DATE_FORMATS = {"vn": "%d/%m/%Y %H:%M", "vn_seconds": "%d/%m/%Y %H:%M:%S",
                "iso": "%Y-%m-%dT%H:%M:%S", "iso_space": "%Y-%m-%d %H:%M:%S"}
WORDS = {True: "có", False: "không"}
# Vowel modifiers that Windows-1258 keeps precomposed (â ê ô ă ơ ư); tone marks stay combining.
_CP1258_MODIFIERS = {"\u0302", "\u0306", "\u031b"}
JSON_STYLE = Style("iso", "number", "code", "native")


def value(raw: Any, kind: str, style: Style) -> Any:
    """One canonical value as the export prints it (None stays None)."""
    if raw is None:
        return None
    if kind == "timestamp":
        return raw if style.dates == "excel" else raw.strftime(DATE_FORMATS[style.dates])
    if kind == "money" and style.money != "number":
        return f"{raw:,}".replace(",", ".") if style.money == "dots" else str(raw)
    if kind == "status" and style.status == "label":
        return DOSSIER_STATUS[raw]
    if kind == "bool" and style.booleans != "native":
        return WORDS[raw] if style.booleans == "words" else int(raw)
    return raw


def rows(records: Iterable[dict[str, Any]], entity: Entity, style: Style) -> list[list[Any]]:
    """Records as printed rows, columns in contract order."""
    kinds = [c.kind for c in entity.columns]
    names = entity.column_names
    return [[value(r[n], k, style) for n, k in zip(names, kinds, strict=True)] for r in records]


def headers(entity: Entity, mapping: dict[str, str]) -> list[str]:
    """Source headers in contract order: the mapping inverted (canonical names when absent)."""
    source = {canonical: header for header, canonical in mapping.items()}
    return [source.get(name, name) for name in entity.column_names]


def cp1258_form(text: str) -> str:
    """Vietnamese text in the decomposed form Windows-1258 can encode (base letter + tone mark)."""
    out: list[str] = []
    marks: list[str] = []
    for ch in unicodedata.normalize("NFD", text) + "\0":
        if unicodedata.combining(ch):
            if ch in _CP1258_MODIFIERS and out:
                out[-1] = unicodedata.normalize("NFC", out[-1] + ch)
            else:
                marks.append(ch)
            continue
        out.extend(marks)
        marks.clear()
        out.append(ch)
    return "".join(out[:-1])


def encode_text(text: str, encoding: str, bom: bool) -> bytes:
    """UTF-8 (with a BOM if asked) or Windows-1258, which must decode back to the same text."""
    if encoding.replace("-", "").lower() != "cp1258":
        return (codecs.BOM_UTF8 if bom else b"") + text.encode(encoding)
    data = cp1258_form(text).encode("cp1258", errors="strict")
    back = unicodedata.normalize("NFC", data.decode("cp1258"))
    if back != unicodedata.normalize("NFC", text):
        raise ValueError("text does not round-trip through Windows-1258")
    return data


def write_csv(path: Path, header: list[str], body: list[list[Any]], *, delimiter: str = ",",
              encoding: str = "utf-8", bom: bool = False) -> None:
    """Header row then one line per record; CRLF line ends like the provinces' Windows exports."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in body])
    path.write_bytes(encode_text(buffer.getvalue(), encoding, bom))


def write_xlsx(path: Path, header: list[str], body: list[list[Any]], created: dt.datetime) -> None:
    """One sheet; datetimes as real Excel dates, numbers as numbers, nulls as empty cells."""
    book = xlsxwriter.Workbook(str(path), {"in_memory": True})
    book.set_properties({"created": created})  # fixed, so the file is byte-identical per seed
    sheet = book.add_worksheet("HoSo")
    date_format = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    sheet.write_row(0, 0, header)
    for r, row in enumerate(body, 1):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            if isinstance(cell, dt.datetime):
                sheet.write_datetime(r, c, cell, date_format)
            elif isinstance(cell, bool):
                sheet.write_boolean(r, c, cell)
            elif isinstance(cell, int):
                sheet.write_number(r, c, cell)
            else:
                sheet.write_string(r, c, cell)
    book.close()


def json_lines(header: list[str], body: list[list[Any]]) -> str:
    """One JSON object per line, UTF-8 text, keys in header order."""
    return "".join(json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False) + "\n"
                   for row in body)


def write_jsonl(path: Path, header: list[str], body: list[list[Any]]) -> None:
    """UTF-8 JSON lines; an empty file when nothing changed that day."""
    path.write_text(json_lines(header, body), encoding="utf-8", newline="\n")
