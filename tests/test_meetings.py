"""Tatap muka and web conferences: a mentor records their rombel's attendance and
minutes; the pengampu records web conferences; a half-filled daftar hadir is refused."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import MeetingAttendance, MeetingRecord, User
from tests.conftest import launch_as, make_browser, open_a_form

MODULE = "/course/gp-pedagogik-a"


def _launch(live_tool, lms, browser, roles, sub, name=None):
    return launch_as(live_tool, lms, browser, roles, sub, MODULE, name=name or sub.title())


def _setup(live_tool, lms):
    admin, mentor, siti, budi = (make_browser() for _ in range(4))
    page = _launch(live_tool, lms, admin, ["Administrator"], "admin-1")
    kelas = live_tool.url(
        re.search(r'href="(/c/\d+/module/gp-pedagogik-a/kelas)"', page.text).group(1)
    )
    _launch(live_tool, lms, siti, ["Learner"], "siti")
    _launch(live_tool, lms, budi, ["Learner"], "budi")
    _launch(live_tool, lms, mentor, ["Mentor"], "mentor-1", "Pak Mentor")
    with get_db(live_tool.app).sessionmaker() as db:
        ids = {u.sub: u.id for u in db.scalars(select(User))}
    r = admin.post(kelas + "/rombel", data={"name": "Rombel A", "mentor_id": str(ids["mentor-1"])})
    rid = re.search(r'<option value="(\d+)"\s*>Rombel A</option>', r.text).group(1)
    admin.post(kelas + "/assign", data={f"rombel-{ids['siti']}": rid, f"rombel-{ids['budi']}": rid})
    return admin, mentor, siti, kelas.replace("/kelas", "/pertemuan"), ids, rid


def test_mentor_records_a_tm_with_attendance_and_minutes(live_tool, lms):
    admin, mentor, siti, pertemuan, ids, rid = _setup(live_tool, lms)
    listing = mentor.get(pertemuan).text
    assert "TM-1: Orientasi di Pusat Belajar" in listing and "Rombel A: " in listing
    assert "belum dicatat" in listing
    form_url = pertemuan + f"/tm-1?rombel={rid}"
    form = mentor.get(form_url)
    assert form.status_code == 200 and "Daftar hadir" in form.text
    # one peserta left unmarked: refused, nothing stored, what was typed comes back
    partial = {
        "held_on": "2026-07-14",
        "time": "08:30",
        "place": "SMPN 1 Denpasar",
        "resume": "Orientasi berjalan lancar",
        f"hadir-{ids['siti']}": "hadir",
    }
    refused = mentor.post(form_url, data=partial)
    assert refused.status_code == 400 and "Tidak ada yang hilang" in refused.text
    assert "Orientasi berjalan lancar</textarea>" in refused.text
    bad_time = mentor.post(
        form_url, data={**partial, "time": "8.30", f"hadir-{ids['budi']}": "izin"}
    )
    assert bad_time.status_code == 400 and "HH:MM" in bad_time.text
    with get_db(live_tool.app).sessionmaker() as db:
        assert db.scalars(select(MeetingRecord)).first() is None
    ok = mentor.post(form_url, data={**partial, f"hadir-{ids['budi']}": "izin"})
    assert "Tersimpan." in ok.text and "tercatat, 14 Jul 2026" in ok.text
    with get_db(live_tool.app).sessionmaker() as db:
        (record,) = db.scalars(select(MeetingRecord))
        assert (record.kind, record.place, record.time) == ("tm", "SMPN 1 Denpasar", "08:30")
        marks = {a.user_id: a.status for a in db.scalars(select(MeetingAttendance))}
        assert marks == {ids["siti"]: "hadir", ids["budi"]: "izin"}
    # the pengampu (here the admin) sees and can edit it; peserta cannot
    assert "tercatat, 14 Jul 2026" in admin.get(pertemuan).text
    open_a_form(siti, live_tool, pertemuan.split("/module/")[0].replace(live_tool.base_url, ""))
    assert siti.get(pertemuan).status_code == 403
    assert siti.post(form_url, data=partial).status_code == 403


def test_web_conferences_belong_to_the_pengampu(live_tool, lms):
    admin, mentor, _siti, pertemuan, ids, _rid = _setup(live_tool, lms)
    assert mentor.get(pertemuan + "/web-new").status_code == 403
    data = {
        "title": "Konferensi web sesi 2",
        "held_on": "2026-07-28",
        "resume": "Tanya jawab",
        f"hadir-{ids['siti']}": "hadir",
        f"hadir-{ids['budi']}": "alpa",
    }
    r = admin.post(pertemuan + "/web-new", data=data)
    assert "Konferensi web sesi 2" in r.text
    second = admin.post(pertemuan + "/web-new", data={**data, "title": "Konferensi web sesi 4"})
    assert "Konferensi web sesi 4" in second.text
    with get_db(live_tool.app).sessionmaker() as db:
        keys = sorted(r.key for r in db.scalars(select(MeetingRecord)))
    assert keys == ["web-1", "web-2"]
    assert admin.get(pertemuan + "/tm-9?rombel=1").status_code == 404
