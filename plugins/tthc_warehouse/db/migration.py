"""What the migrations (``sql/migrations/versions/``) do around their statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op

from tthc_warehouse.db.objects import OWNER_ROLE, drop_statements


@contextmanager
def as_owner() -> Iterator[None]:
    """Run the block as the owner role, so what it creates belongs to the owner and not to the
    login that migrates; for the block only (the role is set local to the migration's
    transaction, and an error rolls the whole migration back)."""
    op.execute(f"set local role {OWNER_ROLE}")
    yield
    op.execute("reset role")


def drop_objects() -> None:
    """Drop the views and functions of ``sql/`` (objects.py), dependants first, before a change to
    the tables they read; ``tthc migrate`` applies them again after the last migration."""
    for statement in drop_statements():
        op.execute(statement)
