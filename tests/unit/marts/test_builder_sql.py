"""The mart statements as the rebuild runs them: the flow counts put in once, in two windows."""

from __future__ import annotations

import re

import pytest

from tthc_warehouse.db import objects
from tthc_warehouse.marts import builder
from tthc_warehouse.paths import read_sql

pytestmark = pytest.mark.unit

COUNTED_AS = re.compile(r"count\(\*\) filter \(where [^)]*\)\s+as (\w+)")


def _text(path: str) -> str:
    return objects.sql_text(path).as_string(None)


def _flows(suffix: str) -> list[str]:
    return [name.replace("{suffix}", suffix)
            for name in re.findall(r"as (\w+\{suffix\})", read_sql(objects.FLOW_COUNTS_SQL))]


def test_the_flow_list_is_written_once() -> None:
    """The agency month and the province year to date count the flows from one list, so a rule
    changed there changes both windows (no copy of it left in either file)."""
    flows = _flows("")
    assert len(flows) == 12
    for path in ("marts/agency_monthly_counts.sql", "marts/monthly_compliance.sql", builder.YEAR_TO_DATE_SQL):
        written = COUNTED_AS.findall(read_sql(path))
        assert not set(written) & {*flows, *_flows("_ytd")}, path


def test_each_window_gets_the_flows_under_its_own_names() -> None:
    month = COUNTED_AS.findall(_text("marts/agency_monthly_counts.sql"))
    year = COUNTED_AS.findall(_text(builder.YEAR_TO_DATE_SQL))
    assert set(_flows("")) <= set(month)
    assert year == _flows("_ytd")


@pytest.mark.parametrize("path", sorted({builder.MONTH_END_SQL, builder.YEAR_TO_DATE_SQL,
                                         *(p for paths in builder.MONTHLY_MARTS.values() for p in paths)}))
def test_no_placeholder_is_left_in_a_mart_statement(path) -> None:
    assert not re.search(r"\{\w+\}", _text(path)), path
