"""Raw text chunks -> typed canonical columns, with one error per bad value (file, row, column).

The rules run on Arrow tables of strings (``pyarrow.compute`` kernels and numpy, no Python per
value), whatever the feed's format: CSV files are read straight into Arrow, the other readers'
pandas frames are converted (``extract.base.raw_table``). Typed columns are cleaned and parsed once
per distinct value (exports repeat codes, flags, amounts and minutes a lot) and spread back by
index. Rows with any bad or missing required value are split off for quarantine; the good rows go
on as a typed Arrow table whose types are the staging table's (``ARROW_TYPES``).

``normalize_chunk`` is the same for a pandas frame (typed pandas columns out), and every parser
also takes a pandas Series, for callers that work in pandas.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tthc_warehouse.contract import DOSSIER_STATUS, Entity
from tthc_warehouse.extract.base import FILE_COLUMN, MALFORMED_COLUMN, ROW_COLUMN, raw_table, text_array
from tthc_warehouse.load.formats import (
    DATE_STYLES,
    INT64_DIGITS,
    US_PER_DAY,
    WHITESPACE,
    DateFormat,
    ValueFormat,
    compose_fields,
    fixed_width_fields,
    timestamps,
    whole_amounts,
    whole_numbers,
)

TIMESTAMP_FORMATS = DATE_STYLES["vi"]
TRUE_WORDS = {"1", "true", "t", "yes", "y", "x", "có", "co", "đã", "da"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "không", "khong", "chưa", "chua"}
STATUS_BY_LABEL = {unicodedata.normalize("NFC", v).casefold(): k for k, v in DOSSIER_STATUS.items()}
# What pandas' to_numeric reads as a number (the status code "2", "2.0", "+2", "1e1")
NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
ASCII_WHITESPACE = "".join(c for c in WHITESPACE if c.isascii())
INT32 = (-(2**31), 2**31 - 1)  # PostgreSQL integer

ARROW_TYPES: dict[str, pa.DataType] = {  # kind -> the Arrow type of its parsed values (= staging's)
    "text": pa.string(), "int": pa.int32(), "money": pa.int64(), "bool": pa.bool_(),
    "status": pa.int16(), "timestamp": pa.timestamp("us"), "timestamptz": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(), "numeric": pa.string(),
}


@dataclass
class Parsed:
    values: pa.Array | pd.Series
    bad: np.ndarray | pd.Series  # True where the input had a value that could not be parsed
    reason: str


def _pandas_too(function: Callable[..., Parsed]) -> Callable[..., Parsed]:
    """Lets an Arrow parser take a pandas Series (then it returns pandas Series, same index)."""

    @functools.wraps(function)
    def parse(text, *args, **kwargs) -> Parsed:
        if not isinstance(text, pd.Series):
            return function(text, *args, **kwargs)
        parsed = function(text_array(text), *args, **kwargs)
        return Parsed(to_series(parsed.values, text.index), pd.Series(parsed.bad, index=text.index),
                      parsed.reason)

    return parse


def to_series(values: pa.Array, index: pd.Index | None = None) -> pd.Series:
    """Parsed values as pandas: nullable Int64 and boolean, datetime64[us], text as object/None."""
    missing = ~_present(values)
    if pa.types.is_integer(values.type):
        data = pc.fill_null(values.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
        series = pd.Series(pd.arrays.IntegerArray(data, missing))
    elif pa.types.is_boolean(values.type):
        series = pd.Series(pd.arrays.BooleanArray(_mask(values), missing))
    elif pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        tz = getattr(values.type, "tz", None)
        micros = pc.fill_null(pc.cast(values.cast(pa.timestamp("us", tz=tz)), pa.int64()), 0)
        stamps = micros.to_numpy(zero_copy_only=False).astype("datetime64[us]")
        stamps[missing] = np.datetime64("NaT")
        series = pd.Series(stamps)
        if tz:
            series = series.dt.tz_localize("UTC").dt.tz_convert(tz)
    else:
        series = pd.Series(values.to_numpy(zero_copy_only=False), dtype=object)
    if index is not None:
        series.index = index
    return series


# ---- cleaning ------------------------------------------------------------------------------------

def clean_text(raw: pa.Array | pd.Series) -> pa.Array | pd.Series:
    """Strip (``str.strip``'s white space), NFC-normalise Vietnamese diacritics, empty -> null.

    ASCII columns (codes, dates, numbers) are only stripped; others are cleaned once per distinct
    value. A pandas Series comes back as an object Series with ``None`` for nulls.
    """
    if isinstance(raw, pd.Series):
        cleaned = clean_text(text_array(raw)).to_pylist()
        return pd.Series(cleaned, index=raw.index, dtype=object, name=raw.name)
    if _ascii(raw):
        return _empty_to_null(pc.ascii_trim(raw, ASCII_WHITESPACE))
    indices, dictionary = _distinct(raw)
    return _clean_values(dictionary).take(indices)


def _clean_values(values: pa.Array) -> pa.Array:
    """``clean_text`` of (distinct) values, whatever they hold."""
    trimmed = pc.utf8_trim(values, WHITESPACE)
    if not _ascii(trimmed):
        trimmed = pc.utf8_normalize(trimmed, "NFC")
    return _empty_to_null(trimmed)


def _empty_to_null(values: pa.Array) -> pa.Array:
    empty = pc.equal(pc.binary_length(values), 0)
    if not pc.any(empty).as_py():
        return values
    return pc.if_else(empty, pa.scalar(None, values.type), values)


def _bytes(values: pa.Array) -> np.ndarray:
    """The bytes a string array's values occupy (numpy view, no copy)."""
    if len(values) == 0 or values.buffers()[1] is None:
        return np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32, count=len(values) + 1,
                            offset=values.offset * 4)
    data = values.buffers()[2]
    if data is None:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]


def _ascii(values: pa.Array) -> bool:
    data = _bytes(values)
    return not len(data) or int(data.max()) < 0x80


def _distinct(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(indices, distinct values): ``values == dictionary.take(indices)``; null index for null."""
    encoded = pc.dictionary_encode(values)
    return encoded.indices, encoded.dictionary


def _spread(bad: np.ndarray, indices: pa.Array) -> np.ndarray:
    """A mask over distinct values spread back to the column (null index: False)."""
    where = pc.fill_null(indices, len(bad)).to_numpy(zero_copy_only=False)
    return np.append(bad, False)[where]


# ---- parsers (distinct values in, typed values out) -----------------------------------------------

@_pandas_too
def parse_text(text: pa.Array) -> Parsed:
    return Parsed(text, np.zeros(len(text), dtype=bool), "")


def parse_distinct(parser: Callable[[pa.Array], Parsed], text: pa.Array | pd.Series) -> Parsed:
    """``parser`` applied to each distinct value once, spread back by index.

    Every parser is elementwise and sees the same set of values, so the result is the same as
    parsing the whole column; nulls come out null and not bad, as the parsers make them.
    """
    if isinstance(text, pd.Series):
        parsed = parse_distinct(parser, text_array(text))
        return Parsed(to_series(parsed.values, text.index), pd.Series(parsed.bad, index=text.index),
                      parsed.reason)
    indices, dictionary = _distinct(text)
    parsed = parser(dictionary)
    return Parsed(parsed.values.take(indices), _spread(parsed.bad, indices), parsed.reason)


@_pandas_too
def parse_int(text: pa.Array) -> Parsed:
    values, bad, reason = whole_numbers(text)
    return Parsed(values, bad, reason)


@_pandas_too
def parse_money(text: pa.Array, style: str = "vi") -> Parsed:
    """Whole VND amounts in the feed's declared style (``1.234.567``, ``150000 đ``; JSON integers)."""
    values, bad, reason = whole_amounts(text, style)
    return Parsed(values, bad, reason)


@_pandas_too
def parse_bool(text: pa.Array) -> Parsed:
    folded = pc.utf8_lower(text)
    yes = pc.fill_null(pc.is_in(folded, pa.array(sorted(TRUE_WORDS))), False).to_numpy(zero_copy_only=False)
    no = pc.fill_null(pc.is_in(folded, pa.array(sorted(FALSE_WORDS))), False).to_numpy(zero_copy_only=False)
    values = pa.array(yes, pa.bool_(), mask=~(yes | no))
    return Parsed(values, _present(text) & ~(yes | no), "not a yes/no value")


@_pandas_too
def parse_status(text: pa.Array) -> Parsed:
    """TrangThaiHoSo given as its code (1-10) or its Vietnamese label."""
    codes = np.zeros(len(text), dtype=np.int16)
    numeric = _mask(pc.match_substring_regex(text, NUMBER))
    numbers = pc.cast(text.filter(pa.array(numeric)), pa.float64()).to_numpy(zero_copy_only=False)
    known = np.isin(numbers, list(DOSSIER_STATUS))
    codes[np.flatnonzero(numeric)[known]] = numbers[known]
    position = pc.index_in(pc.utf8_lower(text), pa.array(list(STATUS_BY_LABEL)))
    by_label = _present(position) & (codes == 0)
    label_codes = np.array(list(STATUS_BY_LABEL.values()), dtype=np.int16)
    codes[by_label] = label_codes[pc.fill_null(position, 0).to_numpy(zero_copy_only=False)[by_label]]
    found = codes != 0
    return Parsed(pa.array(codes, pa.int16(), mask=~found), _present(text) & ~found,
                  "not a dossier status code or label")


@_pandas_too
def parse_timestamp(text: pa.Array, formats: tuple[str, ...] = TIMESTAMP_FORMATS) -> Parsed:
    """``dd/MM/yyyy [HH:mm[:ss]]`` or ISO 8601, Vietnam local time (``formats.timestamps``)."""
    values, bad, reason = timestamps(text, formats)
    return Parsed(values, bad, reason)


@_pandas_too
def parse_timestamptz(text: pa.Array) -> Parsed:
    values = pd.to_datetime(pd.Series(text.to_pylist(), dtype=object), errors="coerce", utc=True,
                            format="ISO8601")
    present = values.notna().to_numpy()
    micros = np.where(present, values.to_numpy(dtype="datetime64[us]").view(np.int64), 0)
    return Parsed(pa.array(micros, pa.int64(), mask=~present).cast(ARROW_TYPES["timestamptz"]),
                  _present(text) & ~present, "not an ISO 8601 timestamp")


@_pandas_too
def parse_date(text: pa.Array, formats: tuple[str, ...] = TIMESTAMP_FORMATS) -> Parsed:
    parsed = parse_timestamp(text, formats)
    micros = pc.fill_null(pc.cast(parsed.values, pa.int64()), 0).to_numpy(zero_copy_only=False)
    days = pa.array((micros // US_PER_DAY).astype(np.int32), pa.int32(), mask=~_present(parsed.values))
    return Parsed(days.cast(pa.date32()), parsed.bad, parsed.reason)


@_pandas_too
def parse_numeric(text: pa.Array) -> Parsed:
    numbers = pd.to_numeric(pd.Series(text.to_pylist(), dtype=object), errors="coerce")
    present = numbers.notna().to_numpy()
    # Kept as text so that PostgreSQL reads the exact decimal (no float rounding on the way).
    return Parsed(pc.if_else(pa.array(present), text, pa.scalar(None, pa.string())),
                  _present(text) & ~present, "not a number")


def _mask(array: pa.Array) -> np.ndarray:
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def _present(text: pa.Array) -> np.ndarray:
    return _mask(pc.is_valid(text))


PARSERS: dict[str, Callable[..., Parsed]] = {
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


def _parser(kind: str, fmt: ValueFormat) -> Callable[[pa.Array], Parsed]:
    parser = PARSERS[kind]
    if kind == "money":
        return partial(parser, style=fmt.numbers)
    if kind in ("timestamp", "date"):
        return partial(parser, formats=fmt.date_formats)
    return parser


# ---- a chunk ---------------------------------------------------------------------------------------

@dataclass
class NormalizedTable:
    rows: pa.Table  # ROW_COLUMN (+ FILE_COLUMN) + the entity's columns, typed; only good rows
    errors: list[dict]  # index (position), row, column, value, reason, raw (+ file)


@dataclass
class _Column:
    """One column of the chunk: its cleaned text (lazily, by position) for the error messages."""

    name: str
    text: pa.Array | None = None  # the cleaned column (text columns), or:
    indices: pa.Array | None = None  # the parsed rows' indices into ``distinct``
    distinct: pa.Array | None = None
    rows: np.ndarray | None = None  # the positions the parser saw (None: all)

    def values(self, positions: np.ndarray) -> list[str | None]:
        if self.text is not None:
            return self.text.take(pa.array(positions)).to_pylist()
        if self.rows is None:
            return self.distinct.take(self.indices.take(pa.array(positions))).to_pylist()
        # a row a fast path read has no value to show (its problem is a missing one)
        at = np.minimum(np.searchsorted(self.rows, positions), max(len(self.rows) - 1, 0))
        parsed = (self.rows[at] == positions) if len(self.rows) else np.zeros(len(positions), dtype=bool)
        shown = self.distinct.take(self.indices.take(pa.array(at[parsed]))).to_pylist()
        values: list[str | None] = [None] * len(positions)
        for i, value in zip(np.flatnonzero(parsed), shown, strict=True):
            values[i] = value
        return values


@dataclass
class _Typed:
    values: pa.Array
    seen: _Column
    problems: list[tuple[np.ndarray, str]]  # (bad rows, reason)
    missing: np.ndarray  # rows without a value (after cleaning)


def _typed(name: str, kind: str, text: pa.Array, fmt: ValueFormat) -> _Typed:
    """A typed column: the fast path's values, the parser's (per distinct cleaned value) for the rest."""
    n = len(text)
    if text.null_count:  # as a CSV file gives them (and each value's bytes in its own place)
        text = pc.fill_null(text, "")
    fast = _FAST[kind](text, fmt) if kind in _FAST else None
    if fast is None:
        rest = np.arange(n)
    else:
        data, handled = fast
        rest = np.flatnonzero(~handled)
    sub = text if len(rest) == n else text.take(pa.array(rest))
    indices, distinct = _distinct(sub)
    distinct = _clean_values(distinct)
    parsed = _parser(kind, fmt)(distinct)
    seen = _Column(name, indices=indices, distinct=distinct, rows=None if len(rest) == n else rest)
    bad = np.zeros(n, dtype=bool)
    bad[rest] = _spread(parsed.bad, indices)
    missing = np.zeros(n, dtype=bool)
    missing[rest] = _spread(~_present(distinct), indices) | ~_present(sub)
    if fast is None or len(rest) == n:
        values = parsed.values.take(indices)
    else:
        missing |= handled & (_lengths(text) == 0)
        valid = handled & ~missing
        if len(rest):
            sub_values = parsed.values.take(indices)
            data[rest] = _numbers(sub_values)
            valid[rest] = _present(sub_values)
        values = _from_numbers(kind, data, valid)
    problems = [(bad, parsed.reason)]
    if kind == "int":
        numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
        problems.append(((numbers < INT32[0]) | (numbers > INT32[1]), "a whole number out of range"))
    return _Typed(values, seen, problems, missing)


# ---- fast paths ---------------------------------------------------------------------------------
#
# A fast path reads the values of a column written in the feed's usual exact form (zero-padded
# ``01/03/2024 07:30``, plain digits, ``1``/``0``) straight from the column's bytes with numpy,
# and leaves every other value, bad ones included, to the parser above. A value it reads is read
# the same by the parser: it has no white space to strip, is ASCII (so NFC), and fits one format.

def _lengths(text: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.binary_length(text), 0).to_numpy(zero_copy_only=False)


def _fast_dates(text: pa.Array, fmt: ValueFormat) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds since 1970 of the zero-padded values of any of the feed's formats."""
    lengths = _lengths(text)
    micros = np.zeros(len(text), dtype=np.int64)
    handled = lengths == 0
    filled = int((lengths > 0).sum())
    for date_format in map(DateFormat.of, fmt.date_formats):
        rows = np.flatnonzero(lengths == len(date_format.template))
        if len(rows):
            rows, fields = fixed_width_fields(text, rows, date_format, every_value=len(rows) == filled)
            values, valid = compose_fields(fields, len(rows))
            micros[rows[valid]] = values[valid]
            handled[rows[valid]] = True
    return micros, handled


def _fast_digits(text: pa.Array, most: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A column of plain digits (up to ``most`` of them) and empty values, as int64."""
    data = _bytes(text)
    lengths = _lengths(text)
    if (len(data) and not ((data >= ord("0")) & (data <= ord("9"))).all()) or lengths.max(initial=0) > most:
        return None
    numbers = np.zeros(len(text), dtype=np.int64)
    filled = lengths > 0
    numbers[filled] = pc.cast(text.filter(pa.array(filled)), pa.int64()).to_numpy(zero_copy_only=False)
    return numbers, np.ones(len(text), dtype=bool)


def _fast_status(text: pa.Array, fmt: ValueFormat) -> tuple[np.ndarray, np.ndarray] | None:
    digits = _fast_digits(text, 2)
    if digits is None:
        return None
    numbers, _ = digits
    return numbers, (_lengths(text) == 0) | np.isin(numbers, list(DOSSIER_STATUS))


_BYTE_FLAGS = np.full(256, -1, dtype=np.int8)  # one-character yes/no words, either case
for _words, _flag in ((TRUE_WORDS, 1), (FALSE_WORDS, 0)):
    for _word in _words:
        if len(_word) == 1 and _word.isascii():
            _BYTE_FLAGS[ord(_word)] = _BYTE_FLAGS[ord(_word.upper())] = _flag


def _fast_bool(text: pa.Array, fmt: ValueFormat) -> tuple[np.ndarray, np.ndarray] | None:
    lengths = _lengths(text)
    if lengths.max(initial=0) > 1:
        return None
    flags = np.full(len(text), -1, dtype=np.int8)
    flags[lengths == 1] = _BYTE_FLAGS[_bytes(text)]
    return flags == 1, (lengths == 0) | (flags >= 0)


_FAST: dict[str, Callable[[pa.Array, ValueFormat], tuple[np.ndarray, np.ndarray] | None]] = {
    "timestamp": _fast_dates,
    "date": _fast_dates,
    "int": lambda text, fmt: _fast_digits(text, 9),
    "money": lambda text, fmt: _fast_digits(text, INT64_DIGITS),
    "status": _fast_status,
    "bool": _fast_bool,
}


def _numbers(values: pa.Array) -> np.ndarray:
    """Parsed values in the fast paths' numpy form (timestamps and dates as microseconds)."""
    if pa.types.is_boolean(values.type):
        return _mask(values)
    if pa.types.is_date(values.type):
        values = values.cast(pa.timestamp("us"))
    return pc.fill_null(pc.cast(values, pa.int64()), 0).to_numpy(zero_copy_only=False)


def _from_numbers(kind: str, data: np.ndarray, valid: np.ndarray) -> pa.Array:
    if kind == "bool":
        return pa.array(data, pa.bool_(), mask=~valid)
    if kind == "date":
        return pa.array((data // US_PER_DAY).astype(np.int32), pa.int32(), mask=~valid).cast(pa.date32())
    array = pa.array(data, pa.int64(), mask=~valid)
    return array.cast(pa.timestamp("us")) if kind == "timestamp" else array


def normalize_table(raw: pa.Table, entity: Entity, fmt: ValueFormat | None = None) -> NormalizedTable:
    """Parse every column of ``raw`` as the feed declares (``fmt``); bad or malformed rows become errors."""
    fmt = fmt or ValueFormat()
    raw = raw.combine_chunks()
    n = raw.num_rows
    typed: dict[str, pa.Array] = {ROW_COLUMN: _column(raw, ROW_COLUMN).cast(pa.int64())}
    if FILE_COLUMN in raw.column_names:
        typed[FILE_COLUMN] = _column(raw, FILE_COLUMN)
    problems: list[tuple[_Column, np.ndarray, str]] = []
    malformed = np.zeros(n, dtype=bool)
    if MALFORMED_COLUMN in raw.column_names:
        detail = _column(raw, MALFORMED_COLUMN)
        malformed = _present(detail)
        problems.append((_Column("(record)", text=detail), malformed, "malformed record"))
    for column in entity.columns:
        text = _column(raw, column.name) if column.name in raw.column_names else pa.nulls(n, pa.string())
        if column.kind == "text":
            cleaned = clean_text(text)
            typed[column.name] = cleaned
            seen = _Column(column.name, text=cleaned)
            if 0 in _bytes(text):  # PostgreSQL cannot store it: the whole COPY would fail
                problems.append((seen, _mask(pc.match_substring(cleaned, "\x00")), "contains a NUL byte"))
            missing = ~_present(cleaned)
        else:
            typed_column = _typed(column.name, column.kind, text, fmt)
            typed[column.name] = typed_column.values
            seen, missing = typed_column.seen, typed_column.missing
            problems += [(seen, bad, reason) for bad, reason in typed_column.problems]
        if column.required:
            problems.append((seen, missing, "required value missing"))
    bad_rows = np.zeros(n, dtype=bool)
    errors: list[dict] = []
    for seen, bad, reason in problems:
        if seen.name != "(record)":
            bad = bad & ~malformed  # a malformed record is reported once, as such
        if bad.any():
            bad_rows |= bad
            errors += _errors(raw, seen, np.flatnonzero(bad), reason)
    rows = pa.table(typed)
    if bad_rows.any():
        rows = rows.filter(pa.array(~bad_rows))
    return NormalizedTable(rows.cast(pa.schema([(name, ARROW_TYPES.get(_kind(entity, name), field.type))
                                                for name, field in zip(rows.column_names, rows.schema,
                                                                       strict=True)])), errors)


def _kind(entity: Entity, name: str) -> str:
    return next((c.kind for c in entity.columns if c.name == name), "")


def _column(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    if column.num_chunks == 1:
        return column.chunk(0)
    return column.combine_chunks() if column.num_chunks else pa.array([], column.type)


def _errors(raw: pa.Table, seen: _Column, positions: np.ndarray, reason: str) -> list[dict]:
    raw_columns = [c for c in raw.column_names if c not in (ROW_COLUMN, MALFORMED_COLUMN, FILE_COLUMN)]
    where = pa.array(positions)
    records = raw.select(raw_columns).take(where).to_pylist()
    rows = raw.column(ROW_COLUMN).take(where).to_pylist()
    files = (raw.column(FILE_COLUMN).take(where).to_pylist() if FILE_COLUMN in raw.column_names
             else [None] * len(positions))
    values = seen.values(positions)
    return [
        {"index": int(i), "row": int(row), "column": seen.name, "value": value, "reason": reason,
         "raw": record, **({"file": file} if file is not None else {})}
        for i, row, value, record, file in zip(positions, rows, values, records, files, strict=True)
    ]


# ---- pandas in, pandas out -------------------------------------------------------------------------

@dataclass
class NormalizedChunk:
    rows: pd.DataFrame  # ROW_COLUMN + the entity's columns, typed; only good rows
    errors: list[dict]  # index, row, column, value, reason, raw (the row's raw values)


def normalize_chunk(raw: pd.DataFrame, entity: Entity, fmt: ValueFormat | None = None) -> NormalizedChunk:
    """``normalize_table`` for a pandas chunk: typed pandas columns (Int64, boolean, datetime64[us])."""
    result = normalize_table(raw_table(raw), entity, fmt)
    good = np.ones(len(raw), dtype=bool)
    for error in result.errors:
        good[error["index"]] = False
    index = raw.index[good]
    rows = pd.DataFrame({name: to_series(result.rows.column(name).combine_chunks(), index)
                         for name in result.rows.column_names}, index=index)
    if ROW_COLUMN in rows:
        rows[ROW_COLUMN] = rows[ROW_COLUMN].astype("int64")
    errors = [{**e, "index": raw.index[e["index"]]} for e in result.errors]
    return NormalizedChunk(rows, errors)
