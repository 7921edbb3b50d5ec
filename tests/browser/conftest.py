"""The dashboard in a real browser: Debian's headless Chromium driven through its chromedriver (Selenium), against
a live server the test suite starts. Nothing downloads a browser: without Chromium these tests are skipped, except
under CI, where they must run (`apt-get install chromium chromium-driver`).

Each test saves screenshots of the pages it visits under test-artifacts/screenshots/ (SCREENSHOT_DIR to change it).
"""

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "test-artifacts" / "screenshots")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_PATHS = ("chromedriver", "/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver")
POLICY_ERROR = re.compile(r"Content Security Policy|Permissions-Policy", re.IGNORECASE)


def _find(names):
    for name in names:
        found = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK) else None)
        if found:
            return found
    return None


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}. Install: apt-get install chromium chromium-driver")
    pytest.skip(f"{reason} (apt-get install chromium chromium-driver)")


@pytest.fixture(scope="session")
def chromium_paths():
    browser, driver = _find(CHROMIUM_NAMES), _find(DRIVER_PATHS)
    if not browser or not driver:
        _unavailable("no Chromium and chromedriver on this machine")
    return browser, driver


class Browser:
    """A thin layer over the WebDriver that speaks in what a person does: open a page, fill a labelled field,
    press a button, read the page."""

    def __init__(self, driver, base_url, name):
        self.driver = driver
        self.base_url = base_url
        self.name = name
        self.shots = 0
        self.console = []

    def open(self, path):
        self.driver.get(self.base_url + path)
        return self

    @property
    def path(self):
        return self.driver.current_url.removeprefix(self.base_url)

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def title(self):
        return self.driver.title

    def field(self, label):
        """The control a <label> with this text is for (what a person, or a screen reader, would find)."""
        for element in self.driver.find_elements(By.TAG_NAME, "label"):
            if element.text.strip().lower().startswith(label.lower()):
                target = element.get_attribute("for")
                if target:
                    return self.driver.find_element(By.ID, target)
                return element.find_element(By.CSS_SELECTOR, "input, select, textarea")
        raise AssertionError(f"no field labelled {label!r} on {self.path}")

    def fill(self, label, value):
        control = self.field(label)
        if control.tag_name == "select":
            from selenium.webdriver.support.ui import Select

            Select(control).select_by_visible_text(value)
        else:
            control.clear()
            control.send_keys(value)
        return control

    def check(self, label):
        control = self.field(label)
        if not control.is_selected():
            control.click()

    def press(self, text, timeout=10):
        """Click the button (or link styled as one) whose text starts with `text`. The page may still be the one the
        last click left (a form being submitted): the buttons are looked up again until the one wanted is there, and a
        button that went stale with its page is looked up afresh."""

        def click(driver):
            for element in driver.find_elements(By.CSS_SELECTOR, "button, input[type=submit], a.button"):
                label = (element.text or element.get_attribute("value") or "").strip()
                if label.lower().startswith(text.lower()) and element.is_displayed():
                    element.click()
                    return True
            return False

        try:
            WebDriverWait(self.driver, timeout, ignored_exceptions=(WebDriverException,)).until(click)
        except TimeoutException:
            raise AssertionError(f"no button {text!r} on {self.path} within {timeout}s") from None

    def follow(self, text, timeout=10):
        """Click the link whose text holds `text`, looked up again while the last click's page is still replacing
        this one (as press does)."""

        def click(driver):
            driver.find_element(By.PARTIAL_LINK_TEXT, text).click()
            return True

        try:
            WebDriverWait(self.driver, timeout, ignored_exceptions=(WebDriverException,)).until(click)
        except TimeoutException:
            raise AssertionError(f"no link {text!r} on {self.path} within {timeout}s") from None

    def wait_for_text(self, text, timeout=10):
        try:
            # A page that is being replaced (a form just submitted) can lose its body under the lookup: Chromium then
            # answers "Node with given id does not belong to the document" rather than a stale element; look again.
            WebDriverWait(self.driver, timeout, ignored_exceptions=(WebDriverException,)).until(
                expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "body"), text)
            )
        except TimeoutException:
            shot = self._save(f"missing {text}")
            raise AssertionError(
                f"{text!r} did not appear on {self.path} within {timeout}s (screenshot {shot}); the page says:\n"
                + self.text()[:3000]
            ) from None

    # What a screen-reader or keyboard user needs from every page: a language, one main heading, a name for every
    # control, link and image. Run on each page a test takes a screenshot of.
    A11Y_PROBLEMS = """
        const problems = [];
        const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
        const named = (el) => (el.getAttribute('aria-label') || '').trim() || el.getAttribute('aria-labelledby')
            || (el.labels && el.labels.length) || (el.title || '').trim();
        if (!document.documentElement.lang) problems.push('no lang on <html>');
        const h1s = document.querySelectorAll('h1').length;
        if (h1s !== 1) problems.push(h1s + ' <h1> headings');
        document.querySelectorAll('input, select, textarea').forEach((el) => {
            if (['hidden', 'submit', 'button', 'reset'].includes(el.type) || !visible(el)) return;
            if (!named(el)) problems.push('no label: ' + el.outerHTML.slice(0, 120));
        });
        document.querySelectorAll('a[href], button').forEach((el) => {
            if (!visible(el)) return;
            if (!(el.textContent || '').trim() && !named(el)) problems.push('no text: ' + el.outerHTML.slice(0, 120));
        });
        document.querySelectorAll('img').forEach((el) => {
            if (!el.hasAttribute('alt')) problems.push('no alt: ' + el.outerHTML.slice(0, 120));
        });
        return problems;
    """

    def accessibility_problems(self):
        return self.driver.execute_script(self.A11Y_PROBLEMS)

    def screenshot(self, label, *, check=True):
        """Save a screenshot of the page and, unless told not to, check its basic accessibility."""
        if check:
            problems = self.accessibility_problems()
            assert not problems, f"{self.path}: {problems}"
        return self._save(label)

    def _save(self, label):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{slug}.png"
        self.driver.save_screenshot(str(path))
        return path

    def log_in(self, user, password="correct horse battery 42"):
        user.set_password(password)
        user.save()
        self.open("/login/")
        self.fill("Email address", user.email)
        self.fill("Password", password)
        self.press("Log in")
        self.wait_for_text("Overview")

    def forget_session(self):
        self.driver.delete_all_cookies()

    def policy_errors(self):
        """What Chromium's console said, since the last look, about the Content-Security-Policy it blocked
        something under, or a Permissions-Policy it could not read."""
        self.console += self.driver.get_log("browser")
        errors = [entry["message"] for entry in self.console if POLICY_ERROR.search(entry["message"])]
        self.console = []
        return errors


@pytest.fixture
def browser(chromium_paths, live_server, request, settings):
    binary, driver_path = chromium_paths
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, for policy violations
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--disable-gpu", "--lang=en-US"):  # fmt: skip
        options.add_argument(argument)
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    except WebDriverException as exc:
        _unavailable(f"Chromium did not start: {exc.msg}")
    driver.implicitly_wait(2)
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    try:
        browser = Browser(driver, live_server.url, name)
        yield browser
        # Every browser test also proves its pages run under the Content-Security-Policy: nothing was blocked.
        assert not browser.policy_errors(), "the browser's console reported policy violations"
    finally:
        driver.quit()


@pytest.fixture
def daytime():
    """Today at 17:00 UTC (daytime for every US number), the clock running: campaigns send instead of waiting for
    quiet hours, and cookies the browser keeps stay valid (the date is today's)."""
    today = datetime.now(UTC).date()
    with time_machine.travel(datetime(today.year, today.month, today.day, 17, 0, tzinfo=UTC), tick=True):
        yield
