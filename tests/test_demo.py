"""The demo LMS of `make run`: a real OIDC + signed-JWT path, off unless DEMO is on."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from lti_tool.db import get_db
from tests.conftest import build_app, make_browser
from tests.peer import find_form


@pytest.fixture
def demo_tool(tmp_path):
    app = build_app(tmp_path, DEMO=True, DEMO_MODULE="not-installed")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    from lti_tool.db import session
    from lti_tool.demo.platform import ensure_demo_registration

    with app.app_context():
        ensure_demo_registration(app, session())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    get_db(app).engine.dispose()


def _follow(browser, url):
    """What the browser does: redirects, then the auto-submitting form_post page."""
    r = browser.get(url)
    form = find_form(r.text)
    assert form is not None, r.text[:500]
    assert form.fields.get("id_token")
    return browser.post(form.action, data=form.fields)


@pytest.mark.parametrize(("role", "label"), [("peserta", "Peserta"), ("pengampu", "Pengampu")])
def test_demo_launch_through_real_oidc(demo_tool, role, label):
    base = demo_tool.config["PUBLIC_BASE_URL"]
    browser = make_browser()
    home = browser.get(base + "/demo/")
    assert home.status_code == 200 and "/demo/start?role=peserta" in home.text
    page = _follow(browser, f"{base}/demo/start?role={role}")
    assert page.status_code == 200
    assert f'<span class="role">{label}</span>' in page.text
    assert "Guru Pembelajar Pedagogik KK-A, Kelas 1 (demo)" in page.text


def test_demo_deep_linking_places_items(demo_tool):
    base = demo_tool.config["PUBLIC_BASE_URL"]
    browser = make_browser()
    picker = _follow(browser, f"{base}/demo/start?role=pengampu&message=LtiDeepLinkingRequest")
    assert "Tempatkan konten di kursus Anda" in picker.text
    page = browser.post(picker.url, data={"item": ["a:gp-pedagogik-a/sesi-1/tes-sumatif"]})
    form = find_form(page.text)
    placed = browser.post(form.action, data=form.fields)
    assert placed.status_code == 200 and "Tes Sumatif Sesi 1" in placed.text
    # the placed link launches into the activity
    page = _follow(browser, f"{base}/demo/start?role=peserta&link=0")
    assert "Tes Sumatif Sesi 1" in page.text


def test_demo_auth_refuses_a_bad_request(demo_tool):
    base = demo_tool.config["PUBLIC_BASE_URL"]
    r = make_browser().get(base + "/demo/auth?scope=openid&response_type=code")
    assert r.status_code == 400


def test_demo_is_absent_unless_enabled(app):
    assert app.test_client().get("/demo/").status_code == 404


def test_demo_course_opens_its_module(tmp_path):
    app = build_app(tmp_path, DEMO=True, DEMO_MODULE="gp-pedagogik-a")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    from lti_tool.db import session
    from lti_tool.demo.platform import ensure_demo_registration

    with app.app_context():
        ensure_demo_registration(app, session())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = _follow(make_browser(), f"{base}/demo/start?role=peserta")
        assert "Kemajuan: 0%" in page.text and "Minggu ke-6" in page.text
    finally:
        server.shutdown()
        get_db(app).engine.dispose()
