"""SQL objects as code: the views and functions of ``sql/views/`` and ``sql/functions/`` and the
mart docs (``<object>.yml``), (re)applied after every migration with ``create or replace``.

Migrations own what holds data (tables, indexes, roles, grants); objects that hold none are
plain SQL files, one object per file named after it, so changing a view is a one-file change
that sqlfluff can lint. Docs live beside the SQL that builds the object: ``sql/marts/<table>.yml``
for a table built by ``sql/marts/<table>*.sql`` and ``sql/views/mart.<view>.yml`` for a view.

A table's doc also says which of its columns add up across the rows of one month when they roll
up (agencies into a province, provinces into a 2025 unit): ``rollup: sum``. SQL files include
that list by name as ``{<table>_sums}`` (``included_lists``), so a count added to a mart reaches
its rollups at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from tthc_warehouse.paths import SQL_DIR

OWNER_ROLE = "tthc_owner"
SCHEMA = "mart"

# Dependency order: every object comes after the objects it reads. Function bodies are checked
# when created, so a function reading a view comes after that view.
OBJECTS: tuple[str, ...] = (
    "functions/mart.rate",
    "functions/mart.compliance_rates",
    "functions/mart.in_force",
    "functions/mart.overdue_766",
    "functions/mart.overdue_provincial",
    "functions/mart.overdue_reason",
    "functions/mart.days_overdue",
    "functions/mart.refund_pending_at",
    "functions/mart.refund_matches_payment",
    "views/mart.data_as_of",
    "views/mart.working_day_count",
    "views/mart.working_day_calendar",
    "functions/mart.working_days_between",
    "views/mart.province_unit_2025",
    "functions/mart.province_at",
    "views/mart.dossier_flags",
    "views/mart.dossier_status_history",
    "functions/mart.month_bounds",
    "functions/mart.province_at_month_end",
    "views/mart.overdue_dossiers_current",
    "views/mart.agency_monthly_compliance",
    "views/mart.monthly_compliance_by_2025_unit",
    "views/mart.payment_refund_summary_by_2025_unit",
)
# Where docs live, and what COMMENT ON calls the objects there.
DOC_FOLDERS = {"marts": "table", "views": "view"}
# The flows a window counts, one select list included as {flow_counts} by the month's agency
# counts and as {flow_counts_ytd} (names ending in _ytd) by the province year to date.
FLOW_COUNTS_SQL = "marts/flow_counts.sql"
ROLLUPS = ("sum",)  # what a column's ``rollup`` may say


@dataclass(frozen=True)
class Doc:
    """One object's documentation: its description and one per column, in file order."""

    name: str
    kind: str
    description: str
    columns: dict[str, str]
    summed: tuple[str, ...] = ()  # the columns marked ``rollup: sum``, in file order


def views() -> list[str]:
    """Qualified names of the views, in the order they are applied."""
    return [entry.split("/", 1)[1] for entry in OBJECTS if entry.startswith("views/")]


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: needs a non-empty text")
    return value.strip()


def load_doc(path: Path, kind: str) -> Doc:
    """Read and check one ``<object>.yml``: a name matching the file, texts for all it names."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    name = _text(data.get("name"), f"{path}: name")
    if path.stem not in (name, f"{SCHEMA}.{name}"):
        raise ValueError(f"{path}: documents {name!r}; the file must be named after it")
    columns: dict[str, str] = {}
    summed: list[str] = []
    for column in data.get("columns") or []:
        column_name = _text(column.get("name"), f"{path}: a column's name")
        if column_name in columns:
            raise ValueError(f"{path}: column {column_name} is documented twice")
        columns[column_name] = _text(column.get("description"), f"{path}: {column_name}")
        rollup = column.get("rollup")
        if rollup is not None and rollup not in ROLLUPS:
            raise ValueError(f"{path}: {column_name}: rollup is {rollup!r}; it may be {', '.join(ROLLUPS)}")
        if rollup == "sum":
            summed.append(column_name)
    return Doc(name, kind, _text(data.get("description"), f"{path}: description"), columns,
               tuple(summed))


def load_docs(root: Path = SQL_DIR) -> list[Doc]:
    """Every doc file under the doc folders, tables first."""
    return [load_doc(path, kind) for folder, kind in DOC_FOLDERS.items()
            for path in sorted((root / folder).glob("*.yml"))]


def rollup_sums(doc: Doc) -> str:
    """The select list that rolls the table's rows up: ``sum(c)::bigint as c`` per summed column."""
    return ",\n".join(f"sum({column})::bigint as {column}" for column in doc.summed)


@cache
def included_lists(root: Path = SQL_DIR) -> dict[str, sql.Composable]:
    """The select lists SQL files include by name: ``flow_counts``, ``flow_counts_ytd`` and, for
    each table whose doc marks columns ``rollup: sum``, ``<table>_sums``."""
    flows = sql.SQL((root / FLOW_COUNTS_SQL).read_text(encoding="utf-8"))
    lists: dict[str, sql.Composable] = {"flow_counts": flows.format(suffix=sql.SQL("")),
                                        "flow_counts_ytd": flows.format(suffix=sql.SQL("_ytd"))}
    for doc in load_docs(root):
        if doc.summed:
            lists[f"{doc.name}_sums"] = sql.SQL(rollup_sums(doc))
    return lists


def sql_text(relative: str, root: Path = SQL_DIR) -> sql.Composed:
    """One SQL file of ``root`` with the lists it includes (``included_lists``) put in."""
    return sql.SQL((root / relative).read_text(encoding="utf-8")).format(**included_lists(root))


def comment_statements(doc: Doc) -> list[sql.Composed]:
    """COMMENT ON the object and each documented column (a missing column fails the apply)."""
    target = sql.Identifier(SCHEMA, doc.name)
    statements = [sql.SQL("comment on {} {} is {}").format(
        sql.SQL(doc.kind), target, sql.Literal(doc.description))]
    for column, text in doc.columns.items():
        statements.append(sql.SQL("comment on column {}.{} is {}").format(
            target, sql.Identifier(column), sql.Literal(text)))
    return statements


def grant_statements() -> list[str]:
    """Access the views need, restated on every apply (a replaced view keeps its grants)."""
    listed = ", ".join(views())
    return [
        "grant usage on schema mart to bi_reader",
        "grant select on all tables in schema mart to bi_reader",
        # 0001's default privileges give tthc_loader writes on every new relation, views included.
        f"revoke insert, update, delete, truncate on {listed} from tthc_loader",
    ]


def apply(conn: psycopg.Connection, root: Path = SQL_DIR) -> None:
    """Create or replace every object, then comment and grant, as the owner, in the caller's
    transaction. Texts run without parameters, so a ``%`` in them is the SQL's own."""
    docs = load_docs(root)  # a broken doc file stops the apply before anything changes
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(OWNER_ROLE)))
    for entry in OBJECTS:
        conn.execute(sql_text(f"{entry}.sql", root))
    for doc in docs:
        for statement in comment_statements(doc):
            conn.execute(statement)
    for statement in grant_statements():
        conn.execute(statement)
    conn.execute("reset role")


def drop_statements() -> list[str]:
    """Drop every object, dependants first: for a downgrade below the tables they read."""
    kinds = {"views": "view", "functions": "function"}
    return [f"drop {kinds[folder]} if exists {name}"
            for folder, name in (entry.split("/", 1) for entry in reversed(OBJECTS))]
