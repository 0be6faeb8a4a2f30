"""The versioned feed configuration (config/feeds.yaml, config/mappings.yaml)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tthc_warehouse.paths import CONFIG_DIR, data_dir

ENTITY_ORDER = ("dossier", "payment", "refund", "index766_snapshot")


@dataclass(frozen=True)
class EntityFeed:
    entity: str
    format: str  # csv | xlsx | jsonl | http | dvcqg
    path: str = ""  # file template relative to the inbox, formatted with ``day``
    mapping: str = "canonical"
    options: dict = field(default_factory=dict)  # delimiter, encoding, conn_id, endpoint, ...

    @property
    def source(self) -> str:
        return f"{self.format}:{self.path or self.options.get('endpoint', '')}"

    def paths_for(self, day: dt.date, province_code: str) -> list[str]:
        """The day's file paths; a portal feed has one per indicator group (``groups``)."""
        groups = self.options.get("groups") or [None]
        return [self.path.format(day=day, province_code=province_code,
                                 **({"group": g} if g else {})) for g in groups]


@dataclass(frozen=True)
class ProvinceFeed:
    province_code: str
    province_name: str
    entities: dict[str, EntityFeed]


def inbox_dir() -> Path:
    return Path(os.environ.get("TTHC_INBOX_DIR", data_dir() / "inbox"))


def _entity_feed(entity: str, spec: dict) -> EntityFeed:
    spec = dict(spec)
    return EntityFeed(
        entity=entity,
        format=spec.pop("format"),
        path=spec.pop("path", ""),
        mapping=spec.pop("mapping", "canonical"),
        options=spec,
    )


def load_feeds(path: Path | None = None) -> list[ProvinceFeed]:
    """Every configured province feed, in file order."""
    path = path or Path(os.environ.get("TTHC_FEEDS_FILE", CONFIG_DIR / "feeds.yaml"))
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    feeds = []
    for entry in document["provinces"]:
        entities = {e: _entity_feed(e, entry[e]) for e in ENTITY_ORDER if e in entry}
        feeds.append(ProvinceFeed(str(entry["province_code"]), entry["province_name"], entities))
    return feeds


def load_mapping(name: str, path: Path | None = None) -> dict[str, str]:
    path = path or CONFIG_DIR / "mappings.yaml"
    mappings = yaml.safe_load(path.read_text(encoding="utf-8"))
    if name not in mappings:
        raise KeyError(f"header mapping {name!r} is not defined in {path}")
    return dict(mappings[name] or {})


def file_periods(feed: EntityFeed, province_code: str, days: list[dt.date]) -> dict[str, dt.date]:
    """File name -> first day it covers (a monthly template yields one file for a month's days)."""
    periods: dict[str, dt.date] = {}
    for day in days:
        for path in feed.paths_for(day, province_code):
            periods.setdefault(Path(path).name, day)
    return periods


def days_in(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """Local calendar days covered by the interval [start, end)."""
    first, last = start.date(), end.date()
    if end.time() != dt.time(0) or last == first:
        last += dt.timedelta(days=1)
    return [first + dt.timedelta(days=i) for i in range((last - first).days)]
