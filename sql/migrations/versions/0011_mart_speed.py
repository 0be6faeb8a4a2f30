"""Indexes and statistics the monthly mart rebuild's plans use (issue 13, "Marts").

A month's rebuild reads the dossiers that can count in it once, into a temporary table with their
month-end state (sql/marts/dossier_month_end.sql): those received from 28 days before the month on,
and those received earlier that are not finished or took 28 days or more (stopped, withdrawn and
open dossiers, whose month-end state the history decides). Each half is an index range here
instead of a pass over the whole of core.fact_dossier:

* ``fact_dossier_received_at_idx``: receipt time (0010 dropped the one leading with the province);
  inserted in nearly ascending order, so cheap for the publish to maintain;
* ``fact_dossier_unfinished_idx``: receipt time of the dossiers without a finish time or taking
  28 days or more, partial, so a few percent of the facts;
* ``fact_dossier_unfinished_stats``: statistics of that predicate, so the planner knows how few.

The month-end state looks each dossier's history up by the primary key of
core.fact_dossier_status_event (dossier_code, event_at, status), which exists since 0001, so the
function mart.dossier_month_end (a pass over the whole history per call) goes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from alembic import op

from tthc_warehouse.db.migration import as_owner

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# mart.dossier_flags.finished_at, and the partial index's predicate in sql/marts/dossier_month_end.sql.
FINISH = "(case when status in (9, 10) then coalesce(finished_at, returned_at) end)"
UNFINISHED = f"coalesce({FINISH} >= received_at + interval '28 days', true)"

INDEXES = {
    "fact_dossier_received_at_idx": "(received_at)",
    "fact_dossier_unfinished_idx": f"(received_at) where received_at is not null and {UNFINISHED}",
}


def upgrade() -> None:
    with as_owner():
        op.execute("drop function if exists mart.dossier_month_end(date)")
        for name, definition in INDEXES.items():
            op.execute(f"create index {name} on core.fact_dossier {definition}")
        op.execute(f"create statistics core.fact_dossier_unfinished_stats on ({UNFINISHED}) "
                   "from core.fact_dossier")
        op.execute("analyze core.fact_dossier")


def downgrade() -> None:
    with as_owner():
        op.execute("drop statistics core.fact_dossier_unfinished_stats")
        for name in INDEXES:
            op.execute(f"drop index core.{name}")
