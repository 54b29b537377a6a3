"""Driving the reflection through real launches: open it in a role, find its forms,
and look at the database."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.db import get_db
from plugins.refleksi.models import RefleksiComment, RefleksiEntry
from tests.conftest import launch_as, make_browser

MODULE = "gp-refleksi-uji"
SESI1 = f"/course/{MODULE}/sesi-1/refleksi"
SESI2 = f"/course/{MODULE}/sesi-2/refleksi"
PENUTUP = f"/course/{MODULE}/penutup/kesimpulan"

PESERTA = ["Learner"]
MENTOR = ["Mentor"]
PENGAMPU = ["Instructor"]

#: Answers that pass the Sesi 1 rules (5 words for `baru`, 12 in all).
GOOD = {
    "p-baru": "Dekomposisi dan abstraksi ternyata sudah sering saya lakukan.",
    "p-kendala": "Waktu belajar terbatas; saya belajar pagi sebelum mengajar.",
    "p-tindak-lanjut": "Mencoba kegiatan **unplugged** bilangan biner di kelas VII.",
    "p-saran": "",
}


def open_as(live_tool, lms, roles, sub, target=SESI1, name=None, browser=None):
    """(browser, first page) of a launch into `target`."""
    browser = browser or make_browser()
    page = launch_as(live_tool, lms, browser, roles, sub, target, name=name)
    assert page.status_code == 200, page.text[:500]
    return browser, page


def save_url(page) -> str:
    return re.search(r'action="(/c/\d+/refleksi/\d+)"', page.text).group(1)


def comment_url(page) -> str:
    return re.search(r'action="(/c/\d+/refleksi/entry/\d+/comment)"', page.text).group(1)


def ctx_of(url_or_text: str) -> int:
    return int(re.search(r"/c/(\d+)/", url_or_text).group(1))


def here(live_tool, page) -> str:
    """The address of a page, also of the first page of a launch (which the launch
    response shows itself and names in `history.replaceState`)."""
    if "/lti/launch" not in page.url:
        return page.url
    path = re.search(r'history\.replaceState\(null, "", "([^"]+)"\)', page.text).group(1)
    return live_tool.url(path) if path.startswith("/") else path


def staff_url(page) -> str:
    return re.search(r'href="(/c/\d+/refleksi/\d+/staff)"', page.text).group(1)


def record_url(page) -> str:
    return re.search(r'href="(/c/\d+/refleksi/\d+/record)"', page.text).group(1)


def entries(live_tool) -> list[RefleksiEntry]:
    with get_db(live_tool.app).sessionmaker() as db:
        rows = list(db.scalars(select(RefleksiEntry).order_by(RefleksiEntry.id)))
        db.expunge_all()
        return rows


def comments(live_tool) -> list[RefleksiComment]:
    with get_db(live_tool.app).sessionmaker() as db:
        rows = list(db.scalars(select(RefleksiComment).order_by(RefleksiComment.id)))
        db.expunge_all()
        return rows


def textarea(page_text: str, name: str) -> str:
    """The content of a textarea as the browser shows it (unescaped)."""
    import html

    m = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', page_text, re.S)
    assert m, f"no textarea {name}"
    return html.unescape(m.group(1))
