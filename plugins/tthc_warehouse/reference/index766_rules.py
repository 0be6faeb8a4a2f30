"""Index 766 scoring rules as reference data, and the recomputation of the portal's scores.

The rules were inferred from the portal's own responses (fixtures/dvcqg, one province and month)
and are kept in ``config/index766_scoring_rules.csv`` (loaded into ``ref.index766_scoring_rule``),
not in code: a metric's score is ``max_score x min(1, share / target_share)`` rounded to 0.01;
when there is nothing to measure (0 / 0 or null counts) ``null_rule`` decides: ``zero`` scores 0,
``null`` leaves ratio and score null, ``full`` gives the maximum; ``null_ratio`` is the ratio the
portal then shows. A unit's total is the sum of its rounded metric scores; its ratio is the
``ratio_from`` metric's ratio when the rule names one, else 100 x total / max.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from tthc_warehouse.paths import CONFIG_DIR

RULES_FILE = CONFIG_DIR / "index766_scoring_rules.csv"
TOTAL = "TOTAL"
NULL_RULES = ("zero", "null", "full")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rule:
    indicator_group: str
    indicator_code: str
    max_score: Decimal | None
    target_share: Decimal | None
    null_rule: str | None
    null_ratio: Decimal | None
    ratio_from: str | None
    status: str
    note: str


def _dec(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def _rule(row: dict[str, str]) -> Rule:
    if row["null_rule"] and row["null_rule"] not in NULL_RULES:
        raise ValueError(f"{RULES_FILE.name}: {row['indicator_code']}: null_rule must be one of "
                         f"{NULL_RULES}, got {row['null_rule']!r}")
    return Rule(row["indicator_group"], row["indicator_code"], _dec(row["max_score"]),
                _dec(row["target_share"]), row["null_rule"] or None, _dec(row["null_ratio"]),
                row["ratio_from"] or None, row["status"], row["note"])


@cache
def load_rules(path: Path = RULES_FILE) -> dict[tuple[str, str], Rule]:
    """(group, code) -> Rule, read from the reference file."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {(r.indicator_group, r.indicator_code): r
                for r in map(_rule, csv.DictReader(handle))}


def rule_rows(path: Path = RULES_FILE) -> list[dict[str, Any]]:
    """The rules as rows of ref.index766_scoring_rule."""
    return [vars(r) for r in load_rules(path).values()]


def round2(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def metric_figures(rule: Rule, numerator: Decimal | None, denominator: Decimal | None
                   ) -> tuple[Decimal | None, Decimal | None]:
    """(ratio, score) of one metric from its counts, as the portal computes them."""
    scored = bool(rule.max_score)  # max 0 or none: informational, never scored
    if numerator is None or denominator is None or denominator == 0:
        if rule.null_rule in (None, "null"):
            return None, None
        score = rule.max_score if rule.null_rule == "full" else Decimal(0)
        return rule.null_ratio, score if scored else None
    share = numerator / denominator
    ratio = round2(100 * share)
    if not scored:
        return ratio, None
    return ratio, round2(rule.max_score * min(Decimal(1), share / (rule.target_share or 1)))


def _total(rule: Rule, metrics: list[dict[str, Any]]) -> tuple[Decimal | None, Decimal | None]:
    if rule.status != "inferred" or not rule.max_score:
        return None, None
    score = sum((m["recomputed_score"] for m in metrics if m["recomputed_score"] is not None),
                Decimal(0))
    if rule.ratio_from:
        source = [m for m in metrics if m["indicator_code"] == rule.ratio_from]
        return (source[0]["recomputed_ratio"] if source else None), score
    return round2(100 * score / rule.max_score), score


def _score_unit(rows: list[dict[str, Any]], rules: dict[tuple[str, str], Rule]) -> None:
    total_row = None
    metrics = []
    for row in rows:
        key = (row["indicator_group"], row["indicator_code"])
        if row["indicator_code"] == TOTAL:
            total_row = row
        elif key in rules and row.get("parse_error") is None:
            row["recomputed_ratio"], row["recomputed_score"] = metric_figures(
                rules[key], row["numerator"], row["denominator"])
            metrics.append(row)
    rule = rules.get((rows[0]["indicator_group"], TOTAL))
    if total_row is not None and rule is not None and total_row.get("parse_error") is None:
        total_row["recomputed_ratio"], total_row["recomputed_score"] = _total(rule, metrics)


def recompute(rows: Iterable[dict[str, Any]], rules: dict[tuple[str, str], Rule] | None = None
              ) -> list[dict[str, Any]]:
    """Fill recomputed_ratio/recomputed_score of snapshot rows (grouped per unit), from the counts."""
    rules = load_rules() if rules is None else rules
    rows = list(rows)
    units: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        row.setdefault("recomputed_ratio", None)
        row.setdefault("recomputed_score", None)
        units.setdefault((row["unit_code"], row["indicator_group"]), []).append(row)
    for unit_rows in units.values():
        _score_unit(unit_rows, rules)
    return rows
