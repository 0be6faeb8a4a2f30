"""`make up` and the Airflow UI in headless Chromium: log in, open the nightly DAG, see the mapped
tasks by province name; Ctrl-C stops everything.

`tthc up` (what `make up` runs: `airflow standalone` in the project's environment) runs on a free
port with a private AIRFLOW_HOME, a warehouse database of its own on the session's server and two
days of simulated feeds for two provinces, whose HTTP feed it serves; one manual run of the nightly
DAG gives the mapped task instances. Chromium is Debian's (/usr/bin/chromium), driven by Playwright.
"""

from __future__ import annotations

import re

import psycopg
import pytest

from tests import airflow_harness
from tests.conftest import CHROMIUM_FLAGS
from tthc_warehouse.db import migrate
from tthc_warehouse.reference import loader
from tthc_warehouse.simulator import generate

pytestmark = pytest.mark.integration

DAG_ID = "procedures_nightly"
PROVINCES = {"30": "Hải Dương", "52": "Bình Định"}
CONF = {"from_date": "2024-01-01", "to_date": "2024-01-03", "provinces": sorted(PROVINCES)}


def _up_env(root, warehouse_url: str) -> dict[str, str]:
    data, home = root / "data", root / "airflow"
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
        "TTHC_DATA_DIR": str(data),
        "TTHC_INBOX_DIR": str(data / "inbox"),
        "TTHC_LANDING_DIR": str(data / "landing"),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the run triggered below
        # another Airflow on this machine may hold the default log-server ports
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(airflow_harness.free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(airflow_harness.free_port()),
    }


@pytest.fixture(scope="module")
def airflow_ui(chromium, server_url, tmp_path_factory):
    """`tthc up` on a free port after one successful manual run of the nightly DAG.

    Yields (airflow, run id, the DAG as first parsed); on the way out presses Ctrl-C and checks
    that nothing had to be killed.
    """
    root = tmp_path_factory.mktemp("airflow-ui")
    generate(root / "data" / "inbox", scale=0.02)
    with airflow_harness.scratch_database(server_url, "tthc_ui") as warehouse_url:
        migrate.upgrade(warehouse_url)
        with psycopg.connect(warehouse_url) as conn:
            loader.load_reference(conn)
            conn.commit()
        up = airflow_harness.MakeUp(airflow_harness.free_port(), _up_env(root, warehouse_url),
                                    root / "tthc-up.log")
        with up:
            dag = up.wait_for_dag(DAG_ID)
            run_id = up.trigger(DAG_ID, CONF)
            run = up.wait_for_run(DAG_ID, run_id, timeout=900)  # shared, busy cores: GX takes its time
            assert run["state"] == "success", up.task_states(DAG_ID, run_id)
            yield up, run_id, dag
        assert up.process.returncode == 0 and up.killed == [], up.output()[-3000:]


def test_make_up_prints_url_and_login_and_dags_start_paused(airflow_ui):
    up, _, dag = airflow_ui
    output = up.output()
    assert f"Airflow is up:  http://localhost:{up.url.rsplit(':', 1)[1]}" in output
    assert f"login:       admin / {up.password}" in output
    assert dag["is_paused"] is True


def test_mapped_tasks_are_labelled_by_province_name(chromium, airflow_ui, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    airflow, run_id, _ = airflow_ui
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
            expect(page.get_by_text(f"{len(PROVINCES)} Task Instances")).to_be_visible(timeout=30_000)

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
