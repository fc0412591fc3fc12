"""Opt-in: a learner's first exercise in real JupyterLab, driven in headless Chromium.

    make browser-test

Starts JupyterLab with `make lab` as the README says (its exercise copies go to
browser-test-work/, not to your work/), opens the DenseNet exercise, runs all
cells as a learner would from the Run menu, and checks that the first check's
message is on the page; then fills in Task 1 and sees its ✓ line. It also opens a
walkthrough's 確認テスト: the answer and its 解説 are nowhere on the page (the proof cell is
collapsed) until the learner runs the answer cell with a choice; and it runs the drill,
typing answers into JupyterLab's input box. Last, `make work COURSE_LANG=ja` copies the
Japanese edition's exercises, whose check fails and then passes in Japanese. Screenshots go to browser-test-screenshots/
(ignored by git), or to docs/images/ with
`make screenshots` (CNN_COURSE_SCREENSHOTS=1). Needs Debian's chromium and chromium-driver
(`apt install chromium chromium-driver`); skipped unless CNN_COURSE_BROWSER=1.
"""

import json
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


QUIZ_NOTEBOOK = "05_vgg.ipynb"  # a copy in WORK: the walkthrough itself is not changed
QUIZ = "05-1"


def panel(name):
    """JavaScript: `panel`, the open notebook named `name`."""
    return (
        "const panel = Array.from(window.jupyterapp.shell.widgets('main'))"
        f".find(w => w.context && w.context.path.endsWith('{name}'));"
    )


def open_notebook(browser, lab, name):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{lab}/lab/tree/{WORK}/{name}?token={TOKEN}")
    WebDriverWait(browser, 120).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")))
    WebDriverWait(browser, 180).until(
        lambda d: d.execute_script(panel(name) + "return panel?.sessionContext.session?.kernel?.status") == "idle"
    )
    for button in browser.find_elements(By.XPATH, "//button[normalize-space()='No']"):
        button.click()


def select_cell(browser, name, starts_with, source=None):
    """Make the first cell whose source starts with `starts_with` the active one (and give it `source`)."""
    return browser.execute_script(
        panel(name)
        + """
        const notebook = panel.content;
        const index = notebook.widgets.findIndex(c => c.model.sharedModel.getSource().startsWith(arguments[0]));
        if (arguments[1] !== null) notebook.widgets[index].model.sharedModel.setSource(arguments[1]);
        notebook.activeCellIndex = index;
        notebook.scrollToItem(index, 'center');
        return index;
        """,
        starts_with,
        source,
    )


def cell_outputs(browser, name, index, text, timeout=120):
    """The outputs (as JSON text) of cell `index` once they contain `text`; fails with what they hold."""
    script = panel(name) + "return JSON.stringify(panel.content.widgets[arguments[0]].model.outputs.toJSON())"
    deadline = time.time() + timeout
    while time.time() < deadline:
        outputs = json.loads(browser.execute_script(script, index))
        shown = json.dumps(outputs, ensure_ascii=False)
        if text in shown:
            return shown.replace("\\n", "\n")
        time.sleep(0.5)
    pytest.fail(f"{text!r} never appeared in cell {index}'s outputs: {shown[:500]}")


def visible_text(browser, name):
    """What the open notebook `name` shows on the page (innerText leaves out what is collapsed)."""
    return browser.execute_script(panel(name) + "return panel.content.node.innerText")


def test_a_quiz_answer_is_hidden_until_the_learner_chooses(lab, browser):
    from cnn_course.quiz import question

    q = question(QUIZ)
    explanation = q["explanation_ja"].splitlines()[0]
    shutil.copy(ROOT / "notebooks" / QUIZ_NOTEBOOK, ROOT / WORK / QUIZ_NOTEBOOK)
    open_notebook(browser, lab, QUIZ_NOTEBOOK)
    answer_cell = select_cell(browser, QUIZ_NOTEBOOK, f'answer("{QUIZ}"')
    time.sleep(2)  # the cells around it render
    proof = browser.execute_script(
        panel(QUIZ_NOTEBOOK)
        + """
        const cell = panel.content.widgets[arguments[0] + 1];
        return [cell.model.sharedModel.getSource(), cell.inputHidden, cell.outputHidden];
        """,
        answer_cell,
    )
    assert proof[0].startswith(f"# 証明（proof）{QUIZ}") and proof[1] and proof[2], "the proof cell is collapsed"
    before = visible_text(browser, QUIZ_NOTEBOOK)
    assert q["ja"].strip()[:20] in before, "the question is on the page"
    for secret in (explanation, "正解", f"{QUIZ}: ({q['answer']})", 'q = question("'):
        assert secret not in before, f"{secret!r} is visible before the learner has chosen"
    SCREENSHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "quiz-before-choosing.png"))

    select_cell(browser, QUIZ_NOTEBOOK, "from cnn_course.quiz import answer")  # the section's first code cell
    click_menu(browser, "Run", "Run Selected Cell")
    select_cell(browser, QUIZ_NOTEBOOK, f'answer("{QUIZ}"', f'answer("{QUIZ}", "{q["answer"]}")')
    click_menu(browser, "Run", "Run Selected Cell")
    outputs = cell_outputs(browser, QUIZ_NOTEBOOK, answer_cell, "✓ 正解（correct）")
    assert explanation in outputs and q["explanation_en"].splitlines()[0] in outputs
    assert "execute_result" not in outputs, "the verdict is shown once, with no result line under it"
    time.sleep(1)
    after = visible_text(browser, QUIZ_NOTEBOOK)
    assert "✓ 正解（correct）" in after and explanation in after, "the verdict and the 解説 are on the page now"
    browser.save_screenshot(str(SCREENSHOTS / "quiz-after-choosing.png"))


def test_the_drill_asks_in_jupyterlab(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from cnn_course.quiz.drill import make_paper, shown_answer

    shutil.copy(ROOT / "docs" / "drill.ipynb", ROOT / WORK / "drill.ipynb")
    open_notebook(browser, lab, "drill.ipynb")
    select_cell(browser, "drill.ipynb", "from cnn_course.quiz import drill")
    click_menu(browser, "Run", "Run Selected Cell")
    select_cell(browser, "drill.ipynb", "result = drill(", "result = drill(units=[5], n=2, seed=1)")
    click_menu(browser, "Run", "Run Selected Cell")
    right = [shown_answer(q, order) for q, order in make_paper([5], 2, 1)]
    for letter in [right[0], next(x for x in "abcd" if x != right[1])]:  # one right, one wrong
        deadline = time.time() + 60
        while time.time() < deadline:
            boxes = [b for b in browser.find_elements(By.CSS_SELECTOR, ".jp-Stdin-input") if b.is_enabled()]
            if boxes:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the drill's input box never appeared")
        boxes[-1].send_keys(letter + Keys.ENTER)
        time.sleep(1)
    scored = wait_for_text(browser, "得点（score）: 1/2")
    assert "復習するトピック" in scored.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", scored)
    browser.save_screenshot(str(SCREENSHOTS / "quiz-drill.png"))


def test_the_japanese_edition_answers_in_japanese(lab, browser):
    """`make lab COURSE_LANG=ja` copies the Japanese exercises; their checks fail and pass in Japanese."""
    copied = subprocess.run(
        ["make", "--no-print-directory", "work", "COURSE_LANG=ja", f"WORK={WORK}/ja"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"new exercise copy: {WORK}/ja/{EXERCISE}" in copied.stdout
    name = f"ja/{EXERCISE}"
    open_notebook(browser, lab, name)
    assert "課題 1" in visible_text(browser, name), "the Japanese exercise's headings"
    click_menu(browser, "Run", "Run All Cells")
    failed = wait_for_text(browser, "課題 1 · densenet_channels")
    assert "CheckFailed" in failed.text and "ヒント" in failed.text and "Traceback" not in failed.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", failed)
    SCREENSHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "exercise-check-failed-ja.png"))
    select_cell(browser, name, "def densenet_channels", TASK_1)
    click_menu(browser, "Run", "Run Selected Cell")
    click_menu(browser, "Run", "Run Selected Cell")
    passed = wait_for_text(browser, "✓ 課題 1 · densenet_channels")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", passed)
    browser.save_screenshot(str(SCREENSHOTS / "exercise-check-passed-ja.png"))
