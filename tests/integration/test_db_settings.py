"""Transaction-scoped settings (db/settings.py), which publish, the quality fold and the mart
rebuild use for their heavy statements."""

from __future__ import annotations

import pytest

from tthc_warehouse.db.settings import local_settings, set_local

pytestmark = pytest.mark.integration


def work_mem(conn) -> str:
    return conn.execute("select current_setting('work_mem')").fetchone()[0]


def test_local_settings_last_for_the_block_and_set_local_for_the_transaction(db) -> None:
    before = work_mem(db)
    db.commit()  # the block below is then a transaction of its own, not a savepoint
    with db.transaction():
        set_local(db, {"work_mem": "64MB"})
        with local_settings(db, {"work_mem": "128MB", "enable_indexscan": "off"}):
            assert work_mem(db) == "128MB"
            assert db.execute("select current_setting('enable_indexscan')").fetchone()[0] == "off"
        assert work_mem(db) == "64MB"
        assert db.execute("select current_setting('enable_indexscan')").fetchone()[0] == "on"
    assert work_mem(db) == before != "64MB"
