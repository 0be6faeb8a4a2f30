"""The month-end rules of DOMAIN §6: their settings, and the columns that make each rule visible.

* ref.setting gains text_value, for settings that are words (supplement_days_unit).
* agency_monthly_counts and monthly_compliance count the not-accepted dossiers (status 3, out of
  every received denominator) and the dossiers without an appointment date in their own columns.
* overdue_dossiers carries the 766 deadline (due_at moved by the waiting days, in working days)
  and the days overdue counted from it.

Rows built before this revision keep null in the new columns until their month is rebuilt.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-05
"""

from alembic import op

from tthc_warehouse.db.migration import as_owner, drop_objects

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (name, numeric value, text value, unit, source): all unverified choices (DOMAIN §6).
SETTINGS = [
    ("supplement_days_unit", None, "working", "working | calendar",
     "DOMAIN §6.2: time waiting for the citizen moves the 766 deadline in working days"),
    ("weak_min_dossiers", 10, None, "dossiers received in the month",
     "DOMAIN §6.5: fewer dossiers than this is 'too few dossiers', not a weak unit"),
    ("refund_request_grace_days", 15, None, "calendar days",
     "DOMAIN §6.6: refund_never_requested only this long after the dossier ended"),
]
COUNT_COLUMNS = ("not_accepted_received", "no_due_date_counted")
COUNT_TABLES = ("mart.agency_monthly_counts", "mart.monthly_compliance")


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _settings() -> list[str]:
    return [f"insert into ref.setting (name, value, text_value, unit, source, status) values "
            f"({_literal(n)}, {_literal(v)}, {_literal(t)}, {_literal(u)}, {_literal(s)}, "
            f"'unverified')" for n, v, t, u, s in SETTINGS]


def upgrade() -> None:
    with as_owner():
        op.execute("alter table ref.setting alter column value drop not null, "
                   "add column text_value text, "
                   "add constraint setting_has_a_value check (num_nonnulls(value, text_value) = 1)")
        for table in COUNT_TABLES:
            op.execute(f"alter table {table} "
                       + ", ".join(f"add column {c} integer" for c in COUNT_COLUMNS))
        op.execute("alter table mart.overdue_dossiers add column due_766 timestamp, "
                   "add column days_overdue_766 integer")
        for statement in _settings():
            op.execute(statement)


def downgrade() -> None:
    with as_owner():
        drop_objects()  # views read the columns dropped below
        op.execute("alter table mart.overdue_dossiers drop column due_766, drop column days_overdue_766")
        for table in COUNT_TABLES:
            op.execute(f"alter table {table} "
                       + ", ".join(f"drop column {c}" for c in COUNT_COLUMNS))
        names = ", ".join(_literal(n) for n, *_ in SETTINGS)
        op.execute(f"delete from ref.setting where name in ({names})")
        op.execute("alter table ref.setting drop constraint setting_has_a_value, "
                   "drop column text_value, alter column value set not null")
