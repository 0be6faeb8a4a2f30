"""One Source per feed format; ``source_for`` is the only place that looks at a feed's format."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa

from tthc_warehouse.extract import landing
from tthc_warehouse.extract.base import ROW_COLUMN, Source
from tthc_warehouse.extract.feeds import EntityFeed, days_in, file_periods

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # sources write Vietnam wall-clock time


class FileSource(Source):
    """Daily (or monthly) export files dropped in the inbox: CSV, XLSX or JSON lines."""

    def files(self, start: dt.datetime, end: dt.datetime) -> dict[str, dt.date]:
        """Names of the interval's files -> the first day each covers (a monthly file once)."""
        return file_periods(self.feed, self.province_code, days_in(start, end))

    def land(self, start: dt.datetime, end: dt.datetime, target: Path) -> landing.Landed:
        folder = self.inbox / Path(self.feed.paths_for(start.date(), self.province_code)[0]).parent
        return landing.land([folder / name for name in self.files(start, end)], target, self.label)

    def read(self, path: Path, start: dt.datetime, end: dt.datetime) -> Iterator[pd.DataFrame]:
        from tthc_warehouse.extract.files import READERS

        options = {k: v for k, v in self.feed.options.items() if k in ("delimiter", "encoding", "sheet")}
        mapping = self.mapping
        yield from READERS[self.feed.format](path, mapping, self.expected_columns(mapping), **options)

    def read_arrow(self, path: Path, start: dt.datetime, end: dt.datetime) -> Iterator[pa.Table]:
        """CSV files straight into Arrow; the other formats through their frames."""
        if self.feed.format != "csv":
            yield from super().read_arrow(path, start, end)
            return
        from tthc_warehouse.extract.files import read_csv_arrow

        options = {k: v for k, v in self.feed.options.items() if k in ("delimiter", "encoding")}
        mapping = self.mapping
        yield from read_csv_arrow(path, mapping, self.expected_columns(mapping), **options)


class HttpSource(Source):
    """A paged JSON API; its URL and credentials come from an Airflow connection."""

    def __init__(self, feed: EntityFeed, province_code: str, inbox: Path,
                 get_connection: Callable[[str], Any]):
        super().__init__(feed, province_code, inbox)
        self.get_connection = get_connection

    def land(self, start: dt.datetime, end: dt.datetime, target: Path) -> landing.Landed:
        from tthc_warehouse.extract import http_api

        connection = self.get_connection(self.feed.options["conn_id"])
        api = http_api.HttpFeed.from_airflow_connection(connection, self.feed.options["endpoint"])
        pages = target / ".fetching"  # resumable: pages already fetched are not asked for again
        http_api.land_pages(api, start, end, pages)
        return landing.land_folder(pages, target, self.label)

    def read(self, path: Path, start: dt.datetime, end: dt.datetime) -> Iterator[pd.DataFrame]:
        from tthc_warehouse.extract.files import map_headers
        from tthc_warehouse.extract.http_api import read_landed_pages

        mapping = self.mapping
        required = self.expected_columns(mapping)
        for chunk in read_landed_pages([path]):
            columns = map_headers(path.name, [c for c in chunk.columns if c != ROW_COLUMN], mapping, required)
            yield chunk[[ROW_COLUMN, *columns]].rename(columns=columns)


class PortalSource(FileSource):
    """The national portal's monthly Decision-766 evaluation responses (JSON as the API returns)."""

    def read(self, path: Path, start: dt.datetime, end: dt.datetime) -> Iterator[pd.DataFrame]:
        from tthc_warehouse.extract.dvcqg import parse_response

        # A response does not say which month it covers or when it was captured: the file name's
        # month and the end of the interval that fetched it do.
        period = self.files(start, end)[path.name].replace(day=1)
        rows = parse_response(path.read_bytes(), group=self.feed.options.get("group") or path.name,
                              period_type="month",
                              period_start=period, captured_at=end.replace(tzinfo=LOCAL_TZ),
                              source=path.name, province_code=self.province_code)
        frame = pd.DataFrame([{k: _text(v) for k, v in row.items()} for row in rows], dtype=object)
        frame.insert(0, ROW_COLUMN, range(1, len(frame) + 1))
        yield frame


def _text(value: object) -> str | None:
    """Raw text, like every other source: typed parsing happens in ``load.normalize``."""
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


_FILE_FORMATS = {"csv", "xlsx", "jsonl"}


def source_for(feed: EntityFeed, province_code: str, *, inbox: Path | None = None,
               get_connection: Callable[[str], Any] | None = None) -> Source:
    """The Source for a configured feed; ``get_connection`` looks up Airflow connections (HTTP)."""
    from tthc_warehouse.extract.feeds import inbox_dir

    inbox = inbox or inbox_dir()
    if feed.format in _FILE_FORMATS:
        return FileSource(feed, province_code, inbox)
    if feed.format == "dvcqg":
        return PortalSource(feed, province_code, inbox)
    if feed.format == "http":
        if get_connection is None:
            raise ValueError(f"{feed.source}: an HTTP feed needs a connection lookup")
        return HttpSource(feed, province_code, inbox, get_connection)
    raise ValueError(f"unknown feed format {feed.format!r} (expected csv, xlsx, jsonl, http or dvcqg)")
