"""The real app in headless Chromium: the Gradio chat and the help widget answer with citations a
pharmacist can check (EMA page, product number, the whole section with the quote marked), work at phone
and desktop widths, the API docs render offline, and hostile text from a question or a document is shown
as text, never run. No request leaves 127.0.0.1.

Set UI_SCREENSHOTS=docs to refresh the README screenshots (screenshot.png, -1440.png, -360.png) from this run.
"""

from __future__ import annotations

import json
import os
import shutil
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
EPAR = "https://www.ema.europa.eu/en/medicines/human/EPAR/"
WIDTHS = (1440, 360)
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


@pytest.fixture(scope="module")
def base_url(browser_settings):
    from rag.service import RagService
    from ui.app import create_app

    from .live_app import serve

    with serve(create_app(browser_settings, RagService(browser_settings)), WAIT_S) as url:
        yield url


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
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # every request the pages make
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(WAIT_S)
    yield browser
    browser.quit()


def requested_urls(driver) -> list[str]:
    """URLs the browser sent requests to since the last call (from Chrome's network log); requests the
    browser itself blocked (a page's Content-Security-Policy) never reach the network and are left out."""
    sent, blocked = {}, set()
    for entry in driver.get_log("performance"):
        event = json.loads(entry["message"])["message"]
        params = event.get("params", {})
        if event.get("method") == "Network.requestWillBeSent":
            sent[params["requestId"]] = params["request"]["url"]
        elif event.get("method") == "Network.loadingFailed" and params.get("blockedReason"):
            blocked.add(params["requestId"])
    return [url for rid, url in sent.items() if rid not in blocked]


def outside(urls: list[str], base_url: str) -> list[str]:
    """Network requests to anything but the app (the browser's own chrome:// pages are not network)."""
    return [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:")) and not u.startswith(base_url + "/")]


def assert_only_local_requests(driver, base_url: str) -> None:
    elsewhere = outside(requested_urls(driver), base_url)
    assert not elsewhere, f"requests leaving {base_url}: {elsewhere[:5]}"


def screenshot(driver, name: str) -> None:
    if os.environ.get("UI_SCREENSHOTS"):
        shot = ROOT / os.environ["UI_SCREENSHOTS"] / name
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(shot))


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


def open_card(driver, card):
    """Expand a citation card by its summary (not the link), return the section text shown."""
    from selenium.webdriver.common.by import By

    context = card.find_element(By.CSS_SELECTOR, "blockquote")
    assert not context.is_displayed(), "the section text is collapsed until asked for"
    card.find_element(By.CSS_SELECTOR, ".cite-toggle, .toggle").click()
    wait(driver, lambda d: context.is_displayed(), "the card does not open")
    return context


def check_ema_link(card, medicine: str) -> None:
    from selenium.webdriver.common.by import By

    link = card.find_element(By.CSS_SELECTOR, "a")
    assert link.get_attribute("href") == EPAR + medicine.lower()
    assert link.get_attribute("target") == "_blank"
    assert set(link.get_attribute("rel").split()) >= {"noopener", "noreferrer"}
    assert medicine in link.text and link.is_displayed()


def test_chat_answers_with_citation_cards(driver, base_url):
    from selenium.webdriver.common.by import By

    driver.set_window_size(1200, 1000)
    driver.get(base_url + "/")
    wait(driver, lambda d: "not medical advice" in d.find_element(By.ID, "intro").text, "no notice")
    chat_ask(driver, "How often is Conexxence given?")
    card = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat details.cite"), "no citation card")[-1]
    assert "6 months" in driver.find_element(By.ID, "chat").text
    summary = card.find_element(By.TAG_NAME, "summary")
    assert "EMA/201153/2025" in summary.text and "EMEA/H/C/006268" in summary.text
    assert "Conexxence" in summary.text and "How is Conexxence used?" in summary.text
    check_ema_link(card, "Conexxence")
    context = open_card(driver, card)
    marked = context.find_element(By.TAG_NAME, "mark").text
    assert "6 months" in marked and marked in driver.find_element(By.ID, "chat").text
    # the whole section: the sentences around the quote are there too
    assert "only be obtained with a prescription" in context.text and len(context.text) > len(marked) + 100
    assert_only_local_requests(driver, base_url)
    screenshot(driver, "screenshot.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_chat_layout_at_phone_and_desktop_width(driver, base_url, width):
    from selenium.webdriver.common.by import By

    driver.set_window_size(width, 1000)
    driver.get(base_url + "/")
    intro = wait(driver, lambda d: d.find_element(By.ID, "intro"), "no title")
    chat_ask(driver, "How often is Conexxence given?")
    card = driver.find_elements(By.CSS_SELECTOR, "#chat details.cite")[-1]
    check_ema_link(card, "Conexxence")
    open_card(driver, card)
    assert driver.execute_script("return window.innerWidth") == width
    viewport = driver.execute_script("return document.documentElement.clientWidth")  # less the scroll bar
    assert driver.execute_script("return document.documentElement.scrollWidth") <= viewport, "sideways scrolling"
    title = intro.find_element(By.TAG_NAME, "h2")
    assert title.size["width"] >= min(0.8 * viewport, 500), "the title is squeezed"
    medicine = driver.find_element(By.ID, "medicine")
    box = driver.find_element(By.CSS_SELECTOR, "#question textarea")
    for el in (medicine, box, card):
        r = el.rect
        assert r["x"] >= 0 and r["x"] + r["width"] <= viewport + 1, "cut off at the side"

    # thumbs up: the confirmation appears in its own line; nothing covers the filter or the question box
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
    like = driver.find_elements(By.CSS_SELECTOR, '#chat button[aria-label="Like"]')[-1]
    like.click()
    status = wait(driver, lambda d: "feedback was saved" in d.find_element(By.ID, "status").text and
                  d.find_element(By.ID, "status"), "no confirmation")
    for el in (medicine, box, intro):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        assert driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
            "return arguments[0].contains(hit);", el), f"{el.get_attribute('id') or el.tag_name} is covered"
    assert status.is_displayed()
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'}); window.scrollTo(0, 0)", card)
    assert_only_local_requests(driver, base_url)
    screenshot(driver, f"screenshot-{width}.png")


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
    quote = open_card(driver, card)
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


@pytest.mark.parametrize("width", WIDTHS)
def test_widget_answers_with_citation_and_follows_up(driver, base_url, width):
    from selenium.webdriver.common.by import By

    driver.set_window_size(width, 1000)
    root = open_widget(driver, base_url)
    answer = widget_ask(driver, root, "How often is Conexxence given?")
    assert "6 months" in answer.text
    summary = answer.find_element(By.CSS_SELECTOR, ".cite summary")
    assert "EMA/201153/2025" in summary.text and "EMEA/H/C/006268" in summary.text and "Conexxence" in summary.text
    card = answer.find_element(By.CSS_SELECTOR, ".cite details")
    check_ema_link(card, "Conexxence")
    context = open_card(driver, card)
    assert "6 months" in context.find_element(By.TAG_NAME, "mark").text
    assert "only be obtained with a prescription" in context.text
    panel = root.find_element(By.CSS_SELECTOR, ".panel").rect
    viewport = driver.execute_script("return document.documentElement.clientWidth")
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= viewport, "the panel does not fit the window"
    assert driver.execute_script("return document.documentElement.scrollWidth") <= viewport, "sideways scrolling"
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", card)
    screenshot(driver, f"widget-{width}.png")

    follow_up = widget_ask(driver, root, "How does it work?")
    assert "Conexxence" in follow_up.find_element(By.CSS_SELECTOR, ".cite summary").text
    assert_only_local_requests(driver, base_url)


def test_widget_shows_hostile_question_and_document_as_text(driver, base_url):
    from selenium.webdriver.common.by import By

    root = open_widget(driver, base_url)
    title = driver.title
    widget_ask(driver, root, XSS)
    assert root.find_elements(By.CSS_SELECTOR, ".msg.user")[-1].text == XSS
    answer = widget_ask(driver, root, "How often is Scriptomab given?")
    assert XSS in open_card(driver, answer.find_element(By.CSS_SELECTOR, ".cite details")).text
    assert not root.find_elements(By.CSS_SELECTOR, "img, script")
    assert_nothing_ran(driver, title)


# the API docs ------------------------------------------------------------------------------------
def test_api_docs_render_offline(driver, base_url):
    driver.set_window_size(1200, 1000)
    requested_urls(driver)  # forget the earlier pages' requests
    driver.get(base_url + "/docs")
    # read through the DOM in one script each time: Swagger UI re-renders while it loads the schema
    text = "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''"
    wait(driver, lambda d: "EMA medicine overviews Q&A" in d.execute_script(text, ".swagger-ui .info"),
         "Swagger UI did not render")
    wait(driver, lambda d: "/api/ask" in d.execute_script(text, ".swagger-ui .opblock-tag-section"),
         "the operations are not listed")
    driver.get(base_url + "/redoc")
    wait(driver, lambda d: "/api/ask" in d.execute_script(text, "body"), "ReDoc did not render")
    urls = requested_urls(driver)
    assert any(u.endswith("/openapi.json") for u in urls)
    assert not outside(urls, base_url), f"requests leaving {base_url}: {outside(urls, base_url)[:5]}"
