"""The materi plugin through real launches: sanitised pages, files as attachments,
embedded video, and "viewed" completion for peserta only."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import ActivityCompletion, User
from plugins.materi.views import clean_html, video_embed
from tests.conftest import launch_as

TARGET = "/course/gp-pedagogik-a/pendahuluan/kebijakan"


def _launch(live_tool, lms, browser, roles=("Learner",), sub="p1"):
    return launch_as(live_tool, lms, browser, list(roles), sub, TARGET, name="Guru")


def test_materi_page_is_sanitised_and_complete_on_view(live_tool, lms, browser):
    page = _launch(live_tool, lms, browser)
    html = page.text
    assert "Guru wajib belajar." in html
    assert "<script>alert" not in html and "onclick" not in html and "javascript:" not in html
    assert "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" in html
    assert '<video controls preload="none" src="https://media.example.id/rekaman.mp4">' in html
    with get_db(live_tool.app).sessionmaker() as db:
        user = db.scalars(select(User).where(User.sub == "p1")).one()
        (row,) = db.scalars(select(ActivityCompletion).where(ActivityCompletion.user_id == user.id))
        assert row.state == "viewed" and row.completed_at is not None
        first = row.completed_at
    # a second visit keeps the first completion time
    _launch(live_tool, lms, browser)
    with get_db(live_tool.app).sessionmaker() as db:
        (row,) = db.scalars(select(ActivityCompletion))
        assert row.completed_at == first


def test_staff_views_do_not_count_as_completion(live_tool, lms, browser):
    _launch(live_tool, lms, browser, roles=("Instructor",), sub="pengampu-1")
    with get_db(live_tool.app).sessionmaker() as db:
        assert db.scalars(select(ActivityCompletion)).first() is None


def test_files_download_as_attachments_for_the_course_only(live_tool, lms, browser):
    page = _launch(live_tool, lms, browser)
    href = re.search(r'href="(/c/\d+/materi/\d+/file/0)"', page.text).group(1)
    r = browser.get(live_tool.url(href))
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert "lembar-kerja.txt" in r.headers["Content-Disposition"]
    assert r.text.startswith("Lembar Kerja Sesi Pendahuluan")
    assert browser.get(live_tool.url(href.replace("/file/0", "/file/5"))).status_code == 404
    from tests.conftest import make_browser

    assert make_browser().get(live_tool.url(href)).status_code == 401


def test_clean_html_keeps_teaching_markup():
    html = clean_html("<h3>Judul</h3><ol><li><strong>a</strong></li></ol><img src=x onerror=y>")
    assert html == "<h3>Judul</h3><ol><li><strong>a</strong></li></ol>"


def test_video_embed_kinds():
    assert video_embed("https://youtu.be/abcdefghijk")["kind"] == "youtube"
    assert video_embed("https://m.youtube.com/watch?v=abcdefghijk")["src"].endswith("/abcdefghijk")
    assert video_embed("https://example.id/v.webm")["kind"] == "file"
    assert video_embed("https://example.id/watch?v=1")["kind"] == "link"


def test_youtube_player_loads_only_on_a_click(live_tool, lms, browser):
    """No player (0.5-1 MB from YouTube) until asked for: a link to the video whose click
    the plugin's static script turns into the embed; without JavaScript it opens YouTube."""
    html = _launch(live_tool, lms, browser).text
    assert "<iframe" not in html
    link = re.search(r'<a class="video-play" href="([^"]+)"[^>]* data-embed="([^"]+)"', html)
    assert link.groups() == (
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
    )
    script = re.search(r'<script src="(/static/materi/materi\.js\?v=[0-9a-f]{12})" defer>', html)
    served = browser.get(live_tool.url(script.group(1)))
    assert served.status_code == 200 and "replaceChild(player, link)" in served.text
