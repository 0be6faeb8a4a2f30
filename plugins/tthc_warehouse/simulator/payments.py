"""Online fee payments (national platform or province gateway) and the refunds they lead to."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from tthc_warehouse.simulator.clock import Clock
from tthc_warehouse.simulator.dossiers import Dossier
from tthc_warehouse.simulator.params import DISTRIBUTIONS, STEP_WEIGHTS, Profile

_D: dict[str, Any] = DISTRIBUTIONS
REASONS = {3: "not_accepted", 7: "withdrawn", 8: "stopped"}
MAX_ATTEMPTS = 4


@dataclass(slots=True)
class Payment:
    dossier: Dossier
    amount: int
    paid_at: dt.datetime
    gateway: str
    status: str
    steps: int
    refund_reason: str | None = None
    refund_amount: int = 0
    transaction_id: str = ""


def simulate_payments(rng: random.Random, dossiers: list[Dossier], profile: Profile,
                      clock: Clock) -> list[Payment]:
    """Every online payment attempt of the period, in time order, with transaction ids."""
    payments: list[Payment] = []
    for d in dossiers:
        eligible = d.role != "new" and d.procedure.fee and not d.awaiting_fee
        if eligible and rng.random() < _D["pay_online"][d.channel]:  # draw only when eligible
            payments += _pay(rng, d, profile, clock)
    payments.sort(key=lambda p: (p.paid_at, p.dossier.code))
    per_day: dict[dt.date, int] = {}
    for p in payments:
        n = per_day[p.paid_at.date()] = per_day.get(p.paid_at.date(), 0) + 1
        p.transaction_id = f"{p.paid_at:%Y%m%d}{profile.code}{n:06d}"
    return payments


def _first_attempt_at(rng: random.Random, d: Dossier) -> dt.datetime:
    """Online dossiers pay right after submitting; the others after the desk has received them."""
    if d.channel == 2 and d.submitted_at is not None:
        return d.submitted_at + dt.timedelta(minutes=rng.randint(2, 30))
    assert d.received_at is not None
    return d.received_at + dt.timedelta(minutes=rng.randint(10, 240))


def _pay(rng: random.Random, d: Dossier, profile: Profile, clock: Clock) -> list[Payment]:
    """Attempts until one succeeds or the payer gives up; extras for duplicates/over-payments."""
    local = rng.random() < profile.local_gateway
    gateway = "local" if local else "national"
    at = _first_attempt_at(rng, d)
    statuses, weights = zip(*_D["payment_status"].items(), strict=True)
    out: list[Payment] = []
    for _ in range(MAX_ATTEMPTS):
        if at >= clock.end_at:
            break
        status = rng.choices(statuses, weights=weights)[0]
        steps = rng.choices(range(1, 13), weights=STEP_WEIGHTS)[0]
        out.append(Payment(d, d.procedure.fee, at, gateway, status, steps))
        if status == "success":
            d.paid_online, d.paid_at = (2 if local else 1), at
            _extras(rng, out, clock)
            break
        if rng.random() >= _D["retry_after_failure"]:
            break
        at += dt.timedelta(minutes=rng.randint(2, 30))
    return out


def _extras(rng: random.Random, out: list[Payment], clock: Clock) -> None:
    """A duplicate second payment, or an over-payment: both refunded later."""
    paid = out[-1]
    if rng.random() < _D["duplicate_payment"]:
        at = paid.paid_at + dt.timedelta(minutes=rng.randint(5, 180))
        if at < clock.end_at:
            steps = rng.choices(range(1, 13), weights=STEP_WEIGHTS)[0]
            out.append(Payment(paid.dossier, paid.amount, at, paid.gateway, "success", steps,
                               "duplicate", paid.amount))
    elif rng.random() < _D["over_payment"]:
        extra = rng.choice((10_000, 20_000, 50_000, paid.amount))
        paid.amount += extra
        paid.refund_reason, paid.refund_amount = "over_payment", extra


def payment_record(p: Payment, province_code: str) -> dict[str, Any]:
    """The platform's export row (contract.PAYMENT columns)."""
    return {"transaction_id": p.transaction_id, "dossier_code": p.dossier.code,
            "province_code": province_code, "amount": p.amount, "paid_at": p.paid_at,
            "gateway": p.gateway, "status": p.status, "steps": p.steps,
            "source_updated_at": p.paid_at}


def simulate_refunds(rng: random.Random, payments: list[Payment], province_code: str,
                     clock: Clock) -> list[dict[str, Any]]:
    """Refund change records: requested (pending), then completed or failed when that happens."""
    requests = []
    for p in payments:
        reason, amount, since = _refund_due(p)
        if reason is None or since is None:
            continue
        delay = rng.randint(*_D["refund_request_delay_days"])
        requested = clock.after(rng, since, clock.next_workday(since.date()
                                                               + dt.timedelta(days=delay)))
        if requested < clock.end_at:
            requests.append((requested, p, reason, amount))
    requests.sort(key=lambda r: (r[0], r[1].transaction_id))
    records: list[dict[str, Any]] = []
    per_day: dict[dt.date, int] = {}
    for requested, p, reason, amount in requests:
        n = per_day[requested.date()] = per_day.get(requested.date(), 0) + 1
        base = {"refund_id": f"HP{province_code}{requested:%y%m%d}{n:04d}",
                "transaction_id": p.transaction_id, "dossier_code": p.dossier.code,
                "province_code": province_code, "reason": reason, "requested_at": requested,
                "amount": amount}
        records += _refund_records(rng, clock, base)
    return records


def _refund_due(p: Payment) -> tuple[str | None, int, dt.datetime | None]:
    """(reason, amount, since when) of the refund a successful payment calls for, if any."""
    if p.status != "success":
        return None, 0, None
    d = p.dossier
    if d.status in REASONS and d.paid_at == p.paid_at and d.finished_at is not None:
        return REASONS[d.status], p.amount, max(d.finished_at, p.paid_at)
    if p.refund_reason:
        return p.refund_reason, p.refund_amount, p.paid_at
    return None, 0, None


def _refund_records(rng: random.Random, clock: Clock,
                    base: dict[str, Any]) -> list[dict[str, Any]]:
    """Mostly manual and slow (weeks), a few automatic within days; some fail."""
    requested = base["requested_at"]
    automatic = rng.random() < _D["refund_automatic"]
    if automatic:
        days = rng.randint(0, 2)
    else:
        spans = _D["refund_manual_days"]
        _, low, high = rng.choices(spans, weights=[s[0] for s in spans])[0]
        days = rng.randint(low, high)
    failed = rng.random() < _D["refund_failed"]
    done = clock.after(rng, requested, clock.next_workday(requested.date()
                                                          + dt.timedelta(days=days)))
    base = {**base, "method": "automatic" if automatic else "manual"}
    out = [{**base, "status": "pending", "completed_at": None, "source_updated_at": requested}]
    if done < clock.end_at:
        out.append({**base, "status": "failed" if failed else "completed",
                    "completed_at": None if failed else done, "source_updated_at": done})
    return out
