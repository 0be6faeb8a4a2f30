"""Render the portal's six Decision-766 responses (the real fixtures' shapes) from plain counts.

Scores come from the same reference rules the warehouse recomputes them with
(``reference/index766_rules``), so a simulated scorecard matches itself to the cent.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from tthc_warehouse.reference.index766_rules import TOTAL, load_rules, metric_figures, round2

# (code, Vietnamese label, max score) exactly as data.overview.metrics of the real responses.
DIGITIZATION_METRICS: tuple[tuple[str, str, int], ...] = (
    ("ORIGINAL_RESULT_AVAILABLE", "Tỷ lệ hồ sơ thủ tục hành chính có cấp kết quả giải quyết thủ tục hành chính điện tử", 6),  # noqa: E501
    ("SO_HOA_GIAY_TO_GIAI_QUYET", "Tỷ lệ hồ sơ thủ tục hành chính thực hiện số hóa hồ sơ", 4),
    ("REUSED_DIGITIZED_DATA", "Tỷ lệ hồ sơ khai thác, sử dụng lại thông tin, dữ liệu số hóa", 2),
    ("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", "Tỷ lệ hồ sơ TTHC được số hóa có kết nối, chia sẻ dữ liệu phục vụ tái sử dụng", 4),  # noqa: E501
    ("CITIZEN_DATA_CONNECTED_DOSSIER", "Tỷ lệ hồ sơ TTHC có sử dụng thông tin, dữ liệu dân cư", 2),
    ("CITIZEN_DATA_CONNECTED_FORMALITY", "Tỷ lệ TTHC triển khai kết nối, chia sẻ dữ liệu dân cư phục vụ GQ TTHC", 2),  # noqa: E501
    ("ELECTRONIC_CERTIFIED_COPY", "Tỷ lệ cung cấp dịch vụ chứng thực bản sao điện tử từ bản chính", 2),
)
TRANSPARENCY_METRICS = (
    ("PUBLISH_ON_TIME", "Tỷ lệ TTHC công bố đúng hạn", 6),
    ("PUBLIC_UPDATE_ON_TIME", "Tỷ lệ TTHC cập nhật, công khai đúng hạn", 4),
    ("PUBLIC_CONTENT_FULL", "Tỷ lệ TTHC công khai đầy đủ nội dung", 2),
    ("DOSSIER_SYNC", "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG", 6),
)
SATISFACTION_METRICS = (
    ("PETITION_CLASSIFICATION_TTHC", "Tỷ lệ PAKN về quy định, thủ tục hành chính", 0),
    ("DOSSIER_RECEIVING_SATISFACTION", "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC", 6),
    ("PETITION_PROCESSING_ON_TIME", "Tỷ lệ PAKN xử lý đúng hạn", 6),
    ("PETITION_HANDLING_SATISFACTION", "Tỷ lệ hài lòng trong xử lý PAKN", 6),
    ("PETITION_CLASSIFICATION_STAFF", "Tỷ lệ PAKN về hành vi cán bộ, công chức, viên chức", 0),
)
METRIC_GROUPS = {
    "dossier-digitized": (DIGITIZATION_METRICS, "reporting_digitized_dossiers_daily Mongo collection"),
    "transparency": (TRANSPARENCY_METRICS,
                     "reporting_766_transparency_* and reporting_dvc_calendar Mongo collections"),
    "handling-satisfaction": (SATISFACTION_METRICS, "reporting_766_satisfaction_petition_months, "
                                                    "reporting_766_satisfaction_dossier_periods"),
}
DIGITIZATION_SOURCE = METRIC_GROUPS["dossier-digitized"][1]
_DEPARTMENT_TYPES = {"PROVINCE": "PROVINCIAL_DEPARTMENT", "COMMUNE": "COMMUNE_PEOPLE_COMMITTEE"}


def department_id(code: str) -> str:
    """A stable portal UUID for a simulated unit: the same in every group and month."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dvcqg:{code}"))


def _metric(group: str, code: str, name: str, top: int, unit: dict[str, Any]) -> dict[str, Any]:
    numerator, denominator = unit.get(code, (None, None))
    n, d = (None if v is None else Decimal(v) for v in (numerator, denominator))
    ratio, score = metric_figures(load_rules()[group, code], n, d)
    out = {"code": code, "name": name, "numerator": numerator, "denominator": denominator,
           "ratio": ratio, "score": score, "maxScore": top}
    out.update(unit.get(f"{code}:quality", {}))
    return out


def _head(stt: int, unit: dict[str, Any], kind: str, agency: str, with_code: bool
          ) -> dict[str, Any]:
    code = unit["departmentCode"]
    head = {"stt": stt, "departmentId": unit.get("departmentId") or department_id(code),
            "departmentName": unit["departmentName"]}
    if with_code:
        head["departmentCode"] = code
    return {**head, "departmentType": kind, "departmentLevel": unit.get("departmentLevel",
                                                                         "PROVINCE"),
            "agencyLevel": agency}


def _metric_unit(group: str, stt: int, unit: dict[str, Any], kind: str, agency: str
                 ) -> dict[str, Any]:
    """One overview/evaluation item; a metric missing from ``unit`` renders as null/null."""
    catalogue = METRIC_GROUPS[group][0]
    metrics = [_metric(group, code, name, top, unit) for code, name, top in catalogue]
    total = sum((m["score"] for m in metrics if m["score"] is not None), Decimal(0))
    max_total = load_rules()[group, TOTAL].max_score
    scores = {"totalScore": total, "totalMaxScore": max_total,
              "ratio": round2(total * 100 / max_total)}
    head = _head(stt, unit, kind, agency, group == "dossier-digitized")
    if group == "dossier-digitized":  # the real item puts scoreDelta last here only
        return {**head, **scores, "metrics": metrics, "scoreDelta": None}
    return {**head, **scores, "scoreDelta": None, "metrics": metrics, **unit.get("extra", {})}


def _department_type(unit: dict[str, Any]) -> str:
    level = unit.get("departmentLevel")
    if level not in _DEPARTMENT_TYPES:
        raise ValueError(f"{unit.get('departmentCode')}: departmentLevel must be one of "
                         f"{sorted(_DEPARTMENT_TYPES)}, got {level!r}")
    return _DEPARTMENT_TYPES[level]


def json_number(value: Any) -> int | float:
    # The portal writes JS numbers: 100 not 100.00, 4.34 not "4.34".
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def envelope(data: dict[str, Any]) -> str:
    return json.dumps({"code": "OK", "data": data, "message": "OK"}, ensure_ascii=False,
                      separators=(",", ":"), default=json_number)


def render_metric_response(group: str, province: dict[str, Any], units: list[dict[str, Any]]
                           ) -> str:
    """A transparency, handling-satisfaction or dossier-digitized response from plain counts."""
    data = {
        "overview": _metric_unit(group, 1, province, "PROVINCE", "level_1"),
        "evaluation": [_metric_unit(group, i, u, _department_type(u), "level_2")
                       for i, u in enumerate(units, 1)],
        # Everything is on one page, so the page is as large as the list.
        "pagination": {"total": len(units), "currentPage": 1,
                       "pageSize": max(200, len(units)), "totalPages": 1},
        "source": METRIC_GROUPS[group][1],
    }
    return envelope(data)


def render_digitization_response(province: dict[str, Any], units: list[dict[str, Any]]) -> str:
    """Render a dossier-digitized response (the real fixture's shape) from plain counts."""
    return render_metric_response("dossier-digitized", province, units)
