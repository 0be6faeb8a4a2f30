"""The portal's five other 766 groups for a simulated province and month.

Counts the warehouse also holds (received, on time, online, fee-bearing and paid online, synced)
come from the same dossiers the province feeds carry, by the receiving desk; what the warehouse
never sees (petitions, procedure publication, satisfaction) is drawn per unit and month.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from tthc_warehouse.simulator.dossiers import FINISHED, Dossier
from tthc_warehouse.simulator.portal_render import department_id, render_metric_response
from tthc_warehouse.simulator.portal_tree import render_tree_response

FIELDS = ("received", "on_time", "online", "postal", "fee", "paid", "all_received")
TREE_GROUPS = ("dvc-progress", "provide-online", "online-payment")


def _on_time(d: Dossier, month_end: dt.datetime) -> bool:
    if d.supplement_count > 1 or d.due_at is None:
        return False
    due = d.due_at + dt.timedelta(days=d.supplement_days)
    if d.status in FINISHED and d.finished_at is not None:
        return d.finished_at <= due
    return due >= min(month_end, d.finished_at or month_end)


def unit_counts(dossiers: list[Dossier], month: dt.date, cutoff: dt.datetime
                ) -> dict[str, dict[str, int]]:
    """receiving unit -> the month's counts the portal publishes for the tree groups."""
    month_end = dt.datetime.combine((month + dt.timedelta(days=32)).replace(day=1), dt.time())
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for d in dossiers:
        at = d.received_at
        if at is None or at >= cutoff or (at.year, at.month) != (month.year, month.month) \
                or d.status == 3:  # not accepted: never received (DOMAIN §6.3)
            continue
        row = out[d.receiving.code]
        row["all_received"] += 1
        if d.role != "synced":
            continue
        row["received"] += 1
        row["on_time"] += _on_time(d, month_end)
        row["online"] += d.channel == 2
        row["postal"] += d.channel == 3
        row["fee"] += d.procedure.fee > 0
        row["paid"] += d.procedure.fee > 0 and d.paid_online in (1, 2)
    return out


def _tree_unit(rng: random.Random, head: dict[str, Any], c: dict[str, int]) -> dict[str, Any]:
    formalities = rng.randint(3, 40)
    return {**head, "totalReceived": c["received"], "totalOnTime": c["on_time"],
            "totalCompleted": c["received"], "avgProcessingDays": Decimal(rng.randint(100, 900)) / 100,
            "totalScore": Decimal(rng.randint(400, 1200)) / 100,
            "channelOnlineSum": c["online"], "channelPostalSum": c["postal"],
            "channelDirectSum": c["received"] - c["online"] - c["postal"],
            "channelTotalSum": c["received"], "authorityCount": formalities,
            "totalDossierOnlinePaymentSuccess": c["paid"],
            "totalDossierFinancialObligation": c["fee"],
            "totalDossierOnlineFormalityPaymentSuccess": rng.randint(0, formalities),
            "totalFeeDossierFormalityDistinct": formalities,
            "totalFeeDossierFormality": rng.randint(0, formalities), "totalFeeFormality": formalities}


def _share(rng: random.Random, total: int, low: float, high: float) -> tuple[int, int]:
    return round(total * rng.uniform(low, high)), total


def _metric_unit(rng: random.Random, head: dict[str, Any], c: dict[str, int]) -> dict[str, Any]:
    procedures, petitions = rng.randint(3, 40), rng.choice((0, 0, 0, rng.randint(1, 12)))
    return {**head,
            "PUBLISH_ON_TIME": _share(rng, rng.choice((0, procedures)), 0.5, 1.0),
            "PUBLIC_UPDATE_ON_TIME": _share(rng, rng.choice((0, procedures)), 0.5, 1.0),
            "PUBLIC_CONTENT_FULL": _share(rng, procedures, 0.8, 1.0),
            "DOSSIER_SYNC": (c["received"], c["all_received"]),
            "DOSSIER_RECEIVING_SATISFACTION": _share(rng, c["received"], 0.7, 0.98),
            "PETITION_PROCESSING_ON_TIME": _share(rng, petitions, 0.6, 1.0),
            "PETITION_HANDLING_SATISFACTION": _share(rng, petitions, 0.5, 1.0),
            "PETITION_CLASSIFICATION_TTHC": _share(rng, petitions, 0.2, 0.8),
            "PETITION_CLASSIFICATION_STAFF": _share(rng, petitions, 0.0, 0.3)}


def render_groups(rng: random.Random, month: dt.date, province: dict[str, Any],
                  units: list[dict[str, Any]], counts: dict[str, dict[str, int]]
                  ) -> dict[str, str]:
    """group -> response text, for the five groups besides dossier-digitized.

    The province node counts every unit, districts included, as the portal's overview does.
    """
    empty = dict.fromkeys(FIELDS, 0)
    total = {f: sum(c[f] for c in counts.values()) for f in FIELDS}
    unit_counts = [counts.get(u["agency"], empty) for u in units]
    heads = [{k: v for k, v in u.items() if k != "agency"} for u in units]
    tree = [_tree_unit(rng, h, c) for h, c in zip(heads, unit_counts, strict=True)]
    metric = [_metric_unit(rng, h, c) for h, c in zip(heads, unit_counts, strict=True)]
    top = _tree_unit(rng, province, total)
    top_metrics = {**_metric_unit(rng, province, total), "extra": {"averageScore": None},
                   "DOSSIER_SYNC:quality": {
                       "dataQualityStatus": "TEMP_NATIONAL_REPORT_DENOMINATOR",
                       "dataQualityMessage": "Mẫu số BCQG/GRIS đang dùng số tạm."}}
    out = {g: render_tree_response(g, month, top, tree) for g in TREE_GROUPS}
    for group in ("transparency", "handling-satisfaction"):
        out[group] = render_metric_response(group, top_metrics, metric)
    return out


def unit_head(code: str, name: str, level: str | None, agency: str | None) -> dict[str, Any]:
    """A unit as the renderers take it; ``agency`` keys its counts and is not rendered."""
    head = {"departmentCode": code, "departmentName": name, "departmentId": department_id(code)}
    return {**head, "departmentLevel": level, "agency": agency} if level else head
