"""MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE and MAX_FORM_PARTS: an oversized request
gets the friendly 413 page and nothing is written.

The oversized bodies go through Flask's test client carrying the session of a real
launch (an unread body over a socket may end in a connection reset instead of the
page, which is not what is tested here).
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from lti_tool.config import Config
from lti_tool.db import get_db
from tests.conftest import build_app, connect_peer, launch_as, served

RENCANA = "/course/gp-pedagogik-a/pendahuluan/rencana-belajar"
TUGAS = "/course/gp-pedagogik-a/sesi-1/tugas"


def test_the_limits_are_configured():
    assert Config.MAX_CONTENT_LENGTH == 64 * 1024 * 1024
    assert Config.MAX_FORM_MEMORY_SIZE == 500 * 1024
    assert Config.MAX_FORM_PARTS == 1000


class Signed:
    """A test client holding the session and CSRF token of a real launch."""

    def __init__(self, tool, lms, browser, target: str):
        page = launch_as(tool, lms, browser, ["Learner"], "siti", target, name="Siti")
        self.page = page
        self.action = html.unescape(
            re.search(r'<form[^>]+action="(/c/\d+/[^"]+)"', page.text).group(1)
        )
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        self.client = tool.app.test_client()
        for cookie in browser.cookies:
            if cookie.name == tool.app.config["SESSION_COOKIE_NAME"]:
                self.client.set_cookie(cookie.name, cookie.value)

    def post(self, data, **kw):
        return self.client.post(self.action, data={"csrf_token": self.token, **data}, **kw)


@pytest.fixture
def small_tool(tmp_path):
    """A served tool whose whole-request limit is small (200 KB), with the peer."""
    from tests.peer import TestPlatform

    app = build_app(tmp_path, MAX_CONTENT_LENGTH=200 * 1024)
    with served(app) as tool, TestPlatform() as lms:
        connect_peer(tool, lms)
        yield tool, lms


def _plans(app) -> list[str]:
    with get_db(app).engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT entries FROM rencana_plan"))]


def _too_large(response) -> None:
    assert response.status_code == 413
    assert "The file or form is too large." in response.text or "terlalu besar" in response.text


def test_a_text_field_over_the_memory_limit_is_refused(live_tool, lms, browser):
    me = Signed(live_tool, lms, browser, RENCANA)
    assert me.post({"week-0": "Membaca modul"}).status_code in (302, 303)  # a normal draft
    before = _plans(live_tool.app)
    huge = "x" * (Config.MAX_FORM_MEMORY_SIZE + 1)
    _too_large(me.post({"week-0": huge}))  # url-encoded
    _too_large(me.post({"week-0": huge}, content_type="multipart/form-data"))
    assert _plans(live_tool.app) == before


def test_a_form_with_too_many_parts_is_refused(live_tool, lms, browser):
    me = Signed(live_tool, lms, browser, RENCANA)
    few = {f"extra-{i}": "1" for i in range(10)}
    saved = me.post({"week-0": "A", **few}, content_type="multipart/form-data")
    assert saved.status_code in (302, 303)
    before = _plans(live_tool.app)
    many = {f"extra-{i}": "1" for i in range(Config.MAX_FORM_PARTS + 1)}
    _too_large(me.post({"week-0": "B", **many}, content_type="multipart/form-data"))
    assert _plans(live_tool.app) == before


def test_a_request_over_max_content_length_writes_no_file(small_tool, browser):
    tool, lms = small_tool
    me = Signed(tool, lms, browser, TUGAS)
    assert me.action.endswith("/upload")
    stored = Path(tool.app.instance_path) / "uploads"

    def files() -> list[Path]:
        return sorted(p for p in stored.rglob("*") if p.is_file()) if stored.exists() else []

    ok = me.post({"file": (io.BytesIO(b"Lembar kerja\n" * 100), "kecil.txt")})
    assert ok.status_code in (302, 303)
    before = files()
    _too_large(me.post({"file": (io.BytesIO(b"x" * (300 * 1024)), "besar.txt")}))
    assert files() == before
    with get_db(tool.app).engine.connect() as conn:
        names = conn.execute(text("SELECT original_name FROM tugas_file")).scalars().all()
    assert names == ["kecil.txt"]
