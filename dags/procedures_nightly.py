"""
### Nightly load of administrative-procedure dossiers, payments and refunds, per province

Every night at 00:00 Vietnam time this DAG takes the previous day (its data interval) from each
province feed in `config/feeds.yaml`: one mapped task group per province, labelled by its name,
and in it, for dossiers, payments and refunds (refunds after payments, which they reference):

1. **extract_*** lands the source payload for the interval, unchanged, under
   `landing/<entity>/<province>/<interval>/<checksum>/` (the same payload twice is reused).
2. **stage_*** parses it in bounded chunks and COPYs it into `staging.<batch>`; a row with an
   unparseable value goes to `quarantine.rejected_row` naming file, row and column.
3. **validate_*** runs the entity's Great Expectations suite (`expectations/<entity>.json`) in
   PostgreSQL. A failed *critical* expectation fails the task at once (no retry) and nothing of the
   batch is published; failed *warnings* move the offending rows to quarantine. The task log gives
   the batch's Data Docs page.
4. **publish_*** merges the batch into `core` in one transaction (newest `source_updated_at`
   wins) and emits an asset event on the core table naming the months it touched.

The asset events trigger the `marts_monthly` DAG, which rebuilds exactly the months they name.
**report_failures** (runs only when something failed) fails the run with the list of batches that
were not published, after every other province was.

**On call.** Failed tasks raise an alert (`ops.alert`, and the `alerts_webhook` connection when
configured); so does a run not finished by 06:00 Vietnam time (a deadline alert). One province
failing does not stop the others. Per batch: `ops.batch` (rows read, staged, quarantined,
published; timings; error), `ops.dq_result` (every expectation), alerts in `ops.alert`;
`tthc status` prints them. Transient errors (network, database restart, HTTP 5xx) are retried
with exponential backoff. Rerunning a run or any interval is safe: batches are keyed by entity,
province and interval, so nothing is counted twice. For an initial load or a re-sync, trigger with
params `from_date` / `to_date` (and optionally `provinces`).
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowSkipException

from tthc_warehouse.extract.feeds import ENTITY_ORDER
from tthc_warehouse.orchestration.dag_defaults import (
    CORE_ASSETS,
    DEFAULT_ARGS,
    NIGHTLY_DEADLINE,
    WAREHOUSE_POOL,
    batch_interval,
    fail_fast_on_bad_data,
)

LABEL = "{{ province_label }}"


def _label(batch: dict) -> None:
    get_current_context()["province_label"] = batch["province_name"]


@task(map_index_template=LABEL, pool=WAREHOUSE_POOL)
def extract(batch: dict, entity: str) -> dict:
    from tthc_warehouse.orchestration import nightly, resources

    _label(batch)
    if not nightly.has_feed(batch["province_code"], entity):
        raise AirflowSkipException(f"{batch['province_name']} has no {entity} feed configured")
    source = resources.source(batch["province_code"], entity)
    run_id = get_current_context()["run_id"]
    return fail_fast_on_bad_data(nightly.extract)(batch, entity, warehouse=resources.warehouse(),
                                                  source=source, run_id=run_id)


@task(map_index_template=LABEL, pool=WAREHOUSE_POOL)
def stage(extracted: dict) -> dict:
    from tthc_warehouse.orchestration import nightly, resources

    _label(extracted)
    source = resources.source(extracted["province_code"], extracted["entity"])
    return fail_fast_on_bad_data(nightly.stage)(extracted, warehouse=resources.warehouse(), source=source)


@task(map_index_template=LABEL, pool=WAREHOUSE_POOL)
def validate(staged: dict) -> dict:
    from tthc_warehouse.orchestration import nightly, resources

    _label(staged)
    return fail_fast_on_bad_data(nightly.validate)(staged, warehouse=resources.warehouse())


@task(map_index_template=LABEL, pool=WAREHOUSE_POOL)
def publish(validated: dict) -> dict:
    from tthc_warehouse.orchestration import nightly, resources

    _label(validated)
    source = resources.source(validated["province_code"], validated["entity"])
    result = fail_fast_on_bad_data(nightly.publish_batch)(validated, warehouse=resources.warehouse(),
                                                          source_label=source.label)
    event = get_current_context()["outlet_events"][CORE_ASSETS[validated["entity"]]]
    event.extra = {"months": result["months_touched"], "rows": result["rows_published"],
                   "province_code": validated["province_code"], "batch_id": result["batch_id"]}
    return result


@dag(
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="Asia/Ho_Chi_Minh"),
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    deadline=NIGHTLY_DEADLINE,
    tags=["tthc", "nightly", "dossiers", "payments"],
    doc_md=__doc__,
    params={
        "provinces": Param([], type="array", description="Province codes; empty = all feeds"),
        "from_date": Param(None, type=["null", "string"], format="date",
                           description="Start of a manual load (inclusive), instead of the interval"),
        "to_date": Param(None, type=["null", "string"], format="date",
                         description="End of a manual load (exclusive)"),
    },
)
def procedures_nightly():
    @task
    def plan_batches() -> list[dict]:
        from tthc_warehouse.orchestration import nightly

        context = get_current_context()
        start, end = batch_interval(context)
        return nightly.plan_batches(start, end, context["params"]["provinces"])

    @task_group(group_id="province")
    def load_province(batch: dict):
        published = {}
        for entity in ENTITY_ORDER:
            extracted = extract.override(task_id=f"extract_{entity}s")(batch, entity)
            staged = stage.override(task_id=f"stage_{entity}s")(extracted)
            validated = validate.override(task_id=f"validate_{entity}s")(staged)
            published[entity] = publish.override(task_id=f"publish_{entity}s",
                                                 outlets=[CORE_ASSETS[entity]])(validated)
            if entity == "refund":  # refunds are checked against the payments they return
                published["payment"] >> validated

    @task(trigger_rule="one_failed")
    def report_failures() -> None:
        """Fail the run when any province failed, after the others were published."""
        from airflow.sdk.exceptions import AirflowFailException

        from tthc_warehouse.orchestration import nightly, resources

        run_id = get_current_context()["run_id"]
        raise AirflowFailException(nightly.failed_batches_message(resources.warehouse(), run_id))

    load_province.expand(batch=plan_batches()) >> report_failures()


procedures_nightly()
