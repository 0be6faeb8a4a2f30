"""Run an iterator a few items ahead in a thread: the next chunk parses while this one COPYs.

Parsing (pandas, numpy) and COPY (libpq socket writes) both release the GIL for most of their
work, so the two overlap. ``depth`` bounds how many parsed chunks wait in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

_DONE = object()


def ahead[T](items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield ``items`` in order, produced by a background thread; its exceptions re-raise here."""
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                box.put((item, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            box.put((_DONE, exc))
            return
        box.put((_DONE, None))

    worker = threading.Thread(target=produce, name="stage-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = box.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                box.get_nowait()
            except queue.Empty:
                worker.join(0.05)
