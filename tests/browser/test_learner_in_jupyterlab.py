"""Opt-in: a learner's first exercise in real JupyterLab, driven in headless Chromium.

    make browser-test

Starts JupyterLab with `make lab` as the README says (its exercise copies go to
browser-test-work/, not to your work/), opens the DenseNet exercise, runs all
cells as a learner would from the Run menu, and checks that the first check's
message is on the page; then fills in Task 1 and sees its ✓ line. Screenshots
of both go to browser-test-screenshots/ (ignored by git), or to docs/images/ with
`make screenshots` (CNN_COURSE_SCREENSHOTS=1). Needs Debian's chromium and chromium-driver
(`apt install chromium chromium-driver`); skipped unless CNN_COURSE_BROWSER=1.
"""

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORK = "browser-test-work"  # not hidden: Jupyter does not serve hidden folders
EXERCISE = "09_densenet.ipynb"
SCREENSHOTS = ROOT / ("docs/images" if os.environ.get("CNN_COURSE_SCREENSHOTS") == "1" else "browser-test-screenshots")
TOKEN = "course-browser-test"
TASK_1 = '''def densenet_channels(c0, k, blocks, compression):
    """Channels at the end of each dense block."""
    channels, c = [], c0
    for i, n_layers in enumerate(blocks):
        c = c + n_layers * k
        channels.append(c)
        if i < len(blocks) - 1:
            c = int(c * compression)
    return channels'''

# the open notebook's panel, found through the JupyterLab application (exposed with expose_app_in_browser)
NOTEBOOK = (
    "const panel = Array.from(window.jupyterapp.shell.widgets('main'))"
    f".find(w => w.context && w.context.path.endsWith('{EXERCISE}'));"
)

pytestmark = pytest.mark.skipif(os.environ.get("CNN_COURSE_BROWSER") != "1", reason="opt-in: make browser-test")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    port = free_port()
    shutil.rmtree(ROOT / WORK, ignore_errors=True)
    args = f"--no-browser --port={port} --IdentityProvider.token={TOKEN} --LabApp.expose_app_in_browser=True"
    server = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"WORK={WORK}", f"LAB_ARGS={args}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 900  # the first `make lab` installs the learners' environment
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            assert server.poll() is None, server.stdout.read()[-3000:]
            time.sleep(1)
    else:
        pytest.fail("JupyterLab did not start")
    yield url
    os.killpg(server.pid, 15)
    server.wait(timeout=30)
    shutil.rmtree(ROOT / WORK, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def wait_for_text(driver, text, timeout=180):
    from selenium.webdriver.common.by import By

    deadline = time.time() + timeout
    while time.time() < deadline:
        outputs = driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output")
        for out in outputs:
            if text in out.text:
                return out
        time.sleep(0.5)
    pytest.fail(f"{text!r} never appeared in an output")


def click_menu(driver, menu, item):
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//li[contains(@class, 'lm-MenuBar-item')][.//*[text()='{menu}']]").click()
    driver.find_element(By.XPATH, f"//li[contains(@class, 'lm-Menu-item')][.//*[text()='{item}']]").click()


def test_a_learner_sees_the_check_message_then_the_tick(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{lab}/lab/tree/{WORK}/{EXERCISE}?token={TOKEN}")
    WebDriverWait(browser, 120).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")))
    WebDriverWait(browser, 180).until(
        lambda d: d.execute_script(NOTEBOOK + "return panel?.sessionContext.session?.kernel?.status") == "idle"
    )
    for button in browser.find_elements(By.XPATH, "//button[normalize-space()='No']"):
        button.click()  # JupyterLab's first-run question about news
    click_menu(browser, "Run", "Run All Cells")

    failed = wait_for_text(browser, "Task 1 · densenet_channels")
    assert "CheckFailed" in failed.text and "not written yet" in failed.text
    assert "Traceback" not in failed.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", failed)
    SCREENSHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "exercise-check-failed.png"))

    # the learner writes Task 1's answer and runs the cell and its check again
    browser.execute_script(
        NOTEBOOK
        + """
        const notebook = panel.content;
        const index = notebook.widgets.findIndex(
            c => c.model.sharedModel.getSource().startsWith('def densenet_channels'));
        notebook.widgets[index].model.sharedModel.setSource(arguments[0]);
        notebook.activeCellIndex = index;
        """,
        TASK_1,
    )
    click_menu(browser, "Run", "Run Selected Cell")
    click_menu(browser, "Run", "Run Selected Cell")
    passed = wait_for_text(browser, "✓ Task 1 · densenet_channels")
    assert "checks passed" in passed.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", passed)
    browser.save_screenshot(str(SCREENSHOTS / "exercise-check-passed.png"))
