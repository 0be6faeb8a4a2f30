"""PostgreSQL settings scoped to the caller's transaction (``set_config(..., is_local => true)``):
what the loader role may set for a heavy statement without touching the session or the server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


def set_local(conn: psycopg.Connection, values: dict[str, str]) -> None:
    """Set ``values`` until the transaction ends (SET LOCAL)."""
    for name, value in values.items():
        conn.execute("select set_config(%s, %s, true)", (name, value))


@contextmanager
def local_settings(conn: psycopg.Connection, values: dict[str, str]) -> Iterator[None]:
    """``values`` for the statements run inside, then back to what they were (same transaction)."""
    saved = {name: conn.execute("select current_setting(%s)", (name,)).fetchone()[0] for name in values}
    set_local(conn, values)
    yield
    set_local(conn, saved)
