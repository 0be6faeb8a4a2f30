"""Publish speed: the dossier indexes a publish maintains cost less.

A million new dossiers are a million insertions into every index of core.fact_dossier and of
core.fact_dossier_status_event: that work, not reading the batch, is most of a publish.

- ``core.fact_dossier_received_idx`` (province_code, received_at) goes: each insertion lands at a
  random place and merges into the posting list of its (province, minute of receipt), about a
  third of the fact insert's index work and WAL, and no query reads it. The marts and views select
  dossiers by received_at ranges across every province (mart.dossier_flags,
  mart.dossier_month_end: a scan of the table), publish and the marts look dossiers up by
  dossier_code (the primary keys), mart.data_as_of reads the newest source_updated_at
  (fact_dossier_updated_idx, kept).
- ``dossier_code`` of both tables compares in the "C" collation (bytes), not the database's:
  the primary keys' comparisons stop going through the locale's strcoll. The codes are ASCII
  identifiers, so equality is unchanged and their order is the code-point order (the same as
  C.UTF-8's; under en_US the punctuation no longer sorts as if absent). A comparison with a text
  of the default collation (staging, payments, refunds) takes "C", so it still uses the keys.

The views read the column: they are dropped here and created again by the objects step that
follows every migration to head (``migrate.upgrade``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

from tthc_warehouse.db.migration import as_owner, drop_objects

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CODES = ("core.fact_dossier", "core.fact_dossier_status_event")


def upgrade() -> None:
    with as_owner():
        op.execute("drop index core.fact_dossier_received_idx")
        drop_objects()
        for table in CODES:
            op.execute(f'alter table {table} alter column dossier_code type text collate "C"')


def downgrade() -> None:
    with as_owner():
        drop_objects()
        for table in CODES:
            op.execute(f'alter table {table} alter column dossier_code type text collate "default"')
        op.execute("create index fact_dossier_received_idx on core.fact_dossier (province_code, received_at)")
