"""Write one province's records into the inbox exactly as config/feeds.yaml names the files."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tthc_warehouse.contract import DOSSIER, PAYMENT, REFUND, Entity
from tthc_warehouse.extract.feeds import EntityFeed, ProvinceFeed, load_mapping
from tthc_warehouse.simulator import render
from tthc_warehouse.simulator.params import Style
from tthc_warehouse.simulator.province import ProvinceData

HTTP_STORE = "api-store.jsonl"  # what the province API serves, for the HTTP feed simulator
ENTITIES: dict[str, Entity] = {"dossier": DOSSIER, "payment": PAYMENT, "refund": REFUND}


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every calendar day of [start, end): a file is written for each, even an empty one."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def by_day(records: list[dict[str, Any]]) -> dict[dt.date, list[dict[str, Any]]]:
    """Records grouped by the day of their change (source_updated_at), order kept."""
    out: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        out[r["source_updated_at"].date()].append(r)
    return out


def http_folder(feed: ProvinceFeed) -> str:
    """The province's inbox folder, named like the file feeds' folders: 44-quang-binh."""
    letters = unicodedata.normalize("NFD", feed.province_name.replace("Đ", "D").replace("đ", "d"))
    ascii_name = "".join(c for c in letters if not unicodedata.combining(c))
    return f"{feed.province_code}-{'-'.join(ascii_name.lower().split())}"


def _writer(feed: EntityFeed, style: Style) -> Callable[[Path, list[str], list[list[Any]],
                                                         dt.date], None]:
    """A function (path, header, rows, day) writing the feed's native format."""
    if feed.format == "csv":
        options = {"delimiter": feed.options.get("delimiter", ","),
                   "encoding": feed.options.get("encoding", "utf-8"), "bom": style.bom}
        return lambda path, header, body, day: render.write_csv(path, header, body, **options)
    if feed.format == "xlsx":
        return lambda path, header, body, day: render.write_xlsx(
            path, header, body, dt.datetime.combine(day, dt.time(23, 59)))
    if feed.format == "jsonl":
        return lambda path, header, body, day: render.write_jsonl(path, header, body)
    raise ValueError(f"no file writer for format {feed.format!r}")


def write_entity(inbox: Path, feed: ProvinceFeed, entity: str, records: list[dict[str, Any]],
                 style: Style, period: list[dt.date]) -> list[Path]:
    """One file per day of the period (header-only or empty when nothing changed that day)."""
    spec = feed.entities[entity]
    header = render.headers(ENTITIES[entity], load_mapping(spec.mapping))
    if spec.format == "http":
        folder = inbox / http_folder(feed)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / HTTP_STORE
        render.write_jsonl(path, header, render.rows(records, ENTITIES[entity], style))
        return [path]
    write = _writer(spec, style)
    daily = by_day(records)
    paths = []
    for day in period:
        path = inbox / spec.path.format(day=day, province_code=feed.province_code)
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path, header, render.rows(daily.get(day, []), ENTITIES[entity], style), day)
        paths.append(path)
    return paths


def write_province(inbox: Path, feed: ProvinceFeed, data: ProvinceData,
                   period: list[dt.date]) -> list[Path]:
    """Dossier feed in the province's own style; payments and refunds as canonical JSON lines."""
    paths = write_entity(inbox, feed, "dossier", data.records, data.profile.style, period)
    if "payment" in feed.entities:
        paths += write_entity(inbox, feed, "payment", data.payments, render.JSON_STYLE, period)
    if "refund" in feed.entities:
        paths += write_entity(inbox, feed, "refund", data.refunds, render.JSON_STYLE, period)
    return paths
