"""Per-expectation data-quality results of every batch.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

from tthc_warehouse.db.migration import as_owner

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


STATEMENTS = [
    """
    create table ops.dq_result (
        batch_id text not null,
        entity text not null,
        expectation_index integer not null,
        expectation text not null,
        severity text not null check (severity in ('critical', 'warning', 'info')),
        reason text not null,
        success boolean not null,
        unexpected_count bigint,
        observed_value text,
        action text not null check (action in ('none', 'quarantined', 'recorded', 'stopped')),
        docs_url text,
        checked_at timestamptz not null default now(),
        primary key (batch_id, expectation_index)
    )
    """,
    "create index dq_result_failed_idx on ops.dq_result (checked_at) where not success",
]


def upgrade() -> None:
    with as_owner():
        for statement in STATEMENTS:
            op.execute(statement)


def downgrade() -> None:
    op.execute("drop table ops.dq_result")
