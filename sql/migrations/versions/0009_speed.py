"""Planner statistics for the monthly mart rebuild over core.fact_dossier.

The marts filter and group dossiers by expressions of several columns (the finish time is a case
over status, finished_at and returned_at; the flags combine status with the digitization
booleans), which the planner otherwise estimates as independent columns: over 5M facts it
expected 31M rows where 128k came, and chose disk sorts and merge joins accordingly. Extended
statistics give it the real selectivities; ANALYZE fills them (autovacuum keeps them fresh).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op

from tthc_warehouse.db.migration import as_owner

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STATISTICS = {
    # the finish time the marts derive (mart.dossier_flags.finished_at) and the receipt time
    "fact_dossier_finish_stats": "(case when status in (9, 10) then coalesce(finished_at, returned_at) end), "
                                 "received_at",
    # status with the flags that are read together with it
    "fact_dossier_flags_stats": "status, requires_paper_result, result_digitized, synced_to_portal, "
                                "components_digitized",
    # the grouping keys of the agency and province marts (units and procedures nest in provinces)
    "fact_dossier_unit_stats": "province_code, processing_agency_code, procedure_code",
}


# The dossier publish finds codes staged twice in a temporary table (sql/publish/*{duplicates}),
# which 0006 took from PUBLIC: the loader gets it back by name. Run as the migrating login, who
# owns the database.
TEMPORARY = """
do $$ begin
    execute format('grant temporary on database %I to tthc_loader', current_database());
end $$
"""


def upgrade() -> None:
    op.execute(TEMPORARY)
    with as_owner():
        for name, columns in STATISTICS.items():
            op.execute(f"create statistics core.{name} on {columns} from core.fact_dossier")
        op.execute("analyze core.fact_dossier")


def downgrade() -> None:
    with as_owner():
        for name in STATISTICS:
            op.execute(f"drop statistics core.{name}")
    op.execute("do $$ begin execute format('revoke temporary on database %I from tthc_loader', "
               "current_database()); end $$")
