"""Binary COPY encoding: each PostgreSQL type's form, NULLs, timestamps to the second, numeric."""

from __future__ import annotations

import datetime as dt
import struct
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from tthc_warehouse.load import pgcopy
from tthc_warehouse.load.pgcopy import BinaryCopy

pytestmark = pytest.mark.unit

POSTGRES_EPOCH = dt.datetime(2000, 1, 1)
COLUMNS = [("n", "integer"), ("b", "boolean"), ("t", "timestamp"), ("z", "timestamptz"), ("s", "text"),
           ("m", "bigint"), ("c", "smallint"), ("d", "date"), ("x", "numeric")]


def decode(payload: bytes, kinds: list[str]) -> list[tuple]:
    """Rows of a binary COPY body, read back field by field (the reverse of the format)."""
    rows, at = [], 0
    while at < len(payload):
        (count,), at = struct.unpack_from(">h", payload, at), at + 2
        assert count == len(kinds)
        row = []
        for kind in kinds:
            (size,), at = struct.unpack_from(">i", payload, at), at + 4
            if size < 0:
                row.append(None)
                continue
            raw, at = payload[at:at + size], at + size
            row.append(_value(kind, raw))
        rows.append(tuple(row))
    return rows


def _value(kind: str, raw: bytes):
    if kind in ("int8", "int4", "int2"):
        return int.from_bytes(raw, "big", signed=True)
    if kind == "bool":
        return raw == b"\x01"
    if kind in ("timestamp", "timestamptz"):
        return POSTGRES_EPOCH + dt.timedelta(microseconds=int.from_bytes(raw, "big", signed=True))
    if kind == "date":
        return POSTGRES_EPOCH.date() + dt.timedelta(days=int.from_bytes(raw, "big", signed=True))
    if kind == "numeric":
        return raw
    return raw.decode()


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "n": pd.array([1, None, -3], dtype="Int64"),
        "b": pd.array([True, False, None], dtype="boolean"),
        "t": pd.Series(pd.to_datetime(["2024-01-02 08:00:05.9", None, "1969-12-31 23:59:59.5"])),
        "z": pd.Series(pd.to_datetime(["2024-01-02T08:00:00+07:00", None, None], utc=True)),
        "s": pd.Series(["a\tb\\c\nd\re,\"x\"", None, ""], dtype=object),
        "m": pd.array([10**15, 0, None], dtype="Int64"),
        "c": pd.array([10, None, 1], dtype="Int64"),
        "d": pd.Series(pd.to_datetime(["2024-02-29", None, "1999-12-31"])),
        "x": pd.array(["1.50", None, "-0.001"], dtype="string"),
    })


def test_each_type_in_its_binary_form_nulls_and_timestamps_to_the_second() -> None:
    """What copy_text wrote in text form: floors to the second (also before 1970), UTC for
    zone-aware values, text as it is (no escapes needed in binary), NULL apart from ''."""
    copy = BinaryCopy.of(COLUMNS)
    payload = b"".join(bytes(p) for p in copy.encode(pa.Table.from_pandas(frame(), preserve_index=False)))
    kinds = [kind for _, kind in copy.columns]
    rows = [dict(zip([name for name, _ in copy.columns], row, strict=True)) for row in decode(payload, kinds)]
    assert [r["n"] for r in rows] == [1, None, -3]
    assert [r["b"] for r in rows] == [True, False, None]
    assert [r["t"] for r in rows] == [dt.datetime(2024, 1, 2, 8, 0, 5), None,
                                      dt.datetime(1969, 12, 31, 23, 59, 59)]
    assert [r["z"] for r in rows] == [dt.datetime(2024, 1, 2, 1, 0), None, None]  # UTC
    assert [r["s"] for r in rows] == ['a\tb\\c\nd\re,"x"', None, ""]
    assert [r["m"] for r in rows] == [10**15, 0, None]
    assert [r["c"] for r in rows] == [10, None, 1]
    assert [r["d"] for r in rows] == [dt.date(2024, 2, 29), None, dt.date(1999, 12, 31)]
    assert [r["x"] for r in rows] == [pgcopy.numeric_binary("1.50"), None, pgcopy.numeric_binary("-0.001")]
    assert copy.columns[-2:] == (("s", "text"), ("x", "numeric"))  # fixed-width fields first


def test_pgpq_and_the_arrow_encoder_write_the_same_bytes() -> None:
    """pgpq has no wheel for Linux on ARM: there the Arrow encoder writes every row."""
    copy = BinaryCopy.of(COLUMNS)
    table = pa.Table.from_pandas(pd.concat([frame()] * 50, ignore_index=True), preserve_index=False)
    by_arrow = bytes(copy.encode_with_arrow(copy.prepare(table)))
    assert decode(by_arrow, [kind for _, kind in copy.columns])[:3] == decode(
        bytes(copy.encode_with_arrow(copy.prepare(table.slice(0, 3)))), [kind for _, kind in copy.columns])
    if pgcopy.ArrowToPostgresBinaryEncoder is not None:
        assert b"".join(bytes(p) for p in copy.encode(table)) == by_arrow


@pytest.mark.parametrize(("text", "ndigits", "weight", "sign", "scale", "digits"), [
    ("0", 0, 0, 0, 0, ()),
    ("-0.00", 0, 0, 0, 2, ()),
    ("1.50", 2, 0, 0, 2, (1, 5000)),
    ("-0.001", 1, -1, 0x4000, 3, (10,)),
    ("12345678.9", 3, 1, 0, 1, (1234, 5678, 9000)),
    ("1e5", 1, 1, 0, 0, (10,)),
    ("100000000", 1, 2, 0, 0, (1,)),
])
def test_numeric_in_numeric_send_form(text, ndigits, weight, sign, scale, digits) -> None:
    expected = struct.pack(f">hhHh{ndigits}H", ndigits, weight, sign, scale, *digits)
    assert pgcopy.numeric_binary(text) == expected
    assert Decimal(text) == _decimal(pgcopy.numeric_binary(text))


def _decimal(raw: bytes) -> Decimal:
    ndigits, weight, sign, _ = struct.unpack_from(">hhHh", raw)
    digits = struct.unpack_from(f">{ndigits}H", raw, 8)
    value = sum(Decimal(d) * Decimal(10000) ** (weight - i) for i, d in enumerate(digits))
    return -value if sign == 0x4000 else value


def test_numeric_specials() -> None:
    assert pgcopy.numeric_binary("NaN") == struct.pack(">hhHh", 0, 0, 0xC000, 0)
    assert pgcopy.numeric_binary("Infinity") == struct.pack(">hhHh", 0, 0, 0xD000, 0)
    assert pgcopy.numeric_binary("-inf") == struct.pack(">hhHh", 0, 0, 0xF000, 0)
