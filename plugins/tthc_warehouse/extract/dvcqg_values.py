"""Reading single values of the portal's 766 responses: codes, names, numbers, the period."""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from tthc_warehouse.extract.base import SourceError

# A number sent as text is taken only when it is written exactly as a JSON number would be:
# "1.234" could be 1234 in Vietnamese notation, so anything else is refused, not guessed.
_EXACT_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")
_H_CODE = re.compile(r"h\d+(\.\d+)*", re.IGNORECASE)


class Index766FormatError(SourceError):
    """A portal response that cannot be read as an index-766 snapshot."""

    def __init__(self, source: str, path: str, problem: str):
        self.source, self.path, self.problem = source, path, problem
        super().__init__(f"{source}: {path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the error picklable across worker processes despite the 3-argument constructor.
        return type(self), (self.source, self.path, self.problem)


def fail(source: str, path: str, problem: str) -> NoReturn:
    raise Index766FormatError(source, path, problem)


def expect(value: Any, kind: type, path: str, source: str) -> Any:
    """``value`` if it is a ``kind`` (dict or list), else a format error at ``path``."""
    if not isinstance(value, kind):
        shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:57]}..."
        want = "an object" if kind is dict else "a list"
        fail(source, path, "missing or null" if value is None else f"expected {want}, got {shown}")
    return value


def need(node: dict[str, Any], key: str, path: str, source: str) -> Any:
    if key not in node:
        fail(source, f"{path}.{key}", "missing")
    return node[key]


def clean(value: str) -> str:
    """NFC, trimmed, inner runs of spaces collapsed: the same unit always reads the same."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def text(node: dict[str, Any], key: str, path: str, source: str) -> str:
    value = need(node, key, path, source)
    if not isinstance(value, str) or not value.strip():
        fail(source, f"{path}.{key}", f"expected a non-empty string, got {value!r}")
    return clean(value)


def code(node: dict[str, Any], key: str, path: str, source: str) -> str:
    """A unit code: H-codes upper-case (' h44.07 ' is H44.07), UUIDs lower-case."""
    value = text(node, key, path, source).replace(" ", "")
    return value.upper() if _H_CODE.fullmatch(value) else value.lower()


def num(node: dict[str, Any], key: str, path: str, source: str, errors: list[str]
        ) -> Decimal | None:
    """A number as Decimal; null stays None (it means "not computed", not 0).

    Exact numbers sent as text are accepted; inexact text is recorded in ``errors`` (the caller
    quarantines the unit) and read as None. Anything else breaks the file's format.
    """
    value = need(node, key, path, source)
    if value is None or (isinstance(value, Decimal) and value.is_finite()):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        stripped = value.strip()
        if _EXACT_NUMBER.fullmatch(stripped):
            return Decimal(stripped)
        errors.append(f"{path}.{key}: {value!r} is not an exact number")
        return None
    fail(source, f"{path}.{key}", f"expected a finite number or null, got {value!r}")


def load_data(payload: bytes | str, source: str) -> dict[str, Any]:
    """Decode the envelope ``{"code": "OK", "data": {...}}`` and return ``data``."""
    try:
        # NaN/Infinity become Decimal too, so num() can refuse them with their JSON path.
        doc = json.loads(payload, parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, RecursionError) as exc:
        head = payload[:80]
        head = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
        fail(source, "$", f"response is not valid JSON ({exc}); it starts with {head!r}")
    expect(doc, dict, "$", source)
    if doc.get("code") != "OK":
        fail(source, "code", f"expected 'OK', got {doc.get('code')!r} "
                             f"(message: {doc.get('message')!r})")
    return expect(doc.get("data"), dict, "data", source)


def _chart_month(entry: dict[str, Any]) -> int | None:
    label = entry.get("month", entry.get("label"))
    try:
        return int(label)
    except (TypeError, ValueError):
        return None


def check_period(data: dict[str, Any], period_type: str, period_start: datetime.date,
                 source: str) -> None:
    """The month the payload's own monthlyChart has figures for must be the file's month.

    A month's response shows figures in that month's chart entry only (the fixtures: "08");
    a chart with several non-zero months (a year view) or none says nothing and is not checked.
    """
    chart = data.get("monthlyChart")
    if period_type != "month" or not isinstance(chart, list):
        return
    try:
        months = {_chart_month(e) for e in chart if isinstance(e, dict) and any(
            v not in (0, None) for k, v in e.items() if k not in ("month", "label"))}
    except InvalidOperation:
        return
    months.discard(None)
    if len(months) == 1 and (month := months.pop()) != period_start.month:
        fail(source, "data.monthlyChart", f"the payload has figures for month {month:02d}, "
                                          f"the file is for {period_start:%Y-%m}")
