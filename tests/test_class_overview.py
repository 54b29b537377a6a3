"""Staff views of a class through real launches: the completion matrix, rombel with a
mentor, starting the class (roster freeze), late launches, and the programme's limits."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from lti_tool.db import get_db, utcnow
from lti_tool.models import CourseInstance, RombelMember, User
from lti_tool.services import roster
from tests.conftest import add_member, launch_as, make_browser

MODULE = "/course/gp-pedagogik-a"
FIRST = "/course/gp-pedagogik-a/pendahuluan/kebijakan"


def _launch(live_tool, lms, browser, roles, sub, target=MODULE):
    return launch_as(live_tool, lms, browser, roles, sub, target)


def _overview_url(page):
    return re.search(r'href="(/c/\d+/module/gp-pedagogik-a/kelas)"', page.text).group(1)


def _form_action(text, ending):
    return re.search(rf'action="([^"]+/{ending})"', text).group(1)


def test_class_overview_roster_and_freeze(live_tool, lms):
    admin = make_browser()
    page = _launch(live_tool, lms, admin, ["Administrator"], "admin-1")
    url = live_tool.url(_overview_url(page))
    # two peserta and a mentor launch; one peserta opens the first materi
    siti, budi, mentor = make_browser(), make_browser(), make_browser()
    _launch(live_tool, lms, siti, ["Learner"], "siti", target=FIRST)
    _launch(live_tool, lms, budi, ["Learner"], "budi")
    _launch(live_tool, lms, mentor, ["Mentor"], "mentor-1")

    view = admin.get(url).text
    assert "Ikhtisar kelas" in view and "2 peserta" in view
    assert re.search(r"<th scope=\"row\">Siti</th>\s*<td>\d+</td>\s*<td>✓</td>", view)
    assert re.search(r"<th scope=\"row\">Budi</th>\s*<td>0</td>\s*<td>·</td>", view)
    assert "50%" in view  # the first activity is completed by 1 of 2

    with get_db(live_tool.app).sessionmaker() as db:
        ids = {u.sub: u.id for u in db.scalars(select(User))}
    r = admin.post(
        live_tool.url(_form_action(view, "kelas/rombel")),
        data={"name": "Rombel A", "mentor_id": str(ids["mentor-1"])},
    )
    assert "Tersimpan." in r.text and "Rombel A · mentor: Mentor-1" in r.text
    assert "2 peserta belum masuk rombel mana pun." in r.text
    rombel_id = re.search(
        r'<option value="(\d+)" >Rombel A</option>|<option value="(\d+)">Rombel A', r.text
    )
    rid = next(g for g in rombel_id.groups() if g)
    r = admin.post(
        live_tool.url(_form_action(r.text, "kelas/assign")),
        data={f"rombel-{ids['siti']}": rid, f"rombel-{ids['budi']}": ""},
    )
    assert "Tersimpan." in r.text
    assert 'Siti <span class="muted">(Rombel A)</span></th>' in r.text

    # the mentor sees only their rombel
    mentor_view = mentor.get(url).text
    assert "Siti" in mentor_view and "Budi" not in mentor_view

    # starting needs a start date
    r = admin.post(live_tool.url(_form_action(r.text, "kelas/start")))
    assert "Tetapkan tanggal mulai sebelum memulai kelas." in r.text
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        inst.start_date = date(2026, 7, 13)
        db.commit()
    r = admin.post(live_tool.url(_form_action(r.text, "kelas/start")))
    assert "roster-nya dibekukan" in r.text
    before = {(m.user_id, m.rombel_id) for m in _members(live_tool)}
    assert "kelas/assign" not in r.text  # the form is gone once started
    refused = admin.post(url + "/assign", data={f"rombel-{ids['budi']}": rid})
    assert "Kelas sudah dimulai: peserta dan mentornya tidak dapat berubah lagi" in refused.text
    assert {(m.user_id, m.rombel_id) for m in _members(live_tool)} == before
    # a peserta launching after the start is recorded and listed for the admin
    late = make_browser()
    _launch(live_tool, lms, late, ["Learner"], "dewi")
    assert "Dewi" in admin.get(url).text.split("Diluncurkan setelah kelas dimulai")[1]


def _members(live_tool):
    with get_db(live_tool.app).sessionmaker() as db:
        return list(db.scalars(select(RombelMember)))


def test_peserta_cannot_see_the_class_overview(live_tool, lms, browser):
    page = _launch(live_tool, lms, browser, ["Learner"], "siti")
    # the launch response replaces its URL with the page's own: /c/<ctx>/module/<key>
    canonical = re.search(r'history.replaceState\(null, "", "([^"]+)"\)', page.text).group(1)
    assert canonical.endswith("/module/gp-pedagogik-a")
    assert browser.get(live_tool.url(canonical + "/kelas")).status_code == 403


def test_mentor_allocation_table():
    assert [roster.mentors_needed(n) for n in (0, 10, 20, 25, 30, 31, 59, 60, 90)] == [
        0,
        1,
        1,
        1,
        1,
        2,
        2,
        3,
        3,
    ]


def test_model_1_limit_warning(live_tool, lms, browser):
    _launch(live_tool, lms, browser, ["Instructor"], "pengampu-1")
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        for i in range(41):
            add_member(db, lms.issuer, inst.context_pk, f"bulk-{i}", first_launch=utcnow())
        db.commit()
        assert roster.warnings(db, inst) == [("too_many_peserta", {"n": 41, "max": 40})]


def test_peserta_sees_their_rombel_mentor_and_members(live_tool, lms):
    admin, siti, budi, mentor = make_browser(), make_browser(), make_browser(), make_browser()
    page = _launch(live_tool, lms, admin, ["Administrator"], "admin-1")
    url = live_tool.url(_overview_url(page))
    _launch(live_tool, lms, siti, ["Learner"], "siti")
    _launch(live_tool, lms, budi, ["Learner"], "budi")
    lms.launch(
        mentor,
        roles=["Mentor"],
        user={"sub": "mentor-1", "name": "Pak Mentor", "email": "mentor@sekolah.sch.id"},
        target_link_uri=live_tool.url(MODULE),
    )
    with get_db(live_tool.app).sessionmaker() as db:
        ids = {u.sub: u.id for u in db.scalars(select(User))}
    r = admin.post(url + "/rombel", data={"name": "Rombel Bali", "mentor_id": str(ids["mentor-1"])})
    rid = re.search(r'<option value="(\d+)"\s*>Rombel Bali</option>', r.text).group(1)
    admin.post(url + "/assign", data={f"rombel-{ids['siti']}": rid, f"rombel-{ids['budi']}": rid})
    view = _launch(live_tool, lms, siti, ["Learner"], "siti").text
    assert "Rombel saya: Rombel Bali" in view
    assert "Pak Mentor" in view and 'href="mailto:mentor@sekolah.sch.id"' in view
    assert re.search(r"Anggota: (Budi, Siti|Siti, Budi)", view)


def test_plpg_peserta_who_launch_after_two_weeks_count_as_withdrawn(live_tool, lms, browser):
    from datetime import datetime

    _launch(live_tool, lms, browser, ["Instructor"], "pengampu-1")
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        inst.module.mode = "plpg-pembekalan"
        inst.start_date = date(2026, 3, 2)
        inst.timezone = "Asia/Jakarta"
        # 14 days after the start, end of day in Jakarta = 2026-03-16 16:59:59 UTC
        times = {
            "on-time": datetime(2026, 3, 16, 16, 0),
            "late": datetime(2026, 3, 16, 17, 30),
        }
        for sub, first in times.items():
            add_member(db, lms.issuer, inst.context_pk, sub, first_launch=first)
        db.commit()
        gone = roster.withdrawn(db, inst)
        names = {db.get(User, uid).sub for uid in gone}
        assert names == {"late"}
        inst.module.mode = "daring-model-1"  # the rule is PLPG's only
        assert roster.withdrawn(db, inst) == set()


def test_graded_activities_link_to_their_review(live_tool, lms):
    admin, siti = make_browser(), make_browser()
    page = _launch(live_tool, lms, admin, ["Administrator"], "admin-1")
    _launch(live_tool, lms, siti, ["Learner"], "siti")
    view = admin.get(live_tool.url(_overview_url(page))).text
    links = re.findall(r'<a href="(/c/\d+/test-graded/\d+/review)" aria-label="([^"]+)"', view)
    # the fixture has 4 session tests and the self-assessments of sessions 2-4
    # (test_graded); the final test is a quiz, whose results page is its review, and
    # session 1's self-assessment a penilaian
    assert len(links) == 7
    assert re.search(r'<a href="/c/\d+/penilaian/\d+/staff" aria-label="[^"]*Penilaian Diri', view)
    assert re.search(r'<a href="/c/\d+/quiz/\d+/results" aria-label="[^"]*Tes Akhir', view)
    assert any("Tes Sumatif Sesi 1" in label for _href, label in links)
