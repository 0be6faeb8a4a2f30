"""The national portal's Decision-766 evaluation API (dichvucong.gov.vn) as index-766 snapshot rows.

Each response is one indicator group for one province and period: a province node plus its
departments and communes (and their children, at any depth). Every unit gives a "TOTAL" row (the
group's score, max score and ratio, with every counter of the node in ``counters``) and one row
per metric or numerator/denominator pair. Values are kept as the portal published them: ``null``
stays None, ``0`` stays 0, numbers are ``Decimal`` (DOMAIN.md §4, fixtures/dvcqg/README); the
scores recomputed from the counts by the reference rules sit beside them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from tthc_warehouse.contract import INDEX766_SNAPSHOT
from tthc_warehouse.extract.dvcqg_values import (
    Index766FormatError,
    check_period,
    code,
    expect,
    fail,
    load_data,
    need,
    num,
    text,
)
from tthc_warehouse.reference.index766_rules import TOTAL, Rule, recompute

__all__ = ["GROUPS", "TOTAL", "Index766FormatError", "canonical_group", "parse_response"]


@dataclass(frozen=True)
class _Counter:
    code: str
    numerator: str
    denominator: str
    # Published for some units only (provide-online: the province node); absent = not published.
    optional: bool = False
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
    # Children carry scores only; the province node also has channel counters: the portal's
    # online submission rate divides by its own channelTotalSum, not by all received dossiers.
    "provide-online": _Group("tree", (_Counter("ONLINE_SUBMISSION", "channelOnlineSum",
                                               "channelTotalSum", optional=True),)),
    # The three parts of the payment score (reference rules), each a pair of published counters.
    "online-payment": _Group("tree", (
        _Counter("ONLINE_PAYMENT", "totalDossierOnlinePaymentSuccess",
                 "totalDossierFinancialObligation"),
        _Counter("FORMALITY_ONLINE_PAYMENT", "totalDossierOnlineFormalityPaymentSuccess",
                 "totalFeeFormality"),
        _Counter("FEE_DOSSIER_FORMALITY", "totalFeeDossierFormality", "totalFeeFormality"))),
    # transparency and handling items have no departmentCode (only departmentId).
    "transparency": _Group("metrics", code_required=False),
    "handling-satisfaction": _Group("metrics", code_required=False),
    "dossier-digitized": _Group("metrics"),
}
_ALIASES = {"dvc-progress-tree": "dvc-progress", "provide-online-tree": "provide-online",
            "formality-online-payment-tree": "online-payment"}
_SHAPES = {"tree": ("parent", "children", "level"),
           "metrics": ("overview", "evaluation", "departmentLevel")}


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
    data_quality_status: str | None = None
    data_quality_message: str | None = None
    counters: str | None = None


def canonical_group(group: str, source: str) -> str:
    """Map a group name or a file name ("dvc-progress-tree.month-all.json",
    "dvc-progress-2024-01.json") to the group's name."""
    stem = group.split(".", 1)[0]
    # A landed file is named <group>-<YYYY-MM>.json: its group is the longest known prefix.
    prefixes = sorted([*GROUPS, *_ALIASES], key=len, reverse=True)
    stem = next((p for p in prefixes if stem.startswith(f"{p}-") and stem != p), stem)
    name = _ALIASES.get(stem, stem)
    if name == "formalities":
        fail(source, "group", f"{group!r} is the procedure catalogue, not a 766 score group")
    if name not in GROUPS:
        raise ValueError(f"unknown index-766 group {group!r}; expected one of {sorted(GROUPS)}")
    return name


def _merge_pages(pages: list[dict[str, Any]], spec: _Group, source: str) -> dict[str, Any]:
    """One ``data`` with every page's units; the count must equal ``pagination.total``."""
    kids_key = _SHAPES[spec.shape][1]
    data = dict(pages[0])
    if "items" in data and "parent" not in data and "overview" not in data:
        fail(source, "data.items", "this is the procedure catalogue (formalities), not scores")
    if spec.shape == "tree":
        if len(pages) > 1:
            fail(source, "data", f"a {spec.shape} response has no pages, got {len(pages)}")
        return data
    items: list[Any] = []
    for i, page in enumerate(pages):
        where = f"pages[{i}].data" if len(pages) > 1 else "data"
        items += expect(page.get(kids_key), list, f"{where}.{kids_key}", source)
    data[kids_key] = items
    pagination = data.get("pagination")
    total = pagination.get("total") if isinstance(pagination, dict) else None
    if isinstance(total, int) and len(items) != total:
        fail(source, "data.pagination.total",
             f"{len(items)} units on {len(pages)} page(s), the portal says {total} "
             "(pages missing, empty or repeated)")
    return data


def _code_key(node: dict[str, Any], spec: _Group) -> str:
    # transparency/handling items carry only departmentId (the README: departmentCode is in
    # dossier-digitized only), so their units are keyed by the portal's UUID instead of the H-code.
    return "departmentCode" if spec.code_required or "departmentCode" in node else "departmentId"


def _walk(node: dict[str, Any], path: str, parent: str | None, spec: _Group, source: str,
          out: list[_Unit], seen: dict[str, str]) -> None:
    """``node`` and, depth first, its ``children`` at any depth."""
    key = _code_key(node, spec)
    unit_code = code(node, key, path, source)
    if unit_code in seen:
        fail(source, f"{path}.{key}", f"unit code {unit_code!r} repeats {seen[unit_code]}")
    seen[unit_code] = path
    level = node.get(_SHAPES[spec.shape][2])
    out.append(_Unit(path, node, unit_code, text(node, "departmentName", path, source),
                     level.strip().upper() if isinstance(level, str) else level, parent))
    nested = node.get("children") if parent is not None or spec.shape == "metrics" else None
    for i, raw in enumerate(expect(nested, list, f"{path}.children", source) if nested else []):
        child = f"{path}.children[{i}]"
        _walk(expect(raw, dict, child, source), child, unit_code, spec, source, out, seen)


def _units(data: dict[str, Any], spec: _Group, source: str) -> list[_Unit]:
    """The province node (parent_code None) followed by its units, in response order."""
    root_key, kids_key, _ = _SHAPES[spec.shape]
    root_path = f"data.{root_key}"
    root = expect(data.get(root_key), dict, root_path, source)
    units: list[_Unit] = []
    seen: dict[str, str] = {}
    _walk({k: v for k, v in root.items() if k != "children"}, root_path, None, spec, source,
          units, seen)
    for i, raw in enumerate(expect(data.get(kids_key), list, f"data.{kids_key}", source)):
        path = f"data.{kids_key}[{i}]"
        _walk(expect(raw, dict, path, source), path, units[0].code, spec, source, units, seen)
    return units


def _counters(node: dict[str, Any], path: str, source: str) -> str:
    """Every numeric field of the node as JSON: what the portal publishes, kept whole.

    Text fields are kept only when they are exact numbers; the scored fields themselves are
    read (and an inexact one quarantined) by the callers.
    """
    values: dict[str, Any] = {}
    for key, value in node.items():
        scratch: list[str] = []
        if key == "stt" or isinstance(value, (bool, dict, list)):
            continue
        number = num(node, key, path, source, scratch)
        if not scratch and (number is not None or value is None):
            values[key] = None if number is None else (
                int(number) if number == number.to_integral_value() else float(number))
    return json.dumps(values)


def _tree_figures(unit: _Unit, spec: _Group, source: str, errors: list[str]
                  ) -> list[tuple[str, _Figures]]:
    """TOTAL plus the group's counters for one node of a parent/children response."""
    node, path = unit.node, unit.path
    is_root = unit.parent_code is None
    score_key, max_key = ("totalScore", "totalMaxScore") if is_root else spec.child_score_keys
    ratio, score, max_score = (num(node, k, path, source, errors)
                               for k in ("ratio", score_key, max_key))
    out = [(TOTAL, _Figures(None, None, ratio, score, max_score,
                            counters=_counters(node, path, source)))]
    for c in spec.counters:
        if c.optional and not (c.numerator in node or c.denominator in node):
            continue
        scored = (ratio, score, max_score) if c.carries_score else (None, None, None)
        out.append((c.code, _Figures(num(node, c.numerator, path, source, errors),
                                     num(node, c.denominator, path, source, errors), *scored)))
    return out


def _metric(raw: Any, mpath: str, source: str, errors: list[str]) -> tuple[str, _Figures]:
    metric = expect(raw, dict, mpath, source)
    keys = ("numerator", "denominator", "ratio", "score", "maxScore")
    status = metric.get("dataQualityStatus")
    message = metric.get("dataQualityMessage")
    return code(metric, "code", mpath, source).upper(), _Figures(
        *(num(metric, k, mpath, source, errors) for k in keys),
        status.strip() if isinstance(status, str) else None,
        message.strip() if isinstance(message, str) else None)


def _metric_figures(unit: _Unit, source: str, errors: list[str]) -> list[tuple[str, _Figures]]:
    """TOTAL plus one entry per ``metrics[]`` item of an overview/evaluation unit."""
    node, path = unit.node, unit.path
    total = _Figures(None, None, *(num(node, k, path, source, errors)
                                   for k in ("ratio", "totalScore", "totalMaxScore")),
                     counters=_counters(node, path, source))
    out = [(TOTAL, total)]
    metrics = expect(need(node, "metrics", path, source), list, f"{path}.metrics", source)
    for i, raw in enumerate(metrics):
        metric_code, figures = _metric(raw, f"{path}.metrics[{i}]", source, errors)
        if any(metric_code == seen for seen, _ in out):
            fail(source, f"{path}.metrics[{i}].code",
                 f"metric {metric_code!r} appears twice in {path}")
        out.append((metric_code, figures))
    return out


def _unit_rows(unit: _Unit, spec: _Group, source: str, common: dict[str, Any]
               ) -> list[dict[str, Any]]:
    errors: list[str] = []
    figures = (_tree_figures(unit, spec, source, errors) if spec.shape == "tree"
               else _metric_figures(unit, source, errors))
    department = unit.node.get("departmentId")
    # An inexact number quarantines the whole unit (all its rows carry the reason), not the file.
    parse_error = "; ".join(errors) or None
    return [{"unit_code": unit.code, "unit_name": unit.name, "unit_level": unit.level,
             "parent_code": unit.parent_code, **common, "indicator_code": metric_code,
             **fig._asdict(), "recomputed_ratio": None, "recomputed_score": None,
             "department_id": department.strip().lower() if isinstance(department, str) else None,
             "parse_error": parse_error, "captured_at": common["captured_at"]}
            for metric_code, fig in figures]


def parse_response(payload: bytes | str | Sequence[bytes | str], *, group: str,
                   period_type: str, period_start: datetime.date,
                   captured_at: datetime.datetime, source: str,
                   province_code: str | None = None,
                   rules: dict[tuple[str, str], Rule] | None = None) -> list[dict[str, Any]]:
    """Parse one evaluation response (or all its pages, in order) into INDEX766_SNAPSHOT rows.

    Rows come in contract order, with the scores recomputed from the counts by ``rules``
    (default: the reference file).
    """
    if captured_at.tzinfo is None:
        raise ValueError("captured_at must be timezone-aware (the column is timestamptz)")
    name = canonical_group(group, source)
    spec = GROUPS[name]
    pages = [payload] if isinstance(payload, (bytes, str)) else list(payload)
    if not pages:
        fail(source, "$", "no pages")
    data = _merge_pages([load_data(p, source) for p in pages], spec, source)
    check_period(data, period_type, period_start, source)
    common = {"province_code": province_code, "period_type": period_type,
              "period_start": period_start, "indicator_group": name, "captured_at": captured_at}
    rows = [row for unit in _units(data, spec, source)
            for row in _unit_rows(unit, spec, source, common)]
    return [_ordered(row) for row in recompute(rows, rules)]


def _ordered(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in INDEX766_SNAPSHOT.column_names}
