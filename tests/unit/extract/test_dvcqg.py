"""The national portal's 766 evaluation responses parse into exact index-766 snapshot rows."""

from __future__ import annotations

import datetime
import json
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tthc_warehouse.contract import INDEX766_SNAPSHOT
from tthc_warehouse.extract.base import SourceError
from tthc_warehouse.extract.dvcqg import Index766FormatError, parse_response
from tthc_warehouse.simulator.portal_render import (
    DIGITIZATION_METRICS,
    render_digitization_response,
)

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dvcqg"
CAPTURED = datetime.datetime(2026, 9, 28, 10, 0, tzinfo=datetime.UTC)
PERIOD = datetime.date(2026, 8, 1)
NUMERIC = ("numerator", "denominator", "ratio", "score", "max_score")

# fixture file -> (group name, rows per unit, extra rows for the province node)
SCORE_FILES = {
    "dvc-progress-tree.month-all.json": ("dvc-progress", 2, 0),
    "provide-online-tree.month-all.json": ("provide-online", 1, 1),
    "formality-online-payment-tree.month-all.json": ("online-payment", 4, 0),
    "transparency.month-all.json": ("transparency", 5, 0),
    "handling-satisfaction.month-all.json": ("handling-satisfaction", 6, 0),
    "dossier-digitized.month-all.json": ("dossier-digitized", 8, 0),
}


def _parse(payload: bytes | str, group: str, source: str = "test.json", **kw: Any) -> list[dict]:
    return parse_response(payload, group=group, period_type="month", period_start=PERIOD,
                          captured_at=CAPTURED, source=source, **kw)


def _fixture_rows(name: str) -> list[dict]:
    return _parse((FIXTURES / name).read_bytes(), SCORE_FILES[name][0], source=name)


def _index(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["unit_code"], r["indicator_code"]): r for r in rows}


def _d(*values: str | None) -> tuple[Decimal | None, ...]:
    return tuple(None if v is None else Decimal(v) for v in values)


def _figures(row: dict) -> tuple[Decimal | None, ...]:
    return tuple(row[k] for k in NUMERIC)


@pytest.mark.parametrize("name", sorted(SCORE_FILES))
def test_score_file_parses_to_contract_rows(name: str) -> None:
    group, per_unit, extra = SCORE_FILES[name]
    rows = _fixture_rows(name)
    units = {r["unit_code"] for r in rows}
    assert len(units) == 164
    assert len(rows) == 164 * per_unit + extra
    assert all(list(r) == INDEX766_SNAPSHOT.column_names for r in rows)
    assert {r["indicator_group"] for r in rows} == {group}
    assert all(r[k] is None or type(r[k]) is Decimal for r in rows for k in NUMERIC)
    roots = {r["unit_code"] for r in rows if r["parent_code"] is None}
    assert len(roots) == 1
    assert {r["parent_code"] for r in rows if r["parent_code"]} == roots
    assert all(r["province_code"] is None and r["period_start"] == PERIOD for r in rows)
    assert len(_index(rows)) == len(rows)  # the table key is unique


def test_dvc_progress_numbers() -> None:
    rows = _index(_fixture_rows("dvc-progress-tree.month-all.json"))
    assert _figures(rows["H44", "ON_TIME"]) == _d("144625", "184513", "78.38", "15.68", "20")
    assert _figures(rows["H44", "TOTAL"]) == _d(None, None, "78.38", "15.68", "20")
    assert rows["H44", "TOTAL"]["unit_level"] is None  # the province node has no level field
    child = rows["H44.46", "ON_TIME"]
    assert _figures(child) == _d("2", "5", "40", "8", "20")
    assert (child["unit_level"], child["parent_code"]) == ("PROVINCE", "H44")
    assert child["unit_name"] == "Sở Dân Tộc và Tôn Giáo - Tỉnh Phú Thọ"
    # 0 received is a real measurement: it stays 0, never None.
    assert _figures(rows["H44.01", "ON_TIME"]) == _d("0", "0", "0", "0", "20")
    assert str(rows["H44.19", "ON_TIME"]["ratio"]) == "90.63"  # no float rounding


def test_online_payment_numbers() -> None:
    rows = _index(_fixture_rows("formality-online-payment-tree.month-all.json"))
    # The unit's ratio is the group score ratio, not this counter's, so the counter row has none.
    assert _figures(rows["H44", "ONLINE_PAYMENT"]) == _d("82913", "98459", None, None, None)
    assert _figures(rows["H44", "TOTAL"]) == _d(None, None, "62.5", "6.25", "10")
    assert _figures(rows["H44.03", "ONLINE_PAYMENT"]) == _d("7", "7", None, None, None)
    assert _figures(rows["H44.03", "TOTAL"]) == _d(None, None, "76.7", "7.67", "10")


def test_provide_online_numbers() -> None:
    rows = _index(_fixture_rows("provide-online-tree.month-all.json"))
    assert _figures(rows["H44", "TOTAL"]) == _d(None, None, "73.58", "8.83", "12")
    assert _figures(rows["H44", "ONLINE_SUBMISSION"]) == _d("150956", "152595", None, None, None)
    assert ("H44.01", "ONLINE_SUBMISSION") not in rows  # children carry scores only
    assert rows["H44.01", "TOTAL"]["unit_level"] == "PROVINCE"


def test_transparency_keys_units_by_department_id() -> None:
    rows = _index(_fixture_rows("transparency.month-all.json"))
    root = "019d2be3-6a88-732b-8b17-b68020c8553a"
    assert _figures(rows[root, "TOTAL"]) == _d(None, None, "44.22", "7.96", "18")
    assert _figures(rows[root, "PUBLIC_CONTENT_FULL"]) == _d("87", "89", "97.75", "1.96", "2")
    # 0/0 keeps numerator 0 and a null ratio and score, as published.
    assert _figures(rows[root, "PUBLISH_ON_TIME"]) == _d("0", "0", None, None, "6")
    child = rows["019d2be3-6a88-732b-8b17-bb1e9a3f14ab", "DOSSIER_SYNC"]
    assert (child["parent_code"], child["unit_level"]) == (root, "PROVINCE")
    assert rows[root, "TOTAL"]["unit_level"] == "PROVINCE"


def test_handling_satisfaction_keeps_the_apis_zero_ratio() -> None:
    rows = _index(_fixture_rows("handling-satisfaction.month-all.json"))
    root = "019d2be3-6a88-732b-8b17-b68020c8553a"
    satisfied = rows[root, "DOSSIER_RECEIVING_SATISFACTION"]
    assert _figures(satisfied) == _d("144315", "184503", "78.22", "5.21", "6")
    assert _figures(rows[root, "PETITION_CLASSIFICATION_TTHC"]) == _d(
        "179", "247", "72.47", None, "0")
    # This endpoint says ratio 0 for 0/0 (others say null): kept, not "fixed".
    office = rows["019d2be3-6a88-732b-8b17-bb1e9a3f14ab", "PETITION_PROCESSING_ON_TIME"]
    assert _figures(office) == _d("0", "0", "0", "6", "6")


def test_dossier_digitized_numbers() -> None:
    rows = _index(_fixture_rows("dossier-digitized.month-all.json"))
    assert _figures(rows["H44", "ORIGINAL_RESULT_AVAILABLE"]) == _d(
        "133609", "184503", "72.42", "4.34", "6")
    assert _figures(rows["H44", "TOTAL"]) == _d(None, None, "37.45", "8.24", "22")
    assert _figures(rows["H44", "ELECTRONIC_CERTIFIED_COPY"]) == _d(None, None, "100", "2", "2")
    assert _figures(rows["H44.01", "CITIZEN_DATA_CONNECTED_FORMALITY"]) == _d(
        "0", "3", "0", "0", "2")
    assert rows["H44.01", "TOTAL"]["parent_code"] == "H44"


def test_file_stem_aliases_and_province_code() -> None:
    payload = (FIXTURES / "formality-online-payment-tree.month-all.json").read_bytes()
    by_stem = _parse(payload, "formality-online-payment-tree.month-all", province_code="25")
    assert {r["indicator_group"] for r in by_stem} == {"online-payment"}
    assert {r["province_code"] for r in by_stem} == {"25"}
    assert len(by_stem) == len(_parse(payload.decode(), "online-payment"))


def test_unknown_group_and_naive_timestamp_are_caller_errors() -> None:
    with pytest.raises(ValueError, match="unknown index-766 group"):
        _parse("{}", "progress")
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_response("{}", group="transparency", period_type="month", period_start=PERIOD,
                       captured_at=datetime.datetime(2026, 9, 28), source="x")


def test_catalogue_is_refused() -> None:
    payload = (FIXTURES / "formalities.page-1.json").read_bytes()
    with pytest.raises(Index766FormatError, match=r"formalities\.page-1\.json: group: .*catalogue"):
        _parse(payload, "formalities.page-1", source="formalities.page-1.json")
    with pytest.raises(Index766FormatError) as err:
        _parse(payload, "transparency", source="formalities.page-1.json")
    assert "formalities.page-1.json: data.items:" in str(err.value)
    assert "catalogue" in str(err.value)
    assert isinstance(err.value, SourceError)


def _edited(name: str, edit: Any) -> str:
    doc = json.loads((FIXTURES / name).read_bytes())
    edit(doc)
    return json.dumps(doc, ensure_ascii=False)


DVC = "dvc-progress-tree.month-all.json"
DIGITIZED = "dossier-digitized.month-all.json"


def _malformed() -> list[Any]:
    dvc = (FIXTURES / DVC).read_bytes()
    return [
        pytest.param(DVC, dvc[: len(dvc) // 2], "$", "not valid JSON", id="truncated"),
        pytest.param(DVC, b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "$",
                     "<!DOCTYPE html>", id="html-error-page"),
        pytest.param(DVC, _edited(DVC, lambda d: d.update(code="ERROR", message="Lỗi")), "code",
                     "'ERROR'", id="code-error"),
        pytest.param(DVC, _edited(DVC, lambda d: d.pop("data")), "data", "missing", id="no-data"),
        pytest.param(DVC, _edited(DVC, lambda d: d["data"].pop("parent")), "data.parent",
                     "missing", id="no-parent"),
        pytest.param(DVC, _edited(DVC, lambda d: d["data"]["children"][3].pop("departmentCode")),
                     "data.children[3].departmentCode", "missing", id="child-without-code"),
        pytest.param(DVC, _edited(DVC, lambda d: d["data"]["children"][7].update(totalOnTime=[9])),
                     "data.children[7].totalOnTime", "expected a finite number",
                     id="number-as-list"),
        pytest.param(DVC, dvc.replace(b'"ratio":78.38', b'"ratio":NaN'), "data.parent.ratio",
                     "NaN", id="nan"),
        pytest.param(DVC, _edited(DVC, lambda d: d["data"]["children"][9].update(
                     departmentCode="H44.01")), "data.children[9].departmentCode",
                     "repeats data.children[0]", id="duplicate-unit"),
        pytest.param(DIGITIZED, _edited(DIGITIZED, lambda d: d["data"].pop("overview")),
                     "data.overview", "missing", id="no-overview"),
        pytest.param(DIGITIZED,
                     _edited(DIGITIZED, lambda d: d["data"]["evaluation"][5].pop("departmentCode")),
                     "data.evaluation[5].departmentCode", "missing", id="item-without-code"),
        pytest.param(DIGITIZED,
                     _edited(DIGITIZED, lambda d: d["data"]["evaluation"][2]["metrics"][1]
                             .pop("denominator")),
                     "data.evaluation[2].metrics[1].denominator", "missing", id="metric-field"),
    ]


@pytest.mark.parametrize(("name", "payload", "path", "detail"), _malformed())
def test_malformed_response_names_source_and_path(
    name: str, payload: bytes | str, path: str, detail: str
) -> None:
    source = f"landing/dvcqg/{name}"
    with pytest.raises(Index766FormatError) as err:
        _parse(payload, SCORE_FILES[name][0], source=source)
    message = str(err.value)
    assert message.startswith(f"{source}: {path}: "), message
    assert detail in message
    assert err.value.path == path
    assert pickle.loads(pickle.dumps(err.value)).args == err.value.args


def test_transparency_item_without_id_fails_with_path() -> None:
    name = "transparency.month-all.json"
    payload = _edited(name, lambda d: d["data"]["evaluation"][4].pop("departmentId"))
    with pytest.raises(Index766FormatError, match=r"data\.evaluation\[4\]\.departmentId: missing"):
        _parse(payload, "transparency", source=name)


def test_render_uses_the_real_metric_catalogue() -> None:
    real = json.loads((FIXTURES / DIGITIZED).read_bytes())["data"]["overview"]["metrics"]
    assert [(m["code"], m["name"], m["maxScore"]) for m in real] == list(DIGITIZATION_METRICS)


def _counts(item: dict) -> dict[str, Any]:
    unit = {k: item[k] for k in ("departmentId", "departmentCode", "departmentName",
                                 "departmentLevel")}
    unit.update({m["code"]: (m["numerator"], m["denominator"]) for m in item["metrics"]})
    return unit


def test_render_reproduces_the_real_response_shape_and_figures() -> None:
    raw = (FIXTURES / DIGITIZED).read_bytes()
    real = json.loads(raw, parse_float=Decimal)["data"]
    text = render_digitization_response(_counts(real["overview"]),
                                        [_counts(u) for u in real["evaluation"]])
    doc = json.loads(text, parse_float=Decimal)
    assert list(doc) == ["code", "data", "message"] and doc["code"] == "OK"
    data = doc["data"]
    assert list(data) == list(real)
    assert data["pagination"] == real["pagination"] and data["source"] == real["source"]
    for got, want in zip([data["overview"], *data["evaluation"]],
                         [real["overview"], *real["evaluation"]], strict=True):
        assert list(got) == list(want)
        assert {k: got[k] for k in ("stt", "departmentType", "agencyLevel", "totalMaxScore")} == {
            k: want[k] for k in ("stt", "departmentType", "agencyLevel", "totalMaxScore")}
        for g, w in zip(got["metrics"], want["metrics"], strict=True):
            assert list(g) == list(w)[:7]
            assert (g["ratio"], g["score"]) == (w["ratio"], w["score"]), (got["stt"], g["code"])
        assert (got["totalScore"], got["ratio"]) == (want["totalScore"], want["ratio"])


def test_render_then_parse_round_trips() -> None:
    province = {"departmentCode": "H99", "departmentName": "UBND tỉnh Thử",
                "ORIGINAL_RESULT_AVAILABLE": (2, 3), "SO_HOA_GIAY_TO_GIAI_QUYET": (0, 0)}
    units = [
        {"departmentCode": "H99.01", "departmentName": "Sở A", "departmentLevel": "PROVINCE",
         "ORIGINAL_RESULT_AVAILABLE": (1, 2), "CITIZEN_DATA_CONNECTED_FORMALITY": (0, 7)},
        {"departmentCode": "H99.100", "departmentName": "Xã B", "departmentLevel": "COMMUNE",
         "ORIGINAL_RESULT_AVAILABLE": (1, 1), "REUSED_DIGITIZED_DATA": (5, 8)},
    ]
    rows = _index(_parse(render_digitization_response(province, units), "dossier-digitized"))
    assert len(rows) == 3 * 8
    assert _figures(rows["H99", "ORIGINAL_RESULT_AVAILABLE"]) == _d("2", "3", "66.67", "4", "6")
    assert _figures(rows["H99", "SO_HOA_GIAY_TO_GIAI_QUYET"]) == _d("0", "0", None, None, "4")
    # Counts not published: full score, ratio 100 (the reference rule, as the portal shows it).
    assert _figures(rows["H99", "ELECTRONIC_CERTIFIED_COPY"]) == _d(None, None, "100", "2", "2")
    assert _figures(rows["H99", "TOTAL"]) == _d(None, None, "27.27", "6", "22")
    assert _figures(rows["H99.01", "CITIZEN_DATA_CONNECTED_FORMALITY"]) == _d(
        "0", "7", "0", "0", "2")
    # Full score from 80 %: 2 x 0.625 / 0.8.
    assert _figures(rows["H99.100", "REUSED_DIGITIZED_DATA"]) == _d("5", "8", "62.5", "1.56", "2")
    assert _figures(rows["H99.100", "TOTAL"]) == _d(None, None, "43.45", "9.56", "22")
    assert rows["H99.100", "TOTAL"]["unit_level"] == "COMMUNE"
    assert rows["H99.100", "TOTAL"]["parent_code"] == "H99"


def test_render_refuses_an_unknown_level() -> None:
    with pytest.raises(ValueError, match="departmentLevel"):
        render_digitization_response({"departmentCode": "H99", "departmentName": "P"},
                                     [{"departmentCode": "H99.1", "departmentName": "X"}])
