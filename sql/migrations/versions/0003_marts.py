"""Marts for BI: compliance per province and agency, overdue dossiers, payments and refunds,
the Index 766 reconciliation and read-only access for bi_reader.

Tables, indexes, grants and the ref.setting seed only: the views and functions over these tables
(sql/views/, sql/functions/) and every table, view and column comment (the <object>.yml files)
are applied after the migrations by tthc_warehouse.db.objects, with create or replace.

Rates are generated columns, round(100 * numerator / denominator, 2), so a stored rate always
matches the stored counts and any period re-aggregates exactly from the counts. Rows of
mart.monthly_compliance built before this revision keep null in the new columns until their month
is rebuilt (marts.rebuild_months).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

from tthc_warehouse.db import objects
from tthc_warehouse.db.migration import as_owner, drop_objects
from tthc_warehouse.paths import SQL_DIR

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# ---- indicator counts shared by the province and agency marts ---------------------------------
RECEIVED = ("dossiers_received", "synced_received", "digitized_766", "digitized_provincial",
            "unsynced_digitized", "e_result_missing", "components_not_digitized", "online_received",
            "fee_bearing_received", "paid_online_received")
FINISHED = ("dossiers_finished", "finished_on_time_766", "finished_late_766",
            "finished_on_time_provincial", "finished_late_provincial", "paper_result_finished",
            "e_result_finished")
STOCKS = ("in_progress_at_month_end", "in_progress_overdue_766", "in_progress_overdue_provincial")
COUNTS = RECEIVED + FINISHED + STOCKS
YTD = ("dossiers_received", "synced_received", "digitized_766", "digitized_provincial",
       "online_received", "fee_bearing_received", "paid_online_received", "dossiers_finished",
       "finished_on_time_766", "finished_on_time_provincial", "paper_result_finished",
       "e_result_finished")
PROVINCE_COLUMNS = ("province_code_2025 text", "province_name_2025 text")


def _rate(numerator: str, denominator: str) -> str:
    return f"round(100.0 * ({numerator}) / nullif({denominator}, 0), 2)"


def compliance_rates(suffix: str = "") -> dict[str, str]:
    """Rate column -> expression over the count columns; suffix '_ytd' for year-to-date flows."""
    s = suffix
    on_time = "{} + in_progress_at_month_end - {}"
    open_too = f"dossiers_finished{s} + in_progress_at_month_end"
    return {
        f"digitization_rate_766{s}": _rate(f"digitized_766{s}", f"synced_received{s}"),
        f"digitization_rate_provincial{s}": _rate(f"digitized_provincial{s}", f"dossiers_received{s}"),
        f"online_submission_rate{s}": _rate(f"online_received{s}", f"dossiers_received{s}"),
        f"online_payment_rate{s}": _rate(f"paid_online_received{s}", f"fee_bearing_received{s}"),
        f"e_result_rate{s}": _rate(f"e_result_finished{s}", f"paper_result_finished{s}"),
        f"on_time_rate_766{s}": _rate(
            on_time.format(f"finished_on_time_766{s}", "in_progress_overdue_766"), open_too),
        f"on_time_rate_provincial{s}": _rate(
            on_time.format(f"finished_on_time_provincial{s}", "in_progress_overdue_provincial"),
            open_too),
    }


def _meets(suffix: str = "") -> str:
    return f"{_rate(f'digitized_766{suffix}', f'synced_received{suffix}')} >= digitization_target_pct"


def _generated(rates: dict[str, str]) -> list[str]:
    return [f"add column {name} numeric(5, 2) generated always as ({expr}) stored"
            for name, expr in rates.items()]


PAYMENT_RATES = {
    "national_platform_share": _rate("national_platform_payments", "payments_succeeded"),
    "avg_steps": "round(steps_total::numeric / nullif(steps_counted, 0), 2)",
    "avg_days_to_refund": "round(refund_days_total::numeric / nullif(refunds_completed, 0), 2)",
}
PAYMENT_COUNTS = ("payments", "payments_succeeded", "payments_failed", "payments_abandoned",
                  "amount_paid", "national_platform_payments", "steps_total", "steps_counted",
                  "refunds_required", "refunds_automatic", "refunds_manual", "refunds_completed",
                  "refunds_failed", "refunds_pending", "refund_amount_required", "amount_refunded",
                  "refund_days_total", "refunds_pending_at_month_end", "amount_pending_at_month_end",
                  "refunds_pending_over_limit", "amount_pending_over_limit",
                  "refunds_never_requested", "amount_never_requested")
PAYMENT_AMOUNTS = {"amount_paid", "refund_amount_required", "amount_refunded",
                   "amount_pending_at_month_end", "amount_pending_over_limit",
                   "amount_never_requested"}

SETTINGS = [
    ("refund_time_limit_days", 15, "calendar days",
     "DOMAIN.md §3: legal refund time limit not found; a working assumption"),
    ("payment_excessive_steps", 8, "steps",
     "a payment taking this many steps or more is reported (conference article: too many steps)"),
    ("reconciliation_tolerance_pp", 0.5, "percentage points",
     "our rate and the portal's published rate match when they differ by at most this"),
]


def _ints(columns) -> str:
    return ",\n".join(f"{c} integer not null" for c in columns)


TABLES = [
    """
    create table ref.setting (
        name text primary key,
        value numeric not null,
        unit text,
        source text,
        status text not null check (status in ('verified', 'unverified'))
    )
    """,
    f"""
    create table mart.agency_monthly_counts (
        province_code text not null,
        province_name text not null,
        province_code_2025 text,
        province_name_2025 text,
        agency_code text not null,
        agency_name text,
        agency_level text,
        month date not null,
        {_ints(COUNTS)},
        digitization_target_pct numeric(5, 2),
        primary key (province_code, agency_code, month)
    )
    """,
    """
    create table mart.overdue_dossiers (
        month date not null,
        as_of date not null,
        dossier_code text not null,
        province_code text not null,
        province_name text,
        province_code_2025 text,
        province_name_2025 text,
        agency_code text not null,
        agency_name text,
        agency_level text,
        procedure_code text not null,
        procedure_name text,
        status smallint not null,
        overdue_kind text not null check (overdue_kind in ('finished_late', 'in_progress')),
        overdue_766 boolean not null,
        overdue_provincial boolean not null,
        overdue_reason text not null,
        received_at timestamp not null,
        due_at timestamp,
        finished_at timestamp,
        supplement_count integer not null,
        supplement_days integer not null,
        days_overdue integer,
        working_days_overdue integer,
        primary key (month, dossier_code)
    )
    """,
    f"""
    create table mart.payment_refund_summary (
        province_code text not null,
        province_name text not null,
        province_code_2025 text,
        province_name_2025 text,
        month date not null,
        {",".join(f"{c} {'bigint' if c in PAYMENT_AMOUNTS else 'integer'} not null"
                  for c in PAYMENT_COUNTS)},
        steps_p90 numeric(6, 2),
        refund_time_limit_days numeric not null,
        primary key (province_code, month)
    )
    """,
    """
    create table mart.payment_refund_issues (
        month date not null,
        as_of date not null,
        province_code text not null,
        province_name text,
        province_code_2025 text,
        province_name_2025 text,
        issue_code text not null check (issue_code in ('refund_pending_over_limit',
            'manual_refund', 'refund_failed', 'refund_without_payment', 'refund_never_requested',
            'excessive_steps')),
        issue text not null,
        case_id text not null,
        dossier_code text,
        transaction_id text,
        refund_id text,
        occurred_at timestamp not null,
        payment_amount bigint,
        refund_amount bigint,
        days_pending integer,
        steps integer,
        primary key (month, issue_code, case_id)
    )
    """,
    """
    create table mart.index766_reconciliation (
        province_code text not null,
        province_name text,
        province_code_2025 text,
        province_name_2025 text,
        month date not null,
        indicator text not null,
        portal_indicator_group text not null,
        portal_indicator_code text not null,
        our_numerator integer,
        our_denominator integer,
        our_rate numeric(5, 2),
        portal_numerator numeric,
        portal_denominator numeric,
        portal_rate numeric(5, 2),
        portal_captured_at timestamptz,
        diff_pp numeric(6, 2),
        numerator_diff numeric,
        denominator_diff numeric,
        tolerance_pp numeric not null,
        status text not null check (status in ('match', 'mismatch', 'not published')),
        dossiers_received integer,
        received_not_synced integer,
        synced_received integer,
        digitized_provincial integer,
        unsynced_digitized integer,
        e_result_missing integer,
        components_not_digitized integer,
        digitized_766 integer,
        provincial_rate numeric(5, 2),
        rate_766 numeric(5, 2),
        explanation text,
        primary key (province_code, month, indicator)
    )
    """,
]


def _alter_monthly_compliance() -> list[str]:
    # Pre-existing rows get null in the new columns (not 0: they were never computed).
    new = [f"add column {c} integer" for c in COUNTS + tuple(f"{y}_ytd" for y in YTD)
           if c not in ("dossiers_received", "synced_received", "digitized_766")]
    extra = ["add column digitization_target_pct numeric(5, 2)",
             "add column digitization_rank integer", "add column digitization_rank_ytd integer"]
    rates = _generated(compliance_rates()) + _generated(compliance_rates("_ytd"))
    meets = [f"add column meets_digitization_target{s} boolean generated always as "
             f"({_meets(s)}) stored" for s in ("", "_ytd")]
    columns = [f"add column {c}" for c in PROVINCE_COLUMNS] + new + extra + rates + meets
    return ["alter table mart.monthly_compliance drop column digitization_rate_766",
            "alter table mart.monthly_compliance " + ",\n".join(columns)]


def _alter_generated() -> list[str]:
    meets = f"add column meets_digitization_target boolean generated always as ({_meets()}) stored"
    agency = [*_generated(compliance_rates()), meets]
    return ["alter table mart.agency_monthly_counts " + ", ".join(agency),
            "alter table mart.payment_refund_summary " + ", ".join(_generated(PAYMENT_RATES))]


INDEXES = [
    "create index monthly_compliance_unit_2025_idx on mart.monthly_compliance "
    "(province_code_2025, month)",
    "create index agency_monthly_counts_month_idx on mart.agency_monthly_counts (month)",
    "create index agency_monthly_counts_agency_idx on mart.agency_monthly_counts (agency_code, month)",
    "create index overdue_dossiers_province_idx on mart.overdue_dossiers (province_code, month)",
    "create index overdue_dossiers_agency_idx on mart.overdue_dossiers (agency_code, month)",
    "create index payment_refund_summary_month_idx on mart.payment_refund_summary (month)",
    "create index payment_refund_issues_province_idx on mart.payment_refund_issues "
    "(province_code, month)",
    "create index index766_reconciliation_month_idx on mart.index766_reconciliation (month)",
    # mart.data_as_of reads the newest source_updated_at; the monthly marts read payments by
    # paid_at and refunds by requested_at.
    "create index fact_dossier_updated_idx on core.fact_dossier (source_updated_at)",
    "create index fact_payment_updated_idx on core.fact_payment (source_updated_at)",
    "create index fact_refund_updated_idx on core.fact_refund (source_updated_at)",
    "create index fact_payment_paid_at_idx on core.fact_payment (paid_at)",
    "create index fact_refund_requested_at_idx on core.fact_refund (requested_at)",
]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _grants() -> list[str]:
    return [
        # Default privileges already cover tables tthc_owner creates; explicit anyway.
        "grant usage on schema mart to bi_reader",
        "grant select on all tables in schema mart to bi_reader",
        "grant select, insert, update, delete on ref.setting to tthc_loader",
    ]


def _settings() -> list[str]:
    return [f"insert into ref.setting (name, value, unit, source, status) values "
            f"({_quote(n)}, {v}, {_quote(u)}, {_quote(s)}, 'unverified')"
            for n, v, u, s in SETTINGS]


def upgrade() -> None:
    with as_owner():
        ddl = TABLES + _alter_monthly_compliance() + _alter_generated() + INDEXES
        for statement in ddl + _settings() + _grants():
            op.execute(statement)


def downgrade() -> None:
    with as_owner():
        drop_objects()  # they read the tables dropped below
        for table in ("index766_reconciliation", "payment_refund_issues", "payment_refund_summary",
                      "overdue_dossiers", "agency_monthly_counts"):
            op.execute(f"drop table mart.{table}")
        op.execute("drop table ref.setting")
        op.execute("drop index core.fact_payment_paid_at_idx, core.fact_refund_requested_at_idx, "
                   "core.fact_dossier_updated_idx, core.fact_payment_updated_idx, "
                   "core.fact_refund_updated_idx")
        kept = ("province_code", "province_name", "month", "dossiers_received", "digitized_766",
                "synced_received")
        for generated in ("ALWAYS", "NEVER"):  # generated columns first: they depend on the others
            columns = op.get_bind().exec_driver_sql(
                "select column_name from information_schema.columns where table_schema = 'mart' "
                f"and table_name = 'monthly_compliance' and is_generated = '{generated}'"
            ).scalars().all()
            dropped = [f"drop column {c}" for c in columns if c not in kept]
            if dropped:
                op.execute("alter table mart.monthly_compliance " + ", ".join(dropped))
        op.execute("alter table mart.monthly_compliance add column digitization_rate_766 numeric(5, 2)")
        op.execute("update mart.monthly_compliance set digitization_rate_766 = "
                   + _rate("digitized_766", "synced_received"))
        doc = objects.load_doc(SQL_DIR / "marts" / "monthly_compliance.yml", "table")
        op.execute("comment on column mart.monthly_compliance.digitization_rate_766 is "
                   + _quote(doc.columns["digitization_rate_766"]))
