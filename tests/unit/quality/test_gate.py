"""Filling a suite's ``$name`` placeholders from values the pipeline computes at run time."""

from __future__ import annotations

import pytest

from tthc_warehouse.quality.gate import _fill, load_suite

pytestmark = pytest.mark.unit


def test_a_whole_placeholder_keeps_the_value_type_and_an_embedded_one_becomes_text() -> None:
    runtime = {"min_rows": 12, "province_code": "30", "interval_end": "2024-01-02 00:00:00"}
    given = {"min_value": "$min_rows", "value_set": ["$province_code"],
             "unexpected_rows_query": "select * from {batch} where updated_at >= '$interval_end'",
             "other": "$unknown", "n": 3}
    assert _fill(given, runtime) == {
        "min_value": 12, "value_set": ["30"],
        "unexpected_rows_query": "select * from {batch} where updated_at >= '2024-01-02 00:00:00'",
        "other": "$unknown", "n": 3}


def test_the_dossier_suite_is_filled_everywhere() -> None:
    runtime = {"min_rows": 5, "province_code": "30", "interval_end": "2024-01-02 00:00:00"}
    text = str(load_suite("dossier", runtime))
    assert "$min_rows" not in text and "$province_code" not in text and "$interval_end" not in text
