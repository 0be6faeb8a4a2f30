"""What a DAG task hands to the step functions: the warehouse and the feed's source.

Both come from Airflow: the warehouse from the connection ``warehouse`` and an HTTP feed's
credentials from its own connection, through Airflow's lookup (environment or secrets backend).
"""

from __future__ import annotations

from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.extract.base import Source
from tthc_warehouse.extract.feeds import load_feeds
from tthc_warehouse.extract.sources import source_for


def warehouse() -> Warehouse:
    """The warehouse, acting as the loader role; fails naming AIRFLOW_CONN_WAREHOUSE when unset."""
    return Warehouse.from_airflow()


def source(province_code: str, entity: str) -> Source:
    """The configured source of ``entity`` for the province."""
    from airflow.sdk import BaseHook

    feed = next(f for f in load_feeds() if f.province_code == province_code).entities[entity]
    return source_for(feed, province_code, get_connection=BaseHook.get_connection)
