"""How a feed writes numbers and dates, declared per feed: values that do not fit are quarantined.

Nothing is guessed: ``1,234.5`` in a feed whose amounts are written ``1.234.567`` is not read as
1234.5 or 12345, and a JSON ``1234.5`` is not a whole VND amount. Reading another locale's
separators as thousands separators is how amounts came out 10-100x too large.

The rules run on Arrow string arrays (``pyarrow.compute``, regular expressions in RE2), usually
on a column's distinct values: ``load.normalize`` applies them, whatever format the feed has.
Each parser returns ``(values, bad, reason)``: typed Arrow values (null where the text is null or
bad), a numpy mask of the values that were there but do not fit, and what a person should read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# number style -> (pattern of a whole amount, what a person should see in the reason)
NUMBER_STYLES = {
    "vi": (r"-?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)", "1.234.567 or 1234567"),
    "en": (r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)", "1,234,567 or 1234567"),
    "plain": (r"-?[0-9]+", "digits only, like 1234567"),
    "json": (r"-?[0-9]+", "a JSON integer"),
}
DATE_STYLES = {
    # dd/MM/yyyy [HH:mm[:ss]] and ISO 8601 differ in their separators: no value fits two of them.
    "vi": ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
           "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"),
    "iso": ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"),
}
DATE_REASON = "not a date (dd/MM/yyyy [HH:mm])"

# What ``str.strip`` and Python's ``\s`` take for white space (RE2's ``\s`` is ASCII only).
WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
WHITESPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
CURRENCY = f"(?i){WHITESPACE_CLASS}*(?:vnđ|vnd|đồng|đ|₫)$"  # NFC text: "150.000 đ", "50.000 VNĐ"

INT64_DIGITS = 18  # any run of up to 18 digits fits a signed 64-bit integer


@dataclass(frozen=True)
class ValueFormat:
    """A feed's declared number and date styles (``config/feeds.yaml``: ``numbers``, ``dates``)."""

    numbers: str = "vi"
    dates: str = "vi"

    def __post_init__(self) -> None:
        if self.numbers not in NUMBER_STYLES:
            raise ValueError(f"unknown number style {self.numbers!r} (expected {', '.join(NUMBER_STYLES)})")
        if self.dates not in DATE_STYLES:
            raise ValueError(f"unknown date style {self.dates!r} (expected {', '.join(DATE_STYLES)})")

    @property
    def date_formats(self) -> tuple[str, ...]:
        return DATE_STYLES[self.dates]


def _mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, null as False."""
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def _integers(digits: pa.Array, fits: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """``digits`` (``-?[0-9]+`` where ``fits``) as int64, and where they are one (not past 64 bits)."""
    significant = pc.fill_null(pc.utf8_length(pc.utf8_ltrim(digits, "-0")), 0).to_numpy(zero_copy_only=False)
    sure = fits & (significant <= INT64_DIGITS)
    values = np.zeros(len(digits), dtype=np.int64)
    values[sure] = pc.cast(digits.filter(pa.array(sure)), pa.int64()).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(fits & (significant == INT64_DIGITS + 1)):  # 19 digits: some fit
        value = int(digits[int(i)].as_py())
        if -(2**63) <= value < 2**63:
            values[i], sure[i] = value, True
    return pa.array(values, pa.int64(), mask=~sure), sure


def whole_amounts(text: pa.Array, style: str) -> tuple[pa.Array, np.ndarray, str]:
    """(int64 values, bad mask, reason) for VND amounts written in ``style``."""
    pattern, shown = NUMBER_STYLES[style]
    digits = text if style == "json" else pc.replace_substring_regex(text, CURRENCY, "")
    fits = _mask(pc.match_substring_regex(digits, f"^(?:{pattern})$"))
    values, ok = _integers(pc.replace_substring_regex(digits, "[.,]", ""), fits)
    reason = f"not a VND amount as this feed writes them ({shown})"
    return values, _mask(pc.is_valid(text)) & ~ok, reason


def whole_numbers(text: pa.Array) -> tuple[pa.Array, np.ndarray, str]:
    """Counts and codes: digits only (``2.0``, ``1e1``, ``1.234`` are not read as whole numbers)."""
    values, ok = _integers(text, _mask(pc.match_substring_regex(text, "^-?[0-9]+$")))
    return values, _mask(pc.is_valid(text)) & ~ok, "not a whole number"


# ---- dates ---------------------------------------------------------------------------------------
#
# A format is read as pandas' ``to_datetime(format=...)`` read it (the loader's rule until the
# Arrow stage): day, month, hour, minute and second of one or two digits, a year of four, a space
# in the format standing for any run of white space, ``T`` for ``T`` (or ``t``); seconds 60 and 61
# roll into the next minute. A value is read by the first of the feed's formats it fits. Unlike
# pandas, year 0000 and years before it are not dates (PostgreSQL refused them at COPY).

_FIELDS = {"d": 2, "m": 2, "Y": 4, "H": 2, "M": 2, "S": 2}  # directive -> digits when zero-padded
_PATTERNS = {"d": "[0-9]{1,2}| [0-9]", "Y": "[0-9]{4}"}  # a day may be padded with a space
_PATTERNS |= {field: "[0-9]{1,2}" for field in _FIELDS if field not in _PATTERNS}
_UNIX_DAY0 = 719_468  # days from 0000-03-01 to 1970-01-01 (civil calendar)
US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


@dataclass(frozen=True)
class DateFormat:
    """One strptime format as a pattern (any form) and a fixed-width template (the zero-padded form)."""

    format: str
    fields: tuple[str, ...]  # directives in order
    pattern: str  # RE2, one named group per field
    template: bytes  # zero-padded form; b"#" where a digit goes
    positions: dict[str, slice]  # field -> its digits in the template

    @classmethod
    def of(cls, fmt: str) -> DateFormat:
        fields, pattern, template, positions = [], "^", b"", {}
        for token in re.findall(r"%.|.", fmt, flags=re.S):
            if token.startswith("%"):
                field = token[1]
                fields.append(field)
                width = _FIELDS[field]
                pattern += f"(?P<{field}>{_PATTERNS[field]})"
                positions[field] = slice(len(template), len(template) + width)
                template += b"#" * width
            elif token.isspace():
                pattern += f"{WHITESPACE_CLASS}+"
                template += b" "
            elif token == "T":
                pattern += "[Tt]"
                template += b"T"
            else:
                pattern += re.escape(token)
                template += token.encode()
        return cls(fmt, tuple(fields), pattern + "$", template, positions)


def timestamps(text: pa.Array, formats: tuple[str, ...]) -> tuple[pa.Array, np.ndarray, str]:
    """(timestamp[us] values, bad mask, reason): each value read by the first format it fits."""
    micros = np.zeros(len(text), dtype=np.int64)
    done = np.zeros(len(text), dtype=bool)
    todo = _mask(pc.is_valid(text))
    for fmt in map(DateFormat.of, formats):
        if not todo.any():
            break
        found, values = _read_format(text, todo, fmt)
        micros[found] = values
        done[found] = True
        todo[found] = False
    values = pa.array(micros, pa.int64(), mask=~done).cast(pa.timestamp("us"))
    return values, todo, DATE_REASON


def _read_format(text: pa.Array, todo: np.ndarray, fmt: DateFormat) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the ``todo`` values that ``fmt`` reads, and their microseconds since 1970."""
    parts: dict[str, np.ndarray] = {}
    rows = np.flatnonzero(todo & (pc.binary_length(text).to_numpy(zero_copy_only=False) == len(fmt.template)))
    fixed, fields = fixed_width_fields(text, rows, fmt)
    rest = np.setdiff1d(np.flatnonzero(todo), fixed, assume_unique=True)
    matched = rest[:0]
    if len(rest):
        groups = pc.extract_regex(text.take(pa.array(rest)), fmt.pattern)
        ok = _mask(pc.is_valid(groups))
        matched = rest[ok]
        groups = groups.filter(pa.array(ok))
        for field in fmt.fields:
            digits = pc.utf8_ltrim(groups.field(field), " ")
            numbers = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
            parts[field] = np.concatenate([fields[field], numbers])
    else:
        parts = fields
    rows = np.concatenate([fixed, matched])
    micros, valid = compose_fields(parts, len(rows))
    return rows[valid], micros[valid]


def fixed_width_fields(text: pa.Array, rows: np.ndarray, fmt: DateFormat,
                       every_value: bool = False) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Of ``rows`` (values as long as ``fmt``'s zero-padded form, like ``01/03/2024 07:30``), those
    in that form, and their fields, read digit by digit with numpy. ``every_value``: ``rows`` are
    all the non-empty values of ``text`` (then its bytes are read in place)."""
    if not len(rows):
        return rows, {f: np.zeros(0, dtype=np.int64) for f in fmt.fields}
    chosen = text if every_value else text.take(pa.array(rows))
    width = len(fmt.template)
    offsets, data = chosen.buffers()[1:3]
    start = np.frombuffer(offsets, dtype=np.int32, count=1, offset=chosen.offset * 4)[0]
    grid = np.frombuffer(data, dtype=np.uint8, count=len(rows) * width, offset=start).reshape(-1, width)
    ok = np.ones(len(rows), dtype=bool)
    digits = {}
    for at, expected in enumerate(fmt.template):
        column = grid[:, at]
        if expected == ord("#"):
            digits[at] = column - np.uint8(ord("0"))  # wraps around below "0": not < 10
            ok &= digits[at] < 10
        else:
            ok &= column == expected
    fields = {}
    for field, where in fmt.positions.items():
        value = np.zeros(len(rows), dtype=np.int32)
        for at in range(where.start, where.stop):
            value = value * 10 + digits[at]
        fields[field] = value[ok]
    return rows[ok], fields


def compose_fields(parts: dict[str, np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds since 1970 from calendar fields, and which fields make a real date and time."""
    zero = np.zeros(size, dtype=np.int32)
    year, month, day = (parts[f].astype(np.int32, copy=False) for f in "Ymd")
    hour, minute, second = (parts.get(f, zero).astype(np.int32, copy=False) for f in "HMS")
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 0, 12)]
    valid = ((year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
             & (day <= month_days + (leap & (month == 2))) & (hour <= 23) & (minute <= 59) & (second <= 61))
    y = year - (month <= 2)  # days from civil (proleptic Gregorian), Howard Hinnant's algorithm
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - _UNIX_DAY0
    seconds = (hour * 60 + minute) * 60 + second
    return days.astype(np.int64) * US_PER_DAY + seconds.astype(np.int64) * US_PER_SECOND, valid
