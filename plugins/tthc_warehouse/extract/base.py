"""What every source adapter hands to staging: bounded chunks of raw text, one column per field.

A raw chunk is a ``pandas.DataFrame`` whose columns are canonical names from
``tthc_warehouse.contract`` (values still as the source wrote them: strings or None), plus
``ROW_COLUMN``, the 1-based position of the record in its file as a person would count it
(the line for CSV and JSON lines, the sheet row for XLSX, ``page*10000 + item`` never: HTTP pages
are landed as files first and read like JSON lines). Parsing to typed values happens later, in
``tthc_warehouse.load.normalize``, so that a bad value can be reported with file, row and column.
"""

from __future__ import annotations

CHUNK_ROWS = 50_000
ROW_COLUMN = "_row"


class SourceError(Exception):
    """A source or file that cannot be read at all (the whole batch fails, with this message)."""


class MissingColumnError(SourceError):
    def __init__(self, file: str, columns: list[str]):
        self.file = file
        self.columns = columns
        super().__init__(f"{file}: required column(s) missing: {', '.join(columns)}")
