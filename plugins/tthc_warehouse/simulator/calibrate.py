"""Hit the published 766 digitization rates exactly: pick a denominator that admits the target,
then mark exactly the right number of synced dossiers as failing the 766 rule."""

from __future__ import annotations

import random
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tthc_warehouse.simulator.dossiers import FINISHED, Dossier
from tthc_warehouse.simulator.params import DISTRIBUTIONS, Profile

_CENT = Decimal("0.01")
UNSYNCED_DIGITIZED = 0.99  # units that never sync still digitize at the desk


def rate(numerator: int, denominator: int) -> Decimal | None:
    """100 * n / d rounded half away from zero to 2 places, as PostgreSQL's round(numeric, 2)."""
    if not denominator:
        return None
    return (Decimal(100 * numerator) / Decimal(denominator)).quantize(_CENT, ROUND_HALF_UP)


def numerator_for(target: Decimal, denominator: int) -> int | None:
    """The k with rate(k, denominator) == target, if one exists."""
    guess = int(target * denominator / 100)
    return next((k for k in range(guess - 1, guess + 3)
                 if 0 <= k <= denominator and rate(k, denominator) == target), None)


def feasible_denominator(target: Decimal, desired: int) -> int:
    """The count nearest ``desired`` (ties: the larger) for which ``target`` is reachable."""
    desired = max(desired, 1)
    for step in range(10 * desired + 10_000):
        for n in (desired + step, desired - step):
            if n >= 1 and numerator_for(target, n) is not None:
                return n
    raise ValueError(f"no denominator near {desired} reaches {target}")


def violates_766(d: Dossier) -> bool:
    """The warehouse's rule (sql/marts/monthly_compliance.sql), negated."""
    paper_finished = d.procedure.paper_result and d.status in FINISHED
    return not (d.components_digitized and (not paper_finished or d.result_digitized))


def counted_synced(d: Dossier) -> bool:
    """In the 766 denominator: synced and received (not accepted, status 3, never was)."""
    return d.role == "synced" and d.status != 3


def fit_denominator(rng: random.Random, dossiers: list[Dossier], target: Decimal) -> None:
    """Mark a few synced dossiers unsynced until their count admits ``target`` exactly: the
    not-accepted ones drawn among them leave the planned count."""
    synced = [d for d in dossiers if counted_synced(d)]
    n = len(synced)
    while n > 1 and numerator_for(target, n) is None:
        n -= 1
    if numerator_for(target, n) is None:
        return  # too few dossiers for the rate to be exact (a tiny simulation): keep them all
    for d in rng.sample(synced, len(synced) - n):
        d.role = "unsynced"


def assign_digitization(rng: random.Random, dossiers: list[Dossier], profile: Profile) -> int:
    """Set components/result flags so that exactly k synced dossiers pass; returns k."""
    fit_denominator(rng, dossiers, profile.target_766)
    synced = [i for i, d in enumerate(dossiers) if counted_synced(d)]
    # A tiny simulation (tests at scale 0.02) may have too few synced dossiers for the exact rate:
    # it gets the nearest one; the demo's scale always reaches it exactly.
    k = numerator_for(profile.target_766, len(synced))
    if k is None:
        k = round(profile.target_766 * len(synced) / 100)
    failures = len(synced) - k
    eligible = [i for i in synced if dossiers[i].status in FINISHED
                and dossiers[i].procedure.paper_result]
    rng.shuffle(eligible)
    no_eresult = set(eligible[: min(round(failures * profile.eresult_share), len(eligible))])
    others = [i for i in synced if i not in no_eresult]
    rng.shuffle(others)
    no_components = set(others[: failures - len(no_eresult)])
    for i, d in enumerate(dossiers):
        _set_flags(rng, d, i in no_eresult, i in no_components)
    passing = sum(not violates_766(dossiers[i]) for i in synced)
    assert passing == k, (profile.code, passing, k)
    return k


def _set_flags(rng: random.Random, d: Dossier, no_eresult: bool, no_components: bool) -> None:
    if d.role == "new":  # never received: nothing was digitized
        d.components_digitized = d.result_digitized = False
        return
    finished = d.status in FINISHED
    if d.role == "unsynced":
        d.components_digitized = rng.random() < UNSYNCED_DIGITIZED
    else:
        d.components_digitized = not no_components
    if not finished:
        d.result_digitized = False
    elif d.procedure.paper_result:
        # A dossier already failing on its components may or may not have the e-copy.
        d.result_digitized = not no_eresult and (not no_components or rng.random() < 0.5)
    else:
        d.result_digitized = rng.random() < DISTRIBUTIONS["eresult_nonpaper"]  # type: ignore[operator]


def rates_from_records(records: Iterable[dict[str, Any]], start: Any, end: Any) -> dict[str, Any]:
    """766 and provincial rates from canonical records, newest ``source_updated_at`` per dossier."""
    latest: dict[str, dict[str, Any]] = {}
    for r in records:
        seen = latest.get(r["dossier_code"])
        if seen is None or r["source_updated_at"] > seen["source_updated_at"]:
            latest[r["dossier_code"]] = r
    received = [r for r in latest.values() if r["received_at"] is not None
                and start <= r["received_at"] < end and r["status"] != 3]
    synced = [r for r in received if r["synced_to_portal"]]
    ok = [r for r in synced if r["components_digitized"] and (
        not (r["requires_paper_result"] and r["status"] in FINISHED) or r["result_digitized"])]
    components = sum(bool(r["components_digitized"]) for r in received)
    return {"dossiers": len(latest), "received": len(received), "synced": len(synced),
            "digitized_766": len(ok), "rate_766": rate(len(ok), len(synced)),
            "provincial_rate": rate(components, len(received))}
