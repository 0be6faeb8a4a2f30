"""
### Nightly load of administrative-procedure dossiers, per province

Every night at 00:00 Vietnam time this DAG takes the previous day (its data interval) from each
province feed in `config/feeds.yaml`, one mapped task group per province, labelled by its name:

1. **extract_dossiers** lands the province's export for the interval, unchanged, under
   `landing/dossier/<province>/<interval>/<checksum>/` (the same payload twice is reused).
2. **stage_dossiers** parses it in bounded chunks and COPYs it into `staging.<batch>`; rows with an
   unparseable value go to `quarantine.rejected_row` naming file, row and column.
3. **publish_dossiers** merges the batch into `core.fact_dossier` in one transaction (newest
   `source_updated_at` wins) and records the months it touched.

Then **rebuild_marts** replaces those months of `mart.monthly_compliance`, one transaction each.

**On call.** One province failing does not stop the others. Progress per batch is in
`ops.batch` (`tthc status` prints it). Rerunning a run, or any interval, is safe: batches are
keyed by entity, province and interval, so nothing is counted twice. For an initial load or a
re-sync, trigger with params `from_date` / `to_date` (and optionally `provinces`).
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowSkipException

from tthc_warehouse.airflow_support import DEFAULT_ARGS, WAREHOUSE_POOL, batch_interval
from tthc_warehouse.feeds import ENTITY_ORDER

LABEL = "{{ province_label }}"


def _label(batch: dict) -> None:
    get_current_context()["province_label"] = batch["province_name"]


@task(map_index_template=LABEL, pool=WAREHOUSE_POOL)
def extract(batch: dict, entity: str) -> dict:
    from tthc_warehouse import pipeline

    _label(batch)
    if not pipeline.has_feed(batch["province_code"], entity):
        raise AirflowSkipException(f"{batch['province_name']} has no {entity} feed configured")
    return pipeline.extract(batch, entity, get_current_context()["run_id"])


@task(map_index_template=LABEL, pool=WAREHOUSE_POOL)
def stage(extracted: dict) -> dict:
    from tthc_warehouse import pipeline

    _label(extracted)
    return pipeline.stage(extracted)


@task(map_index_template=LABEL, pool=WAREHOUSE_POOL)
def publish(staged: dict) -> dict:
    from tthc_warehouse import pipeline

    _label(staged)
    return pipeline.publish_batch(staged)


@dag(
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="Asia/Ho_Chi_Minh"),
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tthc", "nightly", "dossiers"],
    doc_md=__doc__,
    params={
        "provinces": Param([], type="array", description="Province codes; empty = all feeds"),
        "from_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Start of a manual load (inclusive), instead of the interval",
        ),
        "to_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="End of a manual load (exclusive)",
        ),
    },
)
def procedures_nightly():
    @task
    def plan_batches() -> list[dict]:
        from tthc_warehouse import pipeline

        context = get_current_context()
        start, end = batch_interval(context)
        return pipeline.plan_batches(start, end, context["params"]["provinces"])

    @task_group(group_id="province")
    def load_province(batch: dict):
        for entity in ENTITY_ORDER:
            extracted = extract.override(task_id=f"extract_{entity}s")(batch, entity)
            publish.override(task_id=f"publish_{entity}s")(
                stage.override(task_id=f"stage_{entity}s")(extracted)
            )

    @task(trigger_rule="all_done", pool=WAREHOUSE_POOL)
    def rebuild_marts() -> dict:
        from tthc_warehouse import pipeline

        return pipeline.rebuild_marts_for_run(get_current_context()["run_id"])

    load_province.expand(batch=plan_batches()) >> rebuild_marts()


procedures_nightly()
