"""The real app in headless Chromium: the Gradio chat and the help widget answer with citations, and
hostile text from a question or a document is shown as text, never run.

Set UI_SCREENSHOT=docs/screenshot.png to refresh the README screenshot from this run.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="Chromium and chromedriver are not installed "
               "(`make browser` installs Debian's chromium and chromium-driver)",
    ),
    pytest.mark.filterwarnings("ignore:::gradio.queueing"),  # pandas deprecations inside Gradio's queue
]

XSS = "<img src=x onerror=\"document.title='pwned'\">"
# An overview whose text carries markup, as a scraped or converted document might.
HOSTILE_DOC = """EMA/123456/2024
EMEA/H/C/009999
Scriptomab (markupumab)
An overview of Scriptomab and why it is authorised in the EU
What is Scriptomab and what is it used for?
Scriptomab is a medicine used to treat adults with a rare skin condition <script>document.title='pwned'</script>.
Scriptomab contains the active substance markupumab.
How is Scriptomab used?
Scriptomab can only be obtained with a prescription.
Scriptomab is given once every 2 weeks as an injection under the skin <img src=x onerror="document.title='pwned'">.
For more information about using Scriptomab, see the package leaflet or contact your doctor or pharmacist.
How does Scriptomab work?
Markupumab attaches to a protein in the skin and blocks it.
"""
DONE = ("doctor or pharmacist", "apotekspersonal", "I can answer from the EMA overviews of", "Please type a question")
WAIT_S = 30


@pytest.fixture(scope="module")
def browser_settings(seeded_settings, tmp_path_factory):
    """The seeded store plus one overview with markup in its text."""
    from ingest.pipeline import ingest

    base = tmp_path_factory.mktemp("browser")
    shutil.copytree(seeded_settings.store_dir, base / "store")
    (base / "docs").mkdir()
    (base / "docs" / "scriptomab_en.txt").write_text(HOSTILE_DOC, encoding="utf-8")
    settings = seeded_settings.model_copy(update={"store_dir": base / "store",
                                                  "feedback_db": base / "feedback.sqlite3"})
    assert ingest([base / "docs"], settings).exit_code == 0
    return settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(browser_settings):
    import uvicorn

    from rag.service import RagService
    from ui.app import create_app

    app = create_app(browser_settings, RagService(browser_settings))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-dev-shm-usage", "--window-size=1200,1000",
                "--force-device-scale-factor=1", "--lang=en-GB",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(WAIT_S)
    yield browser
    browser.quit()


def wait(driver, condition, message: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(condition, message)


def assert_nothing_ran(driver, title: str) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018 -- raises when no alert is open
    assert driver.title == title
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0


# the Gradio chat ---------------------------------------------------------------------------------
def chat_ask(driver, question: str):
    """Type into the chat, wait for the complete answer, return its message element."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(driver.find_elements(By.CSS_SELECTOR, '#chat [data-testid="bot"]'))
    box = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#question textarea"), "no question box")
    box.send_keys(question, Keys.ENTER)

    def answered(d):
        bots = d.find_elements(By.CSS_SELECTOR, '#chat [data-testid="bot"]')
        return bots[-1] if len(bots) > before and any(p in bots[-1].text for p in DONE) else False

    return wait(driver, answered, f"no answer to {question!r}")


def test_chat_answers_with_citation_cards(driver, base_url):
    from selenium.webdriver.common.by import By

    driver.get(base_url + "/")
    wait(driver, lambda d: "not medical advice" in d.find_element(By.ID, "intro").text, "no notice")
    chat_ask(driver, "How often is Conexxence given?")
    card = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat details.cite"), "no citation card")[-1]
    assert "6 months" in driver.find_element(By.ID, "chat").text
    summary = card.find_element(By.TAG_NAME, "summary")
    assert "EMA/201153/2025" in summary.text
    assert "Conexxence" in summary.text and "How is Conexxence used?" in summary.text
    summary.click()
    quote = card.find_element(By.CSS_SELECTOR, "blockquote")
    wait(driver, lambda d: quote.is_displayed() and "6 months" in quote.text, "the card does not open")

    if os.environ.get("UI_SCREENSHOT"):
        shot = ROOT / os.environ["UI_SCREENSHOT"]
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(shot))


def test_chat_shows_hostile_question_and_document_as_text(driver, base_url):
    from selenium.webdriver.common.by import By

    driver.get(base_url + "/")
    title = wait(driver, lambda d: d.title, "no title")
    chat_ask(driver, XSS)
    users = driver.find_elements(By.CSS_SELECTOR, '#chat [data-testid="user"]')
    assert users[-1].text.strip() == XSS
    assert_nothing_ran(driver, title)

    chat_ask(driver, "How often is Scriptomab given?")
    card = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat details.cite"), "no citation card")[-1]
    card.find_element(By.TAG_NAME, "summary").click()
    quote = card.find_element(By.CSS_SELECTOR, "blockquote")
    wait(driver, lambda d: XSS in quote.text, "the quoted markup is not shown as text")
    chat_ask(driver, "What is Scriptomab used for?")
    assert "<script>document.title='pwned'</script>" in driver.find_element(By.ID, "chat").text
    assert driver.execute_script("return document.querySelectorAll('#chat script').length") == 0
    assert_nothing_ran(driver, title)


# the help widget ---------------------------------------------------------------------------------
def widget(driver):
    from selenium.webdriver.common.by import By

    host = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-ema-help]"), "no widget on the page")
    return host.shadow_root


def widget_ask(driver, root, question: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(root.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.pending)"))
    root.find_element(By.CSS_SELECTOR, "textarea").send_keys(question, Keys.ENTER)

    def answered(d):
        bots = root.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.pending)")
        return bots[-1] if len(bots) > before else False

    return wait(driver, answered, f"the widget did not answer {question!r}")


def open_widget(driver, base_url):
    from selenium.webdriver.common.by import By

    driver.get(base_url + "/embed")
    root = widget(driver)
    root.find_element(By.CSS_SELECTOR, ".launcher").click()
    wait(driver, lambda d: root.find_element(By.CSS_SELECTOR, ".panel").is_displayed(), "the panel did not open")
    return root


def test_widget_answers_with_citation_and_follows_up(driver, base_url):
    from selenium.webdriver.common.by import By

    root = open_widget(driver, base_url)
    answer = widget_ask(driver, root, "How often is Conexxence given?")
    assert "6 months" in answer.text
    summary = answer.find_element(By.CSS_SELECTOR, ".cite summary")
    assert "EMA/201153/2025" in summary.text and "Conexxence" in summary.text
    summary.click()
    assert "6 months" in answer.find_element(By.CSS_SELECTOR, ".quote").text

    follow_up = widget_ask(driver, root, "How does it work?")
    assert "Conexxence" in follow_up.find_element(By.CSS_SELECTOR, ".cite summary").text


def test_widget_shows_hostile_question_and_document_as_text(driver, base_url):
    from selenium.webdriver.common.by import By

    root = open_widget(driver, base_url)
    title = driver.title
    widget_ask(driver, root, XSS)
    assert root.find_elements(By.CSS_SELECTOR, ".msg.user")[-1].text == XSS
    answer = widget_ask(driver, root, "How often is Scriptomab given?")
    answer.find_element(By.CSS_SELECTOR, ".cite summary").click()
    assert XSS in answer.find_element(By.CSS_SELECTOR, ".quote").text
    assert not root.find_elements(By.CSS_SELECTOR, "img, script")
    assert_nothing_ran(driver, title)
