"""Stage: landed files -> typed, unlogged staging table by COPY; unparseable rows -> quarantine."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg
from psycopg import sql

from tthc_warehouse.contract import Entity
from tthc_warehouse.extract.base import CHUNK_ROWS, ROW_COLUMN, Source
from tthc_warehouse.load.normalize import normalize_chunk
from tthc_warehouse.load.overlap import ahead

QUARANTINE_INSERT = """
    insert into quarantine.rejected_row
        (batch_id, entity, source_file, row_number, column_name, expectation, reason, raw)
    values (%s, %s, %s, %s, %s, %s, %s, %s)
"""


@dataclass
class StageResult:
    table: str
    rows_read: int
    rows_staged: int
    rows_rejected: int

    def to_dict(self) -> dict:
        return dict(vars(self))


def staging_identifier(table: str) -> sql.Composable:
    return sql.Identifier("staging", table)


def create_staging_table(conn: psycopg.Connection, table: str, entity: Entity) -> None:
    """A fresh unlogged table: WAL-free, and dropped after publish."""
    columns = [
        sql.SQL("{} bigint not null").format(sql.Identifier(ROW_COLUMN)),
        sql.SQL("{} text not null").format(sql.Identifier("_file")),
    ]
    columns += [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type)) for c in entity.columns
    ]
    conn.execute(sql.SQL("drop table if exists {}").format(staging_identifier(table)))
    conn.execute(
        sql.SQL("create unlogged table {} ({})").format(
            staging_identifier(table), sql.SQL(", ").join(columns)
        )
    )


def copy_rows(conn: psycopg.Connection, table: str, rows: pd.DataFrame) -> None:
    """COPY a typed frame (first columns ``_row``, ``_file``) in text format: the fast path.

    Columns are formatted whole by ``normalize.copy_text`` (``to_csv`` formatted nullable
    integers, booleans and timestamps value by value).
    """
    from tthc_warehouse.load.normalize import copy_text

    if rows.empty:
        return
    statement = sql.SQL("copy {} ({}) from stdin (format text)").format(
        staging_identifier(table), sql.SQL(", ").join(map(sql.Identifier, rows.columns))
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(copy_text(rows))


def quarantine_parse_errors(conn: psycopg.Connection, batch_id: str, entity: Entity,
                            raw: pd.DataFrame, errors: list[dict]) -> None:
    """One quarantine row per bad value, naming file, row and column, with the row's raw values."""
    rows = []
    for e in errors:
        file = raw.at[e["index"], "_file"]
        rows.append((batch_id, entity.name, file, e["row"], e["column"], "parse",
                     f"{file} row {e['row']} column {e['column']}: {e['reason']} ({e['value']!r})",
                     _storable(json.dumps(e["raw"], ensure_ascii=False))))
    with conn.cursor() as cur:
        cur.executemany(QUARANTINE_INSERT, rows)


def _storable(raw_json: str) -> str:
    """PostgreSQL cannot store a NUL in text or jsonb: keep it visible as the six characters ``\\u0000``."""
    return raw_json.replace("\\u0000", "\\\\u0000")


def raw_batches(source: Source, paths: list[Path], start: dt.datetime, end: dt.datetime,
                rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Raw chunks of all files, each row tagged with its file, regrouped to about ``rows`` rows.

    A nightly initial load has hundreds of small daily files: parsing them together keeps the
    per-chunk overhead (vectorised parsing, one COPY) independent of the number of files.
    """
    pending: list[pd.DataFrame] = []
    size = 0
    for path in paths:
        for raw in source.read(path, start, end):
            pending.append(raw.assign(_file=path.name))
            size += len(raw)
            if size >= rows:
                yield pd.concat(pending, ignore_index=True)
                pending, size = [], 0
    if pending:
        yield pd.concat(pending, ignore_index=True)


def stage_files(conn: psycopg.Connection, *, batch_id: str, table: str, entity: Entity, source: Source,
                paths: list[Path], start: dt.datetime, end: dt.datetime) -> StageResult:
    """Load every landed file of one batch into its staging table, in one transaction."""
    conn.execute("delete from quarantine.rejected_row where batch_id = %s and entity = %s",
                 (batch_id, entity.name))
    create_staging_table(conn, table, entity)
    read = staged = rejected = 0
    parsed = ((raw, normalize_chunk(raw.drop(columns="_file"), entity, source.value_format))
              for raw in raw_batches(source, paths, start, end))
    for raw, chunk in ahead(parsed):  # the next chunk is read and parsed while this one is COPYed
        rows = chunk.rows
        rows.insert(1, "_file", raw.loc[rows.index, "_file"])
        copy_rows(conn, table, rows)
        quarantine_parse_errors(conn, batch_id, entity, raw, chunk.errors)
        read += len(raw)
        staged += len(rows)
        rejected += len(raw) - len(rows)
    conn.commit()
    return StageResult(table, read, staged, rejected)


def drop_staging_table(conn: psycopg.Connection, table: str) -> None:
    """Drop the batch's table and the quality gate's flags for it (left there when a check stopped it)."""
    conn.execute(sql.SQL("drop table if exists {}, {}").format(
        staging_identifier(table), staging_identifier(table + "__dq")))
