"""Dossier life cycles: reception, supplements, processing, result, and the change records."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from tthc_warehouse.contract import DOSSIER
from tthc_warehouse.simulator.catalogue import Agency, Procedure
from tthc_warehouse.simulator.clock import Clock
from tthc_warehouse.simulator.params import DISTRIBUTIONS, Profile

FINISHED = (9, 10)
ENDED = (3, 7, 8, 9, 10)
_D: dict[str, Any] = DISTRIBUTIONS


@dataclass(slots=True)
class Dossier:
    procedure: Procedure
    receiving: Agency
    processing: Agency
    channel: int | None
    role: str  # synced | unsynced | new (never received, status 1)
    submitted_at: dt.datetime | None
    received_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    returned_at: dt.datetime | None = None
    supplement_count: int = 0
    supplement_days: int = 0
    stages: list[tuple[dt.datetime, int]] = field(default_factory=list)  # (updated_at, status)
    awaiting_fee: bool = False  # went through status 6 (pays at the desk)
    components_digitized: bool = False
    result_digitized: bool = False
    paid_online: int = 0
    paid_at: dt.datetime | None = None  # first successful online payment
    code: str = ""

    @property
    def status(self) -> int:
        return self.stages[-1][1]


@dataclass(frozen=True)
class Context:
    """What every life cycle of one province draws from."""

    profile: Profile
    clock: Clock
    agencies: list[Agency]
    procedures: list[Procedure]

    def procedure(self, rng: random.Random) -> Procedure:
        return rng.choices(self.procedures, weights=[p.weight for p in self.procedures])[0]

    def units(self, rng: random.Random, proc: Procedure) -> tuple[Agency, Agency]:
        """(receiving desk, deciding unit): province procedures are mostly received centrally."""
        if proc.level == "province":
            unit = next(a for a in self.agencies if a.code.endswith("." + proc.department))
            desk = self.agencies[0] if rng.random() < 0.8 else unit  # agencies[0] = TTPVHCC
            return desk, unit
        unit = rng.choice([a for a in self.agencies if a.level == proc.level])
        return unit, unit

    def channel(self, rng: random.Random) -> int | None:
        p = self.profile
        return rng.choices((2, 3, None, 1), weights=(p.online, p.postal, p.no_channel,
                                                      1 - p.online - p.postal - p.no_channel))[0]


def received_dossier(ctx: Context, rng: random.Random, role: str, outcome: object,
                     day: dt.date) -> Dossier:
    """A dossier received on ``day``; ``outcome`` is 3, 7, 8, "stuck" or "finish"."""
    proc = ctx.procedure(rng)
    desk, unit = ctx.units(rng, proc)
    channel = ctx.channel(rng)
    received = ctx.clock.office_time(rng, day)
    d = Dossier(proc, desk, unit, channel, role, _submitted(ctx.clock, rng, channel, received),
                received_at=received)
    if rng.random() >= _D["missing_due"]:
        d.due_at = dt.datetime.combine(ctx.clock.add_workdays(day, proc.days), received.time())
    counts, weights = zip(*_D["supplements"].items(), strict=True)
    d.supplement_count = rng.choices(counts, weights=weights)[0]
    d.supplement_days = sum(rng.randint(*_D["supplement_wait_days"])
                            for _ in range(d.supplement_count))
    first = 5 if d.supplement_count else rng.choice((2, 4))
    d.stages.append((received, first))
    _progress(ctx, rng, d, outcome)
    return d


def new_dossier(ctx: Context, rng: random.Random) -> Dossier:
    """An online submission never received by the desk: status 1, no received_at."""
    proc = ctx.procedure(rng)
    desk, unit = ctx.units(rng, proc)
    submitted = ctx.clock.any_time(rng, ctx.clock.random_day(rng))
    d = Dossier(proc, desk, unit, 2, "new", submitted)
    d.stages.append((submitted, 1))
    return d


def _submitted(clock: Clock, rng: random.Random, channel: int | None,
               received: dt.datetime) -> dt.datetime | None:
    """Online: hours or days before reception (nights, weekends); postal: mailed days before."""
    if channel == 2:
        moment = received - dt.timedelta(minutes=rng.randint(10, 3 * 24 * 60))
        return max(moment, dt.datetime.combine(clock.start, dt.time(0, 5)))
    if channel == 3:
        return None if rng.random() < 0.3 else received - dt.timedelta(days=rng.randint(1, 4))
    return received - dt.timedelta(minutes=rng.randint(0, 45))


def _processing_days(rng: random.Random, d: Dossier, outcome: object, late: float) -> int:
    """Working days from reception to the decision."""
    days = d.procedure.days
    if outcome == 3:
        return rng.randint(0, 1)
    if outcome in (7, 8):
        return rng.randint(1, max(1, days))
    if outcome == "stuck":  # far past due: still open at the end unless received early
        return days * rng.randint(3, 8) + 20
    if rng.random() < late:
        return days + max(1, round(days * rng.uniform(0.05, 1.5)))
    return rng.randint(0, days)


def _progress(ctx: Context, rng: random.Random, d: Dossier, outcome: object) -> None:
    """Append the decision (and result) stages that happen before the end of the period."""
    clock, received = ctx.clock, d.received_at
    assert received is not None
    day = clock.add_workdays(received.date(), _processing_days(rng, d, outcome,
                                                               ctx.profile.late))
    if outcome != 3:  # the citizen's supplement time pushes the decision out
        day = clock.next_workday(day + dt.timedelta(days=d.supplement_days))
    decided = clock.after(rng, received, day)
    if decided >= clock.end_at:
        _still_open(ctx, rng, d)
        return
    status = outcome if outcome in (3, 7, 8) else 9
    if status == 9 and d.procedure.fee and d.channel != 2 and rng.random() < _D["awaiting_fee"]:
        _add_awaiting_fee(rng, d, decided)
    d.finished_at = decided
    d.stages.append((decided, status))
    if status == 9:
        _return_result(ctx, rng, d)


def _add_awaiting_fee(rng: random.Random, d: Dossier, decided: dt.datetime) -> None:
    received = d.stages[-1][0]
    at = received + (decided - received) * rng.uniform(0.3, 0.7)
    at = at.replace(second=0, microsecond=0)
    if received < at < decided:
        d.stages.append((at, 6))
        d.awaiting_fee = True


def _return_result(ctx: Context, rng: random.Random, d: Dossier) -> None:
    """Status 10 when the citizen collects the result (same day or up to a week later)."""
    if rng.random() < _D["not_picked_up"]:
        return
    assert d.finished_at is not None
    wait = 0 if rng.random() < 0.5 else rng.randint(1, 5)
    returned = ctx.clock.after(rng, d.finished_at, ctx.clock.add_workdays(d.finished_at.date(),
                                                                          wait))
    if returned >= ctx.clock.end_at:
        return
    if returned.date() == d.finished_at.date():
        d.stages.pop()  # one change record that day: straight to 10
    d.returned_at = returned
    d.stages.append((returned, 10))


def _still_open(ctx: Context, rng: random.Random, d: Dossier) -> None:
    """Unfinished on the last day: maybe one intermediate update (4, 5 or 6)."""
    received, first = d.stages[0]
    if rng.random() >= _D["in_progress_update"]:
        return
    minutes = int((ctx.clock.end_at - received).total_seconds() // 60)
    if minutes < 60:
        return
    at = received + dt.timedelta(minutes=rng.randint(30, minutes - 1))
    if d.supplement_count and first != 5:
        status = 5
    elif d.procedure.fee and rng.random() < 0.3:
        status, d.awaiting_fee = 6, True
    else:
        status = 4
    d.stages.append((at, status))


def stage_records(d: Dossier, province_code: str) -> list[dict[str, Any]]:
    """One canonical record per stage: what the source showed after that change."""
    out = []
    last = len(d.stages) - 1
    for i, (at, status) in enumerate(d.stages):
        done = i == last or status in ENDED  # supplements are over once decided
        record = {
            "dossier_code": d.code, "procedure_code": d.procedure.code,
            "procedure_name": d.procedure.name, "field_code": d.procedure.field_code,
            "receiving_agency_code": d.receiving.code,
            "processing_agency_code": d.processing.code,
            "receiving_agency_name": d.receiving.name, "processing_agency_name": d.processing.name,
            "agency_level": d.processing.level,
            "province_code": province_code, "channel": d.channel,
            "submitted_at": d.submitted_at, "received_at": d.received_at, "due_at": d.due_at,
            "finished_at": d.finished_at if status in ENDED else None,
            "returned_at": d.returned_at if status == 10 else None, "status": status,
            "supplement_count": d.supplement_count if done else min(d.supplement_count, 1),
            "supplement_days": d.supplement_days if done and status in ENDED else 0,
            "components_digitized": d.components_digitized,
            "result_digitized": d.result_digitized and status in FINISHED,
            "requires_paper_result": d.procedure.paper_result,
            "synced_to_portal": d.role != "unsynced",
            "paid_online": d.paid_online if d.paid_at and d.paid_at <= at else 0,
            "fee_amount": d.procedure.fee, "source_updated_at": at,
        }
        out.append(record)
    assert all(list(r) == DOSSIER.column_names for r in out[:1])
    return out
