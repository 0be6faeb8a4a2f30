"""Stage: landed files -> typed, unlogged staging table by COPY; unparseable rows -> quarantine."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg
import pyarrow as pa
from psycopg import sql

from tthc_warehouse.contract import Entity
from tthc_warehouse.extract.base import CHUNK_ROWS, FILE_COLUMN, ROW_COLUMN, Source
from tthc_warehouse.load.normalize import normalize_table
from tthc_warehouse.load.overlap import ahead
from tthc_warehouse.load.pgcopy import HEADER, TRAILER, BinaryCopy

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
        sql.SQL("{} text not null").format(sql.Identifier(FILE_COLUMN)),
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


def staging_columns(entity: Entity) -> list[tuple[str, str]]:
    """(column, PostgreSQL type) of an entity's staging table."""
    return [(ROW_COLUMN, "bigint"), (FILE_COLUMN, "text"), *((c.name, c.pg_type) for c in entity.columns)]


def copy_rows(conn: psycopg.Connection, table: str, rows: pd.DataFrame | pa.Table) -> None:
    """COPY typed rows (first columns ``_row``, ``_file``) into a staging table, in binary format.

    Each column is encoded as the table's column type wants it (``pgcopy.BinaryCopy``).
    """
    if rows.shape[0] == 0:
        return
    if isinstance(rows, pd.DataFrame):
        rows = pa.Table.from_pandas(rows, preserve_index=False)
    types = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'staging' and table_name = %s", (table,)).fetchall()
    wanted = dict(types)
    copy = BinaryCopy.of((name, wanted[name]) for name in rows.column_names)
    _copy(conn, copy.statement(staging_identifier(table)), copy.encode(rows))


def _copy(conn: psycopg.Connection, statement: sql.Composable, payload: list) -> None:
    """One binary COPY of encoded rows (``BinaryCopy.encode``)."""
    with conn.cursor().copy(statement) as copy:
        copy.write(HEADER)
        for part in payload:
            copy.write(part)
        copy.write(TRAILER)


def quarantine_parse_errors(conn: psycopg.Connection, batch_id: str, entity: Entity,
                            errors: list[dict]) -> None:
    """One quarantine row per bad value, naming file, row and column, with the row's raw values."""
    rows = []
    for e in errors:
        file = e.get("file")
        rows.append((batch_id, entity.name, file, e["row"], e["column"], "parse",
                     f"{file} row {e['row']} column {e['column']}: {e['reason']} ({e['value']!r})",
                     _storable(json.dumps(e["raw"], ensure_ascii=False))))
    with conn.cursor() as cur:
        cur.executemany(QUARANTINE_INSERT, rows)


def _storable(raw_json: str) -> str:
    """PostgreSQL cannot store a NUL in text or jsonb: keep it visible as the six characters ``\\u0000``."""
    return raw_json.replace("\\u0000", "\\\\u0000")


def raw_batches(source: Source, paths: list[Path], start: dt.datetime, end: dt.datetime,
                rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """Raw chunks of all files (Arrow), each row tagged with its file, regrouped to about ``rows`` rows.

    A nightly initial load has hundreds of small daily files: parsing them together keeps the
    per-chunk overhead (a few dozen Arrow calls, one COPY) independent of the number of files.
    """
    pending: list[pa.Table] = []
    size = 0
    for path in paths:
        for raw in source.read_arrow(path, start, end):
            pending.append(raw.append_column(FILE_COLUMN, pa.repeat(pa.scalar(path.name), raw.num_rows)))
            size += raw.num_rows
            if size >= rows:
                yield pa.concat_tables(pending, promote_options="default")
                pending, size = [], 0
    if pending:
        yield pa.concat_tables(pending, promote_options="default")


def stage_files(conn: psycopg.Connection, *, batch_id: str, table: str, entity: Entity, source: Source,
                paths: list[Path], start: dt.datetime, end: dt.datetime) -> StageResult:
    """Load every landed file of one batch into its staging table, in one transaction.

    A background thread reads, parses and encodes the next chunk while this one is COPYed.
    """
    conn.execute("delete from quarantine.rejected_row where batch_id = %s and entity = %s",
                 (batch_id, entity.name))
    create_staging_table(conn, table, entity)
    copy = BinaryCopy.of(staging_columns(entity))
    statement = copy.statement(staging_identifier(table))

    def prepared() -> Iterator[tuple[int, int, list[dict], list]]:
        for raw in raw_batches(source, paths, start, end):
            chunk = normalize_table(raw, entity, source.value_format)
            yield raw.num_rows, chunk.rows.num_rows, chunk.errors, copy.encode(chunk.rows)

    read = staged = 0
    for rows_read, rows_staged, errors, payload in ahead(prepared()):
        if rows_staged:
            _copy(conn, statement, payload)
        quarantine_parse_errors(conn, batch_id, entity, errors)
        read += rows_read
        staged += rows_staged
    conn.commit()
    return StageResult(table, read, staged, read - staged)


def drop_staging_table(conn: psycopg.Connection, table: str) -> None:
    """Drop the batch's table and the quality gate's flags for it (left there when a check stopped it)."""
    conn.execute(sql.SQL("drop table if exists {}, {}").format(
        staging_identifier(table), staging_identifier(table + "__dq")))
