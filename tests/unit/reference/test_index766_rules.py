"""The reference scoring rules recompute every published 766 score of the real fixtures."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tthc_warehouse.extract.dvcqg import parse_response
from tthc_warehouse.reference.index766_rules import TOTAL, load_rules, metric_figures, rule_rows

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dvcqg"
GROUP_FILES = {
    "dvc-progress": "dvc-progress-tree.month-all.json",
    "provide-online": "provide-online-tree.month-all.json",
    "online-payment": "formality-online-payment-tree.month-all.json",
    "transparency": "transparency.month-all.json",
    "handling-satisfaction": "handling-satisfaction.month-all.json",
    "dossier-digitized": "dossier-digitized.month-all.json",
}
CENT = Decimal("0.01")


def _rows(group: str) -> list[dict]:
    return parse_response((FIXTURES / GROUP_FILES[group]).read_bytes(), group=group,
                          period_type="month", period_start=datetime.date(2026, 8, 1),
                          captured_at=datetime.datetime(2026, 9, 28, tzinfo=datetime.UTC),
                          source=GROUP_FILES[group])


def _differences(row: dict) -> list[str]:
    """What differs beyond 0.01 point; a unit ratio derived from a score allows 0.01 point too."""
    out = []
    if (row["score"] is None) != (row["recomputed_score"] is None) or (
            row["score"] is not None and abs(row["score"] - row["recomputed_score"]) > CENT):
        out.append(f"score {row['score']} vs {row['recomputed_score']}")
    ratio_tolerance = CENT * 100 / row["max_score"] if row["indicator_code"] == TOTAL else CENT
    if (row["ratio"] is None) != (row["recomputed_ratio"] is None) or (
            row["ratio"] is not None and abs(row["ratio"] - row["recomputed_ratio"])
            > ratio_tolerance):
        out.append(f"ratio {row['ratio']} vs {row['recomputed_ratio']}")
    return out


@pytest.mark.parametrize("group", sorted(set(GROUP_FILES) - {"provide-online"}))
def test_every_unit_and_metric_is_recomputed(group: str) -> None:
    rows = _rows(group)
    assert len({r["unit_code"] for r in rows}) == 164
    scored = [r for r in rows if r["score"] is not None or r["ratio"] is not None]
    totals = [r for r in scored if r["indicator_code"] == TOTAL]
    assert len(totals) == 164
    bad = {(r["unit_code"], r["indicator_code"]): d for r in scored if (d := _differences(r))}
    assert not bad, f"{len(bad)} figures differ, e.g. {list(bad.items())[:5]}"


def test_exact_totals_per_group() -> None:
    exact = {g: sum(r["score"] == r["recomputed_score"] for r in _rows(g)
                    if r["indicator_code"] == TOTAL) for g in GROUP_FILES}
    # Payment rounds three parts: two communes land 0.01 away (H44.144, H44.197).
    assert exact == {"dvc-progress": 164, "provide-online": 0, "online-payment": 162,
                     "transparency": 164, "handling-satisfaction": 164, "dossier-digitized": 164}


def test_online_services_keep_published_scores_and_recompute_the_ratio() -> None:
    rows = {(r["unit_code"], r["indicator_code"]): r for r in _rows("provide-online")}
    province = rows["H44", "ONLINE_SUBMISSION"]
    assert (province["numerator"], province["denominator"]) == (150956, 152595)
    assert province["recomputed_ratio"] == Decimal("98.93")
    assert rows["H44", TOTAL]["recomputed_score"] is None
    assert rows["H44.01", TOTAL]["score"] == 0


def test_rules_are_reference_data() -> None:
    rules = load_rules()
    assert {r["status"] for r in rule_rows()} == {"inferred", "unknown"}
    assert rules["handling-satisfaction", "DOSSIER_RECEIVING_SATISFACTION"].target_share == \
        Decimal("0.9")
    assert rules["dossier-digitized", "REUSED_DIGITIZED_DATA"].target_share == Decimal("0.8")
    maxima = sum(r.max_score for (_, code), r in rules.items() if code == TOTAL)
    assert maxima == 100


@pytest.mark.parametrize(("code", "counts", "expected"), [
    ("PETITION_PROCESSING_ON_TIME", (0, 0), ("0", "6")),  # no petitions: full, ratio 0
    ("DOSSIER_RECEIVING_SATISFACTION", (0, 0), ("0", "0")),
    ("DOSSIER_RECEIVING_SATISFACTION", (95, 100), ("95.00", "6.00")),  # capped from 90 %
    ("PETITION_CLASSIFICATION_TTHC", (1, 4), ("25.00", None)),  # informational
])
def test_null_rules(code: str, counts: tuple[int, int], expected: tuple) -> None:
    rule = load_rules()["handling-satisfaction", code]
    got = metric_figures(rule, *(Decimal(c) for c in counts))
    assert got == tuple(None if e is None else Decimal(e) for e in expected)
    assert metric_figures(load_rules()["dossier-digitized", "ELECTRONIC_CERTIFIED_COPY"],
                          None, None) == (Decimal(100), Decimal(2))
    assert metric_figures(load_rules()["transparency", "PUBLISH_ON_TIME"], Decimal(0),
                          Decimal(0)) == (None, None)
