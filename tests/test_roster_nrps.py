"""The course roster from the LMS (NRPS) through the peer: who never opened the tool,
paging, the User-Agent, and a failing LMS changing nothing."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import CourseInstance, Membership, User
from lti_tool.services import roster
from tests.conftest import add_member, launch_as, make_browser, row_counts
from tests.peer import DEFAULT_CONTEXT

MODULE = "/course/gp-pedagogik-a"
ROSTER = [
    {
        "user_id": "siti",
        "name": "Siti Rahayu",
        "email": "siti@sekolah.sch.id",
        "roles": ["Learner"],
    },
    {
        "user_id": "budi",
        "name": "Budi Santoso",
        "email": "budi@sekolah.sch.id",
        "roles": ["Learner"],
    },
    {"user_id": "dewi", "name": "Dewi Lestari", "roles": ["Learner"]},
    {"user_id": "mentor-1", "name": "Pak Mentor", "roles": ["Mentor"]},
    {"user_id": "left", "name": "Sudah Keluar", "roles": ["Learner"], "status": "Inactive"},
    {
        "user_id": "observer",
        "name": "Pengamat",
        "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Observer"],
    },
]


def _launch(live_tool, lms, browser, roles, sub, name):
    return launch_as(live_tool, lms, browser, roles, sub, MODULE, name=name)


def _kelas(page) -> str:
    return re.search(r'href="(/c/\d+/module/gp-pedagogik-a/kelas)"', page.text).group(1)


def test_roster_shows_who_never_opened_the_tool(live_tool, lms):
    lms.set_members(DEFAULT_CONTEXT["id"], ROSTER)
    lms.nrps_page_size = 2  # three pages: the tool must follow Link rel="next"
    admin, siti = make_browser(), make_browser()
    _launch(live_tool, lms, siti, ["Learner"], "siti", "Siti Rahayu")
    page = _launch(live_tool, lms, admin, ["Administrator"], "admin-1", "Admin")
    url = live_tool.url(_kelas(page))
    r = admin.post(url + "/sync")
    status = re.search(r'role="(?:status|alert)">([^<]*)<', r.text)
    # added: budi, dewi and the mentor; updated: siti, who launched before
    assert status and status.group(1) == "Roster dibaca dari LMS: 3 ditambahkan, 1 diperbarui."
    never = r.text.split("Ada di roster, belum pernah membuka aplikasi")[1].split("</section>")[0]
    assert "Budi Santoso" in never and "Dewi Lestari" in never and "Siti" not in never
    assert "Sudah Keluar" not in r.text and "Pengamat" not in r.text
    assert "3 peserta" in r.text
    # every call to the LMS named the tool; NRPS was read page by page
    nrps_calls = lms.requests_from("/nrps/")
    assert len(nrps_calls) == 3
    for call in [*nrps_calls, *lms.requests_from("/token")]:
        assert call.user_agent.startswith("lti-tool-guru-pembelajar/")
    # Budi opens the tool: he leaves the "never opened" list, his first launch is kept
    budi = make_browser()
    _launch(live_tool, lms, budi, ["Learner"], "budi", "Budi Santoso")
    after = admin.get(url).text.split("Ada di roster, belum pernah membuka aplikasi")[1]
    assert "Budi" not in after.split("</section>")[0]
    with get_db(live_tool.app).sessionmaker() as db:
        user = db.scalars(select(User).where(User.sub == "budi")).one()
        m = db.scalars(select(Membership).where(Membership.user_id == user.id)).one()
        assert m.first_launch_at is not None and user.email == "budi@sekolah.sch.id"
    # syncing again adds nobody
    again = admin.post(url + "/sync")
    assert "0 ditambahkan" in again.text


def test_a_failing_lms_changes_nothing(live_tool, lms):
    admin = make_browser()
    page = _launch(live_tool, lms, admin, ["Administrator"], "admin-1", "Admin")
    url = live_tool.url(_kelas(page))
    lms.set_members(DEFAULT_CONTEXT["id"], ROSTER)
    before = row_counts(live_tool.app)
    from lti_tool.lti.service_connector import forget_tokens

    forget_tokens()
    original = lms._view_nrps
    lms.app.view_functions["nrps"] = lambda context_id: ("down", 503)
    try:
        r = admin.post(url + "/sync")
    finally:
        lms.app.view_functions["nrps"] = original
    assert "LMS tidak memberikan roster. Tidak ada yang diubah" in r.text
    assert row_counts(live_tool.app) == before


def test_plpg_roster_members_who_never_launch_are_withdrawn_after_14_days(live_tool, lms, browser):
    _launch(live_tool, lms, browser, ["Instructor"], "pengampu-1", "Pengampu")
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        inst.module.mode = "plpg-pembekalan"
        inst.start_date = date(2026, 3, 2)
        user = add_member(db, lms.issuer, inst.context_pk, "never", name="Belum Aktif")
        db.commit()
        assert roster.withdrawn(db, inst, now=datetime(2026, 3, 16, 12, 0)) == set()  # day 14
        assert roster.withdrawn(db, inst, now=datetime(2026, 3, 17, 0, 0)) == {user.id}
        assert roster.never_launched(db, inst) == {user.id}
