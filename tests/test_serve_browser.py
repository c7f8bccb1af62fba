"""End to end in a real headless browser: Debian's Chromium + chromedriver through Selenium.

Starts ``gait2hip serve`` on 127.0.0.1 (a free port), uploads the gait2392 example trial from the
page, waits for the curves, downloads the report, and checks a screenshot is not blank. Skips
with the reason when Chromium, its driver or Selenium is missing (``apt-get install chromium
chromium-driver``; ``.ci/run`` installs them in CI). Set ``GAIT2HIP_SCREENSHOT=PATH`` to keep the
screenshot (docs/serve_page.png was made that way).
"""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the clinic service needs the extra: pip install 'gait2hip[serve]'")
pytest.importorskip("httpx", reason="the server start-up check needs httpx (the dev extra)")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="no Chromium/chromedriver found: apt-get install chromium chromium-driver",
    ),
]


@pytest.fixture
def browser(tmp_path: Path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1700"):
        options.add_argument(argument)
    options.add_argument("--disable-dev-shm-usage")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _wait(condition, timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_upload_curves_report_and_screenshot(browser, examples: Path, tmp_path: Path) -> None:
    from PIL import Image
    from selenium.webdriver.common.by import By

    from gait2hip.serve.bench import running_server

    trial = examples / "gait2392-subject01" / "subject01_walk1_ik.mot"
    with running_server() as server:
        browser.get(server.url + "/")
        assert "gait2hip" in browser.title
        browser.find_element(By.ID, "token").send_keys(server.token)
        browser.find_element(By.ID, "file").send_keys(str(trial))
        browser.find_element(By.ID, "mass").send_keys("72.6")
        browser.find_element(By.ID, "analyse").click()
        find = browser.find_elements
        _wait(
            lambda: find(By.CSS_SELECTOR, "#charts svg") or find(By.CSS_SELECTOR, "#error:not([hidden])"),
            what="curves",
        )
        assert not browser.find_elements(By.CSS_SELECTOR, "#error:not([hidden])"), browser.find_element(
            By.ID, "error"
        ).text
        charts = browser.find_elements(By.CSS_SELECTOR, "#charts svg")
        assert len(charts) == 24  # 14 muscle groups + 3 moments + 7 hip contact force channels
        assert len(browser.find_elements(By.CSS_SELECTOR, "#charts path.curve.right")) == 24 * 2
        assert len(browser.find_elements(By.CSS_SELECTOR, "#charts path.curve.left")) == 24 * 2
        assert len(browser.find_elements(By.CSS_SELECTOR, "#charts polygon")) == 24  # training bands
        assert "unlike the walking the model learned from" in browser.find_element(By.ID, "verdict").text
        assert "subject01_walk1_ik.mot" in browser.find_element(By.ID, "result-title").text

        browser.find_element(By.ID, "download-report").click()
        _wait(
            lambda: any(p.name.endswith("report.html") for p in browser.downloads.iterdir()), 30, "the report"
        )
        report = next(p for p in browser.downloads.iterdir() if p.name.endswith("report.html"))
        _wait(lambda: report.stat().st_size > 10_000, 10, "the whole report")
        text = report.read_text()
        assert text.count("<svg") == 24 and "72.6 kg" in text

        browser.find_element(By.ID, "show-report").click()
        _wait(lambda: browser.find_element(By.ID, "report-frame").is_displayed(), 30, "the report frame")

        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name);"
        )
        assert resources and all(r.startswith((server.url, "blob:")) for r in resources), resources

        browser.execute_script("window.scrollTo(0, 0);")
        png = browser.get_screenshot_as_png()

        # a Vicon C3D with Plug-in Gait outputs, from the same page
        c3d = Path(__file__).parent / "data" / "pig_walk.c3d"
        browser.find_element(By.ID, "file").send_keys(str(c3d))
        browser.find_element(By.ID, "analyse").click()
        _wait(lambda: "pig_walk.c3d" in browser.find_element(By.ID, "result-title").text, what="the C3D")
        assert "5 stride(s)" in browser.find_element(By.ID, "result-title").text
        assert len(browser.find_elements(By.CSS_SELECTOR, "#charts path.curve.right")) == 24 * 3
        assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None

        # the API docs page: local, and it reads the schema with the tab's token
        browser.get(server.url + "/api/docs")
        _wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#endpoints h3")) >= 4, 30, "the API docs")
        assert "POST /api/analyses" in browser.find_element(By.ID, "endpoints").text
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    assert image.shape[0] > 500 and image.shape[1] > 800
    assert image.var() > 200.0  # not a blank page
    assert (image < 200).mean() > 0.02  # ink: text, curves, bands
    keep = os.environ.get("GAIT2HIP_SCREENSHOT")
    if keep:
        Path(keep).write_bytes(png)
