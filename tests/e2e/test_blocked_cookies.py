"""Launches in a Chromium that refuses every cookie of the tool inside the LMS, partitioned
ones too (Safari's way; Chromium itself keeps partitioned cookies when third-party
cookies are blocked, see test_peserta_week.py): the LTI platform storage binds the
login instead (the page itself or a named frame of the LMS holds it), the first page
shows with a notice, and its new window carries on; without the platform storage, the
new-window page. A hostile frame of the LMS page forging the storage's replies is
ignored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException

from tests.e2e import harness
from tests.e2e.frame import FRAME

pytestmark = pytest.mark.e2e

MODULE = "/course/gp-pedagogik-a"
PROGRESS = {"id": "Kemajuan", "en": "Progress"}
SESSION_COOKIE = "lti_tool_session"
_TOP_READY = (
    "var s = document.getElementById('lti-storage');"
    "return location.origin === arguments[0] && document.readyState === 'complete'"
    " && !!document.getElementById('main') && !(s && !s.hidden);"
)


@pytest.fixture(scope="module")
def browser_options() -> harness.BrowserOptions:
    return harness.BrowserOptions(refuse_tool_cookies_in_lms=True)


def _launch(locale: str, sub: str, **extra: Any) -> dict[str, Any]:
    return {
        "roles": ["Learner"],
        "user": {"sub": sub, "name": f"Guru {sub}"},
        "context": {"id": f"kelas-{sub}", "title": f"Kelas {sub}"},
        "locale": "id-ID" if locale == "id" else "en-US",
        **extra,
    }


def _tool_cookies(driver) -> list[dict[str, Any]]:
    """Every cookie the browser keeps for the tool (localhost), partitioned or not."""
    cookies = driver.execute_cdp_cmd("Storage.getCookies", {})["cookies"]
    return [c for c in cookies if c["domain"].lstrip(".") == "localhost"]


@contextmanager
def _new_window(b, click: Callable[[], Any]) -> Iterator[None]:
    """Follow a link that opens the tool in a new (top-level) window, until it is shown;
    close it afterwards and come back to the LMS page."""
    driver = b.driver
    home = driver.current_window_handle
    before = set(driver.window_handles)
    click()
    opened = harness.wait_until(lambda: set(driver.window_handles) - before, 10, "a new window")
    driver.switch_to.window(opened.pop())
    try:
        _wait_top(b, "the tool in its new window")
        yield
    finally:
        driver.close()
        driver.switch_to.window(home)


def _shows(b, text: str) -> bool:
    try:
        return text in b.find("main").text
    except WebDriverException:  # the page is being replaced
        return False


def _wait_top(b, what: str) -> None:
    def ready() -> bool:
        try:
            return bool(b.driver.execute_script(_TOP_READY, b.origin))
        except WebDriverException:
            return False

    harness.wait_until(ready, 20, what)


@pytest.mark.parametrize(
    ("locale", "target"), [("id", "_parent"), ("en", "post_message_forwarding")]
)
def test_the_platform_storage_launches_when_the_tools_cookies_are_refused(
    lms_browser, locale, target
):
    b = lms_browser
    b.lang = locale
    b.open_course(
        "module page",
        **_launch(locale, f"safari-{locale}", storage_target=target),
        target_link_uri=b.tool.url(MODULE),
    )
    assert PROGRESS[locale] in b.text()
    assert b.finds("#cookies-notice a[target=_blank]")
    # the browser really kept none of the tool's cookies: the storage bound the login
    assert _tool_cookies(b.driver) == []
    b.driver.switch_to.default_content()
    stored = b.js("return window.__peerStorage || null;")  # the page's storage, if it is one
    b.driver.switch_to.frame(FRAME)
    if target == "_parent":
        assert sorted(k.split("_")[1] for k in stored) == ["nonce", "state"]
    b.shoot("storage-launch")
    module_url = b.path()

    # the notice's new window: a top-level launch, where the tool's cookies are its own
    with _new_window(b, lambda: b.find("#cookies-notice a").click()):
        assert PROGRESS[locale] in b.find("main").text
        assert not b.finds("#cookies-notice")
        assert any(c["name"] == SESSION_COOKIE for c in _tool_cookies(b.driver))
        # later pages keep the session: start a forum thread
        b.driver.get(b.tool.url(f"{module_url}/sesi-1/forum"))
        _wait_top(b, "the forum")
        b.fill("#new-title", f"Dari jendela baru ({locale})")
        b.fill("#new-body", "Utas ini dibuat setelah peluncuran lewat penyimpanan platform.")
        b.find("form.forum-form button[type=submit]").click()
        harness.wait_until(lambda: _shows(b, "penyimpanan platform"), 15, "the new thread")


def test_without_the_platform_storage_the_new_window_page_is_shown(lms_browser):
    b = lms_browser
    b.lang = "en"
    b.open_course(
        "new-window page", **_launch("en", "safari-nostore"), target_link_uri=b.tool.url(MODULE)
    )
    assert "Open the tool in a new window" in b.text()
    assert not b.finds("#lti-storage")
    assert _tool_cookies(b.driver) == []
    b.shoot("new-window-page")
    with _new_window(b, lambda: b.find("main a[target=_blank]").click()):
        assert PROGRESS["en"] in b.find("main").text


_CAPABILITIES = """
var done = arguments[arguments.length - 1], lms = arguments[0];
window.addEventListener("message", function (e) {
  if (e.origin === lms && e.data && e.data.message_id === "e2e-capabilities") { done(e.data); }
});
window.parent.postMessage({subject: "lti.capabilities", message_id: "e2e-capabilities"}, lms);
"""


def test_forged_storage_replies_from_another_origin_are_ignored(lms_browser):
    """A frame of the LMS page on another origin learns every message (its message_id
    too) and answers first with values of its own; the platform answers 300 ms later.
    Taking a forged value would post the wrong entries, and the launch would fail."""
    b = lms_browser
    b.lang = "en"
    b.open_course(
        "module page",
        **_launch("en", "safari-forged", storage_target="_parent"),
        target_link_uri=b.tool.url(MODULE),
        forge_storage_replies=True,
    )
    assert PROGRESS["en"] in b.text() and b.finds("#cookies-notice")
    b.driver.switch_to.default_content()
    forged = b.js("return window.__peerForged;")
    stored = b.js("return window.__peerStorage;")
    b.driver.switch_to.frame(FRAME)
    # two forged put_data answers at login, two forged get_data answers at launch
    assert sorted(forged) == ["lti.get_data", "lti.get_data", "lti.put_data", "lti.put_data"]
    assert not [v for v in stored.values() if v.startswith("forged")]
    # the platform answers lti.capabilities to the tool's origin (the forger too, ignored)
    b.driver.set_script_timeout(5)
    reply = b.driver.execute_async_script(_CAPABILITIES, b.lms.base_url)
    assert reply["subject"] == "lti.capabilities.response"
    assert {m["subject"] for m in reply["supported_messages"]} == {
        "lti.capabilities",
        "lti.put_data",
        "lti.get_data",
    }
