"""
### Monthly marts for BI, rebuilt for the months the core tables' asset events name

Scheduled on the core tables' Airflow Assets (`core.fact_dossier`, `core.fact_payment`,
`core.fact_refund`, `core.fact_index766_snapshot`): every publish of the nightly load emits an
event whose `extra` lists the months it touched, and this DAG rebuilds exactly those months.

1. **plan_months** collects the months from the triggering asset events (or from the `months`
   param of a manual run, e.g. `["2024-09-01"]`), plus every later month with data: a dossier
   received in one month also counts where it finishes and in later year-to-date figures.
2. **rebuild_month** (mapped, labelled by month) replaces the month in every monthly mart
   (`mart.monthly_compliance`, `mart.agency_monthly_counts`, `mart.overdue_dossiers`,
   `mart.payment_refund_summary`, `mart.payment_refund_issues`, `mart.index766_reconciliation`)
   in one transaction: a BI query sees the old month or the new one, never half. A month reads
   only `core` and the same month of the marts, so months rebuild in parallel.
3. **write_reports** writes the self-contained monthly HTML report of each rebuilt month to
   `.data/reports/` (open it in a browser; `tthc report --month 2024-09` does the same).

**On call.** Safe to rerun: a month is always rebuilt whole from `core`. A failed month leaves the
previous version of that month in place.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task

from tthc_warehouse.orchestration.dag_defaults import CORE_ASSETS, DEFAULT_ARGS, WAREHOUSE_POOL


@dag(
    schedule=(CORE_ASSETS["dossier"] | CORE_ASSETS["payment"] | CORE_ASSETS["refund"]
              | CORE_ASSETS["index766_snapshot"]),
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tthc", "marts", "bi"],
    doc_md=__doc__,
    params={"months": Param([], type="array", description="Months to rebuild (YYYY-MM-01) on a manual run")},
)
def marts_monthly():
    @task
    def plan_months() -> list[str]:
        from tthc_warehouse.orchestration import marts, resources

        context = get_current_context()
        events = context.get("triggering_asset_events") or {}
        return marts.plan(resources.warehouse(), events, context["params"]["months"])

    @task(map_index_template="{{ month }}", pool=WAREHOUSE_POOL)
    def rebuild_month(month: str) -> dict:
        from tthc_warehouse.orchestration import marts, resources

        get_current_context()["month"] = month[:7]
        return marts.rebuild(resources.warehouse(), month)

    @task
    def write_reports(months: list[str]) -> list[str]:
        from tthc_warehouse.orchestration import marts, resources

        return marts.write_reports(resources.warehouse(), months)

    months = plan_months()
    rebuild_month.expand(month=months) >> write_reports(months)


marts_monthly()
