"""The national portal's Decision-766 evaluation API (dichvucong.gov.vn) as index-766 snapshot rows.

Each response is one indicator group for one province and period: a province node plus its
departments and communes. Every unit gives a "TOTAL" row (the group's score, max score and ratio)
and one row per numerator/denominator counter. Values are kept as the portal published them:
``null`` stays None, ``0`` stays 0, numbers are ``Decimal`` (DOMAIN.md §4, fixtures/dvcqg/README).
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, NamedTuple, NoReturn

from tthc_warehouse.extract.base import SourceError

TOTAL = "TOTAL"


class Index766FormatError(SourceError):
    """A portal response that cannot be read as an index-766 snapshot."""

    def __init__(self, source: str, path: str, problem: str):
        self.source, self.path, self.problem = source, path, problem
        super().__init__(f"{source}: {path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the error picklable across worker processes despite the 3-argument constructor.
        return type(self), (self.source, self.path, self.problem)


@dataclass(frozen=True)
class _Counter:
    code: str
    numerator: str
    denominator: str
    parent_only: bool = False
    # True when the unit's own ratio/score measure this counter (dvc): elsewhere the unit's
    # ratio is the group score ratio (payment: 82913/98459 = 84.2 % but ratio 62.5).
    carries_score: bool = False


@dataclass(frozen=True)
class _Group:
    shape: Literal["tree", "metrics"]
    counters: tuple[_Counter, ...] = ()
    child_score_keys: tuple[str, str] = ("totalScore", "totalMaxScore")
    code_required: bool = True


GROUPS: dict[str, _Group] = {
    "dvc-progress": _Group("tree", (_Counter("ON_TIME", "totalOnTime", "totalReceived",
                                             carries_score=True),), ("score", "maxScore")),
    # Children carry scores only; the province node also has channel counters (DOMAIN §4,
    # online submission rate = channel 2 / received).
    "provide-online": _Group("tree", (_Counter("ONLINE_SUBMISSION", "channelOnlineSum",
                                               "channelTotalSum", parent_only=True),)),
    "online-payment": _Group("tree", (_Counter("ONLINE_PAYMENT", "totalDossierOnlinePaymentSuccess",
                                               "totalDossierFinancialObligation"),)),
    # transparency and handling items have no departmentCode (only departmentId).
    "transparency": _Group("metrics", code_required=False),
    "handling-satisfaction": _Group("metrics", code_required=False),
    "dossier-digitized": _Group("metrics"),
}
_ALIASES = {"dvc-progress-tree": "dvc-progress", "provide-online-tree": "provide-online",
            "formality-online-payment-tree": "online-payment"}


class _Unit(NamedTuple):
    path: str
    node: dict[str, Any]
    code: str
    name: str
    level: str | None
    parent_code: str | None


class _Figures(NamedTuple):
    numerator: Decimal | None
    denominator: Decimal | None
    ratio: Decimal | None
    score: Decimal | None
    max_score: Decimal | None


def _fail(source: str, path: str, problem: str) -> NoReturn:
    raise Index766FormatError(source, path, problem)


def canonical_group(group: str, source: str) -> str:
    """Map a group name or fixture file-name stem ("dvc-progress-tree.month-all") to its name."""
    stem = group.split(".", 1)[0]
    name = _ALIASES.get(stem, stem)
    if name == "formalities":
        _fail(source, "group", f"{group!r} is the procedure catalogue, not a 766 score group")
    if name not in GROUPS:
        raise ValueError(f"unknown index-766 group {group!r}; expected one of {sorted(GROUPS)}")
    return name


def _expect(value: Any, kind: type, path: str, source: str) -> Any:
    """``value`` if it is a ``kind`` (dict or list), else a format error at ``path``."""
    if not isinstance(value, kind):
        shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:57]}..."
        want = "an object" if kind is dict else "a list"
        _fail(source, path, "missing or null" if value is None else f"expected {want}, got {shown}")
    return value


def _load_data(payload: bytes | str, source: str) -> dict[str, Any]:
    """Decode the envelope ``{"code": "OK", "data": {...}}`` and return ``data``."""
    try:
        # NaN/Infinity become Decimal too, so _num can refuse them with their JSON path.
        doc = json.loads(payload, parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, RecursionError) as exc:
        head = payload[:80]
        head = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
        _fail(source, "$", f"response is not valid JSON ({exc}); it starts with {head!r}")
    _expect(doc, dict, "$", source)
    if doc.get("code") != "OK":
        _fail(source, "code", f"expected 'OK', got {doc.get('code')!r} "
                              f"(message: {doc.get('message')!r})")
    return _expect(doc.get("data"), dict, "data", source)


def _need(node: dict[str, Any], key: str, path: str, source: str) -> Any:
    if key not in node:
        _fail(source, f"{path}.{key}", "missing")
    return node[key]


def _text(node: dict[str, Any], key: str, path: str, source: str) -> str:
    value = _need(node, key, path, source)
    if not isinstance(value, str) or not value.strip():
        _fail(source, f"{path}.{key}", f"expected a non-empty string, got {value!r}")
    return value


def _num(node: dict[str, Any], key: str, path: str, source: str) -> Decimal | None:
    """A number as Decimal; null stays None (it means "not computed", not 0)."""
    value = _need(node, key, path, source)
    if value is None or (isinstance(value, Decimal) and value.is_finite()):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    _fail(source, f"{path}.{key}", f"expected a finite number or null, got {value!r}")


def _code_key(node: dict[str, Any], spec: _Group) -> str:
    # transparency/handling items carry only departmentId (the README: departmentCode is in
    # dossier-digitized only), so their units are keyed by the portal's UUID instead of the H-code.
    return "departmentCode" if spec.code_required or "departmentCode" in node else "departmentId"


def _units(data: dict[str, Any], spec: _Group, source: str) -> list[_Unit]:
    """The province node (parent_code None) followed by its children, in response order."""
    if "items" in data and "parent" not in data and "overview" not in data:
        _fail(source, "data.items", "this is the procedure catalogue (formalities), not scores")
    root_key, kids_key, level_key = {
        "tree": ("parent", "children", "level"),
        "metrics": ("overview", "evaluation", "departmentLevel"),
    }[spec.shape]
    root_path = f"data.{root_key}"
    root = _expect(data.get(root_key), dict, root_path, source)
    root_code = _text(root, _code_key(root, spec), root_path, source)
    units = [_Unit(root_path, root, root_code, _text(root, "departmentName", root_path, source),
                   root.get(level_key), None)]
    kids = _expect(data.get(kids_key), list, f"data.{kids_key}", source)
    seen = {root_code: root_path}
    for i, raw in enumerate(kids):
        path = f"data.{kids_key}[{i}]"
        node = _expect(raw, dict, path, source)
        code = _text(node, key := _code_key(node, spec), path, source)
        if code in seen:
            _fail(source, f"{path}.{key}", f"unit code {code!r} repeats {seen[code]}")
        seen[code] = path
        name = _text(node, "departmentName", path, source)
        units.append(_Unit(path, node, code, name, node.get(level_key), root_code))
    return units


def _tree_figures(unit: _Unit, spec: _Group, source: str) -> list[tuple[str, _Figures]]:
    """TOTAL plus the group's counters for one node of a parent/children response."""
    is_root = unit.parent_code is None
    score_key, max_key = ("totalScore", "totalMaxScore") if is_root else spec.child_score_keys
    ratio, score, max_score = (_num(unit.node, k, unit.path, source)
                               for k in ("ratio", score_key, max_key))
    out = [(TOTAL, _Figures(None, None, ratio, score, max_score))]
    for c in spec.counters:
        if c.parent_only and not is_root:
            continue
        scored = (ratio, score, max_score) if c.carries_score else (None, None, None)
        out.append((c.code, _Figures(_num(unit.node, c.numerator, unit.path, source),
                                     _num(unit.node, c.denominator, unit.path, source), *scored)))
    return out


def _metric_figures(unit: _Unit, source: str) -> list[tuple[str, _Figures]]:
    """TOTAL plus one entry per ``metrics[]`` item of an overview/evaluation unit."""
    node, path = unit.node, unit.path
    total = _Figures(None, None, *(_num(node, k, path, source)
                                   for k in ("ratio", "totalScore", "totalMaxScore")))
    out = [(TOTAL, total)]
    metrics = _expect(_need(node, "metrics", path, source), list, f"{path}.metrics", source)
    for i, raw in enumerate(metrics):
        mpath = f"{path}.metrics[{i}]"
        metric = _expect(raw, dict, mpath, source)
        code = _text(metric, "code", mpath, source)
        if any(code == seen for seen, _ in out):
            _fail(source, f"{mpath}.code", f"metric {code!r} appears twice in {path}")
        keys = ("numerator", "denominator", "ratio", "score", "maxScore")
        out.append((code, _Figures(*(_num(metric, k, mpath, source) for k in keys))))
    return out


def parse_response(payload: bytes | str, *, group: str, period_type: str,
                   period_start: datetime.date, captured_at: datetime.datetime, source: str,
                   province_code: str | None = None) -> list[dict[str, Any]]:
    """Parse one evaluation response into INDEX766_SNAPSHOT rows (keys in contract order)."""
    if captured_at.tzinfo is None:
        raise ValueError("captured_at must be timezone-aware (the column is timestamptz)")
    name = canonical_group(group, source)
    spec = GROUPS[name]
    rows: list[dict[str, Any]] = []
    for unit in _units(_load_data(payload, source), spec, source):
        figures = (_tree_figures(unit, spec, source) if spec.shape == "tree"
                   else _metric_figures(unit, source))
        rows.extend({"unit_code": unit.code, "unit_name": unit.name, "unit_level": unit.level,
                     "parent_code": unit.parent_code, "province_code": province_code,
                     "period_type": period_type, "period_start": period_start,
                     "indicator_group": name, "indicator_code": code, **fig._asdict(),
                     "captured_at": captured_at} for code, fig in figures)
    return rows


# --- the inverse, for the portal simulator -------------------------------------------------------

# (code, Vietnamese label, max score) exactly as data.overview.metrics of the real response.
DIGITIZATION_METRICS: tuple[tuple[str, str, int], ...] = (
    ("ORIGINAL_RESULT_AVAILABLE", "Tỷ lệ hồ sơ thủ tục hành chính có cấp kết quả giải quyết thủ tục hành chính điện tử", 6),  # noqa: E501
    ("SO_HOA_GIAY_TO_GIAI_QUYET", "Tỷ lệ hồ sơ thủ tục hành chính thực hiện số hóa hồ sơ", 4),
    ("REUSED_DIGITIZED_DATA", "Tỷ lệ hồ sơ khai thác, sử dụng lại thông tin, dữ liệu số hóa", 2),
    ("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", "Tỷ lệ hồ sơ TTHC được số hóa có kết nối, chia sẻ dữ liệu phục vụ tái sử dụng", 4),  # noqa: E501
    ("CITIZEN_DATA_CONNECTED_DOSSIER", "Tỷ lệ hồ sơ TTHC có sử dụng thông tin, dữ liệu dân cư", 2),
    ("CITIZEN_DATA_CONNECTED_FORMALITY", "Tỷ lệ TTHC triển khai kết nối, chia sẻ dữ liệu dân cư phục vụ GQ TTHC", 2),  # noqa: E501
    ("ELECTRONIC_CERTIFIED_COPY", "Tỷ lệ cung cấp dịch vụ chứng thực bản sao điện tử từ bản chính", 2),
)
DIGITIZATION_SOURCE = "reporting_digitized_dossiers_daily Mongo collection"
_DEPARTMENT_TYPES = {"PROVINCE": "PROVINCIAL_DEPARTMENT", "COMMUNE": "COMMUNE_PEOPLE_COMMITTEE"}
_CENT = Decimal("0.01")


def _round2(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _render_metric(code: str, name: str, max_score: int, pair: tuple[Any, Any]) -> dict[str, Any]:
    """One metric; ratio in percent, score from the unrounded ratio as the portal computes it."""
    numerator, denominator = pair
    ratio = score = None
    if numerator is not None and denominator:
        share = Decimal(numerator) / Decimal(denominator)
        ratio = _round2(share * 100)
        score = _round2(share * max_score) if max_score else None
    return {"code": code, "name": name, "numerator": numerator, "denominator": denominator,
            "ratio": ratio, "score": score, "maxScore": max_score}


def _render_unit(stt: int, unit: dict[str, Any], kind: str, agency: str) -> dict[str, Any]:
    """One overview/evaluation item; a metric missing from ``unit`` renders as null/null."""
    metrics = [_render_metric(code, name, top, unit.get(code, (None, None)))
               for code, name, top in DIGITIZATION_METRICS]
    total = _round2(sum((m["score"] or Decimal(0) for m in metrics), Decimal(0)))
    max_total = sum(top for _, _, top in DIGITIZATION_METRICS)
    code = unit["departmentCode"]
    return {
        "stt": stt,
        "departmentId": unit.get("departmentId") or str(uuid.uuid5(uuid.NAMESPACE_URL, code)),
        "departmentName": unit["departmentName"], "departmentCode": code,
        "departmentType": kind,
        "departmentLevel": unit.get("departmentLevel", "PROVINCE"), "agencyLevel": agency,
        "totalScore": total, "totalMaxScore": max_total,
        "ratio": _round2(total * 100 / max_total), "metrics": metrics, "scoreDelta": None,
    }


def _department_type(unit: dict[str, Any]) -> str:
    level = unit.get("departmentLevel")
    if level not in _DEPARTMENT_TYPES:
        raise ValueError(f"{unit.get('departmentCode')}: departmentLevel must be one of "
                         f"{sorted(_DEPARTMENT_TYPES)}, got {level!r}")
    return _DEPARTMENT_TYPES[level]


def _json_number(value: Any) -> int | float:
    # The portal writes JS numbers: 100 not 100.00, 4.34 not "4.34".
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def render_digitization_response(province: dict[str, Any], units: list[dict[str, Any]]) -> str:
    """Render a dossier-digitized response (the real fixture's shape) from plain counts."""
    data = {
        "overview": _render_unit(1, province, "PROVINCE", "level_1"),
        "evaluation": [_render_unit(i, u, _department_type(u), "level_2")
                       for i, u in enumerate(units, 1)],
        # Everything is on one page, so the page is as large as the list.
        "pagination": {"total": len(units), "currentPage": 1,
                       "pageSize": max(200, len(units)), "totalPages": 1},
        "source": DIGITIZATION_SOURCE,
    }
    return json.dumps({"code": "OK", "data": data, "message": "OK"}, ensure_ascii=False,
                      separators=(",", ":"), default=_json_number)
