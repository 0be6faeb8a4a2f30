"""Reading ahead in a thread keeps order, bounds memory and re-raises the producer's errors."""

from __future__ import annotations

import pytest

from tthc_warehouse.load.overlap import ahead

pytestmark = pytest.mark.unit


def test_items_arrive_in_order() -> None:
    assert list(ahead(iter(range(100)), depth=2)) == list(range(100))


def test_an_error_while_producing_is_raised_to_the_consumer_after_the_good_items() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("row 3 of f.csv")

    got = []
    with pytest.raises(ValueError, match="row 3 of f"):
        for item in ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_does_not_hang() -> None:
    for item in ahead(iter(range(1000)), depth=1):
        if item == 3:
            break
