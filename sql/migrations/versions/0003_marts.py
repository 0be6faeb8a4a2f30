"""Marts for BI: compliance per province and agency, overdue dossiers, payments and refunds,
the Index 766 reconciliation, 2025-unit views and read-only access for bi_reader.

Rates are generated columns, round(100 * numerator / denominator, 2), so a stored rate always
matches the stored counts and any period re-aggregates exactly from the counts. Rows of
mart.monthly_compliance built before this revision keep null in the new columns until their month
is rebuilt (marts.rebuild_months).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

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

DATA_AS_OF = """
create view mart.data_as_of as
select max(updated_at) as as_of_at
from (
    select max(source_updated_at) as updated_at from core.fact_dossier
    union all
    select max(source_updated_at) from core.fact_payment
    union all
    select max(source_updated_at) from core.fact_refund
) as newest
"""

PROVINCE_UNIT_2025 = """
create view mart.province_unit_2025 as
with recursive chain as (
    select
        province_code, name as province_name, valid_from, valid_to,
        province_code as unit_code, name as unit_name, valid_to as unit_valid_to, successor_code
    from ref.province
    union all
    select
        chain.province_code, chain.province_name, chain.valid_from, chain.valid_to,
        successor.province_code, successor.name, successor.valid_to, successor.successor_code
    from chain
    inner join ref.province as successor
        on successor.province_code = chain.successor_code
        and successor.valid_from <= chain.unit_valid_to
        and (successor.valid_to is null or successor.valid_to > chain.unit_valid_to)
),

final as (
    select
        province_code, province_name, valid_from, valid_to,
        unit_code as province_code_2025, unit_name as province_name_2025
    from chain
    where unit_valid_to is null
)

select * from final
"""

# Per-dossier flags, parameter-free: the marts evaluate them for a month or an as-of instant.
DOSSIER_FLAGS = """
create view mart.dossier_flags as
with dossier as (
    select
        fact.*,
        fact.status in (2, 4, 5, 6) or (fact.status in (9, 10)
            and coalesce(fact.finished_at, fact.returned_at) is not null) as timed,
        case when fact.status in (9, 10) then coalesce(fact.finished_at, fact.returned_at) end
            as finish_time,
        fact.due_at + make_interval(days => fact.supplement_days) as due_766
    from core.fact_dossier as fact
    where fact.received_at is not null
),

final as (
    select
        dossier.dossier_code, dossier.province_code,
        coalesce(dossier.processing_agency_code, '(none)') as agency_code,
        dossier.procedure_code, dossier.procedure_name, dossier.status, dossier.received_at,
        dossier.due_at, dossier.supplement_count, dossier.supplement_days,
        dossier.synced_to_portal, dossier.components_digitized,
        dossier.synced_to_portal and dossier.components_digitized
            and (not (dossier.requires_paper_result and dossier.status in (9, 10))
                or dossier.result_digitized) as is_digitized_766,
        not dossier.synced_to_portal and dossier.components_digitized as is_unsynced_digitized,
        dossier.synced_to_portal and dossier.components_digitized and dossier.requires_paper_result
            and dossier.status in (9, 10) and not dossier.result_digitized as is_e_result_missing,
        dossier.synced_to_portal and not dossier.components_digitized
            as is_components_not_digitized,
        coalesce(dossier.channel = 2, false) as is_online,
        dossier.fee_amount > 0 as is_fee_bearing,
        dossier.fee_amount > 0 and dossier.paid_online in (1, 2) as is_paid_online,
        dossier.timed,
        dossier.finish_time as finished_at,
        dossier.finish_time is not null and dossier.requires_paper_result as is_paper_finished,
        dossier.finish_time is not null and dossier.requires_paper_result
            and dossier.result_digitized as is_e_result_finished,
        dossier.due_766,
        dossier.supplement_count > 1 or dossier.due_at is null as late_766_regardless,
        dossier.finish_time is not null and dossier.supplement_count <= 1
            and coalesce(dossier.finish_time <= dossier.due_766, false) as on_time_766,
        dossier.finish_time is not null
            and (dossier.due_at is null or dossier.finish_time::date <= dossier.due_at::date)
            as on_time_provincial
    from dossier
)

select * from final
"""

OVERDUE_CURRENT = """
create view mart.overdue_dossiers_current as
with as_of as (
    select as_of_at as at from mart.data_as_of
),

candidates as (
    select
        flags.*,
        as_of.at as as_of_at,
        coalesce(flags.finished_at <= as_of.at, false) as is_finished,
        least(flags.finished_at::date, as_of.at::date) as end_day
    from mart.dossier_flags as flags
    cross join as_of
    where flags.timed and flags.received_at <= as_of.at
),

calendar as (
    select day, count(*) filter (where is_working_day) over (order by day) as working_days_to
    from ref.working_day
),

judged as (
    select
        candidates.*,
        case when is_finished then not on_time_766
            else late_766_regardless or due_766 < as_of_at end as overdue_766,
        case when is_finished then not on_time_provincial
            else coalesce(due_at::date < as_of_at::date, false) end as overdue_provincial
    from candidates
),

final as (
    select
        judged.as_of_at::date as as_of, judged.as_of_at, judged.dossier_code,
        judged.province_code, unit.province_name, unit.province_code_2025,
        unit.province_name_2025, judged.agency_code, agency.name as agency_name,
        agency.agency_level, judged.procedure_code,
        coalesce(procedure.name, judged.procedure_name) as procedure_name, judged.status,
        case when judged.is_finished then 'finished_late' else 'in_progress' end as overdue_kind,
        judged.overdue_766, judged.overdue_provincial,
        case when judged.supplement_count > 1 then 'more than one supplement request'
            when judged.due_at is null then 'no due date'
            else 'past the due date' end as overdue_reason,
        judged.received_at, judged.due_at,
        case when judged.is_finished then judged.finished_at end as finished_at,
        judged.supplement_count, judged.supplement_days,
        case when judged.due_at is not null
            then greatest(judged.end_day - judged.due_at::date, 0) end as days_overdue,
        case when due_day.day is not null and end_day.day is not null
            then greatest(end_day.working_days_to - due_day.working_days_to, 0)::integer
        end as working_days_overdue
    from judged
    left join mart.province_unit_2025 as unit
        on unit.province_code = judged.province_code
        and judged.received_at >= unit.valid_from
        and (unit.valid_to is null or judged.received_at < unit.valid_to)
    left join calendar as due_day on due_day.day = judged.due_at::date
    left join calendar as end_day on end_day.day = judged.end_day
    left join ref.agency as agency on agency.agency_code = judged.agency_code
    left join ref.procedure as procedure on procedure.procedure_code = judged.procedure_code
    where judged.overdue_766 or judged.overdue_provincial
)

select * from final
"""


def _agency_view() -> str:
    keep = ("province_code", "province_name", "province_code_2025", "province_name_2025",
            "agency_code", "agency_name", "agency_level", "month", *COUNTS,
            "digitization_target_pct", *compliance_rates(), "meets_digitization_target")
    lags = ",\n".join(f"lag({rate}, {n}) over agency_months as {rate}_{n}"
                      for rate in ("digitization_rate_766", "on_time_rate_766") for n in (1, 2, 3))
    falling = ",\n".join(
        f"coalesce(month_3 = month - interval '3 months' and {r} < {r}_1 and {r}_1 < {r}_2 "
        f"and {r}_2 < {r}_3, false) as {name}"
        for r, name in (("digitization_rate_766", "digitization_falling"),
                        ("on_time_rate_766", "on_time_falling")))
    return f"""
    create view mart.agency_monthly_compliance as
    with trend as (
        select counts.*, {lags}, lag(month, 3) over agency_months as month_3
        from mart.agency_monthly_counts as counts
        window agency_months as (partition by province_code, agency_code order by month)
    ),

    flagged as (
        select trend.*,
            coalesce(digitization_rate_766 < digitization_target_pct, false) as below_target,
            {falling}
        from trend
    ),

    final as (
        select {", ".join(keep)},
            rank() over (partition by province_code, month
                order by digitization_rate_766 desc nulls last) as rank_in_province,
            below_target, digitization_falling, on_time_falling,
            below_target or digitization_falling or on_time_falling as is_weak,
            nullif(concat_ws('; ',
                case when below_target then format(
                    'digitization %s %% below the %s %% target',
                    digitization_rate_766, digitization_target_pct) end,
                case when digitization_falling
                    then 'digitization rate fell three months in a row' end,
                case when on_time_falling
                    then 'on-time rate (766) fell three months in a row' end), '') as weak_reason
        from flagged
    )

    select * from final
    """


def _sums(columns) -> str:
    return ",\n".join(f"sum({c})::bigint as {c}" for c in columns)


def _compliance_by_2025() -> str:
    year = "over (partition by province_code_2025, date_trunc('year', month::timestamp) order by month)"
    ytd = ",\n".join(f"(sum({c}) {year})::bigint as {c}_ytd" for c in YTD)
    rates = {**compliance_rates(), **compliance_rates("_ytd")}
    rated = ",\n".join(f"{expr} as {col}" for col, expr in rates.items())
    rank = "rank() over (partition by month order by {} desc nulls last)"
    return f"""
    create view mart.monthly_compliance_by_2025_unit as
    with monthly as (
        select province_code_2025, max(province_name_2025) as province_name_2025, month,
            {_sums(COUNTS)}, max(digitization_target_pct) as digitization_target_pct
        from mart.monthly_compliance
        group by province_code_2025, month
    ),

    with_ytd as (
        select monthly.*, {ytd}
        from monthly
    ),

    final as (
        select with_ytd.*, {rated},
            {_meets()} as meets_digitization_target,
            {_meets("_ytd")} as meets_digitization_target_ytd,
            {rank.format(rates["digitization_rate_766"])} as digitization_rank,
            {rank.format(rates["digitization_rate_766_ytd"])} as digitization_rank_ytd
        from with_ytd
    )

    select * from final
    """


def _payment_by_2025() -> str:
    # steps_p90 is left out: a percentile does not re-aggregate from the provinces' percentiles.
    rated = ",\n".join(f"{expr} as {col}" for col, expr in PAYMENT_RATES.items())
    return f"""
    create view mart.payment_refund_summary_by_2025_unit as
    with monthly as (
        select province_code_2025, max(province_name_2025) as province_name_2025, month,
            {_sums(PAYMENT_COUNTS)}, max(refund_time_limit_days) as refund_time_limit_days
        from mart.payment_refund_summary
        group by province_code_2025, month
    ),

    final as (
        select monthly.*, {rated}
        from monthly
    )

    select * from final
    """


def views() -> list[str]:
    return [DATA_AS_OF, PROVINCE_UNIT_2025, DOSSIER_FLAGS, OVERDUE_CURRENT, _agency_view(),
            _compliance_by_2025(), _payment_by_2025()]


VIEWS = ("data_as_of", "province_unit_2025", "dossier_flags", "overdue_dossiers_current",
         "agency_monthly_compliance", "monthly_compliance_by_2025_unit",
         "payment_refund_summary_by_2025_unit")

TABLE_DOCS = {
    "monthly_compliance": "Indicators per province at receipt time and month, with year-to-date "
    "values, target and rank (chỉ số tuân thủ theo tháng của tỉnh)",
    "agency_monthly_counts": "Indicator numerators and denominators per processing agency and "
    "month; read mart.agency_monthly_compliance for ranks and weak units (số liệu theo cơ quan)",
    "agency_monthly_compliance": "Indicators per processing agency and month with rank in the "
    "province and the weak-unit flag (chỉ số theo cơ quan, đơn vị yếu kém)",
    "overdue_dossiers": "Overdue dossiers at each month end: finished late in the month or in "
    "progress past due at its end, one row per dossier and snapshot (hồ sơ quá hạn)",
    "data_as_of": "The newest source_updated_at in core: the instant the marts evaluate the "
    "current month and the overdue list at, never the clock (dữ liệu tính đến)",
    "overdue_dossiers_current": "Overdue dossiers as of the newest source_updated_at in core: every "
    "dossier finished late and every one in progress past due (hồ sơ quá hạn hiện tại)",
    "payment_refund_summary": "Online payments (by paid_at) and fee refunds (by requested_at) per "
    "province and month (tổng hợp thanh toán và hoàn trả phí, lệ phí)",
    "payment_refund_issues": "One row per payment or refund problem case and month, with its "
    "reason (vướng mắc thanh toán, hoàn trả)",
    "index766_reconciliation": "Our indicators beside the Index 766 figures the national portal "
    "published, with the counts that explain the difference (đối soát Bộ chỉ số 766)",
    "province_unit_2025": "Every ref.province validity row with the provincial unit in force "
    "since 1 Jul 2025 that succeeds it (tỉnh sau sắp xếp 2025)",
    "dossier_flags": "One row per received dossier with the per-dossier flags the indicators "
    "count; month-independent (cờ chỉ số theo hồ sơ)",
    "monthly_compliance_by_2025_unit": "mart.monthly_compliance re-aggregated from its counts to "
    "the 34 units in force since 1 Jul 2025 (chỉ số theo tỉnh sau sắp xếp)",
    "payment_refund_summary_by_2025_unit": "mart.payment_refund_summary re-aggregated to the 34 "
    "units in force since 1 Jul 2025; no percentile (tổng hợp thanh toán theo tỉnh mới)",
}

COLUMN_DOCS = {
    "province_code": "Statistics-office province code at receipt or payment time (mã tỉnh)",
    "province_name": "Province name at that time (tên tỉnh)",
    "province_code_2025": "Code of the unit in force since 1 Jul 2025 that covers the province, "
    "via the successor chain of ref.province (mã tỉnh sau sắp xếp 2025)",
    "province_name_2025": "Name of that 2025 unit (tên tỉnh sau sắp xếp 2025)",
    "month": "First day of the month the row describes (tháng)",
    "agency_code": "Processing agency code; '(none)' when the dossier names none (mã cơ quan xử lý)",
    "agency_name": "Agency name from ref.agency (tên cơ quan)",
    "agency_level": "province, district or commune (cấp cơ quan)",
    "dossiers_received": "Dossiers received in the month (số hồ sơ tiếp nhận)",
    "synced_received": "Dossiers received in the month that reached the national portal "
    "(hồ sơ đồng bộ)",
    "digitized_766": "Synced dossiers digitized under the 766 rule: components digitized and, for "
    "finished dossiers with a paper result, an e-result (hồ sơ số hóa theo QĐ766)",
    "digitized_provincial": "Dossiers received in the month with digitized components, synced or "
    "not: the provincial count (hồ sơ có thành phần số hóa, cách tính của tỉnh)",
    "unsynced_digitized": "Received, components digitized, never synced: counted by the province, "
    "not by the portal (hồ sơ số hóa chưa đồng bộ)",
    "e_result_missing": "Synced, components digitized, finished with a paper result but without an "
    "electronic result (hồ sơ thiếu kết quả điện tử)",
    "components_not_digitized": "Synced dossiers whose components were not digitized "
    "(hồ sơ chưa số hóa thành phần)",
    "online_received": "Dossiers received in the month through channel 2, online (hồ sơ trực tuyến)",
    "fee_bearing_received": "Dossiers received in the month with a fee above zero "
    "(hồ sơ có phí, lệ phí)",
    "paid_online_received": "Fee-bearing dossiers received in the month paid online, national "
    "platform or local gateway (hồ sơ thanh toán trực tuyến)",
    "dossiers_finished": "Dossiers finished in the month: status 9 or 10, by finished_at "
    "(returned_at when missing) (hồ sơ đã giải quyết)",
    "finished_on_time_766": "Finished in the month on time under the 766 rule "
    "(giải quyết đúng hạn theo QĐ766)",
    "finished_late_766": "Finished in the month late under the 766 rule "
    "(giải quyết quá hạn theo QĐ766)",
    "finished_on_time_provincial": "Finished in the month on time under the provincial rule "
    "(đúng hạn theo cách tính của tỉnh)",
    "finished_late_provincial": "Finished in the month late under the provincial rule "
    "(quá hạn theo cách tính của tỉnh)",
    "paper_result_finished": "Finished in the month, procedure with a paper result "
    "(hồ sơ có kết quả giấy đã giải quyết)",
    "e_result_finished": "Of those, with an electronic result (có kết quả điện tử)",
    "in_progress_at_month_end": "Stock at the month end, never sum over months: dossiers "
    "received and not yet finished (hồ sơ đang giải quyết cuối tháng)",
    "in_progress_overdue_766": "Stock: in progress at the month end and overdue under the 766 rule "
    "(đang giải quyết quá hạn theo QĐ766)",
    "in_progress_overdue_provincial": "Stock: in progress at the month end and overdue under the "
    "provincial rule (đang giải quyết quá hạn theo cách tính của tỉnh)",
    "digitization_rate_766": "Digitization rate under Decision 766 indicator 4.2, percent "
    "(tỷ lệ số hóa hồ sơ theo QĐ766)",
    "digitization_rate_provincial": "Components digitized over all received dossiers, percent "
    "(tỷ lệ số hóa theo cách tính của tỉnh)",
    "online_submission_rate": "Online submission rate, percent (tỷ lệ hồ sơ trực tuyến)",
    "online_payment_rate": "Online payment rate over fee-bearing dossiers, percent "
    "(tỷ lệ thanh toán trực tuyến)",
    "e_result_rate": "Electronic result rate over finished paper-result dossiers, percent "
    "(tỷ lệ cấp kết quả điện tử)",
    "on_time_rate_766": "(finished on time + in progress not yet due) / (finished + in progress), "
    "766 rule, percent (tỷ lệ đúng hạn theo QĐ766)",
    "on_time_rate_provincial": "The same under the provincial rule, percent "
    "(tỷ lệ đúng hạn theo cách tính của tỉnh)",
    "digitization_target_pct": "Digitization target in force on the month's last day, ref.target "
    "(chỉ tiêu số hóa)",
    "meets_digitization_target": "digitization_rate_766 reaches the target (đạt chỉ tiêu)",
    "digitization_rank": "Rank among provinces by digitization_rate_766, 1 is best (xếp hạng)",
    "rank_in_province": "Rank among the province's agencies by digitization_rate_766 "
    "(xếp hạng trong tỉnh)",
    "below_target": "digitization_rate_766 below the target in force (dưới chỉ tiêu)",
    "digitization_falling": "digitization_rate_766 fell in each of the last three months "
    "(giảm ba tháng liên tiếp)",
    "on_time_falling": "on_time_rate_766 fell in each of the last three months "
    "(giảm ba tháng liên tiếp)",
    "is_weak": "Weak unit: below target or falling three months in a row (đơn vị yếu kém)",
    "weak_reason": "Why the unit is weak (lý do yếu kém)",
    "as_of": "Date the row is evaluated at: the month's last day, or the date of the newest data "
    "while the month is not over (tính đến ngày)",
    "as_of_at": "The newest source_updated_at in core dossiers, payments and refunds "
    "(thời điểm dữ liệu)",
    "dossier_code": "Dossier code (mã hồ sơ)",
    "procedure_code": "National procedure code (mã thủ tục hành chính)",
    "procedure_name": "Procedure name, ref.procedure (tên thủ tục hành chính)",
    "status": "Dossier status code 1-10, DOMAIN §2 (trạng thái hồ sơ)",
    "overdue_kind": "finished_late or in_progress (loại quá hạn)",
    "overdue_766": "Overdue under the 766 rule (quá hạn theo QĐ766)",
    "overdue_provincial": "Overdue under the provincial rule (quá hạn theo cách tính của tỉnh)",
    "overdue_reason": "more than one supplement request, no due date, or past the due date "
    "(lý do quá hạn)",
    "received_at": "Received at (ngày tiếp nhận)",
    "due_at": "Appointment date (ngày hẹn trả)",
    "finished_at": "Finished at: finished_at, else returned_at (ngày kết thúc xử lý)",
    "supplement_count": "Supplement requests (số lần yêu cầu bổ sung)",
    "supplement_days": "Days waiting for the citizen (số ngày chờ bổ sung)",
    "days_overdue": "Calendar days from the due date to the finish or as-of date, at least 0; "
    "null without a due date (số ngày quá hạn)",
    "working_days_overdue": "Working days (ref.working_day) after the due date up to the finish or "
    "as-of date; null outside the calendar (số ngày làm việc quá hạn)",
    "payments": "Payment transactions paid in the month, any status (giao dịch thanh toán)",
    "payments_succeeded": "Successful payments (thanh toán thành công)",
    "payments_failed": "Failed payments (thanh toán thất bại)",
    "payments_abandoned": "Abandoned payments (thanh toán bị bỏ dở)",
    "amount_paid": "VND paid in successful payments (số tiền đã thanh toán)",
    "national_platform_payments": "Successful payments through the national payment platform "
    "(thanh toán qua Nền tảng thanh toán quốc gia)",
    "national_platform_share": "Share of successful payments made through the national platform, "
    "percent (tỷ lệ thanh toán qua nền tảng quốc gia)",
    "steps_total": "Sum of steps over payments with a known step count (tổng số bước)",
    "steps_counted": "Payments with a known step count (số giao dịch có số bước)",
    "avg_steps": "Average steps per payment (số bước trung bình)",
    "steps_p90": "90th percentile of steps per payment, interpolated; does not re-aggregate "
    "(phân vị 90 số bước)",
    "refunds_required": "Refunds requested in the month (yêu cầu hoàn trả)",
    "refunds_automatic": "Of those, automatic (hoàn trả tự động)",
    "refunds_manual": "Of those, manual (hoàn trả thủ công)",
    "refunds_completed": "Of those, completed (đã hoàn trả)",
    "refunds_failed": "Of those, failed (hoàn trả thất bại)",
    "refunds_pending": "Of those, still pending in the newest data (đang chờ hoàn trả)",
    "refund_amount_required": "VND of the refunds requested in the month (số tiền cần hoàn)",
    "amount_refunded": "VND of those refunds completed (số tiền đã hoàn)",
    "refund_days_total": "Sum of calendar days from request to completion, completed refunds "
    "(tổng số ngày hoàn trả)",
    "avg_days_to_refund": "Average calendar days from request to completion "
    "(số ngày hoàn trả trung bình)",
    "refunds_pending_at_month_end": "Stock: refunds requested by the month end and pending at it "
    "(hoàn trả tồn cuối tháng)",
    "amount_pending_at_month_end": "VND of those (số tiền chờ hoàn cuối tháng)",
    "refunds_pending_over_limit": "Stock: pending at the month end longer than "
    "refund_time_limit_days (hoàn trả quá hạn)",
    "amount_pending_over_limit": "VND of those (số tiền hoàn trả quá hạn)",
    "refunds_never_requested": "Successful payments of dossiers ended in status 3, 7 or 8 with no "
    "refund, by payment month (chưa yêu cầu hoàn trả)",
    "amount_never_requested": "VND of those payments (số tiền chưa yêu cầu hoàn)",
    "refund_time_limit_days": "Refund time limit used, ref.setting, unverified (thời hạn hoàn trả)",
    "issue_code": "refund_pending_over_limit, manual_refund, refund_failed, refund_without_payment, "
    "refund_never_requested or excessive_steps (mã vướng mắc)",
    "issue": "The problem in words (mô tả vướng mắc)",
    "case_id": "refund_id for refund issues, transaction_id for payment issues (mã trường hợp)",
    "transaction_id": "Payment transaction id (mã giao dịch)",
    "refund_id": "Refund id (mã hoàn trả)",
    "occurred_at": "paid_at for payment issues, requested_at for refund issues (thời điểm)",
    "payment_amount": "VND of the payment (số tiền thanh toán)",
    "refund_amount": "VND of the refund (số tiền hoàn trả)",
    "days_pending": "Calendar days a refund has been pending at as_of (số ngày chờ)",
    "steps": "Steps the payer went through (số bước thanh toán)",
    "indicator": "digitization, on_time, online_payment or online_submission (chỉ tiêu)",
    "portal_indicator_group": "Portal indicator group (nhóm chỉ số trên Cổng DVCQG)",
    "portal_indicator_code": "Portal indicator code (mã chỉ số trên Cổng DVCQG)",
    "our_numerator": "Our numerator from mart.monthly_compliance (tử số của chúng tôi)",
    "our_denominator": "Our denominator (mẫu số của chúng tôi)",
    "our_rate": "Our rate, percent (tỷ lệ của chúng tôi)",
    "portal_numerator": "Numerator the portal published, latest capture (tử số Cổng DVCQG)",
    "portal_denominator": "Denominator the portal published (mẫu số Cổng DVCQG)",
    "portal_rate": "Rate the portal published (its ratio, else its counts), percent "
    "(tỷ lệ Cổng DVCQG công bố)",
    "portal_captured_at": "When the snapshot used was captured (thời điểm thu thập)",
    "diff_pp": "portal_rate minus our_rate, percentage points (chênh lệch, điểm phần trăm)",
    "numerator_diff": "Portal numerator minus ours (chênh lệch tử số)",
    "denominator_diff": "Portal denominator minus ours: for digitization, portal count minus our "
    "synced count (chênh lệch mẫu số)",
    "tolerance_pp": "Match tolerance, ref.setting reconciliation_tolerance_pp (ngưỡng sai lệch)",
    "received_not_synced": "Received in the month but never synced to the portal "
    "(hồ sơ chưa đồng bộ)",
    "provincial_rate": "Digitization by the provincial rule: components over all received "
    "(tỷ lệ số hóa theo cách tính của tỉnh)",
    "rate_766": "Digitization by the 766 rule (tỷ lệ số hóa theo QĐ766)",
    "explanation": "The difference in words (giải thích chênh lệch)",
    "valid_from": "First day the province row is in force (hiệu lực từ)",
    "valid_to": "Day it stops being in force, exclusive (hiệu lực đến)",
    "synced_to_portal": "The record reached the national portal (đã đồng bộ)",
    "components_digitized": "Components digitized at reception (thành phần đã số hóa)",
    "is_digitized_766": "Counts in digitized_766 (số hóa theo QĐ766)",
    "is_unsynced_digitized": "Counts in unsynced_digitized (số hóa chưa đồng bộ)",
    "is_e_result_missing": "Counts in e_result_missing (thiếu kết quả điện tử)",
    "is_components_not_digitized": "Counts in components_not_digitized (chưa số hóa thành phần)",
    "is_online": "Submitted online, channel 2 (nộp trực tuyến)",
    "is_fee_bearing": "Fee above zero (có phí, lệ phí)",
    "is_paid_online": "Fee-bearing and paid online (thanh toán trực tuyến)",
    "timed": "Counts in on-time measures: status 2, 4, 5, 6, or 9/10 with a finishing time "
    "(tính đúng hạn)",
    "is_paper_finished": "Finished, procedure with a paper result (kết quả giấy đã giải quyết)",
    "is_e_result_finished": "Finished with a paper result and an e-result (có kết quả điện tử)",
    "due_766": "due_at plus supplement_days: the 766 rule's due time (hạn theo QĐ766)",
    "late_766_regardless": "More than one supplement request or no due date: late under 766 "
    "whenever it finishes (quá hạn theo QĐ766)",
    "on_time_766": "Finished on time under the 766 rule (đúng hạn theo QĐ766)",
    "on_time_provincial": "Finished on time under the provincial rule (đúng hạn theo tỉnh)",
}

OVERRIDES = {
    ("overdue_dossiers", "month"): "First day of the month whose end is the snapshot (tháng)",
    ("overdue_dossiers_current", "as_of"): "Date of mart.data_as_of (tính đến ngày)",
    ("payment_refund_issues", "month"): "Payment month, refund request month, or for "
    "refund_pending_over_limit the month-end snapshot (tháng)",
    ("payment_refund_issues", "as_of"): "Month's last day (or the newest data's date while the "
    "month is not over): the as-of date of pending refunds (tính đến ngày)",
    ("dossier_flags", "finished_at"): "Finishing time of a timed dossier in status 9/10 "
    "(ngày kết thúc xử lý)",
    ("province_unit_2025", "province_code"): "Province code of the ref.province row (mã tỉnh)",
}
YTD_PREFIX = "Year to date, January through this month (lũy kế từ đầu năm): "


def column_doc(table: str, column: str) -> str:
    """English text with the Vietnamese term; a column without one stops the migration."""
    if (table, column) in OVERRIDES:
        return OVERRIDES[(table, column)]
    if column in COLUMN_DOCS:
        return COLUMN_DOCS[column]
    if column.endswith("_ytd") and column[:-4] in COLUMN_DOCS:
        return YTD_PREFIX + COLUMN_DOCS[column[:-4]].replace(" in the month", "")
    raise KeyError(f"mart.{table}.{column} has no comment: add it to COLUMN_DOCS in 0003_marts.py")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comments() -> list[str]:
    rows = op.get_bind().exec_driver_sql(
        "select c.table_name, c.column_name, t.table_type from information_schema.columns c "
        "join information_schema.tables t using (table_schema, table_name) "
        "where c.table_schema = 'mart' order by c.table_name, c.ordinal_position"
    ).all()
    kinds = {table: "view" if kind == "VIEW" else "table" for table, _, kind in rows}
    statements = [f"comment on {kinds[t]} mart.{t} is {_quote(TABLE_DOCS[t])}"
                  for t in kinds if t in TABLE_DOCS]
    return statements + [f"comment on column mart.{t}.{c} is {_quote(column_doc(t, c))}"
                         for t, c, _ in rows]


def _grants() -> list[str]:
    views = ", ".join(f"mart.{v}" for v in VIEWS)
    return [
        # Default privileges already cover tables and views tthc_owner creates; explicit anyway.
        "grant usage on schema mart to bi_reader",
        "grant select on all tables in schema mart to bi_reader",
        f"revoke insert, update, delete, truncate on {views} from tthc_loader",
        "grant select, insert, update, delete on ref.setting to tthc_loader",
    ]


def _settings() -> list[str]:
    return [f"insert into ref.setting (name, value, unit, source, status) values "
            f"({_quote(n)}, {v}, {_quote(u)}, {_quote(s)}, 'unverified')"
            for n, v, u, s in SETTINGS]


def upgrade() -> None:
    op.execute("set local role tthc_owner")
    ddl = TABLES + _alter_monthly_compliance() + _alter_generated() + INDEXES + views()
    for statement in ddl + _settings():
        op.execute(statement)
    for statement in _comments() + _grants():
        op.execute(statement)
    op.execute("reset role")


def downgrade() -> None:
    op.execute("set local role tthc_owner")
    for view in reversed(VIEWS):
        op.execute(f"drop view mart.{view}")
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
    op.execute("comment on column mart.monthly_compliance.digitization_rate_766 is "
               + _quote(COLUMN_DOCS["digitization_rate_766"]))
    op.execute("reset role")
