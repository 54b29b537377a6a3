"""Driving the tool inside the LMS iframe: open a course page (a real launch), go
from page to page in the frame, and check each page as it loads (PAGE_CHECKS, its
language, what it transferred); screenshots of key screens at phone and desktop size."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from tests.conftest import LiveTool
from tests.e2e import harness
from tests.e2e.harness import PageLoad

FRAME = "lti-tool"
# (a launch step that talks to the LMS's platform storage, #lti-storage, is passing)
_TOOL_PAGE_READY = (
    "var s = document.getElementById('lti-storage');"
    "return location.origin === arguments[0] && document.readyState === 'complete'"
    " && !window.__e2e_seen && !!document.getElementById('main') && !(s && !s.hidden);"
)


def user_file(url: str) -> bool:
    """Downloads of files people uploaded: outside the page-weight budget."""
    return "/file/" in url or "/download" in url or "/files/" in url


class LmsBrowser:
    """One Chromium on the LMS's course pages, acting inside the tool's iframe."""

    def __init__(self, driver, tool: LiveTool, lms, *, test_name: str) -> None:
        self.driver = driver
        self.tool = tool
        self.lms = lms
        self.test_name = test_name.replace("[", "-").replace("]", "").replace("/", "-")
        self.origin = tool.base_url
        self.loads: list[PageLoad] = []
        self.lang: str | None = None  # the <html lang> every page must have
        self.screenshots: list[Path] = []
        self.axe_found: list[harness.AxeViolation] = []  # every page's, for the report
        self.axe_pages = 0

    # -- moving around ---------------------------------------------------------------
    def open_course(self, name: str, **launch: Any) -> PageLoad:
        """Open an LMS course page whose iframe launches the tool (OIDC in the frame)."""
        url = self.lms.course_page(**launch)
        harness.drain_network(self.driver)
        self.driver.switch_to.default_content()
        self.driver.get(url)
        return self._arrived(name)

    def visit(self, path: str, name: str) -> PageLoad:
        """Open a page of the tool in the frame (as a link the user follows)."""
        target = path if path.startswith("http") else self.tool.url(path)
        return self.act(name, lambda: self.js("location.href = arguments[0];", target))

    def click(self, css: str, name: str) -> PageLoad:
        """Click what leads to another page (a link, a submit button)."""
        return self.act(name, lambda: self.find(css).click())

    def act(self, name: str, do: Callable[[], Any]) -> PageLoad:
        """Do something that loads a new page in the frame, and check that page."""
        self.js("window.__e2e_seen = true;")
        harness.drain_network(self.driver)
        do()
        return self._arrived(name)

    def _arrived(self, name: str) -> PageLoad:
        harness.wait_until(self._tool_page_ready, 20, f"the tool's page {name!r}")
        transfers = harness.collect_network(self.driver, self.origin, exclude=user_file)
        load = PageLoad(name, self.js("return location.href;"), transfers)
        self.loads.append(load)
        self.check_page(name)
        return load

    def _tool_page_ready(self) -> bool:
        try:
            self.driver.switch_to.default_content()
            self.driver.switch_to.frame(FRAME)
            return bool(self.driver.execute_script(_TOOL_PAGE_READY, self.origin))
        except WebDriverException:
            return False  # the frame is between documents

    # -- in the page -------------------------------------------------------------------
    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self) -> str:
        return self.find("main").text

    def fill(self, css: str, value: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(value)

    def submit(self, css: str, name: str, *, confirm: bool = False) -> PageLoad:
        """Click a submit button; with `confirm`, accept the page's confirm() dialog."""

        def press() -> None:
            self.find(css).click()
            if confirm:
                alert = harness.wait_until(self._alert, 5, "the confirm dialog")
                alert.accept()

        return self.act(name, press)

    def _alert(self):
        try:
            return self.driver.switch_to.alert
        except WebDriverException:
            return None

    def path(self) -> str:
        return self.js("return location.pathname;")

    def check_page(self, name: str, *, axe: bool = True) -> None:
        """Every PAGE_CHECKS snippet on the current page, its language, and (unless the
        same page was just checked at another size) axe-core: serious or critical
        violations fail, the others go to the path's report."""
        problems = []
        for check, script in harness.PAGE_CHECKS:
            problems += [f"{check}: {p}" for p in self.js(script) or []]
        if self.lang is not None:
            lang = self.js("return document.documentElement.lang;")
            if lang != self.lang:
                problems.append(f"lang is {lang!r}, not {self.lang!r}")
        if axe:
            found = harness.run_axe(self.driver, f"{name} {self.js('return location.href;')}")
            self.axe_found += found
            self.axe_pages += 1
            problems += [f"axe {v}" for v in found if v.fails]
        assert not problems, f"{name} ({self.js('return location.pathname;')}): {problems}"

    def shoot(self, screen: str) -> None:
        """Screenshots of the LMS page with the tool at phone and desktop size; the page
        is checked again at each size."""
        harness.ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for width, height in (harness.PHONE, harness.DESKTOP):
            harness.set_viewport(self.driver, width, height)
            self.js("return document.body.offsetWidth;")  # layout at the new size
            self.check_page(f"{screen} at {width}px", axe=False)
            path = harness.ARTIFACTS / f"{self.test_name}-{screen}-{width}x{height}.png"
            self.driver.switch_to.default_content()
            self.driver.save_screenshot(str(path))
            self.driver.switch_to.frame(FRAME)
            self.screenshots.append(path)
        harness.set_viewport(self.driver, *harness.PHONE)

    def write_axe_report(self) -> Path:
        return harness.write_axe_report(self.test_name, self.axe_found, self.axe_pages)
