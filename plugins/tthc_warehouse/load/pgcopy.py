"""Typed Arrow tables -> PostgreSQL's binary COPY format.

A row of the format is a 16-bit field count, then per field a 32-bit length (-1: NULL) and the
value in PostgreSQL's binary form (big-endian integers, microseconds or days since 2000-01-01,
UTF-8 text as is). The server then stores values without parsing text, which halves its share
of the COPY next to ``format csv``.

``BinaryCopy.prepare`` gives every column the Arrow type whose binary form is the staging column's
(int2/int4/int8, flags, timestamps to the second, dates, text; ``numeric`` values already in
``numeric_send``'s form, which goes through as raw bytes). pgpq (Rust) then writes the rows; where
it has no wheel (Linux on ARM), Arrow and numpy write the same bytes: the fixed-width fields of a
row in one numpy byte grid, the text and its lengths joined to it by ``binary_join_element_wise``.
Neither runs Python code per row or per value.

Timestamps are stored to the second, as the staging rules have always had them; zone-aware values
are in UTC (PostgreSQL's own form of ``timestamptz``).
"""

from __future__ import annotations

import decimal
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

try:
    from pgpq import ArrowToPostgresBinaryEncoder
except ImportError:  # no wheel for this platform: encode with Arrow
    ArrowToPostgresBinaryEncoder = None

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
_EPOCH_2000_DAYS = 10_957  # 2000-01-01 - 1970-01-01
_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
PGPQ_ROWS = 4096

# PostgreSQL type (as the contract or information_schema name it) -> our name for its encoding
TYPES = {
    "bigint": "int8", "int8": "int8", "integer": "int4", "int4": "int4", "int": "int4",
    "smallint": "int2", "int2": "int2", "boolean": "bool", "bool": "bool",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz", "date": "date",
    "numeric": "numeric", "text": "text", "character varying": "text", "varchar": "text",
}
_WIDTH = {"int8": 8, "int4": 4, "int2": 2, "bool": 1, "timestamp": 8, "timestamptz": 8, "date": 4}


@dataclass(frozen=True)
class BinaryCopy:
    """Encodes tables for ``COPY table (columns) FROM STDIN (FORMAT binary)`` of a known table."""

    columns: tuple[tuple[str, str], ...]  # (name, encoding) in the order the COPY lists them

    @classmethod
    def of(cls, columns: Iterable[tuple[str, str]]) -> BinaryCopy:
        """From (name, PostgreSQL type) pairs; fixed-width columns go first (one grid)."""
        typed = [(name, TYPES[pg_type.lower()]) for name, pg_type in columns]
        return cls(tuple(sorted(typed, key=lambda c: c[1] not in _WIDTH)))

    def statement(self, table: sql.Composable) -> sql.Composed:
        names = sql.SQL(", ").join(sql.Identifier(name) for name, _ in self.columns)
        return sql.SQL("copy {} ({}) from stdin (format binary)").format(table, names)

    def prepare(self, table: pa.Table) -> pa.Table:
        """The COPY's columns of ``table`` (extra ones ignored), typed as their binary form wants."""
        return pa.table({name: _prepared(_contiguous(table.column(name)), kind)
                         for name, kind in self.columns})

    def encode(self, table: pa.Table) -> list[bytes | memoryview | pa.Buffer]:
        """The rows of ``table`` in the format, without its header and trailer (in pieces)."""
        if table.num_rows == 0:
            return []
        prepared = self.prepare(table)
        if ArrowToPostgresBinaryEncoder is None:
            return [self.encode_with_arrow(prepared)]
        encoder = ArrowToPostgresBinaryEncoder(prepared.schema)
        encoder.write_header()  # = HEADER, which the COPY writes once
        # pgpq holds the GIL while it writes: small batches let the COPY go on in between
        parts = [encoder.write_batch(batch) for batch in prepared.to_batches(max_chunksize=PGPQ_ROWS)]
        parts.append(memoryview(encoder.finish())[:-len(TRAILER)])  # it buffers: finish() flushes
        return [part for part in parts if len(part)]

    def encode_with_arrow(self, prepared: pa.Table) -> pa.Buffer:
        """``encode`` of a prepared table, by Arrow and numpy alone."""
        n = prepared.num_rows
        arrays = {name: _contiguous(prepared.column(name)) for name, _ in self.columns}
        fixed = [(name, kind) for name, kind in self.columns if kind in _WIDTH]
        parts = [_grid(len(self.columns), [(arrays[name], kind) for name, kind in fixed], n)]
        for name, _ in self.columns[len(fixed):]:
            values = arrays[name].cast(pa.large_binary())
            parts += [_lengths(values), values]
        rows = pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.large_binary()),
                                           null_handling="replace", null_replacement=b"")
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64, count=n + 1, offset=rows.offset * 8)
        return rows.buffers()[2][int(offsets[0]):int(offsets[-1])]


def _prepared(array: pa.Array, kind: str) -> pa.Array:
    """``array`` as the Arrow type whose binary form is the column's: int2/4/8, bool, timestamp[us]
    (to the second; UTC for timestamptz), date32, text; numeric as ``numeric_send`` bytes."""
    if kind in ("int8", "int4", "int2"):
        return pc.cast(array, {"int8": pa.int64(), "int4": pa.int32(), "int2": pa.int16()}[kind])
    if kind == "bool":
        return pc.cast(array, pa.bool_())
    if kind in ("timestamp", "timestamptz"):
        micros = _micros(array)
        micros -= micros % _US_PER_SECOND  # to the second (floor, also before 1970)
        return pa.array(micros, pa.int64(), mask=_missing(array)).cast(
            pa.timestamp("us", tz="UTC" if kind == "timestamptz" else None))
    if kind == "date":
        if pa.types.is_date32(array.type):
            return array
        return pa.array((_micros(array) // _US_PER_DAY).astype(np.int32), pa.int32(),
                        mask=_missing(array)).cast(pa.date32())
    if kind == "numeric":
        return _numeric(array)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    return array


def _missing(array: pa.Array) -> np.ndarray | None:
    valid = _valid(array)
    return None if valid is None else ~valid


def _contiguous(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column


def _valid(array: pa.Array) -> np.ndarray | None:
    """Where values are present (None: all of them)."""
    if array.null_count == 0:
        return None
    return pc.is_valid(array).to_numpy(zero_copy_only=False)


def _grid(count: int, fixed: list[tuple[pa.Array, str]], n: int) -> pa.Array:
    """The field count and every fixed-width field of each row, as one binary value per row."""
    width = 2 + sum(4 + _WIDTH[kind] for _, kind in fixed)
    grid = np.empty((n, width), dtype=np.uint8)
    grid[:, :2] = np.frombuffer(struct.pack(">h", count), dtype=np.uint8)
    keep = None
    at = 2
    for array, kind in fixed:
        size = _WIDTH[kind]
        valid = _valid(array)
        prefix = np.full(n, size, dtype=">i4")
        if valid is not None:
            prefix[~valid] = -1
        grid[:, at:at + 4] = prefix.view(np.uint8).reshape(n, 4)
        grid[:, at + 4:at + 4 + size] = _fixed_values(array, kind).view(np.uint8).reshape(n, size)
        if valid is not None:
            if keep is None:
                keep = np.ones((n, width), dtype=bool)
            keep[~valid, at + 4:at + 4 + size] = False  # a NULL is its length alone
        at += 4 + size
    if keep is None:
        data, sizes = grid.reshape(-1), np.full(n, width, dtype=np.int64)
    else:
        data, sizes = grid[keep], keep.sum(axis=1, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _fixed_values(array: pa.Array, kind: str) -> np.ndarray:
    """Big-endian values of a prepared column (anything where NULL: those bytes are dropped)."""
    if kind == "bool":
        return pc.fill_null(array, False).to_numpy(zero_copy_only=False).astype(">u1")
    if kind in ("timestamp", "timestamptz"):
        return (_micros(array) - _EPOCH_2000_DAYS * _US_PER_DAY).astype(">i8")
    if kind == "date":
        return (pc.fill_null(pc.cast(array, pa.int32()), 0).to_numpy(zero_copy_only=False)
                - _EPOCH_2000_DAYS).astype(">i4")
    return np.asarray(pc.fill_null(array, 0)).astype(f">i{_WIDTH[kind]}")


def _micros(array: pa.Array) -> np.ndarray:
    """A timestamp (or date) array as int64 microseconds since 1970 (NULL as 0)."""
    if pa.types.is_date(array.type):
        array = pc.cast(array, pa.timestamp("us"))
    unit = array.type.unit
    values = pc.fill_null(pc.cast(array, pa.int64()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return {"s": values * _US_PER_SECOND, "ms": values * 1000, "us": values, "ns": values // 1000}[unit]


def _lengths(values: pa.Array) -> pa.Array:
    """Each value's 32-bit big-endian byte length, -1 for NULL, as 4-byte binary values."""
    lengths = pc.fill_null(pc.binary_length(values), -1).to_numpy(zero_copy_only=False).astype(">i4")
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(4), len(values), [None, pa.py_buffer(lengths)])
    return fixed.cast(pa.large_binary())


def _numeric(array: pa.Array) -> pa.Array:
    """Decimal text (as ``numeric_in`` reads it) in ``numeric``'s binary form, once per distinct value."""
    encoded = pc.dictionary_encode(pc.cast(array, pa.string()))
    forms = [None if v is None else numeric_binary(v) for v in encoded.dictionary.to_pylist()]
    return pa.array(forms, pa.large_binary()).take(encoded.indices)


def numeric_binary(text: str) -> bytes:
    """``numeric_send``'s form: digit count, weight, sign, display scale, base-10000 digits."""
    value = decimal.Decimal(text.strip())
    if value.is_nan():
        return struct.pack(">hhHh", 0, 0, 0xC000, 0)
    if value.is_infinite():
        return struct.pack(">hhHh", 0, 0, 0xF000 if value.is_signed() else 0xD000, 0)
    sign, digits, exponent = value.as_tuple()
    scale = max(0, -exponent)
    text_digits = "".join(map(str, digits)) + "0" * max(0, exponent)
    point = len(text_digits) - scale  # digits before the decimal point
    whole, fraction = text_digits[:max(point, 0)], "0" * max(-point, 0) + text_digits[max(point, 0):]
    whole = whole.zfill((len(whole) + 3) // 4 * 4)
    fraction = fraction.ljust((len(fraction) + 3) // 4 * 4, "0")
    groups = [int(whole[i:i + 4]) for i in range(0, len(whole), 4)]
    groups += [int(fraction[i:i + 4]) for i in range(0, len(fraction), 4)]
    weight = len(whole) // 4 - 1
    while groups and groups[0] == 0:  # numeric_recv keeps what it is given: send it trimmed
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:  # zero has no sign
        weight, sign = 0, 0
    return struct.pack(f">hhHh{len(groups)}H", len(groups), weight, 0x4000 if sign else 0, scale, *groups)
