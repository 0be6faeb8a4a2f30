"""One national night's feeds for ``bench/national_night.py``: 34 provincial units, CSV files.

Every unit delivers the day's dossier changes, payments and refunds as CSV with canonical headers
(the formats the parsers already cover elsewhere; this measures the night, not the parsing of odd
formats). Records are valid by construction, so the whole night is published.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from tthc_warehouse.contract import DOSSIER, PAYMENT, REFUND

PROCEDURES = [f"{1 + i % 3}.{(5411 + 37 * i) % 1_000_000:06d}" for i in range(40)]
STATUSES = np.array([2, 4, 5, 6, 9, 10, 3])
STATUS_WEIGHTS = np.array([0.10, 0.25, 0.04, 0.03, 0.18, 0.38, 0.02])
ENTRY = ('  - {{province_code: "{code}", province_name: "{name}",\n'
         '     dossier: {{format: csv, path: "{code}/ho-so-{{day:%Y%m%d}}.csv"}},\n'
         '     payment: {{format: csv, path: "{code}/giao-dich-{{day:%Y%m%d}}.csv"}},\n'
         '     refund: {{format: csv, path: "{code}/hoan-phi-{{day:%Y%m%d}}.csv"}}}}\n')


def _iso(values: np.ndarray) -> list[str]:
    return [str(v).replace("T", " ") if not np.isnat(v) else "" for v in values]


def _dossiers(rng, code: str, day: dt.datetime, n: int) -> dict[str, list]:
    base = np.datetime64(day, "s")
    updated = base + rng.integers(7 * 3600, 18 * 3600, n).astype("timedelta64[s]")
    received = updated - rng.integers(0, 10 * 86400, n).astype("timedelta64[s]")
    status = rng.choice(STATUSES, size=n, p=STATUS_WEIGHTS)
    finished = np.where(np.isin(status, (9, 10)), updated, np.datetime64("NaT"))
    fee = rng.choice([0, 0, 20_000, 50_000, 100_000], size=n)
    channel = rng.choice([1, 2, 3], size=n, p=[0.4, 0.58, 0.02])
    paid = np.where((fee > 0) & (channel == 2), rng.choice([0, 1, 2], size=n, p=[0.2, 0.7, 0.1]), 0)
    units = [f"{code}.S{k:02d}" for k in range(12)]
    return {
        "dossier_code": [f"H{code}-{day:%y%m%d}-{i:06d}" for i in range(n)],
        "procedure_code": rng.choice(PROCEDURES, size=n).tolist(),
        "procedure_name": "Thủ tục hành chính",
        "receiving_agency_code": rng.choice(units, size=n).tolist(),
        "processing_agency_code": rng.choice(units, size=n).tolist(),
        "agency_level": "province", "province_code": code, "channel": channel.tolist(),
        "received_at": _iso(received), "due_at": _iso(received + np.timedelta64(7, "D")),
        "finished_at": _iso(finished), "status": status.tolist(), "supplement_count": 0,
        "components_digitized": "1", "synced_to_portal": "1", "paid_online": paid.tolist(),
        "fee_amount": fee.tolist(), "source_updated_at": _iso(updated),
    }


def _payments(rng, code: str, dossiers: dict[str, list]) -> dict[str, list]:
    rows = [i for i, p in enumerate(dossiers["paid_online"]) if p]
    at = [dossiers["received_at"][i] or dossiers["source_updated_at"][i] for i in rows]
    return {
        "transaction_id": [f"GD{code}{i:07d}" for i in rows],
        "dossier_code": [dossiers["dossier_code"][i] for i in rows], "province_code": code,
        "amount": [dossiers["fee_amount"][i] for i in rows], "paid_at": at,
        "gateway": ["national" if dossiers["paid_online"][i] == 1 else "local" for i in rows],
        "status": "success", "steps": rng.integers(3, 8, len(rows)).tolist(), "source_updated_at": at,
    }


def _refunds(rng, code: str, payments: dict[str, list], share: float = 0.03) -> dict[str, list]:
    rows = [i for i in range(len(payments["transaction_id"])) if rng.random() < share]
    return {
        "refund_id": [f"HP{code}{i:07d}" for i in rows],
        "transaction_id": [payments["transaction_id"][i] for i in rows],
        "dossier_code": [payments["dossier_code"][i] for i in rows], "province_code": code,
        "reason": "withdrawn", "requested_at": [payments["paid_at"][i] for i in rows],
        "amount": [payments["amount"][i] for i in rows], "method": "automatic", "status": "pending",
        "source_updated_at": [payments["paid_at"][i] for i in rows],
    }


def _write(path: Path, names: list[str], columns: dict[str, object]) -> int:
    size = max(len(v) for v in columns.values() if isinstance(v, list))
    cells = [columns.get(n, "") for n in names]
    rows = zip(*(c if isinstance(c, list) else [c] * size for c in cells), strict=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        writer.writerows(rows)
    return size


def write_night(inbox: Path, config: Path, units: list[tuple[str, str]], day: dt.datetime,
                dossiers: int, seed: int) -> dict[str, int]:
    """Write the night's files and a feeds.yaml naming them; return rows per entity."""
    rng = np.random.default_rng(seed)
    counts = {"dossier": 0, "payment": 0, "refund": 0}
    for i, (code, _) in enumerate(units):
        n = dossiers * (i + 1) // len(units) - dossiers * i // len(units)
        rows = _dossiers(rng, code, day, n)
        paid = _payments(rng, code, rows)
        stamp = f"{day:%Y%m%d}"
        counts["dossier"] += _write(inbox / code / f"ho-so-{stamp}.csv", DOSSIER.column_names, rows)
        counts["payment"] += _write(inbox / code / f"giao-dich-{stamp}.csv", PAYMENT.column_names, paid)
        counts["refund"] += _write(inbox / code / f"hoan-phi-{stamp}.csv", REFUND.column_names,
                                   _refunds(rng, code, paid))
    config.write_text("provinces:\n" + "".join(ENTRY.format(code=c, name=n) for c, n in units),
                      encoding="utf-8")
    return counts
