"""The 2025-unit rollup of the compliance mart sums every count the mart sums from its agencies.

mart.monthly_compliance_by_2025_unit now takes its list of sums from the mart's doc
(``rollup: sum`` in sql/marts/monthly_compliance.yml), the list the province rows are summed by,
so it gains ``not_accepted_received`` and ``no_due_date_counted``. ``create or replace view``
cannot insert columns before existing ones, so the view is dropped here; the objects step that
follows every migration to head creates it again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-13
"""

from alembic import op

from tthc_warehouse.db.migration import as_owner

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

VIEW = "mart.monthly_compliance_by_2025_unit"


def upgrade() -> None:
    with as_owner():
        op.execute(f"drop view if exists {VIEW}")


def downgrade() -> None:
    with as_owner():
        op.execute(f"drop view if exists {VIEW}")
