"""The GX suites speak the contract: their code sets are the contract's, and every rule has a reason."""

from __future__ import annotations

import json

import pytest

from tthc_warehouse import contract
from tthc_warehouse.extract.feeds import ENTITY_ORDER
from tthc_warehouse.paths import EXPECTATIONS_DIR

pytestmark = pytest.mark.unit

CODE_SETS = {
    ("dossier", "status"): set(contract.DOSSIER_STATUS),
    ("dossier", "channel"): set(contract.CHANNELS),
    ("dossier", "paid_online"): set(contract.PAID_ONLINE),
    ("payment", "status"): set(contract.PAYMENT_STATUSES),
    ("payment", "gateway"): set(contract.GATEWAYS),
    ("refund", "status"): set(contract.REFUND_STATUSES),
    ("refund", "method"): set(contract.REFUND_METHODS),
    ("refund", "reason"): set(contract.REFUND_REASONS),
}


def suite(entity: str) -> dict:
    return json.loads((EXPECTATIONS_DIR / f"{entity}.json").read_text(encoding="utf-8"))


def test_there_is_one_suite_per_staged_entity() -> None:
    # status events are not staged: publish derives them from the dossiers' versions
    assert {p.stem for p in EXPECTATIONS_DIR.glob("*.json")} == set(ENTITY_ORDER)


@pytest.mark.parametrize(("entity", "column"), sorted(CODE_SETS))
def test_value_sets_equal_the_contracts_code_sets(entity: str, column: str) -> None:
    sets = [e["kwargs"]["value_set"] for e in suite(entity)["expectations"]
            if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == column]
    assert len(sets) == 1 and set(sets[0]) == CODE_SETS[(entity, column)]


@pytest.mark.parametrize("entity", ENTITY_ORDER)
def test_every_expectation_has_a_severity_a_reason_and_names_real_columns(entity: str) -> None:
    columns = set(contract.ENTITIES[entity].column_names)
    for expectation in suite(entity)["expectations"]:
        assert expectation["severity"] in {"critical", "warning"}
        assert expectation["meta"]["reason"].strip()
        kwargs = expectation["kwargs"]
        named = kwargs.get("column_list") or [
            kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        assert set(named) <= columns, (entity, named)
