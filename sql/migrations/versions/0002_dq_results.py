"""Per-expectation data-quality results of every batch.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("set local role tthc_owner")
    op.execute(
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
        """
    )
    op.execute("create index dq_result_failed_idx on ops.dq_result (checked_at) where not success")
    op.execute("reset role")


def downgrade() -> None:
    op.execute("drop table ops.dq_result")
