"""Security headers: CSP (frame-ancestors from the registered platforms, nonces for
the few inline scripts, form-action), nosniff and Referrer-Policy on every response."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lti_tool.security import origin_of
from tests.conftest import build_app, launch_as

ROOT = Path(__file__).resolve().parent.parent
MODULE = "/course/gp-pedagogik-a"
# templates of e-mails, never served as pages
EMAIL_BODIES = {"lti_tool/templates/mail/message.html"}


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_a_launched_page_carries_every_header(live_tool, lms, browser):
    page = launch_as(live_tool, lms, browser, ["Learner"], "siti", MODULE)
    assert page.status_code == 200
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "X-Frame-Options" not in page.headers  # it would break the LMS iframe
    csp = directives(page)
    assert csp["default-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    # the peer is the registered platform: its issuer and login URL may frame the tool
    assert csp["frame-ancestors"][0] == "'self'"
    assert origin_of(lms.issuer) in csp["frame-ancestors"]
    assert origin_of(lms.auth_url) in csp["frame-ancestors"]
    # the launch page's only inline script carries this response's nonce
    (nonce,) = [v for v in csp["script-src"] if v.startswith("'nonce-")]
    assert csp["script-src"][0] == "'self'"
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts
    for attrs in scripts:
        assert "src=" in attrs or f'nonce="{nonce[7:-1]}"' in attrs, attrs
    assert not re.search(r"\son[a-z]+=", page.text)
    assert "style=" not in page.text
    # a page without an inline script gets no nonce; each response has its own
    again = browser.get(live_tool.url(re.search(r'"(/c/\d+/module/[^"]+)"', page.text).group(1)))
    assert again.status_code == 200
    assert not [v for v in directives(again)["script-src"] if v.startswith("'nonce-")]
    second = launch_as(live_tool, lms, browser, ["Learner"], "siti", MODULE)
    assert directives(second)["script-src"] != csp["script-src"]


def test_no_template_has_inline_scripts_styles_or_handlers():
    """script-src/style-src 'self': inline code in a template would be blocked."""
    offenders = []
    templates = [
        *ROOT.glob("lti_tool/templates/**/*.html"),
        *ROOT.glob("plugins/*/templates/**/*.html"),
    ]
    for path in templates:
        if path.relative_to(ROOT).as_posix() in EMAIL_BODIES:
            continue  # not a web page: mail clients want inline styles
        text = path.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)([^>]*)>", text):
            if "csp_nonce()" not in match.group(1):
                offenders.append(f"{path}: inline <script> without nonce")
        if re.search(r"<style[\s>]", text):
            offenders.append(f"{path}: <style> element")
        if re.search(r"\sstyle=", text):
            offenders.append(f"{path}: style= attribute")
        for handler in re.findall(r"\s(on[a-z]+)=", text):
            offenders.append(f"{path}: {handler}= attribute")
    assert offenders == []


def test_frame_ancestors_follow_the_active_platforms(tmp_path):
    from lti_tool.db import session
    from lti_tool.models import Platform
    from lti_tool.services.platforms import add_platform

    app = build_app(
        tmp_path,
        FRAME_ANCESTORS_EXTRA=("https://portal.example.id", "https://x.example.id; script-src *"),
    )
    client = app.test_client()
    with app.app_context():
        db = session()
        add_platform(
            db,
            name="Moodle",
            issuer="https://moodle.example.id",
            client_id="c1",
            auth_login_url="https://sso.example.id/mod/lti/auth.php",
            auth_token_url="https://moodle.example.id/mod/lti/token.php",
            key_set_url="https://moodle.example.id/mod/lti/certs.php",
            deployment_ids=["1"],
        )
        add_platform(
            db,
            name="Canvas Cloud",
            issuer="https://canvas.instructure.com",
            client_id="c2",
            auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
            auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
            key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
            deployment_ids=["2"],
        )
        add_platform(
            db,
            name="Pending",
            issuer="https://pending.example.id",
            client_id="c3",
            auth_login_url="https://pending.example.id/auth",
            auth_token_url="https://pending.example.id/token",
            key_set_url="https://pending.example.id/jwks",
            deployment_ids=["3"],
            active=False,
        )
    ancestors = directives(client.get("/lti/register"))["frame-ancestors"]
    assert ancestors[0] == "'self'"
    for origin in (
        "https://moodle.example.id",
        "https://sso.example.id",
        "https://canvas.instructure.com",
        "https://*.instructure.com",  # Canvas Cloud frames from the school's own host
        "https://sso.canvaslms.com",
        "https://portal.example.id",
    ):
        assert origin in ancestors
    assert "https://pending.example.id" not in ancestors
    assert not [a for a in ancestors if "x.example.id" in a]  # not a CSP source: dropped
    assert "script-src *" not in client.get("/").headers["Content-Security-Policy"]
    # activating a registration in this process shows at once (cache dropped on commit)
    with app.app_context():
        db = session()
        db.query(Platform).filter_by(client_id="c3").one().status = "active"
        db.commit()
    assert "https://pending.example.id" in directives(client.get("/"))["frame-ancestors"]


def test_dynamic_registration_may_be_framed_by_the_registering_lms(tmp_path):
    client = build_app(tmp_path).test_client()
    response = client.get(
        "/lti/register?openid_configuration=https://lms.example.id/.well-known/openid&invite=x"
    )
    assert response.status_code == 403  # no valid invite: the page does nothing
    assert "https://lms.example.id" in directives(response)["frame-ancestors"]
    other = client.get("/lti/jwks")
    assert "Content-Security-Policy" not in other.headers  # JSON: no policy needed
    assert other.headers["X-Content-Type-Options"] == "nosniff"


def test_deep_linking_response_may_post_to_the_platform(live_tool, lms, browser):
    result = lms.launch(browser, roles=["Instructor"], message_type="LtiDeepLinkingRequest")
    picker = result.final_response
    assert picker.status_code == 200
    assert directives(picker)["form-action"] == ["'self'"]
    page = browser.post(picker.url, data={"item": ["m:gp-pedagogik-a"]})
    assert page.status_code == 200 and 'id="auto-post"' in page.text
    csp = directives(page)
    assert origin_of(lms.deep_link_return_url) in csp["form-action"]
    (nonce,) = [v for v in csp["script-src"] if v.startswith("'nonce-")]
    assert f'<script nonce="{nonce[7:-1]}">document.getElementById("auto-post")' in page.text
    assert "<noscript>" in page.text or '<button type="submit">' in page.text  # works without JS
    assert lms.submit_deep_link_form(browser, page).status_code == 200


def test_file_downloads_send_no_referrer(live_tool, lms, browser):
    page = launch_as(
        live_tool, lms, browser, ["Learner"], "siti", MODULE + "/pendahuluan/kebijakan"
    )
    link = re.search(r'href="(/c/\d+/materi/\d+/file/0)"', page.text).group(1)
    download = browser.get(live_tool.url(link))
    assert download.status_code == 200
    assert download.headers["Referrer-Policy"] == "no-referrer"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert directives(download)["frame-ancestors"][0] == "'self'"
    assert "script-src" not in directives(download)


@pytest.mark.parametrize("path", ["/static/app.css", "/healthz", "/nowhere"])
def test_every_response_is_nosniff(tmp_path, path):
    response = build_app(tmp_path).test_client().get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in response.headers
