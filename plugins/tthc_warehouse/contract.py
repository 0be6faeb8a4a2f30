"""The canonical data contract (DOMAIN.md §2-4): every source is mapped to these entities.

Each entity lists its columns with a kind that decides how raw text is parsed and which
PostgreSQL type stages it. Timestamps are Vietnam local time (Asia/Ho_Chi_Minh) without zone,
as the provincial systems record them; money is whole VND.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "text", "int", "bool", "timestamp", "money", "numeric", "status", "timestamptz", "date"
]

PG_TYPES: dict[str, str] = {
    "text": "text",
    "int": "integer",
    "bool": "boolean",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
    "date": "date",
    "money": "bigint",
    "numeric": "numeric",
    "status": "smallint",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False

    @property
    def pg_type(self) -> str:
        return PG_TYPES[self.kind]


@dataclass(frozen=True)
class Entity:
    name: str
    core_table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


# TrangThaiHoSo: code -> Vietnamese label as the portal and provincial systems print it.
DOSSIER_STATUS: dict[int, str] = {
    1: "Mới đăng ký",
    2: "Đã tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung",
    6: "Chờ thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}
FINISHED_STATUSES = (9, 10)  # a settlement result exists
TERMINAL_WITHOUT_RESULT = (3, 7, 8)  # refund triggers
CHANNELS = {1: "in person", 2: "online", 3: "public postal service"}
PAID_ONLINE = {0: "not paid online", 1: "national payment platform", 2: "ministry/province gateway"}
PAYMENT_STATUSES = ("success", "failed", "abandoned")
GATEWAYS = ("national", "local")
REFUND_REASONS = ("not_accepted", "withdrawn", "stopped", "duplicate", "over_payment")
REFUND_METHODS = ("automatic", "manual")
REFUND_STATUSES = ("pending", "completed", "failed")

DOSSIER = Entity(
    name="dossier",
    core_table="core.fact_dossier",
    key=("dossier_code",),
    columns=(
        Column("dossier_code", "text", required=True),
        Column("procedure_code", "text", required=True),
        Column("procedure_name", "text"),
        Column("field_code", "text"),
        Column("receiving_agency_code", "text"),
        Column("processing_agency_code", "text"),
        # Unit names as the provincial exports print them: ref.agency.name (DOMAIN §6.8).
        Column("receiving_agency_name", "text"),
        Column("processing_agency_name", "text"),
        Column("agency_level", "text"),
        Column("province_code", "text", required=True),
        Column("channel", "int"),
        Column("submitted_at", "timestamp"),
        Column("received_at", "timestamp"),
        Column("due_at", "timestamp"),
        Column("finished_at", "timestamp"),
        Column("returned_at", "timestamp"),
        Column("status", "status", required=True),
        Column("supplement_count", "int"),
        Column("supplement_days", "int"),
        Column("components_digitized", "bool"),
        Column("result_digitized", "bool"),
        Column("requires_paper_result", "bool"),
        Column("synced_to_portal", "bool"),
        Column("paid_online", "int"),
        Column("fee_amount", "money"),
        Column("source_updated_at", "timestamp", required=True),
    ),
)

STATUS_EVENT = Entity(
    name="status_event",
    core_table="core.fact_dossier_status_event",
    key=("dossier_code", "event_at", "status"),
    columns=(
        Column("dossier_code", "text", required=True),
        Column("status", "status", required=True),
        Column("event_at", "timestamp", required=True),
    ),
)

PAYMENT = Entity(
    name="payment",
    core_table="core.fact_payment",
    key=("transaction_id",),
    columns=(
        Column("transaction_id", "text", required=True),
        Column("dossier_code", "text", required=True),
        Column("province_code", "text", required=True),
        Column("amount", "money", required=True),
        Column("paid_at", "timestamp", required=True),
        Column("gateway", "text", required=True),
        Column("status", "text", required=True),
        Column("steps", "int"),
        Column("source_updated_at", "timestamp", required=True),
    ),
)

REFUND = Entity(
    name="refund",
    core_table="core.fact_refund",
    key=("refund_id",),
    columns=(
        Column("refund_id", "text", required=True),
        Column("transaction_id", "text"),
        Column("dossier_code", "text", required=True),
        Column("province_code", "text", required=True),
        Column("reason", "text", required=True),
        Column("requested_at", "timestamp", required=True),
        Column("amount", "money", required=True),
        Column("method", "text", required=True),
        Column("status", "text", required=True),
        Column("completed_at", "timestamp"),
        Column("source_updated_at", "timestamp", required=True),
    ),
)

INDEX766_SNAPSHOT = Entity(
    name="index766_snapshot",
    core_table="core.fact_index766_snapshot",
    key=(
        "unit_code",
        "period_type",
        "period_start",
        "indicator_group",
        "indicator_code",
        "captured_at",
    ),
    columns=(
        Column("unit_code", "text", required=True),
        Column("unit_name", "text", required=True),
        Column("unit_level", "text"),
        Column("parent_code", "text"),
        Column("province_code", "text"),
        Column("period_type", "text", required=True),
        Column("period_start", "date", required=True),
        Column("indicator_group", "text", required=True),
        Column("indicator_code", "text", required=True),
        Column("numerator", "numeric"),
        Column("denominator", "numeric"),
        Column("ratio", "numeric"),
        Column("score", "numeric"),
        Column("max_score", "numeric"),
        # Recomputed from the counts by the reference rules (ref.index766_scoring_rule).
        Column("recomputed_ratio", "numeric"),
        Column("recomputed_score", "numeric"),
        # The portal's unit UUID: the only key transparency and satisfaction give.
        Column("department_id", "text"),
        Column("data_quality_status", "text"),
        Column("data_quality_message", "text"),
        Column("counters", "text"),  # JSON: every numeric field of the unit's node
        Column("parse_error", "text"),  # set on every row of a unit with an inexact number
        Column("captured_at", "timestamptz", required=True),
    ),
)

ENTITIES: dict[str, Entity] = {
    e.name: e for e in (DOSSIER, STATUS_EVENT, PAYMENT, REFUND, INDEX766_SNAPSHOT)
}
