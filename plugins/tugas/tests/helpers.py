"""Driving a task through real launches: open it, upload files, find the forms."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from lti_tool.db import session
from lti_tool.models import CourseInstance
from tests.conftest import launch_as

TUGAS = "/course/gp-pedagogik-a/sesi-1/tugas"

#: Small files whose content each type's check recognises.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
TXT = b"Laporan tugas sesi 1: karakteristik peserta didik.\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120


def ctx_of(url_or_text: str) -> int:
    return int(re.search(r"/c/(\d+)/", url_or_text).group(1))


def open_tugas(live_tool, lms, browser, sub="guru1", roles=("Learner",), name=None):
    """Launch into the task; (first page, ctx)."""
    page = launch_as(live_tool, lms, browser, list(roles), sub, TUGAS, name=name)
    assert page.status_code == 200, page.text[:500]
    return page, ctx_of(page.text)


def page_url(ctx: int) -> str:
    return f"/c/{ctx}/module/gp-pedagogik-a/sesi-1/tugas"


def upload_action(text: str) -> str:
    return re.search(r'action="(/c/\d+/tugas/\d+/upload)"', text).group(1)


def upload(live_tool, browser, text: str, *files: tuple[str, bytes]):
    return browser.post(
        live_tool.url(upload_action(text)), files=[("file", (n, d)) for n, d in files]
    )


def file_ids(text: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/c/\d+/tugas/file/(\d+)"', text)]


def stored_files(app) -> list:
    """Everything in the task storage (a folder or a bucket; temporary copies included),
    each with its `name`."""
    from lti_tool.storage import storage_for

    return sorted(storage_for("tugas", app).entries(), key=lambda e: e.name)


def set_start(app, ctx: int, days_ago: int) -> None:
    """Start the class `days_ago` days ago (sesi-1 is due on day 13 of the class)."""
    with app.app_context():
        db = session()
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == ctx)).one()
        inst.start_date = date.today() - timedelta(days=days_ago)
        db.commit()


def set_settings(app, **changes) -> None:
    """Change the settings of every tugas activity of the fixture template."""
    from lti_tool.models import Activity

    with app.app_context():
        db = session()
        for a in db.scalars(select(Activity).where(Activity.type == "tugas")):
            a.settings = {**a.settings, **changes}
        db.commit()
