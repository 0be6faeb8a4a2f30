"""Publish speed: drop the dossier index nothing reads.

``core.fact_dossier_received_idx`` (province_code, received_at) cost the publish more than any
other index of the table: a million new dossiers are a million insertions at random places of
it, each merging into the posting list of its (province, minute of receipt), about a third of
the insert's index work and WAL. No query uses it: the marts and views select dossiers by
received_at ranges across every province (mart.dossier_flags, mart.dossier_month_end: a scan of
the table), the publish and the marts look dossiers up by dossier_code (the primary key), and
mart.data_as_of reads the newest source_updated_at (fact_dossier_updated_idx, kept).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("set local role tthc_owner")
    op.execute("drop index core.fact_dossier_received_idx")
    op.execute("reset role")


def downgrade() -> None:
    op.execute("set local role tthc_owner")
    op.execute("create index fact_dossier_received_idx on core.fact_dossier (province_code, received_at)")
    op.execute("reset role")
