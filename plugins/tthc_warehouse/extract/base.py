"""The Source interface: what every feed format offers the pipeline, and the errors it raises.

A source lands one interval of its entity (files copied unchanged, or API pages fetched) and reads
landed files back as raw chunks: ``pandas.DataFrame``s whose columns are canonical names from
``tthc_warehouse.contract`` (values still as the source wrote them: strings or None), plus
``ROW_COLUMN``, the 1-based position of the record in its file as a person would count it (the
line for CSV and JSON lines, the sheet row for XLSX). ``read_arrow`` gives the same chunks as Arrow
tables of strings (what the stage reads; CSV files are read straight into Arrow). Parsing to typed
values happens later, in ``tthc_warehouse.load.normalize``, so that a bad value can be reported
with file, row and column. The format is decided once, in ``tthc_warehouse.extract.sources.source_for``.
"""

from __future__ import annotations

import datetime as dt
import functools
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
from pandas.api.types import infer_dtype

from tthc_warehouse.load.formats import ValueFormat

if TYPE_CHECKING:
    from tthc_warehouse.extract.feeds import EntityFeed
    from tthc_warehouse.extract.landing import Landed

CHUNK_ROWS = 50_000
ROW_COLUMN = "_row"
# Set (to what is wrong) on a record the reader could not split into fields; normalize quarantines it.
MALFORMED_COLUMN = "_malformed"
FILE_COLUMN = "_file"  # the landed file a row comes from (added by the stage)


class SourceError(Exception):
    """A source or file that cannot be read at all (the whole batch fails, with this message)."""


class MissingColumnError(SourceError):
    def __init__(self, file: str, columns: list[str]):
        self.file = file
        self.columns = columns
        super().__init__(f"{file}: column(s) the feed's mapping expects are missing: {', '.join(columns)}")


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

    @property
    def value_format(self) -> ValueFormat:
        """The feed's declared number and date styles; defaults per format (JSON: integers, ISO)."""
        json_like = self.feed.format in ("jsonl", "http", "dvcqg")
        return ValueFormat(numbers=self.feed.options.get("numbers", "json" if json_like else "vi"),
                           dates=self.feed.options.get("dates", "vi"))

    @functools.cached_property
    def mapping(self) -> dict[str, str]:
        """The feed's header mapping, read once (a batch reads hundreds of daily files)."""
        from tthc_warehouse.extract.feeds import load_mapping

        return load_mapping(self.feed.mapping)

    def expected_columns(self, mapping: dict[str, str]) -> list[str]:
        """Columns a file must have: the required ones and every one the feed's mapping names.

        A mapped column the file lacks is an error, not a column of defaults (a renamed
        ``components_digitized`` once took a province's digitization rate to 0 %).
        ``columns: all`` asks the same of a feed with canonical headers.
        """
        from tthc_warehouse.contract import ENTITIES

        entity = ENTITIES[self.feed.entity]
        every = entity.column_names if self.feed.options.get("columns") == "all" else []
        wanted = set(entity.required) | set(mapping.values()) | set(every)
        return [c for c in entity.column_names if c in wanted]

    @abstractmethod
    def land(self, start: dt.datetime, end: dt.datetime, target: Path) -> Landed:
        """Land the payload of [start, end) unchanged under ``target``."""

    @abstractmethod
    def read(self, path: Path, start: dt.datetime, end: dt.datetime) -> Iterator[pd.DataFrame]:
        """Raw chunks of one landed file of the interval [start, end)."""

    def read_arrow(self, path: Path, start: dt.datetime, end: dt.datetime) -> Iterator[pa.Table]:
        """``read``'s chunks as Arrow tables of strings (``raw_table``)."""
        for frame in self.read(path, start, end):
            yield raw_table(frame)


def text_array(values: pd.Series) -> pa.Array:
    """A raw column as Arrow strings: ``str`` values as they are, others as pandas prints them
    (``astype("string")``: ``5``, ``2.5``, ``True``), missing ones (None, NaN, NA) as null."""
    if not isinstance(values.dtype, pd.StringDtype) and infer_dtype(values, skipna=True) not in (
        "string", "empty"
    ):
        values = values.astype("string")
    return pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.string())


def raw_table(frame: pd.DataFrame) -> pa.Table:
    """A raw chunk (``ROW_COLUMN``, text columns) as an Arrow table: row numbers int64, the rest text."""
    return pa.table({name: pa.array(frame[name].to_numpy(dtype="int64"), pa.int64()) if name == ROW_COLUMN
                     else text_array(frame[name]) for name in frame.columns})
