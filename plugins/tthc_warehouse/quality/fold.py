"""Fold a suite's row-level expectations into one pass over the staging table.

Run as written, GX evaluates every row-level expectation with its own queries over the whole
staging table (about three scans each). Here each one becomes a predicate, and a single pass
writes ``staging.<table>__dq``: the key of every row failing at least one of them and the indexes
of the expectations it fails. GX then evaluates each expectation against that (usually empty)
table, so results, severities, counts and Data Docs stay one per expectation, and quarantine is a
join with it. The predicates mirror GX's own: column-map checks ignore nulls, pair checks with
``ignore_row_if: either_value_is_missing`` ignore rows missing either side, compound uniqueness
flags every row of a group seen twice (rows with a null in the group are not compared).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import psycopg
from psycopg import sql

from tthc_warehouse.db.settings import set_local
from tthc_warehouse.load.staging import staging_identifier

FLAGS_SUFFIX = "__dq"
WORK_MEM = "128MB"  # the duplicate groups of a million keys hash in memory instead of spilling
# The suites' unexpected-rows queries select keys from ``{batch}`` aliased b; their condition can be
# evaluated in the shared pass. Any other query (or one with a subquery) is joined in by key.
SIMPLE_ROWS_QUERY = re.compile(
    r"^\s*select b\._file, b\._row from \(select \* from \{batch\}\) as b where (?P<where>.+?)\s*$",
    re.IGNORECASE | re.DOTALL)


class Folded(NamedTuple):
    condition: sql.Composable  # true for an unexpected row of the staging table (aliased b)
    join: sql.Composable | None = None  # the set the condition reads, joined by key


def flags_table(table: str) -> str:
    return table + FLAGS_SUFFIX


def row_level(item: dict) -> bool:
    """Table-level expectations (row counts) stay with GX as written; the rest are folded."""
    return not item["type"].startswith("expect_table_")


def _col(name: str) -> sql.Composable:
    return sql.SQL("b.{}").format(sql.Identifier(name))


def _between(kw: dict, col: sql.Composable | None = None) -> sql.Composable:
    col, parts = col if col is not None else _col(kw["column"]), []
    if kw.get("min_value") is not None:
        op = "<=" if kw.get("strict_min") else "<"
        parts.append(sql.SQL("{} {} {}").format(col, sql.SQL(op), sql.Literal(kw["min_value"])))
    if kw.get("max_value") is not None:
        op = ">=" if kw.get("strict_max") else ">"
        parts.append(sql.SQL("{} {} {}").format(col, sql.SQL(op), sql.Literal(kw["max_value"])))
    return sql.SQL(" or ").join(parts)


def _pair(kw: dict) -> sql.Composable:
    if kw.get("ignore_row_if") != "either_value_is_missing":
        raise ValueError("pair expectations are folded only with ignore_row_if: either_value_is_missing")
    op = ">=" if kw.get("or_equal") else ">"
    return sql.SQL("not ({} {} {})").format(_col(kw["column_A"]), sql.SQL(op), _col(kw["column_B"]))


def _unique(kw: dict, staging: sql.Composable, alias: sql.Identifier) -> Folded:
    cols = [sql.Identifier(c) for c in kw["column_list"]]
    names = sql.SQL(", ").join(cols)
    present = sql.SQL(" and ").join(sql.SQL("{} is not null").format(c) for c in cols)
    on = sql.SQL(" and ").join(sql.SQL("{}.{} = b.{}").format(alias, c, c) for c in cols)
    groups = sql.SQL("select {} from {} where {} group by {} having count(*) > 1").format(
        names, staging, present, names)
    join = sql.SQL("left join ({}) as {} on {}").format(groups, alias, on)
    return Folded(sql.SQL("{}.{} is not null").format(alias, cols[0]), join)


def _rows_query(kw: dict, staging: sql.Composable, alias: sql.Identifier) -> Folded:
    query = kw["unexpected_rows_query"]
    simple = SIMPLE_ROWS_QUERY.match(query)
    if simple and "select" not in simple["where"].lower():
        return Folded(sql.SQL(simple["where"]))
    before, after = query.split("{batch}", 1)
    join = sql.SQL("left join (select distinct _file, _row from ({}{}{}) as q) as {} "
                   "on {}._file = b._file and {}._row = b._row").format(
        sql.SQL(before), staging, sql.SQL(after), alias, alias, alias)
    return Folded(sql.SQL("{}._row is not null").format(alias), join)


def predicate(item: dict, staging: sql.Composable, alias: str = "j") -> Folded:
    """SQL true for a row of ``staging`` (aliased b) the expectation counts as unexpected.

    Checks that need a set (duplicate groups, keys from a query with a subquery) come with a left
    join to it: joined, the set is hashed once however large, where ``in (subquery)`` would fall
    back to re-running the subquery per row when the planner thinks it will not fit in memory.
    """
    kind, kw = item["type"], item["kwargs"]
    if kind == "expect_column_values_to_not_be_null":
        return Folded(sql.SQL("{} is null").format(_col(kw["column"])))
    if kind == "expect_column_values_to_be_in_set":
        values = sql.SQL(", ").join(map(sql.Literal, kw["value_set"]))
        return Folded(sql.SQL("{} not in ({})").format(_col(kw["column"]), values))
    if kind == "expect_column_values_to_match_regex":
        return Folded(sql.SQL("{} !~ {}").format(_col(kw["column"]), sql.Literal(kw["regex"])))
    if kind == "expect_column_values_to_be_between":
        return Folded(_between(kw))
    if kind == "expect_column_value_lengths_to_be_between":  # lengths in characters, as GX counts
        return Folded(_between(kw, sql.SQL("char_length({})").format(_col(kw["column"]))))
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        return Folded(_pair(kw))
    if kind == "expect_compound_columns_to_be_unique":
        return _unique(kw, staging, sql.Identifier(alias))
    if kind == "unexpected_rows_expectation":
        return _rows_query(kw, staging, sql.Identifier(alias))
    raise ValueError(f"{kind} cannot be folded yet: add its predicate to quality/fold.py")


def build_flags(conn: psycopg.Connection, table: str, expectations: list[dict]) -> int:
    """Write ``staging.<table>__dq`` in one pass; return how many rows failed anything."""
    staging = staging_identifier(table)
    target = staging_identifier(flags_table(table))
    folded = [(i, predicate(item, staging, f"j{i}"))
              for i, item in enumerate(expectations) if row_level(item)]
    conn.execute(sql.SQL("drop table if exists {}").format(target))
    # coalesce: a null predicate (a null value) is GX's "ignored", not unexpected
    case = sql.SQL("case when coalesce({}, false) then {} end")
    cases = sql.SQL(", ").join(case.format(f.condition, sql.Literal(i)) for i, f in folded)
    joins = sql.SQL(" ").join(f.join for _, f in folded if f.join is not None)
    set_local(conn, {"work_mem": WORK_MEM})
    statement = sql.SQL(
        "create unlogged table {} as select * from (select b._file, b._row, "
        "array_remove(array[{}]::int[], null) as failed from {} as b {}) as flagged "
        "where cardinality(failed) > 0").format(target, cases or sql.SQL(""), staging, joins)
    return conn.execute(statement).rowcount


def flagged_rows_query(table: str, index: int) -> str:
    """GX's query for one folded expectation; ``{batch}`` sits in a comment, naming what was read."""
    target = f'staging."{flags_table(table)}"'
    return f"select _file, _row from {target} where failed @> array[{index}] /* flags of {{batch}} */"
