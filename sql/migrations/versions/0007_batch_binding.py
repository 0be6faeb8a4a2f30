"""Bind a batch to the attempt that staged and validated it.

``attempt_id`` names the stage attempt that owns the batch, ``staging_table`` its table (the
batch's name plus the attempt), ``validated_oid`` the table the suite passed (its oid: a table
dropped and created again under the same name is a different table). Publish refuses anything
else, and a retry after a committed publish finds ``status = 'published'`` for its own attempt.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op

from tthc_warehouse.db.migration import as_owner

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with as_owner():
        op.execute("alter table ops.batch add column attempt_id text, add column staging_table text, "
                   "add column validated_oid bigint")


def downgrade() -> None:
    with as_owner():
        op.execute("alter table ops.batch drop column attempt_id, drop column staging_table, "
                   "drop column validated_oid")
