"""The portal's units mapped to the warehouse's agencies, one CSV per province.

``config/portal_units/<province_code>.csv`` has ``unit_code`` (an H-code such as H44.07),
``department_id`` (the portal's UUID, the only key transparency and satisfaction give),
``agency_code`` (ours; empty when the unit has no counterpart) and ``unit_name``. Units the
portal publishes but no file names stay in the scorecard with a null agency: listed, not dropped.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tthc_warehouse.extract.dvcqg_values import clean
from tthc_warehouse.paths import CONFIG_DIR

PORTAL_UNITS_DIR = CONFIG_DIR / "portal_units"
COLUMNS = ("province_code", "unit_code", "department_id", "agency_code", "unit_name")


def _row(province: str, raw: dict[str, str], where: str) -> dict[str, Any]:
    code = raw.get("unit_code", "").strip().upper()
    if not code:
        raise ValueError(f"{where}: unit_code is empty")
    return {"province_code": province, "unit_code": code,
            "department_id": raw.get("department_id", "").strip().lower() or None,
            "agency_code": raw.get("agency_code", "").strip() or None,
            "unit_name": clean(raw.get("unit_name", "")) or None}


def portal_unit_rows(folder: Path = PORTAL_UNITS_DIR) -> list[dict[str, Any]]:
    """Every mapping file's rows, with the province code taken from the file name."""
    rows = []
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows += [_row(path.stem, raw, f"{path.name} line {i}")
                     for i, raw in enumerate(csv.DictReader(handle), 2)]
    return rows


def write_portal_units(path: Path, rows: list[dict[str, Any]]) -> Path:
    """One province's mapping file (the simulator ships them for its provinces)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS[1:], lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: r.get(k) or "" for k in COLUMNS[1:]} for r in rows)
    return path
