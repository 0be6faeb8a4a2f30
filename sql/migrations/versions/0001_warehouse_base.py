"""Warehouse base: roles, schemas, reference, core, quarantine, ops and the first mart.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op

from tthc_warehouse.db.migration import as_owner

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMAS = ("ref", "staging", "quarantine", "core", "mart", "ops")
LOADER_WRITES = ("ref", "quarantine", "core", "mart", "ops")

ROLES = """
do $$
begin
    if not exists (select from pg_roles where rolname = 'tthc_owner') then
        create role tthc_owner nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'tthc_loader') then
        create role tthc_loader nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'bi_reader') then
        create role bi_reader nologin;
    end if;
end
$$
"""

TABLES = [
    # ---- reference data ------------------------------------------------------------------
    """
    create table ref.province (
        province_code text not null,
        name text not null,
        valid_from date not null,
        valid_to date,
        successor_code text,
        primary key (province_code, valid_from),
        check (valid_to is null or valid_to > valid_from)
    )
    """,
    """
    create table ref.working_day (
        day date primary key,
        is_working_day boolean not null,
        holiday_name text
    )
    """,
    """
    create table ref.target (
        indicator text not null,
        valid_from date not null,
        valid_to date,
        value_pct numeric(5, 2) not null,
        source text not null,
        status text not null check (status in ('verified', 'unverified')),
        primary key (indicator, valid_from)
    )
    """,
    """
    create table ref.agency (
        agency_code text primary key,
        province_code text not null,
        name text,
        agency_level text
    )
    """,
    """
    create table ref.procedure (
        procedure_code text primary key,
        name text,
        field_code text,
        requires_paper_result boolean
    )
    """,
    # ---- core facts ----------------------------------------------------------------------
    """
    create table core.fact_dossier (
        dossier_code text primary key,
        procedure_code text not null,
        procedure_name text,
        field_code text,
        receiving_agency_code text,
        processing_agency_code text,
        agency_level text,
        province_code text not null,
        channel smallint,
        submitted_at timestamp,
        received_at timestamp,
        due_at timestamp,
        finished_at timestamp,
        returned_at timestamp,
        status smallint not null,
        supplement_count integer not null default 0,
        supplement_days integer not null default 0,
        components_digitized boolean not null default false,
        result_digitized boolean not null default false,
        requires_paper_result boolean not null default false,
        synced_to_portal boolean not null default true,
        paid_online smallint not null default 0,
        fee_amount bigint not null default 0,
        source_updated_at timestamp not null,
        batch_id text not null
    )
    """,
    "create index fact_dossier_received_idx on core.fact_dossier (province_code, received_at)",
    """
    create table core.fact_dossier_status_event (
        dossier_code text not null,
        status smallint not null,
        event_at timestamp not null,
        batch_id text not null,
        primary key (dossier_code, event_at, status)
    )
    """,
    """
    create table core.fact_payment (
        transaction_id text primary key,
        dossier_code text not null,
        province_code text not null,
        amount bigint not null,
        paid_at timestamp not null,
        gateway text not null,
        status text not null,
        steps smallint,
        source_updated_at timestamp not null,
        batch_id text not null
    )
    """,
    """
    create table core.fact_refund (
        refund_id text primary key,
        transaction_id text,
        dossier_code text not null,
        province_code text not null,
        reason text not null,
        requested_at timestamp not null,
        amount bigint not null,
        method text not null,
        status text not null,
        completed_at timestamp,
        source_updated_at timestamp not null,
        batch_id text not null
    )
    """,
    """
    create table core.fact_index766_snapshot (
        unit_code text not null,
        unit_name text not null,
        unit_level text,
        parent_code text,
        province_code text,
        period_type text not null,
        period_start date not null,
        indicator_group text not null,
        indicator_code text not null,
        numerator numeric,
        denominator numeric,
        ratio numeric,
        score numeric,
        max_score numeric,
        captured_at timestamptz not null,
        batch_id text not null,
        primary key (unit_code, period_type, period_start, indicator_group, indicator_code,
                     captured_at)
    )
    """,
    # ---- quarantine ----------------------------------------------------------------------
    """
    create table quarantine.rejected_row (
        batch_id text not null,
        entity text not null,
        source_file text not null,
        row_number bigint not null,
        column_name text not null default '',
        expectation text not null,
        reason text not null,
        raw jsonb not null,
        primary key (batch_id, entity, source_file, row_number, expectation, column_name)
    )
    """,
    # ---- operations bookkeeping ----------------------------------------------------------
    """
    create table ops.batch (
        batch_id text primary key,
        source text not null,
        entity text not null,
        province_code text,
        interval_start timestamptz not null,
        interval_end timestamptz not null,
        dag_run_id text,
        landing_path text,
        landing_checksum text,
        rows_read bigint,
        rows_staged bigint,
        rows_quarantined bigint,
        rows_published bigint,
        months_touched date[] not null default '{}',
        timings jsonb not null default '{}',
        status text not null check (status in ('running', 'published', 'failed')),
        error text,
        started_at timestamptz not null,
        finished_at timestamptz
    )
    """,
    """
    create table ops.watermark (
        source text not null,
        province_code text not null,
        entity text not null,
        high_water timestamptz not null,
        primary key (source, province_code, entity)
    )
    """,
    """
    create table ops.alert (
        alert_id bigint generated always as identity primary key,
        raised_at timestamptz not null default now(),
        dag_id text,
        run_id text,
        task_id text,
        kind text not null,
        message text not null,
        acknowledged boolean not null default false
    )
    """,
    # ---- marts ---------------------------------------------------------------------------
    """
    create table mart.monthly_compliance (
        province_code text not null,
        province_name text not null,
        month date not null,
        dossiers_received integer not null,
        digitized_766 integer not null,
        synced_received integer not null,
        digitization_rate_766 numeric(5, 2),
        primary key (province_code, month)
    )
    """,
    "create index monthly_compliance_month_idx on mart.monthly_compliance (month)",
]

COMMENTS = [
    "comment on table mart.monthly_compliance is "
    "'Monthly compliance per province at receipt time (chỉ số tuân thủ theo tháng)'",
    "comment on column mart.monthly_compliance.province_code is "
    "'Statistics-office province code at receipt time (mã tỉnh)'",
    "comment on column mart.monthly_compliance.province_name is "
    "'Province name (tên tỉnh)'",
    "comment on column mart.monthly_compliance.month is 'First day of the month of receipt (tháng)'",
    "comment on column mart.monthly_compliance.dossiers_received is "
    "'Dossiers received in the month (số hồ sơ tiếp nhận)'",
    "comment on column mart.monthly_compliance.digitized_766 is "
    "'Synced dossiers digitized under the 766 rule: components digitized and, for finished "
    "dossiers with a paper result, an e-result (hồ sơ số hóa theo QĐ766)'",
    "comment on column mart.monthly_compliance.synced_received is "
    "'Dossiers received in the month that reached the national portal (hồ sơ đồng bộ)'",
    "comment on column mart.monthly_compliance.digitization_rate_766 is "
    "'Digitization rate under Decision 766 indicator 4.2, percent (tỷ lệ số hóa hồ sơ)'",
]


def _grants() -> list[str]:
    statements = [f"grant usage on schema {s} to tthc_loader" for s in SCHEMAS]
    statements.append("grant create on schema staging to tthc_loader")
    for schema in LOADER_WRITES:
        statements += [
            f"grant select, insert, update, delete on all tables in schema {schema} to tthc_loader",
            f"grant usage, select on all sequences in schema {schema} to tthc_loader",
            f"alter default privileges for role tthc_owner in schema {schema} "
            "grant select, insert, update, delete on tables to tthc_loader",
            f"alter default privileges for role tthc_owner in schema {schema} "
            "grant usage, select on sequences to tthc_loader",
        ]
    statements += [
        "grant usage on schema mart to bi_reader",
        "grant select on all tables in schema mart to bi_reader",
        "alter default privileges for role tthc_owner in schema mart grant select on tables to bi_reader",
    ]
    return statements


def upgrade() -> None:
    op.execute(ROLES)
    op.execute("grant tthc_owner to current_user")
    op.execute(
        "do $$ begin execute format('grant create on database %I to tthc_owner', "
        "current_database()); end $$"
    )
    with as_owner():
        for schema in SCHEMAS:
            op.execute(f"create schema {schema}")
        for statement in TABLES + COMMENTS + _grants():
            op.execute(statement)


def downgrade() -> None:
    for schema in reversed(SCHEMAS):
        op.execute(f"drop schema {schema} cascade")
