"""Raw text chunks -> typed canonical columns, with one error per bad value (file, row, column).

Vectorised over whole columns: a chunk of 50,000 rows is parsed with a handful of pandas calls,
which keeps parsing cheap next to the COPY that follows. Typed columns are parsed once per
distinct value (exports repeat codes, flags, amounts and minutes a lot) and spread back by code.
Rows with any bad or missing required value are split off for quarantine; the good rows go on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from tthc_warehouse.contract import DOSSIER_STATUS, Entity
from tthc_warehouse.extract.base import MALFORMED_COLUMN, ROW_COLUMN
from tthc_warehouse.load.formats import DATE_STYLES, ValueFormat, whole_amounts, whole_numbers

TIMESTAMP_FORMATS = DATE_STYLES["vi"]
TRUE_WORDS = {"1", "true", "t", "yes", "y", "x", "có", "co", "đã", "da"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "không", "khong", "chưa", "chua"}
STATUS_BY_LABEL = {unicodedata.normalize("NFC", v).casefold(): k for k, v in DOSSIER_STATUS.items()}


@dataclass
class Parsed:
    values: pd.Series
    bad: pd.Series  # True where the input had a value that could not be parsed
    reason: str


_NFC = partial(unicodedata.normalize, "NFC")


def clean_text(raw: pd.Series) -> pd.Series:
    """Strip, NFC-normalise Vietnamese diacritics, and turn empty strings into nulls.

    Object dtype, ``None`` for nulls. ``unicodedata.normalize`` returns an already-NFC string
    as is after a quick check in C, so ASCII and NFC input costs one strip per value.
    """
    values = _text_values(raw)
    cleaned = [None if v is None else (_NFC(v.strip()) or None) for v in values.tolist()]
    return pd.Series(cleaned, index=raw.index, dtype=object, name=raw.name)


def _text_values(raw: pd.Series) -> np.ndarray:
    """The raw column as an object array of ``str`` and ``None``, as ``astype("string")`` reads it."""
    if not isinstance(raw.dtype, pd.StringDtype) and infer_dtype(raw, skipna=True) not in (
        "string", "empty"
    ):
        raw = raw.astype("string")  # numbers, dates, ...: str() them the way pandas does
    return raw.to_numpy(dtype=object, na_value=None)


def parse_text(text: pd.Series) -> Parsed:
    return Parsed(text.astype(object).where(text.notna(), None), text.isna() & False, "")


def parse_distinct(parser: Callable[[pd.Series], Parsed], text: pd.Series) -> Parsed:
    """``parser`` applied to each distinct value once (as ``string`` dtype), spread back by code.

    Every parser is elementwise and sees the same set of values, so the result is the same as
    parsing the whole column; nulls come out null and not bad, as the parsers make them.
    """
    codes, uniques = pd.factorize(text.to_numpy(dtype=object), use_na_sentinel=True)
    parsed = parser(pd.Series(pd.array(uniques, dtype="string")))
    values = parsed.values.array.take(codes, allow_fill=True)
    bad = np.append(parsed.bad.fillna(False).to_numpy(dtype=bool), False)[codes]  # -1: null
    return Parsed(pd.Series(values, index=text.index), pd.Series(bad, index=text.index),
                  parsed.reason)


def parse_int(text: pd.Series) -> Parsed:
    return Parsed(*whole_numbers(text))


def parse_money(text: pd.Series, style: str = "vi") -> Parsed:
    """Whole VND amounts in the feed's declared style (``1.234.567``, ``150000 đ``; JSON integers)."""
    return Parsed(*whole_amounts(text, style))


def parse_bool(text: pd.Series) -> Parsed:
    folded = text.str.casefold()
    values = pd.Series(pd.NA, index=text.index, dtype="boolean")
    values[folded.isin(TRUE_WORDS).fillna(False)] = True
    values[folded.isin(FALSE_WORDS).fillna(False)] = False
    return Parsed(values, text.notna() & values.isna(), "not a yes/no value")


def parse_status(text: pd.Series) -> Parsed:
    """TrangThaiHoSo given as its code (1-10) or its Vietnamese label."""
    codes = pd.to_numeric(text, errors="coerce")
    codes = codes.where(codes.isin(list(DOSSIER_STATUS)))
    by_label = text.str.casefold().map(STATUS_BY_LABEL)
    values = codes.fillna(by_label).astype("Int64")
    return Parsed(values, text.notna() & values.isna(), "not a dossier status code or label")


def parse_timestamp(text: pd.Series, formats: tuple[str, ...] = TIMESTAMP_FORMATS) -> Parsed:
    """``dd/MM/yyyy [HH:mm[:ss]]`` or ISO 8601, Vietnam local time.

    The first format that fits the first value parses the whole column in one call; the values
    it leaves go through every format in order. The formats differ in their separators
    (``/``, ``-``, ``T``, the number of ``:``), so no value fits two of them.
    """
    values = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    first = _first_format(text, formats)
    if first is not None:
        values[:] = pd.to_datetime(text, format=first, errors="coerce")
    for fmt in formats:
        todo = values.isna() & text.notna()
        if not todo.any():
            break
        values[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return Parsed(values, text.notna() & values.isna(), "not a date (dd/MM/yyyy [HH:mm])")


def _first_format(text: pd.Series, formats: tuple[str, ...]) -> str | None:
    sample = text.dropna().head(1)
    for fmt in formats:
        if len(sample) and pd.to_datetime(sample, format=fmt, errors="coerce").notna().all():
            return fmt
    return None


def parse_timestamptz(text: pd.Series) -> Parsed:
    values = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    return Parsed(values, text.notna() & values.isna(), "not an ISO 8601 timestamp")


def parse_date(text: pd.Series, formats: tuple[str, ...] = TIMESTAMP_FORMATS) -> Parsed:
    parsed = parse_timestamp(text, formats)
    return Parsed(parsed.values.dt.normalize(), parsed.bad, parsed.reason)


def parse_numeric(text: pd.Series) -> Parsed:
    numbers = pd.to_numeric(text, errors="coerce")
    # Kept as text so that PostgreSQL parses the exact decimal (no float rounding on the way).
    return Parsed(text.where(numbers.notna()), text.notna() & numbers.isna(), "not a number")


PARSERS: dict[str, Callable[[pd.Series], Parsed]] = {
    "text": parse_text,
    "int": parse_int,
    "money": parse_money,
    "bool": parse_bool,
    "status": parse_status,
    "timestamp": parse_timestamp,
    "timestamptz": parse_timestamptz,
    "date": parse_date,
    "numeric": parse_numeric,
}


@dataclass
class NormalizedChunk:
    rows: pd.DataFrame  # ROW_COLUMN + the entity's columns, typed; only good rows
    errors: list[dict]  # index, row, column, value, reason, raw (the row's raw values)


def normalize_chunk(raw: pd.DataFrame, entity: Entity, fmt: ValueFormat | None = None) -> NormalizedChunk:
    """Parse every column of ``raw`` as the feed declares (``fmt``); bad or malformed rows become errors."""
    fmt = fmt or ValueFormat()
    typed = {ROW_COLUMN: raw[ROW_COLUMN].astype("int64")}
    problems = _malformed(raw)
    for column in entity.columns:
        text = clean_text(raw[column.name]) if column.name in raw else _nulls(raw.index)
        parsed = _parse(column.kind, text, fmt)
        typed[column.name] = parsed.values
        problems.append((column.name, text, parsed.bad, parsed.reason))
        if column.kind == "text":  # PostgreSQL cannot store it: the whole COPY would fail
            problems.append((column.name, text, _has_nul(text), "contains a NUL byte"))
        if column.required:
            problems.append((column.name, text, text.isna(), "required value missing"))
    rows = pd.DataFrame(typed, index=raw.index)
    bad_rows = pd.Series(False, index=raw.index)
    errors: list[dict] = []
    for name, text, bad, reason in problems:
        if problems[0][0] == "(record)" and name != "(record)":
            bad = bad & ~problems[0][2]  # a malformed record is reported once, as such
        if bad.any():
            bad_rows |= bad
            errors += _errors(raw, text, bad, name, reason)
    return NormalizedChunk(rows[~bad_rows], errors)


def _parse(kind: str, text: pd.Series, fmt: ValueFormat) -> Parsed:
    if kind == "text":
        return parse_text(text)
    parser = PARSERS[kind]
    if kind == "money":
        parser = partial(parse_money, style=fmt.numbers)
    elif kind in ("timestamp", "date"):
        parser = partial(parser, formats=fmt.date_formats)
    return parse_distinct(parser, text)


def _malformed(raw: pd.DataFrame) -> list[tuple[str, pd.Series, pd.Series, str]]:
    """Records the reader could not split into fields (extra fields, broken JSON, a cut last line)."""
    if MALFORMED_COLUMN not in raw:
        return []
    detail = raw[MALFORMED_COLUMN]
    return [("(record)", detail, detail.notna(), "malformed record")]


def _has_nul(text: pd.Series) -> pd.Series:
    values = [v if isinstance(v, str) else "" for v in text.tolist()]
    if "\x00" not in "".join(values):  # one C-speed scan per column in the usual case
        return pd.Series(False, index=text.index)
    return pd.Series(["\x00" in v for v in values], index=text.index)


def _nulls(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NA, index=index, dtype="string")


def _errors(
    raw: pd.DataFrame, text: pd.Series, bad: pd.Series, column: str, reason: str
) -> list[dict]:
    raw_columns = [c for c in raw.columns if c not in (ROW_COLUMN, MALFORMED_COLUMN)]
    return [
        {
            "index": i,
            "row": int(raw.at[i, ROW_COLUMN]),
            "column": column,
            "value": None if pd.isna(text.at[i]) else str(text.at[i]),
            "reason": reason,
            "raw": {c: (None if pd.isna(raw.at[i, c]) else str(raw.at[i, c])) for c in raw_columns},
        }
        for i in raw.index[bad.fillna(False)]
    ]


# ---- typed frame -> COPY text ------------------------------------------------------------------

COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(rows: pd.DataFrame) -> str:
    """``rows`` in PostgreSQL's COPY text format: tab-separated lines, ``\\N`` for nulls.

    Each column is formatted once per distinct value: integers as digits, booleans as ``t``/``f``,
    timestamps to the second (zone-aware ones in UTC with their offset); text
    keeps commas, quotes and letters as they are and escapes backslash, tab and newlines.
    """
    columns = [_copy_column(rows[name]) for name in rows.columns]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _copy_column(column: pd.Series) -> list[str]:
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    text = np.array([*_copy_values(pd.Series(uniques)), COPY_NULL], dtype=object)
    return text[codes].tolist()  # code -1 (null) takes the last: \N


def _copy_values(values: pd.Series) -> list[str]:
    """Distinct non-null values of one column as COPY text."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return ["t" if v else "f" for v in values.tolist()]
    if pd.api.types.is_integer_dtype(dtype):
        return list(map(str, values.tolist()))
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return _copy_timestamps(values)
    text = [v if isinstance(v, str) else str(v) for v in values.tolist()]
    if any(c in "".join(text) for c in "\\\t\n\r"):
        text = [v.translate(_COPY_ESCAPES) for v in text]
    return text


def _copy_timestamps(values: pd.Series) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS`` to the second; zone-aware values in UTC with an explicit ``+00``, so
    the server's TimeZone setting never shifts them."""
    offset = ""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        offset = "+00"
    seconds = values.dt.floor("s").to_numpy(dtype="datetime64[s]")
    return [v.replace("T", " ") + offset for v in np.datetime_as_string(seconds, unit="s").tolist()]
