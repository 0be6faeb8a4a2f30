"""What the reliability tests and the fault-injection suite share: hand-written feeds, the nightly
steps called one by one (as the DAG's tasks call them), and fingerprints of what was loaded.

Provinces 01 (Hà Nội) and 79 (TP Hồ Chí Minh) are not simulated, so every row is known by
construction. Each feed is CSV with canonical headers; ``jsonl`` feeds are offered for the
bad-input corpus.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.extract.feeds import load_feeds
from tthc_warehouse.extract.sources import source_for
from tthc_warehouse.orchestration import nightly

HEADER = ["dossier_code", "procedure_code", "province_code", "received_at", "due_at", "finished_at",
          "status", "fee_amount", "components_digitized", "synced_to_portal", "source_updated_at"]
FEEDS = """provinces:
  - {province_code: "01", province_name: Hà Nội, dossier: {format: csv, path: "01/{day:%Y%m%d}.csv"}}
  - {province_code: "79", province_name: TP Hồ Chí Minh, dossier: {format: csv, path: "79/{day:%Y%m%d}.csv"}}
  - {province_code: "77", province_name: Vũng Tàu, dossier: {format: jsonl, path: "77/{day:%Y%m%d}.jsonl"}}
"""


def configure(tmp_path: Path, monkeypatch) -> Path:
    """Point the pipeline at the test feeds and an inbox of our own; returns the inbox."""
    config = tmp_path / "feeds.yaml"
    config.write_text(FEEDS, encoding="utf-8")
    monkeypatch.setenv("TTHC_FEEDS_FILE", str(config))
    monkeypatch.setenv("TTHC_INBOX_DIR", str(tmp_path / "inbox"))
    return tmp_path / "inbox"


def good(code: str, province: str, day: str, **overrides) -> dict:
    row = {"dossier_code": code, "procedure_code": "1.005411", "province_code": province,
           "received_at": f"{day} 08:00:00", "due_at": f"{day} 17:00:00", "finished_at": "",
           "status": "4", "fee_amount": "50000", "components_digitized": "1", "synced_to_portal": "1",
           "source_updated_at": f"{day} 08:00:00"}
    return {**row, **overrides}


def day_file(inbox: Path, province: str, day: str, suffix: str = "csv") -> Path:
    path = inbox / province / f"{day.replace('-', '')}.{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_day(inbox: Path, province: str, day: str, rows: list[dict], header: list[str] = HEADER) -> Path:
    path = day_file(inbox, province, day)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(inbox: Path, province: str, day: str, lines: list[str | dict]) -> Path:
    path = day_file(inbox, province, day, "jsonl")
    text = "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
                   for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Steps:
    """The nightly steps of one province's dossier batch for one day, as the DAG runs them."""

    warehouse: Warehouse
    province: str
    day: str
    run_id: str = "manual__test"

    @property
    def source(self):
        feed = next(f for f in load_feeds() if f.province_code == self.province).entities["dossier"]
        return source_for(feed, self.province)

    def batch(self) -> dict:
        start = dt.datetime.fromisoformat(self.day)
        return nightly.plan_batches(start, start + dt.timedelta(days=1), [self.province])[0]

    def extract(self) -> dict:
        return nightly.extract(self.batch(), "dossier", warehouse=self.warehouse, source=self.source,
                               run_id=self.run_id)

    def stage(self, extracted: dict) -> dict:
        return nightly.stage(extracted, warehouse=self.warehouse, source=self.source)

    def validate(self, staged: dict) -> dict:
        return nightly.validate(staged, warehouse=self.warehouse)

    def publish(self, validated: dict) -> dict:
        return nightly.publish_batch(validated, warehouse=self.warehouse, source_label=self.source.label)

    def all(self) -> dict:
        return self.publish(self.validate(self.stage(self.extract())))

    @property
    def batch_id(self) -> str:
        start = dt.datetime.fromisoformat(self.day)
        end = start + dt.timedelta(days=1)
        return f"dossier:{self.province}:{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}"


def batch_row(db: psycopg.Connection, batch_id: str) -> dict:
    cursor = db.execute("select * from ops.batch where batch_id = %s", (batch_id,))
    names = [c.name for c in cursor.description]
    row = cursor.fetchone()
    db.commit()
    return dict(zip(names, row, strict=True)) if row else {}


def core_checksum(db: psycopg.Connection, prefix: str) -> tuple[int, str | None]:
    """Rows and a checksum of core dossiers whose code starts with ``prefix`` (batch ids left out)."""
    row = db.execute("select count(*), md5(string_agg((to_jsonb(t) - 'batch_id')::text, '|' "
                     "order by dossier_code)) from core.fact_dossier t where dossier_code like %s",
                     (prefix + "%",)).fetchone()
    db.commit()
    return row[0], row[1]


def core_codes(db: psycopg.Connection, prefix: str) -> set[str]:
    rows = db.execute("select dossier_code from core.fact_dossier where dossier_code like %s",
                      (prefix + "%",)).fetchall()
    db.commit()
    return {r[0] for r in rows}


def quarantine(db: psycopg.Connection, prefix: str) -> dict[str, str]:
    """Quarantined rows of the batches whose dossier codes start with ``prefix``: code -> reason."""
    rows = db.execute("select coalesce(raw->>'dossier_code', source_file || ':' || row_number), "
                      "expectation || ': ' || reason from quarantine.rejected_row "
                      "where raw::text like %s", (f"%{prefix}%",)).fetchall()
    db.commit()
    return {r[0]: r[1] for r in rows}


def quarantine_of(db: psycopg.Connection, batch_id: str) -> dict[int, str]:
    """A batch's quarantined rows: row number -> every reason given for it."""
    rows = db.execute("select row_number, string_agg(expectation || ': ' || reason, ' | ') "
                      "from quarantine.rejected_row where batch_id = %s group by row_number",
                      (batch_id,)).fetchall()
    db.commit()
    return dict(rows)
