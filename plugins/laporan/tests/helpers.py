"""Driving the laporan activity through real LTI launches: a class of two rombels,
deadlines, uploads and reviews through the pages' own forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from lti_tool.db import session, utcnow
from lti_tool.models import CourseInstance, User
from lti_tool.services import roster
from plugins.laporan.models import LaporanDeadline, LaporanSubmission
from tests.conftest import launch_as, make_browser

PAGE = "/course/plpg-laporan-uji/studi-mandiri/laporan-kemajuan"
KEYS = ("1", "2", "3", "4")
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def pdf(size: int = 0) -> bytes:
    """A small PDF, padded (inside a comment) to `size` bytes when asked."""
    if size <= len(PDF):
        return PDF
    return PDF + b"%" + b"x" * (size - len(PDF) - 2) + b"\n"


@dataclass
class Klass:
    """A class: peserta guru1, guru2 (rombel A, mentor1), guru3 (rombel B, mentor2)."""

    ctx: int
    activity_id: int
    users: dict[str, int]
    rombels: dict[str, int]
    browsers: dict[str, object]

    def url(self, live_tool, path: str) -> str:
        return live_tool.url(f"/c/{self.ctx}/laporan/{self.activity_id}{path}")

    def page(self, live_tool, who: str):
        return self.browsers[who].get(
            live_tool.url(f"/c/{self.ctx}/module/plpg-laporan-uji/studi-mandiri/laporan-kemajuan")
        )


def open_as(live_tool, lms, browser, sub: str, roles=("Learner",)):
    page = launch_as(live_tool, lms, browser, list(roles), sub, PAGE)
    assert page.status_code == 200, page.text
    return page


def ctx_of(text_or_url: str) -> int:
    return int(re.search(r"/c/(\d+)/", text_or_url).group(1))


def make_class(live_tool, lms, pengampu: bool = False) -> Klass:
    """Everyone launches once (the roster); the pengampu's rombels are written with
    the roster service, as the roster page does."""
    people = {
        "guru1": ("Learner",),
        "guru2": ("Learner",),
        "guru3": ("Learner",),
        "mentor1": ("Mentor",),
        "mentor2": ("Mentor",),
    }
    if pengampu:
        people["pengampu"] = ("Instructor",)
    browsers, ctx = {}, None
    for sub, roles in people.items():
        b = make_browser()
        page = open_as(live_tool, lms, b, sub, roles)
        browsers[sub] = b
        ctx = ctx_of(page.text)
    with live_tool.app.app_context():
        db = session()
        users = {u.sub: u.id for u in db.scalars(select(User))}
        inst = db.scalars(
            select(CourseInstance).where(CourseInstance.module_key == "plpg-laporan-uji")
        ).one()
        a = roster.create_rombel(db, inst, "A", users["mentor1"])
        b_ = roster.create_rombel(db, inst, "B", users["mentor2"])
        for sub, rombel in (("guru1", a), ("guru2", a), ("guru3", b_)):
            roster.assign(db, inst, users[sub], rombel.id, by=users["mentor1"])
        db.commit()
        activity = next(x for b in inst.module.blocks for x in b.activities if x.type == "laporan")
        return Klass(ctx, activity.id, users, {"A": a.id, "B": b_.id}, browsers)


def close(k: Klass) -> None:
    for b in k.browsers.values():
        b.close()


def set_deadlines(live_tool, k: Klass, who: str, rombel: str, days: dict[str, tuple[str, str]]):
    """Post the matrix's deadline form of a rombel (`class` for the class-wide one)."""
    browser = k.browsers[who]
    browser.get(k.url(live_tool, "/matrix"))  # the form's CSRF token
    data = {"rombel": rombel if rombel == "class" else str(k.rombels[rombel])}
    for key in KEYS:
        day, clock = days.get(key, ("", ""))
        data[f"date-{key}"], data[f"time-{key}"] = day, clock
    return browser.post(k.url(live_tool, "/deadlines"), data=data)


def upload(live_tool, k: Klass, who: str, key: str, content: bytes, name: str = "laporan.pdf"):
    browser = k.browsers[who]
    k.page(live_tool, who)
    return browser.post(
        k.url(live_tool, f"/{key}/upload"), files={"file": (name, content, "application/pdf")}
    )


def cancel(live_tool, k: Klass, who: str, key: str):
    browser = k.browsers[who]
    k.page(live_tool, who)
    return browser.post(k.url(live_tool, f"/{key}/cancel"))


def review(live_tool, k: Klass, who: str, peserta: str, key: str, score: str, comment: str = ""):
    browser = k.browsers[who]
    uid = k.users[peserta]
    browser.get(k.url(live_tool, f"/peserta/{uid}"))
    return browser.post(
        k.url(live_tool, f"/peserta/{uid}/{key}"), data={"score": score, "comment": comment}
    )


def submissions(app, **where) -> list[LaporanSubmission]:
    with app.app_context():
        db = session()
        rows = list(db.scalars(select(LaporanSubmission).order_by(LaporanSubmission.id)))
        for r in rows:
            db.expunge(r)
    return [r for r in rows if all(getattr(r, f) == v for f, v in where.items())]


def stored_files(app) -> list:
    """What the report storage holds (a folder or a bucket), temporary copies included."""
    from tests.engines import stored_names

    return stored_names(app, "laporan")


def move_deadline(app, k: Klass, rombel: str, key: str, delta: timedelta) -> None:
    """Put a rombel's deadline `delta` from now (the clock cannot be turned)."""
    with app.app_context():
        db = session()
        row = db.scalars(
            select(LaporanDeadline).where(
                LaporanDeadline.rombel_id == k.rombels[rombel], LaporanDeadline.report_key == key
            )
        ).one()
        row.due_at = utcnow() + delta
        db.commit()
