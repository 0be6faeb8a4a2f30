"""The portal's published Decision-766 digitization snapshots, one file per province and month.

The portal counts almost what the warehouse counts: a few dossiers more or less per month, and in
the last month the dossiers of the final working days have not reached it yet (sync lag). District
units are left out of ``evaluation`` (the renderer knows PROVINCE and COMMUNE levels only, as the
real 2026 response does) but are counted in the province overview.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from tthc_warehouse.reference.portal_units import write_portal_units
from tthc_warehouse.simulator.calibrate import violates_766
from tthc_warehouse.simulator.catalogue import DISTRICTS, Agency
from tthc_warehouse.simulator.clock import Clock
from tthc_warehouse.simulator.dossiers import FINISHED, Dossier
from tthc_warehouse.simulator.params import PORTAL, Profile
from tthc_warehouse.simulator.portal_groups import render_groups, unit_counts, unit_head
from tthc_warehouse.simulator.portal_render import department_id, render_digitization_response

DIGITIZED = "SO_HOA_GIAY_TO_GIAI_QUYET"  # the 766 digitization rate (numerator/denominator)
E_RESULT = "ORIGINAL_RESULT_AVAILABLE"
# Metrics the warehouse does not compute: the portal's own shares, drawn per unit and month.
OTHER_SHARES = {"REUSED_DIGITIZED_DATA": (0.01, 0.15), "SYNCED_WITH_DVCQG_PERSONAL_STORAGE":
                (0.0, 0.05), "CITIZEN_DATA_CONNECTED_DOSSIER": (0.3, 0.6)}
_LEVELS = {"province": "PROVINCE", "commune": "COMMUNE"}


def months(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the months overlapping [start, end)."""
    first = start.replace(day=1)
    out = []
    while first < end:
        out.append(first)
        first = (first + dt.timedelta(days=32)).replace(day=1)
    return out


def _counts(dossiers: list[Dossier], month: dt.date, cutoff: dt.datetime) -> dict[str, list[int]]:
    """receiving unit -> [synced received, 766 digitized, with e-result] for the month."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in dossiers:
        at = d.received_at
        if d.role != "synced" or d.status == 3 or at is None or at >= cutoff or (
                at.year, at.month) != (month.year, month.month):
            continue  # not accepted (3) was never received (DOMAIN §6.3)
        row = out[d.receiving.code]  # components are digitized at the desk that receives
        row[0] += 1
        row[1] += not violates_766(d)
        row[2] += d.status in FINISHED and d.result_digitized
    return out


def _miscount(rng: random.Random, counts: dict[str, list[int]], agencies: list[Agency]) -> None:
    """The portal counted a few dossiers more or fewer in one unit."""
    busy = [a.code for a in agencies if counts.get(a.code, [0])[0] > 0]
    if not busy:
        return
    row = counts[rng.choice(busy)]
    delta = rng.randint(*PORTAL["miscount"]) * rng.choice((-1, 1))  # type: ignore[misc]
    delta = max(delta, -row[0] + 1)
    row[0] += delta
    row[1] = min(max(row[1] + delta, 0), row[0])
    row[2] = min(row[2], row[0])


def _metrics(rng: random.Random, row: list[int], procedures: int) -> dict[str, tuple[int, int]]:
    total, digitized, eresult = row
    out = {E_RESULT: (eresult, total), DIGITIZED: (digitized, total)}
    for code, (low, high) in OTHER_SHARES.items():
        out[code] = (round(total * rng.uniform(low, high)), total)
    out["CITIZEN_DATA_CONNECTED_FORMALITY"] = (rng.randint(0, procedures), procedures)
    return out


def _unit(rng: random.Random, agency: Agency, row: list[int]) -> dict[str, Any]:
    """One evaluation unit as render_digitization_response takes it."""
    return {"departmentCode": agency.portal_code, "departmentName": agency.name,
            "departmentId": department_id(agency.portal_code),
            "departmentLevel": _LEVELS[agency.level], **_metrics(rng, row, rng.randint(3, 12))}


def render_month(rng: random.Random, profile: Profile, agencies: list[Agency],
                 counts: dict[str, list[int]]) -> str:
    """One month's response: overview = all units' counts, evaluation = listed units."""
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    province = {"departmentCode": profile.portal_code,
                "departmentName": f"UBND tỉnh {DISTRICTS[profile.code][0]}",
                **_metrics(rng, total, rng.randint(20, 30))}
    units = [_unit(rng, a, counts.get(a.code, [0, 0, 0])) for a in agencies if a.level in _LEVELS]
    return render_digitization_response(province, units)


def _other_groups(profile: Profile, agencies: list[Agency], dossiers: list[Dossier],
                  month: dt.date, cutoff: dt.datetime) -> dict[str, str]:
    """The five other groups; their own random stream keeps the digitization draws unchanged."""
    rng = random.Random(f"{profile.code}:{month:%Y-%m}:groups")
    province = unit_head(profile.portal_code, f"UBND tỉnh {DISTRICTS[profile.code][0]}", None,
                         None)
    units = [unit_head(a.portal_code, a.name, _LEVELS[a.level], a.code) for a in agencies
             if a.level in _LEVELS]
    return render_groups(rng, month, province, units, unit_counts(dossiers, month, cutoff))


def portal_unit_mapping(agencies: list[Agency]) -> list[dict[str, Any]]:
    """The mapping file's rows: every simulated agency with its portal H-code and UUID."""
    return [{"unit_code": a.portal_code, "department_id": department_id(a.portal_code),
             "agency_code": a.code, "unit_name": a.name} for a in agencies]


def write_snapshots(inbox: Path, rng: random.Random, profile: Profile, agencies: list[Agency],
                    dossiers: list[Dossier], clock: Clock) -> list[Path]:
    """inbox/dvcqg/<code>/<group>-YYYY-MM.json for the six groups and every month."""
    folder = inbox / "dvcqg" / profile.code
    folder.mkdir(parents=True, exist_ok=True)
    lag = clock.period_workdays()[-int(PORTAL["sync_lag_days"])]  # type: ignore[call-overload]
    cutoff = dt.datetime.combine(lag, dt.time())
    paths = [write_portal_units(folder / "portal-units.csv", portal_unit_mapping(agencies))]
    for month in months(clock.start, clock.end):
        counts = _counts(dossiers, month, cutoff)
        _miscount(rng, counts, agencies)
        texts = {"dossier-digitized": render_month(rng, profile, agencies, counts),
                 **_other_groups(profile, agencies, dossiers, month, cutoff)}
        for group, text in texts.items():
            path = folder / f"{group}-{month:%Y-%m}.json"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
    return paths
