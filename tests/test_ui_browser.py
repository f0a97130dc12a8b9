"""The Dagster UI in a real browser: `neuroerp dev` (dg dev) on the demo data, driven by headless
Chromium through Playwright. Pages render without an error, and a materialisation launched from
the UI succeeds. Needs Debian's chromium (`apt-get install chromium`); .ci/run installs it."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is installed with the test extras")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found: install it with `apt-get install chromium` (as .ci/run does)"
)
# as root, without a sandbox; no background traffic to a network this machine does not reach
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
ERROR_TEXTS = ("Something went wrong", "Unexpected GraphQL error", "An error occurred", "Asset not found",
               "Error loading", "PythonError")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


LOCATION = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
LATEST = """query ($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset {
  assetMaterializations(limit: 1) { runId timestamp } } } }"""
RUN = "query ($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """The UI and daemon on a materialised demo home; the URL."""
    home = tmp_path_factory.mktemp("ui") / "home"
    env = {**os.environ, "NEUROERP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "NEUROERP_SOURCE_URL": ""}
    result = CliRunner().invoke(main, ["demo", "--scale", "0.01"], env=env)
    assert result.exit_code == 0, result.output
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "neuroerp"), "dev", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, "neuroerp dev exited"
            try:
                entries = _graphql(url, LOCATION)["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["loadStatus"] == "LOADED":
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the UI did not come up within 180 s"
            time.sleep(1)
        assert [e["name"] for e in entries] == ["neuroerp"]
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


@pytest.fixture
def page(ui):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        # Dagster's community dialog on a first visit: dismiss it whenever it covers the page
        page.add_locator_handler(page.get_by_role("button", name="Skip"), lambda skip: skip.click())
        yield page
        browser.close()


def _open(page, url: str, path: str, expect: str) -> None:
    page.goto(url + path, wait_until="networkidle")
    page.get_by_text(expect).first.wait_for(timeout=30_000)
    body = page.inner_text("body")
    assert not [t for t in ERROR_TEXTS if t in body], f"{path}: error banner in\n{body[:2000]}"


@pytest.mark.parametrize(
    "path, expect",
    [
        ("/asset-groups", "Global asset lineage"),
        ("/assets/raw/customers", "ingest_crm"),
        ("/assets/compliance/area_scores", "Compliance score, 0 to 100 %."),
        ("/assets/marts/customer_360", "marts_daily"),
    ],
)
def test_pages_render_without_an_error(page, ui, path, expect):
    _open(page, ui, path, expect)
    assert not page.errors, page.errors


def test_a_materialisation_launched_from_the_ui_succeeds(page, ui):
    key = {"path": ["marts", "audit_stats"]}
    before = _graphql(ui, LATEST, {"key": key})["assetOrError"]["assetMaterializations"]
    _open(page, ui, "/assets/marts/audit_stats", "Materialize")
    page.get_by_role("button").filter(has_text=re.compile(r"^\s*Materialize\s*$")).first.click()
    deadline = time.monotonic() + 240
    while True:
        latest = _graphql(ui, LATEST, {"key": key})["assetOrError"]["assetMaterializations"]
        if latest and latest != before:
            break
        assert time.monotonic() < deadline, "no new materialisation within 240 s"
        time.sleep(2)
    status = _graphql(ui, RUN, {"id": latest[0]["runId"]})["runOrError"]["status"]
    assert status in ("SUCCESS", "STARTED")  # materialised; the run may still be finishing its checks
    assert not page.errors, page.errors
