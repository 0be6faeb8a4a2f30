"""The Airflow UI in headless Chromium: log in, open the nightly DAG, see the mapped tasks by province name.

A whole local Airflow (``local_airflow``, as `make up` starts it) runs on a free port with a private
AIRFLOW_HOME, a warehouse database of its own on the session's server and two days of simulated
feeds for two provinces; one manual run of the nightly DAG gives the mapped task instances.
Chromium is Debian's (/usr/bin/chromium), driven by Playwright; `.ci/run` installs it.
"""

from __future__ import annotations

import re

import psycopg
import pytest

from tests.conftest import CHROMIUM_FLAGS
from tthc_warehouse.db import migrate
from tthc_warehouse.local import airflow_up
from tthc_warehouse.reference import loader
from tthc_warehouse.simulator import generate
from tthc_warehouse.simulator.serve import serve_http_feeds

pytestmark = pytest.mark.integration

DAG_ID = "procedures_nightly"
PROVINCES = {"30": "Hải Dương", "52": "Bình Định"}
CONF = {"from_date": "2024-01-01", "to_date": "2024-01-03", "provinces": sorted(PROVINCES)}
@pytest.fixture(scope="module")
def airflow_ui(chromium, server_url, tmp_path_factory):
    """Airflow up on a free port after one successful manual run of the nightly DAG; its run id."""
    root = tmp_path_factory.mktemp("airflow-ui")
    data = root / "data"
    generate(data / "inbox", scale=0.02)
    with (pytest.MonkeyPatch.context() as env,
          airflow_up.scratch_database(server_url, "tthc_ui") as warehouse_url):
        migrate.upgrade(warehouse_url)
        with psycopg.connect(warehouse_url) as conn:
            loader.load_reference(conn)
            conn.commit()
        env.delenv("AIRFLOW_CONN_FEED_QUANG_BINH", raising=False)  # restored afterwards
        servers = serve_http_feeds(data / "inbox")
        try:
            with airflow_up.LocalAirflow(airflow_up.free_port(), env={
                "AIRFLOW_HOME": str(root / "airflow"),
                "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
                "TTHC_DATA_DIR": str(data),
                "TTHC_INBOX_DIR": str(data / "inbox"),
                "TTHC_LANDING_DIR": str(data / "landing"),
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the run triggered below
            }) as airflow:
                airflow.wait_for_dag(DAG_ID)
                run_id = airflow.trigger(DAG_ID, CONF)
                run = airflow.wait_for_run(DAG_ID, run_id, timeout=240)
                assert run["state"] == "success", airflow.task_states(DAG_ID, run_id)
                yield airflow, run_id
        finally:
            for server in servers:
                server.stop()


def test_mapped_tasks_are_labelled_by_province_name(chromium, airflow_ui, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    airflow, run_id = airflow_ui
    task_id = "province.extract_dossiers"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=chromium, args=CHROMIUM_FLAGS,
            headless=True, viewport={"width": 1400, "height": 1000})
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)

            # the DAG's page asks for a login first (SimpleAuthManager), then comes back to it
            page.goto(f"{airflow.url}/dags/{DAG_ID}")
            page.get_by_label("Username").fill(airflow.user)
            page.get_by_label("Password").fill(airflow.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(rf"/dags/{DAG_ID}$"))

            # the grid: the run's column, then the province group expanded, then the mapped task
            page.locator(f'a[href="/dags/{DAG_ID}/runs/{run_id}/"]').first.click()
            page.wait_for_url(re.compile(rf"/dags/{DAG_ID}/runs/{re.escape(run_id)}/?$"))
            cell = page.get_by_test_id(f"grid-{run_id}-{task_id}")
            toggle = page.locator('[aria-label="Toggle group"][data-group-id="province"]')
            for _ in range(3):  # a click before the grid has settled may be lost
                if cell.is_visible():
                    break
                toggle.click()
                try:
                    cell.wait_for(timeout=5_000)
                except PlaywrightTimeout:  # click again
                    continue
            cell.click()
            page.wait_for_url(re.compile(rf"/tasks/{re.escape(task_id)}/mapped$"))
            expect(page.get_by_text(f"{len(PROVINCES)} Task Instances")).to_be_visible()

            table = page.get_by_role("table")
            headers = [h.strip() for h in table.get_by_role("columnheader").all_inner_texts()]
            column = headers.index("Map Index")
            rows = table.get_by_role("row").all()[1:]
            labels = {row.get_by_role("cell").nth(column).inner_text().strip() for row in rows}
            page.mouse.move(1300, 950)  # no tooltip over the table in the screenshot
            screenshot = tmp_path / "mapped-extract-dossiers.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert labels == set(PROVINCES.values()), f"map index labels {labels} (screenshot: {screenshot})"
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")
