"""Render the portal's parent/children responses (on time, online services, online payment).

Scores follow the reference rules (``reference/index766_rules``) except online services, whose
formula is unknown: the simulator publishes a score for it, as the real portal does, and the
warehouse can only recompute its online-submission ratio.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tthc_warehouse.reference.index766_rules import TOTAL, load_rules, metric_figures, round2
from tthc_warehouse.simulator.portal_render import department_id, envelope

# group -> (metric, numerator field, denominator field), as the parser reads them.
PAYMENT_PARTS = (
    ("ONLINE_PAYMENT", "totalDossierOnlinePaymentSuccess", "totalDossierFinancialObligation"),
    ("FORMALITY_ONLINE_PAYMENT", "totalDossierOnlineFormalityPaymentSuccess", "totalFeeFormality"),
    ("FEE_DOSSIER_FORMALITY", "totalFeeDossierFormality", "totalFeeFormality"),
)


def _head(unit: dict[str, Any], root: bool) -> dict[str, Any]:
    code = unit["departmentCode"]
    head = {"departmentId": unit.get("departmentId") or department_id(code),
            "departmentName": unit["departmentName"], "departmentCode": code}
    return head if root else {**head, "level": unit["departmentLevel"]}


def _on_time(unit: dict[str, Any], root: bool) -> dict[str, Any]:
    received, on_time = unit["totalReceived"], unit["totalOnTime"]
    ratio, score = metric_figures(load_rules()["dvc-progress", "ON_TIME"], Decimal(on_time),
                                  Decimal(received))
    counts = {"totalReceived": received, "totalOnTime": on_time}
    if root:
        return {**_head(unit, root), **counts, "totalCompleted": unit["totalCompleted"],
                "avgProcessingDays": unit["avgProcessingDays"], "ratio": ratio,
                "totalScore": score, "totalMaxScore": 20}
    return {**_head(unit, root), **counts, "totalOverdue": received - on_time,
            "avgProcessingDays": unit["avgProcessingDays"], "ratio": ratio, "score": score,
            "maxScore": 20, "scoreDelta": None}


def _payment(unit: dict[str, Any], root: bool) -> dict[str, Any]:
    rules = load_rules()
    total = Decimal(0)
    for code, numerator, denominator in PAYMENT_PARTS:
        total += metric_figures(rules["online-payment", code], Decimal(unit[numerator]),
                                Decimal(unit[denominator]))[1] or 0
    fields = ("totalDossierOnlinePaymentSuccess", "totalDossierFinancialObligation",
              "totalDossierOnlineFormalityPaymentSuccess", "totalFeeDossierFormalityDistinct",
              "totalFeeDossierFormality", "totalFeeFormality")
    max_score = rules["online-payment", TOTAL].max_score
    out = {**_head(unit, root), "totalMaxScore": max_score,
           "ratio": round2(100 * total / max_score), "totalScore": total,
           **{f: unit[f] for f in fields}}
    return out if root else {**out, "scoreDelta": None}


def _online(unit: dict[str, Any], root: bool) -> dict[str, Any]:
    score = unit["totalScore"]
    out = {**_head(unit, root), "totalScore": score, "totalMaxScore": 12,
           "ratio": round2(100 * score / 12)}
    if root:
        return {**out, **{k: v for k, v in unit.items() if k.startswith(("channel", "online"))
                          or k.endswith("Count")}}
    return {**out, "scoreDelta": None}


_NODES = {"dvc-progress": _on_time, "online-payment": _payment, "provide-online": _online}


def _chart(group: str, month: dt.date, value: Decimal | None) -> list[dict[str, Any]]:
    """12 entries, figures in the response's own month only (as the real month files)."""
    if group == "dvc-progress":
        return [{"month": f"{m:02d}", "onTimePct": value if m == month.month else 0,
                 "overduePct": 100 - value if m == month.month else 0} for m in range(1, 13)]
    return [{"label": f"{m:02d}", "onlineDossierPct": value if m == month.month else 0}
            for m in range(1, 13)]


def render_tree_response(group: str, month: dt.date, province: dict[str, Any],
                         units: list[dict[str, Any]]) -> str:
    """A dvc-progress, provide-online or online-payment response from plain counts."""
    node = _NODES[group]
    parent = node(province, True)
    data: dict[str, Any] = {"parent": parent, "children": [node(u, False) for u in units]}
    if group == "dvc-progress":
        data["monthlyChart"] = _chart(group, month, parent["ratio"] or Decimal(0))
    elif group == "provide-online":
        total = province["channelTotalSum"]
        share = round2(Decimal(100 * province["channelOnlineSum"]) / total) if total else 0
        data["monthlyChart"] = _chart(group, month, share)
    return envelope(data)
