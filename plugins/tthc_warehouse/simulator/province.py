"""One province's simulated period: dossiers, their change records, payments and refunds."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from tthc_warehouse.simulator.calibrate import assign_digitization, feasible_denominator
from tthc_warehouse.simulator.catalogue import Agency, build_agencies, offered
from tthc_warehouse.simulator.clock import Clock
from tthc_warehouse.simulator.dossiers import (
    Context,
    Dossier,
    new_dossier,
    received_dossier,
    stage_records,
)
from tthc_warehouse.simulator.params import (
    DISTRIBUTIONS,
    DOSSIERS_PER_PROVINCE,
    REFERENCE_DAYS,
    Profile,
)
from tthc_warehouse.simulator.payments import payment_record, simulate_payments, simulate_refunds


@dataclass(frozen=True)
class Counts:
    synced: int  # received and synced: the 766 denominator
    unsynced: int  # received, never synced
    new: int  # never received (status 1)


@dataclass
class ProvinceData:
    profile: Profile
    agencies: list[Agency]
    dossiers: list[Dossier]
    records: list[dict[str, Any]]  # dossier change records, time order
    payments: list[dict[str, Any]]
    refunds: list[dict[str, Any]]


def plan_counts(profile: Profile, scale: float, days: int = REFERENCE_DAYS) -> Counts:
    """Dossier counts near scale * 12000 * size whose synced count admits the exact target."""
    total = scale * DOSSIERS_PER_PROVINCE * profile.size * days / REFERENCE_DAYS
    new = max(1, round(total * profile.online * float(DISTRIBUTIONS["never_received"])))  # type: ignore[arg-type]
    received = total - new
    synced = feasible_denominator(profile.target_766, round(received * (1 - profile.unsynced)))
    unsynced = max(1, round(synced * profile.unsynced / (1 - profile.unsynced)))
    return Counts(synced, unsynced, new)


def _outcomes(rng: random.Random, n: int) -> list[object]:
    """Exact shares of each ending (at least one of each), the rest finish, shuffled."""
    shares: dict[object, float] = DISTRIBUTIONS["outcomes"]  # type: ignore[assignment]
    out: list[object] = []
    for outcome, share in shares.items():
        out += [outcome] * max(1, round(n * share))
    out += ["finish"] * (n - len(out))
    rng.shuffle(out)
    return out


def _dossiers(ctx: Context, rng: random.Random, counts: Counts) -> list[Dossier]:
    roles = ["synced"] * counts.synced + ["unsynced"] * counts.unsynced
    rng.shuffle(roles)
    days = ctx.clock.reception_days(rng, len(roles))
    outcomes = _outcomes(rng, len(roles))
    dossiers = [received_dossier(ctx, rng, role, outcome, day)
                for role, outcome, day in zip(roles, outcomes, days, strict=True)]
    dossiers += [new_dossier(ctx, rng) for _ in range(counts.new)]
    _assign_codes(dossiers)
    return dossiers


def _assign_codes(dossiers: list[Dossier]) -> None:
    """Portal-style codes: receiving unit's H-code, submission day, daily sequence."""
    first = [min(d.stages[0][0], d.submitted_at or d.stages[0][0]) for d in dossiers]
    seq: dict[tuple[str, str], int] = {}
    for i in sorted(range(len(dossiers)), key=lambda i: (first[i], i)):
        d = dossiers[i]
        key = (d.receiving.portal_code, f"{first[i]:%y%m%d}")
        seq[key] = seq.get(key, 0) + 1
        d.code = f"{key[0]}-{key[1]}-{seq[key]:04d}"


def simulate(profile: Profile, clock: Clock, seed: int, scale: float) -> ProvinceData:
    """Everything one province's systems record in the period, deterministic per seed."""
    rng = random.Random(f"{seed}:{profile.code}")
    agencies = build_agencies(profile.code, profile.portal_code, rng)
    ctx = Context(profile, clock, agencies, offered(agencies))
    counts = plan_counts(profile, scale, (clock.end - clock.start).days)
    dossiers = _dossiers(ctx, rng, counts)
    assign_digitization(rng, dossiers, profile)
    payments = simulate_payments(rng, dossiers, profile, clock)
    refunds = simulate_refunds(rng, payments, profile.code, clock)
    records = [r for d in dossiers for r in stage_records(d, profile.code)]
    records.sort(key=lambda r: (r["source_updated_at"], r["dossier_code"]))
    refunds.sort(key=lambda r: (r["source_updated_at"], r["refund_id"]))
    return ProvinceData(profile, agencies, dossiers, records,
                        [payment_record(p, profile.code) for p in payments], refunds)
