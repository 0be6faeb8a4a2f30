"""Folding the suites' row-level expectations into predicates over the staging table."""

from __future__ import annotations

import pytest
from psycopg import sql

from tthc_warehouse.paths import EXPECTATIONS_DIR
from tthc_warehouse.quality import fold
from tthc_warehouse.quality.gate import load_suite

pytestmark = pytest.mark.unit

RUNTIME = {"min_rows": 5, "province_code": "30", "interval_end": "2024-01-02 00:00:00"}
STAGING = sql.Identifier("staging", "t")


def text(item: dict) -> str:
    return fold.predicate(item, STAGING).condition.as_string(None)


def join(item: dict) -> str:
    return fold.predicate(item, STAGING).join.as_string(None)


@pytest.mark.parametrize("entity", sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json")))
def test_every_row_level_expectation_of_every_suite_folds(entity: str) -> None:
    items = load_suite(entity, RUNTIME)["expectations"]
    assert [text(i) for i in items if fold.row_level(i)]
    assert all(i["type"].startswith("expect_table_row_count") for i in items if not fold.row_level(i))


def test_predicates_ignore_nulls_the_way_gx_does() -> None:
    between = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": 0,
                                                                          "max_value": 100}}
    assert text(between) == 'b."x" < 0 or b."x" > 100'
    in_set = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "s", "value_set": [1, "a"]}}
    assert text(in_set) == "b.\"s\" not in (1, 'a')"
    pair = {"type": "expect_column_pair_values_a_to_be_greater_than_b",
            "kwargs": {"column_A": "a", "column_B": "b", "or_equal": True,
                       "ignore_row_if": "either_value_is_missing"}}
    assert text(pair) == 'not (b."a" >= b."b")'


def test_a_simple_rows_query_is_inlined_and_one_with_a_subquery_is_joined_by_key() -> None:
    simple = {"type": "unexpected_rows_expectation", "kwargs": {
        "unexpected_rows_query": "select b._file, b._row from (select * from {batch}) as b where b.x > 1"}}
    assert text(simple) == "b.x > 1"
    nested = {"type": "unexpected_rows_expectation", "kwargs": {
        "unexpected_rows_query": "select b._file, b._row from (select * from {batch}) as b where not exists "
                                 "(select 1 from ref.p where p.c = b.c)"}}
    assert text(nested) == '"j"._row is not null'
    expected = ('left join (select distinct _file, _row from (select b._file, b._row from '
                '(select * from "staging"."t")')
    assert join(nested).startswith(expected)


def test_duplicate_groups_are_joined_not_looked_up_row_by_row() -> None:
    unique = {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["k", "t"]}}
    assert text(unique) == '"j"."k" is not null'
    assert join(unique) == ('left join (select "k", "t" from "staging"."t" where "k" is not null and '
                            '"t" is not null group by "k", "t" having count(*) > 1) as "j" '
                            'on "j"."k" = b."k" and "j"."t" = b."t"')


def test_an_unknown_row_level_expectation_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be folded"):
        text({"type": "expect_column_values_to_be_unique", "kwargs": {"column": "x"}})
