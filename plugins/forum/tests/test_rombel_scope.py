"""The PLPG mentoring forum (scope: rombel): peserta see and post only in their
rombel's threads, a mentor in the rombels they accompany, the pengampu everywhere."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import CourseInstance, User
from lti_tool.services import roster
from plugins.forum.models import ForumPost, ForumThread
from plugins.forum.tests.helpers import ROMBEL_FORUM, Person, rows, thread_links

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def _class(live_tool, lms):
    """Rombel A (ani, adi; mentor mira) and B (budi; mentor bima); the pengampu; and
    citra, who is in no rombel."""
    people = {
        sub: Person(live_tool, lms, sub, role, ROMBEL_FORUM)
        for sub, role in [
            ("ani", "peserta"),
            ("adi", "peserta"),
            ("budi", "peserta"),
            ("citra", "peserta"),
            ("mira", "mentor"),
            ("bima", "mentor"),
            ("bu-ani", "pengampu"),
        ]
    }
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(
            select(CourseInstance).where(CourseInstance.module_key == "forum-uji")
        ).one()
        ids = {u.sub: u.id for u in db.scalars(select(User))}
        a = roster.create_rombel(db, inst, "A", ids["mira"])
        b = roster.create_rombel(db, inst, "B", ids["bima"])
        for sub, group in [("ani", a), ("adi", a), ("budi", b)]:
            roster.assign(db, inst, ids[sub], group.id, by=ids["bu-ani"])
        db.commit()
        rombels = {"A": a.id, "B": b.id}
    for p in people.values():
        p.open(ROMBEL_FORUM)
    return people, rombels


def test_rombels_see_and_post_only_in_their_own_threads(live_tool, lms):
    app = live_tool.app
    people, rombels = _class(live_tool, lms)
    ani, adi, budi, citra = (people[s] for s in ("ani", "adi", "budi", "citra"))
    mira, bima, pengampu = people["mira"], people["bima"], people["bu-ani"]
    assert "Forum ini untuk rombel Anda" in ani.page.text
    assert 'name="rombel"' not in ani.page.text  # one rombel: no choice to make

    r = ani.new_thread(
        "Kemajuan rombel A",
        "Rahasia rombel A",
        files={"file": ("laporan.pdf", io.BytesIO(PDF), "application/pdf")},
    )
    assert r.status_code == 200
    (thread,) = rows(app, ForumThread)
    assert thread.rombel_id == rombels["A"]
    (post,) = rows(app, ForumPost)
    url = thread_links(ani.open(ROMBEL_FORUM).text)[0]
    file_url = re.search(r'href="(/c/\d+/forum/\d+/file/\d+)"', ani.get(url).text).group(1)

    # rombel A: its peserta and its mentor see it and reply
    assert "Kemajuan rombel A" in adi.open(ROMBEL_FORUM).text
    assert adi.reply(adi.get(url), "Balasan adi").status_code == 200
    assert "Kemajuan rombel A" in mira.open(ROMBEL_FORUM).text
    assert mira.reply(mira.get(url), "Catatan mentor").status_code == 200
    assert adi.get(file_url).status_code == 200

    # rombel B, its mentor, and a peserta in no rombel: nothing of it, 404 everywhere
    aid = thread.activity_id
    for outsider in (budi, bima, citra):
        listing = outsider.open(ROMBEL_FORUM).text
        assert "Kemajuan rombel A" not in listing and "Rahasia" not in listing
        assert outsider.get(url).status_code == 404
        assert outsider.get(file_url).status_code == 404
        outsider.open()  # a page with a form: the next posts carry a valid CSRF token
        denied = outsider.post(url + "/reply", data={"body": "menyusup"})
        assert denied.status_code == 404, (outsider.sub, denied.text[-600:])
        for what in ("edit", "delete", "hide"):
            path = f"/c/{outsider.ctx}/forum/{aid}/p/{post.id}/{what}"
            assert outsider.post(path, data={"body": "x"}).status_code in (403, 404)
        assert outsider.post(f"/c/{outsider.ctx}/forum/{aid}/t/{thread.id}/pin").status_code in (
            403,
            404,
        )
    assert not any(p.source == "menyusup" for p in rows(app, ForumPost))
    citra.open(ROMBEL_FORUM)
    assert "Anda belum masuk rombel" in citra.page.text and 'name="title"' not in citra.page.text
    citra.open()
    assert (
        citra.post(f"/c/{citra.ctx}/forum/{aid}/threads", data={"title": "x", "body": "y"})
    ).status_code == 403

    # a mentor opens threads only in their own rombel
    bima.open(ROMBEL_FORUM)
    forged = bima.new_thread("Untuk A", "dari bima", rombel=str(rombels["A"]))
    assert forged.status_code == 200  # one rombel: the choice is bima's own, not the form's
    assert rows(app, ForumThread)[-1].rombel_id == rombels["B"]
    assert "Untuk A" not in ani.open(ROMBEL_FORUM).text

    # the pengampu sees every rombel's threads and chooses the rombel of a new one
    listing = pengampu.open(ROMBEL_FORUM).text
    assert "Kemajuan rombel A" in listing and "Untuk A" in listing
    assert "Rombel A" in listing and "Rombel B" in listing
    assert 'name="rombel"' in listing
    missing = pengampu.new_thread("Pengumuman", "Untuk rombel B")
    assert missing.status_code == 400 and "Pilih rombel untuk topik ini." in missing.text
    assert "Untuk rombel B</textarea>" in missing.text
    ok = pengampu.new_thread("Pengumuman", "Untuk rombel B", rombel=str(rombels["B"]))
    assert ok.status_code == 200
    assert "Pengumuman" in budi.open(ROMBEL_FORUM).text
    assert "Pengumuman" not in ani.open(ROMBEL_FORUM).text
    pengampu.open(ROMBEL_FORUM)
    wrong = pengampu.new_thread("Lain", "isi", rombel="999999")
    assert wrong.status_code == 404

    # the record: the pengampu's holds all, a mentor's only their rombel
    record = f"/c/{ani.ctx}/forum/{aid}/record"
    everything = pengampu.get(record).text
    assert "Rahasia rombel A" in everything and "Untuk rombel B" in everything
    mine = mira.get(record).text
    assert "Rahasia rombel A" in mine and "Untuk rombel B" not in mine and "dari bima" not in mine
    assert ani.get(record).status_code == 403
