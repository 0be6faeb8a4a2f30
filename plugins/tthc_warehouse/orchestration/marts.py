"""The mart DAG's steps: which months the asset events name, rebuild one month, write reports."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping

from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.marts import builder

log = logging.getLogger(__name__)


def months_named(events: Mapping[object, Iterable[object]], params_months: list[str]) -> list[str]:
    """Union of the months in the events' ``extra["months"]`` and the manual ``months`` param."""
    months = {dt.date.fromisoformat(m).replace(day=1) for m in params_months or []}
    for asset_events in events.values():
        for event in asset_events:
            extra = getattr(event, "extra", None) or {}
            months.update(dt.date.fromisoformat(m).replace(day=1) for m in extra.get("months", []))
    return [m.isoformat() for m in sorted(months)]


def plan(warehouse: Warehouse, events: Mapping[object, Iterable[object]], params_months: list[str]
         ) -> list[str]:
    """The months named, and every later month with data: a dossier received in one month also
    counts where it finishes, in later month-end stocks and in later year-to-date sums."""
    named = [dt.date.fromisoformat(m) for m in months_named(events, params_months)]
    if not named:
        return []
    with warehouse.connect() as conn:
        return [m.isoformat() for m in builder.months_to_rebuild(conn, named)]


def rebuild(warehouse: Warehouse, month: str) -> dict:
    """Replace one month of every monthly mart, in one transaction (the year to date counted on a
    second connection meanwhile)."""
    with warehouse.connect() as conn:
        counts = builder.rebuild_month(conn, dt.date.fromisoformat(month), warehouse.connect)
    log.info("%s rebuilt: %s", month[:7], counts)
    return counts


def write_reports(warehouse: Warehouse, months: list[str]) -> list[str]:
    """The monthly HTML report of each month; returns the files written."""
    from tthc_warehouse.report import monthly

    written = [str(monthly.write(warehouse, dt.date.fromisoformat(m))) for m in months]
    for path in written:
        log.info("report written: file://%s", path)
    return written
