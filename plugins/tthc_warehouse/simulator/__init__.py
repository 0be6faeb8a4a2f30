"""Deterministic generator of the ten provinces' TTHC feeds, calibrated to the published 766 rates.

``generate(inbox, seed=766, scale=1.0)`` writes every daily file config/feeds.yaml names
(dossiers in each province's native format, payments and refunds as JSON lines), the HTTP
province's API store, and the portal's monthly Decision-766 digitization snapshots; it returns a
``Summary`` with the figures the warehouse should compute from them. Parameters: ``params``.
"""

from tthc_warehouse.simulator.core import ProvinceSummary, Summary, generate, main

__all__ = ["ProvinceSummary", "Summary", "generate", "main"]
