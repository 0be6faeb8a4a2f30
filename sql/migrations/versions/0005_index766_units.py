"""Index 766 per unit: every group's figures with the unit's ids and quality flag, the scoring
rules and the portal-unit mapping as reference data, and mart.index766_scorecard.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-28
"""


from alembic import op

from tthc_warehouse.db.migration import as_owner

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

SNAPSHOT_COLUMNS = ("recomputed_ratio numeric", "recomputed_score numeric", "department_id text",
                    "data_quality_status text", "data_quality_message text", "counters jsonb")

TABLES = [
    """
    create table ref.index766_scoring_rule (
        indicator_group text not null,
        indicator_code text not null,
        max_score numeric,
        target_share numeric,
        null_rule text check (null_rule in ('zero', 'null', 'full')),
        null_ratio numeric,
        ratio_from text,
        status text not null,
        note text,
        primary key (indicator_group, indicator_code)
    )
    """,
    """
    create table ref.portal_unit (
        province_code text not null,
        unit_code text not null,
        department_id text,
        agency_code text,
        unit_name text,
        primary key (province_code, unit_code)
    )
    """,
    """
    create table mart.index766_scorecard (
        province_code text not null,
        province_name text,
        month date not null,
        unit_key text not null,
        unit_code text,
        department_id text,
        unit_name text,
        unit_level text,
        is_province boolean not null,
        agency_code text,
        indicator_group text not null,
        indicator_code text not null,
        max_score numeric,
        portal_numerator numeric,
        portal_denominator numeric,
        portal_ratio numeric,
        portal_score numeric,
        recomputed_ratio numeric,
        recomputed_score numeric,
        recomputed_diff_ratio numeric,
        recomputed_diff_score numeric,
        our_numerator integer,
        our_denominator integer,
        our_rate numeric(7, 2),
        our_diff_pp numeric,
        data_quality_status text,
        portal_captured_at timestamptz,
        status text not null
            check (status in ('match', 'explained', 'mismatch', 'provisional', 'not published')),
        explanation text,
        primary key (province_code, month, unit_key, indicator_group, indicator_code)
    )
    """,
    "create index index766_scorecard_month_idx on mart.index766_scorecard (month)",
    "create index index766_scorecard_agency_idx on mart.index766_scorecard (agency_code, month)",
    "create index fact_index766_snapshot_period_idx on core.fact_index766_snapshot "
    "(period_start, indicator_group)",
]

SETTING = ("insert into ref.setting (name, value, unit, source, status) values "
           "('index766_score_tolerance', 0.01, 'points', 'the portal publishes scores to 0.01', "
           "'unverified')")


def upgrade() -> None:
    with as_owner():
        op.execute("alter table core.fact_index766_snapshot "
                   + ", ".join(f"add column {c}" for c in SNAPSHOT_COLUMNS))
        # Comments come from sql/marts/index766_scorecard.yml, applied by db/objects.py after migrating.
        for statement in [*TABLES, SETTING,
                          "grant select on mart.index766_scorecard to bi_reader"]:
            op.execute(statement)


def downgrade() -> None:
    with as_owner():
        op.execute("drop table mart.index766_scorecard, ref.portal_unit, ref.index766_scoring_rule")
        op.execute("delete from ref.setting where name = 'index766_score_tolerance'")
        op.execute("drop index core.fact_index766_snapshot_period_idx")
        op.execute("alter table core.fact_index766_snapshot "
                   + ", ".join(f"drop column {c.split()[0]}" for c in SNAPSHOT_COLUMNS))
