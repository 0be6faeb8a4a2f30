"""The Source interface: what every feed format offers the pipeline, and the errors it raises.

A source lands one interval of its entity (files copied unchanged, or API pages fetched) and reads
landed files back as raw chunks: ``pandas.DataFrame``s whose columns are canonical names from
``tthc_warehouse.contract`` (values still as the source wrote them: strings or None), plus
``ROW_COLUMN``, the 1-based position of the record in its file as a person would count it (the
line for CSV and JSON lines, the sheet row for XLSX). Parsing to typed values happens later, in
``tthc_warehouse.load.normalize``, so that a bad value can be reported with file, row and column.
The format is decided once, in ``tthc_warehouse.extract.sources.source_for``.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from tthc_warehouse.extract.feeds import EntityFeed
    from tthc_warehouse.extract.landing import Landed

CHUNK_ROWS = 50_000
ROW_COLUMN = "_row"


class SourceError(Exception):
    """A source or file that cannot be read at all (the whole batch fails, with this message)."""


class TransientSourceError(SourceError):
    """The source is unreachable for now (retries exhausted on 5xx, timeouts): the task retries."""


class MissingColumnError(SourceError):
    def __init__(self, file: str, columns: list[str]):
        self.file = file
        self.columns = columns
        super().__init__(f"{file}: required column(s) missing: {', '.join(columns)}")


class Source(ABC):
    """One province's feed of one entity."""

    def __init__(self, feed: EntityFeed, province_code: str, inbox: Path):
        self.feed = feed
        self.province_code = province_code
        self.inbox = inbox

    @property
    def label(self) -> str:
        """Names the source in ``ops`` and in messages (never carries credentials)."""
        return self.feed.source

    @abstractmethod
    def land(self, start: dt.datetime, end: dt.datetime, target: Path) -> Landed:
        """Land the payload of [start, end) unchanged under ``target``."""

    @abstractmethod
    def read(self, path: Path, start: dt.datetime, end: dt.datetime) -> Iterator[pd.DataFrame]:
        """Raw chunks of one landed file of the interval [start, end)."""
