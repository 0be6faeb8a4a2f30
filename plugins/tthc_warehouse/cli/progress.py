"""Progress bars for a DAG run in this process: batches published, read from ops.batch as they land."""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager

from tthc_warehouse.db.warehouse import Warehouse

DONE = "select count(*) filter (where status <> 'running'), count(*) filter (where status = 'failed') " \
       "from ops.batch where started_at >= %s"


@contextmanager
def batch_progress(warehouse: Warehouse, total: int, *, interval: float = 1.0):
    """Show ``published/total`` batches (with failures) while the body runs; stderr, one line."""
    from tqdm import tqdm

    since = dt.datetime.now(dt.UTC)
    stop = threading.Event()
    bar = tqdm(total=total, unit="batch", desc="batches", dynamic_ncols=True)

    def poll() -> None:
        with warehouse.connect(autocommit=True) as conn:
            while not stop.wait(interval):
                done, failed = conn.execute(DONE, (since,)).fetchone()
                bar.n = done
                bar.set_postfix(failed=failed, refresh=False)
                bar.refresh()

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield bar
    finally:
        stop.set()
        thread.join(timeout=5)
        bar.close()
