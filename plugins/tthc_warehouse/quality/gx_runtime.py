"""GX's objects, built once per process and reused by every batch validated in it.

Importing GX and building its context cost seconds; a worker (or ``dag.test()``, or the CLI)
validating many batches pays that once. Each batch gets its own table asset, validation
definition and checkpoint, removed after the run so a long-lived process does not accumulate them.
"""

from __future__ import annotations

import os
from pathlib import Path

from tthc_warehouse.db.warehouse import Warehouse

KEY = ["_file", "_row"]  # identifies one staged row: the file and its row number
_CONTEXTS: dict[tuple[str, str], tuple[object, object]] = {}


def preload() -> None:
    """Import GX ahead of the first batch (e.g. in a worker before it forks tasks)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations  # noqa: F401


def _context(warehouse: Warehouse, docs: Path):
    """The process's ephemeral context and warehouse data source for this URL and docs folder."""
    key = (warehouse.sqlalchemy_url(), str(docs))
    if key not in _CONTEXTS:
        preload()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        site = {"class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)}}
        context.add_data_docs_site("tthc", site)
        source = context.data_sources.add_postgres("warehouse", connection_string=key[0])
        _CONTEXTS[key] = (context, source)
    return _CONTEXTS[key]


def _suite(gx, name: str, spec: dict, items: list[dict]):
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    suite = gx.ExpectationSuite(name=name, meta=spec.get("meta"))
    for item in items:
        # add_expectation appends; add_expectation_configuration would upsert by domain and silently
        # merge two table-level checks (e.g. both row-count expectations) into one.
        suite.add_expectation(ExpectationConfiguration(**item).to_domain_obj())
    return suite


def run_suite(warehouse: Warehouse, docs: Path, table: str, spec: dict, items: list[dict]):
    """Run ``items`` (GX expectation dicts) on ``staging.<table>``; return (results, Data Docs URL)."""
    import great_expectations as gx

    context, source = _context(warehouse, docs)
    name = table
    _forget(context, source, name)  # left by a run that died in this process
    asset = source.add_table_asset(name, table_name=table, schema_name="staging")
    # A suite kept from an earlier batch would be merged with this one (GX matches expectations
    # by domain), losing some: every batch gets its suite afresh.
    if spec["name"] in {s.name for s in context.suites.all()}:
        context.suites.delete(spec["name"])
    suite = context.suites.add(_suite(gx, spec["name"], spec, items))
    definition = context.validation_definitions.add(gx.ValidationDefinition(
        name=name, data=asset.add_batch_definition_whole_table("whole"), suite=suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=name, validation_definitions=[definition],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=["tthc"])],
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": KEY,
                       "return_unexpected_index_query": False}))
    try:
        run = checkpoint.run()
        key, result = next(iter(run.run_results.items()))
        sites = context.get_docs_sites_urls(resource_identifier=key, site_names=["tthc"])
        urls = [u["site_url"] for u in sites]
    finally:
        _forget(context, source, name)
    return result.results, (urls[0] if urls else None)


def _forget(context, source, name: str) -> None:
    if name in {c.name for c in context.checkpoints.all()}:
        context.checkpoints.delete(name)
    if name in {v.name for v in context.validation_definitions.all()}:
        context.validation_definitions.delete(name)
    if name in source.get_asset_names():
        source.delete_asset(name)
