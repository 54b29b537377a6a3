"""The LTI platform storage over HTTP: the login page that stores the state in the
platform, the launch page that reads it back when the cookie is missing, and the
re-post that is accepted only from the tool's own page with this login's values.
The script's side (postMessage, origins) runs in Chromium: tests/e2e/test_blocked_cookies.py."""

from __future__ import annotations

import html
import re
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import parse_qs, urlsplit

import pytest

from lti_tool.lti import platform_storage as ps
from tests.conftest import make_browser, row_counts
from tests.peer.forms import find_form

DL = "LtiDeepLinkingRequest"


def _no_cookies():
    browser = make_browser()
    browser.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return browser


def _data(page: str) -> dict[str, str]:
    """The data-* attributes of the page's #lti-storage element."""
    tag = re.search(r'<section[^>]*id="lti-storage"[^>]*>', page, re.S).group(0)
    return {k: html.unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', tag)}


def _storage_launch(live_tool, lms, **launch):
    """A launch in a browser that keeps no cookie, with the platform storage offered:
    (the launch result, the login page's data, the launch page's form)."""
    result = lms.launch(_no_cookies(), storage_target="_parent", locale="en-US", **launch)
    login = _data(result.login_response.text)
    page = result.launch_response
    assert page.status_code == 200, page.text[:400]
    return result, login, find_form(page.text, page.url)


def _repost(live_tool, form, values: dict[str, str], origin: str | None):
    headers = {"Origin": origin} if origin else {}
    return _no_cookies().post(
        form.action, data={**form.fields, **values}, headers=headers, allow_redirects=False
    )


def _values(login: dict[str, str]) -> dict[str, str]:
    """What the platform gives back: what the login page stored."""
    return {ps.STATE_FIELD: login["state-value"], ps.NONCE_FIELD: login["nonce-value"]}


# -- the pieces ----------------------------------------------------------------------------
def test_entries_are_keyed_hashes_of_the_login():
    one = ps.entries("secret-a", "state-1", "nonce-1")
    assert one == ps.entries("secret-a", "state-1", "nonce-1")
    assert one.state_key.startswith("lti_state_") and one.nonce_key.startswith("lti_nonce_")
    assert len({one.state_key, one.state_value, one.nonce_key, one.nonce_value}) == 4
    # another secret: same keys (they only name the login), other values
    other = ps.entries("secret-b", "state-1", "nonce-1")
    assert other.state_key == one.state_key and other.state_value != one.state_value
    form = {ps.STATE_FIELD: one.state_value, ps.NONCE_FIELD: one.nonce_value}
    assert ps.proof_matches("secret-a", "state-1", "nonce-1", form)
    assert not ps.proof_matches("secret-a", "state-2", "nonce-1", form)
    assert not ps.proof_matches("secret-a", "state-1", "nonce-2", form)
    assert not ps.proof_matches("secret-b", "state-1", "nonce-1", form)
    assert not ps.proof_matches("secret-a", "state-1", "nonce-1", {ps.STATE_FIELD: "x"})


@pytest.mark.parametrize(
    ("given", "target"),
    [
        ("_parent", "_parent"),
        ("post_message_forwarding", "post_message_forwarding"),
        ("", None),
        ('x"><script>', None),
        ("a" * 65, None),
        (None, None),
    ],
)
def test_storage_target_is_a_frame_name(given, target):
    assert ps.storage_target({"lti_storage_target": given}) == target


@pytest.mark.parametrize(
    ("headers", "own"),
    [
        ({"Origin": "https://tool.example"}, True),
        ({"Origin": "https://TOOL.example/"}, True),
        ({"Origin": "https://tool.example", "Sec-Fetch-Site": "same-origin"}, True),
        ({"Origin": "https://tool.example", "Sec-Fetch-Site": "cross-site"}, False),
        ({"Origin": "https://lms.example"}, False),
        ({"Origin": "http://tool.example"}, False),
        ({"Origin": "null"}, False),
        ({}, False),
    ],
)
def test_only_the_tools_own_pages_post_storage_values(headers, own):
    assert ps.posted_by_own_page(headers, "https://tool.example/lti") is own


# -- the login -----------------------------------------------------------------------------
def test_login_with_a_storage_target_answers_the_storage_page(live_tool, lms, browser):
    result = lms.launch(browser, storage_target="post_message_forwarding")
    login = result.login_response
    assert login.status_code == 200 and login.headers["Cache-Control"] == "no-store"
    assert login.headers["Set-Cookie"].startswith("lti1p3-state-")  # set anyway
    data = _data(login.text)
    assert data["step"] == "login" and data["target"] == "post_message_forwarding"
    assert data["platform-origin"] == lms.base_url
    assert data["auth-url"] == result.auth_request_url
    query = parse_qs(urlsplit(result.auth_request_url).query)
    with live_tool.app.app_context():
        secret = live_tool.app.config["SECRET_KEY"]
    expected = ps.entries(secret, query["state"][0], query["nonce"][0])
    assert (data["state-key"], data["state-value"]) == (expected.state_key, expected.state_value)
    assert (data["nonce-key"], data["nonce-value"]) == (expected.nonce_key, expected.nonce_value)
    # the script is a static file: the strict policy holds (no inline script, no nonce)
    assert re.search(r'<script src="/static/lti_storage\.js\?v=\w+" defer></script>', login.text)
    assert not re.search(r"<script(?![^>]*\bsrc=)", login.text)
    assert "script-src 'self';" in login.headers["Content-Security-Policy"]
    # with the cookie, the launch goes on as usual
    assert result.ok and result.final_response.status_code == 200


def test_a_login_target_that_is_not_a_frame_name_is_ignored(live_tool, lms, browser):
    result = lms.launch(browser, storage_target='x"><b>')
    assert result.login_response.status_code == 302 and result.ok


# -- the launch without the cookie ------------------------------------------------------------
def test_the_state_read_back_from_the_platform_completes_the_launch(live_tool, lms):
    before = row_counts(live_tool.app)
    result, login, form = _storage_launch(live_tool, lms)
    page = result.launch_response
    assert page.headers["Cache-Control"] == "no-store"
    assert "Opening the tool" in page.text  # in the launch's language
    data = _data(page.text)
    assert data["step"] == "launch" and data["target"] == "_parent"
    assert data["platform-origin"] == lms.base_url
    assert (data["state-key"], data["nonce-key"]) == (login["state-key"], login["nonce-key"])
    # the page names the entries but holds neither value: only the platform has them
    assert login["state-value"] not in page.text and login["nonce-value"] not in page.text
    assert form.action == live_tool.url("/lti/launch")
    assert form.fields[ps.STATE_FIELD] == "" and form.fields[ps.NONCE_FIELD] == ""
    assert form.fields["id_token"] == result.id_token and form.fields["state"] == result.state
    # nothing written yet, the nonce is not spent
    assert row_counts(live_tool.app) == before

    first = _repost(live_tool, form, _values(login), live_tool.base_url)
    assert first.status_code == 200, first.text[:500]
    assert 'id="cookies-notice"' in first.text  # the first page, with the notice
    link = html.unescape(re.search(r'id="cookies-notice".*?href="([^"]+)"', first.text, re.S)[1])
    assert link.startswith(live_tool.url("/lti/login?")) and "lti_storage_target" not in link
    after = row_counts(live_tool.app)
    in_db = 0 if live_tool.app.config.get("REDIS_URL") else 1  # make test-pg: in Redis
    assert after["user"] == before["user"] + 1 and after["lti_used_nonce"] == in_db

    # the same values again: the nonce is spent
    again = _repost(live_tool, form, _values(login), live_tool.base_url)
    assert again.status_code == 400 and "<code>bad_nonce</code>" in again.text


@pytest.mark.parametrize(
    "origin", ["lms", "none", "other-tool"], ids=["from-the-lms", "no-origin", "other-site"]
)
def test_storage_values_from_another_site_are_refused(live_tool, lms, origin):
    _, login, form = _storage_launch(live_tool, lms)
    before = row_counts(live_tool.app)
    sent = {"lms": lms.base_url, "none": None, "other-tool": "https://evil.example"}[origin]
    refused = _repost(live_tool, form, _values(login), sent)
    assert refused.status_code == 400 and "<code>state_mismatch</code>" in refused.text
    assert row_counts(live_tool.app) == before
    # the tool's own page can still complete it (the refusal spent nothing)
    assert _repost(live_tool, form, _values(login), live_tool.base_url).status_code == 200


def test_values_that_are_not_this_logins_are_refused(live_tool, lms):
    _, login, form = _storage_launch(live_tool, lms)
    _, other_login, _ = _storage_launch(live_tool, lms)
    before = row_counts(live_tool.app)
    for values in (
        _values(other_login),  # another login's entries (this browser's or not)
        {ps.STATE_FIELD: login["state-value"], ps.NONCE_FIELD: ""},
        {ps.STATE_FIELD: login["nonce-value"], ps.NONCE_FIELD: login["state-value"]},
        {ps.STATE_FIELD: "forged-" + login["state-key"], ps.NONCE_FIELD: login["nonce-value"]},
    ):
        refused = _repost(live_tool, form, values, live_tool.base_url)
        assert refused.status_code == 400 and "<code>state_mismatch</code>" in refused.text
    assert row_counts(live_tool.app) == before
    assert _repost(live_tool, form, _values(login), live_tool.base_url).status_code == 200


def test_a_forged_token_gets_no_storage_page(live_tool, lms):
    from tests.peer import forgeries

    result = lms.launch(_no_cookies(), storage_target="_parent", tamper=forgeries.foreign_key())
    page = result.launch_response
    assert page.status_code == 400 and 'id="lti-storage"' not in page.text


def test_without_a_storage_target_the_new_window_page_stays(live_tool, lms):
    result = lms.launch(_no_cookies(), locale="en-US")
    page = result.launch_response
    assert page.status_code == 400 and 'id="lti-storage"' not in page.text
    assert "Open the tool in a new window" in page.text


def test_deep_linking_through_the_storage_opens_a_new_window(live_tool, lms):
    _, login, form = _storage_launch(live_tool, lms, message_type=DL, roles=["Instructor"])
    page = _repost(live_tool, form, _values(login), live_tool.base_url)
    # the picker needs the session on its next request: the new window it is
    assert page.status_code == 200 and "Open the tool in a new window" in page.text
    assert page.text.count('target="_blank"') == 1  # the offer, not also the notice
    link = html.unescape(re.search(r'href="([^"]+)" target="_blank"', page.text)[1])
    assert link.startswith(live_tool.url("/lti/login?")) and "lti_storage_target" not in link
