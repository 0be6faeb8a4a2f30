"""Least privilege: the loader gets exactly what the pipeline's code runs; CONNECT only for our roles.

What the pipeline runs as ``tthc_loader`` (and so what it is granted):
- ref: reads everything; upserts ``ref.agency`` and ``ref.procedure`` (insert, update) at publish.
  Targets, settings, provinces, calendar and the 766 rules are written by migrations and
  ``tthc migrate`` as the owner, never by a task.
- core: upserts facts (select, insert, update); nothing is ever deleted from core.
- quarantine: inserts rejected rows; deletes its own batch's rows when a batch is staged again.
- ops: ``batch`` and ``watermark`` upserted (insert, update); ``dq_result`` replaced per batch
  (insert, delete); ``alert`` only inserted.
- mart: base tables rebuilt per month by delete + insert; views read only.
- staging: creates (and so owns and drops) its own tables.

Roles are cluster-wide, so CONNECT on this database is revoked from PUBLIC and granted to the
three roles only: ``bi_reader`` can no longer open other warehouses on the same server.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from alembic import op

from tthc_warehouse.db.migration import as_owner

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ALL = "select, insert, update, delete, truncate, references, trigger"
SCHEMAS = ("ref", "quarantine", "core", "mart", "ops")
# schema -> privileges on every table in it (and on tables the owner creates later)
SCHEMA_GRANTS = {"ref": "select", "core": "select, insert, update", "quarantine": "select, insert, delete",
                 "ops": "select", "mart": "select"}
# Tables created later: a new mart table must be rebuildable without a grant of its own.
DEFAULT_GRANTS = {**SCHEMA_GRANTS, "mart": "select, insert, delete"}
TABLE_GRANTS = {
    "ref.agency": "insert, update",
    "ref.procedure": "insert, update",
    "ops.batch": "insert, update",
    "ops.watermark": "insert, update",
    "ops.dq_result": "insert, delete",
    "ops.alert": "insert",
}
# The mart rebuild deletes and re-inserts a month of every base table (views stay read-only).
MART_TABLES = """
do $$
declare t text;
begin
    for t in select quote_ident(relname) from pg_class
             where relnamespace = 'mart'::regnamespace and relkind in ('r', 'p') loop
        execute format('grant insert, delete on mart.%s to tthc_loader', t);
    end loop;
end
$$
"""
CONNECT = """
do $$
begin
    execute format('revoke connect, temporary on database %I from public', current_database());
    execute format('grant connect on database %I to tthc_owner, tthc_loader, bi_reader',
                   current_database());
end
$$
"""


def _statements() -> list[str]:
    out = []
    for schema in SCHEMAS:
        grant = SCHEMA_GRANTS[schema]
        out += [f"revoke {ALL} on all tables in schema {schema} from tthc_loader",
                f"alter default privileges for role tthc_owner in schema {schema} "
                f"revoke {ALL} on tables from tthc_loader",
                f"grant {grant} on all tables in schema {schema} to tthc_loader",
                f"alter default privileges for role tthc_owner in schema {schema} "
                f"grant {DEFAULT_GRANTS[schema]} on tables to tthc_loader"]
    out += [f"grant {privileges} on {table} to tthc_loader" for table, privileges in TABLE_GRANTS.items()]
    return [*out, MART_TABLES]


def upgrade() -> None:
    with as_owner():
        for statement in _statements():
            op.execute(statement)
    op.execute(CONNECT)  # the database belongs to the migrating login, not to tthc_owner


def downgrade() -> None:
    op.execute("do $$ begin execute format('grant connect, temporary on database %I to public', "
               "current_database()); end $$")
    with as_owner():
        for schema in SCHEMAS:
            op.execute(f"grant select, insert, update, delete on all tables in schema {schema} "
                       "to tthc_loader")
            op.execute(f"alter default privileges for role tthc_owner in schema {schema} "
                       "grant select, insert, update, delete on tables to tthc_loader")
