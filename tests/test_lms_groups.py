"""Rombel from the LMS's course groups (LTI Course Groups Service) through the peer:
groups become rombel with their peserta and mentor, idempotently; a started class, a
failing LMS and people who are not pengampu/admin change nothing."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from lti_tool.db import get_db, utcnow
from lti_tool.models import CourseInstance, Rombel, RombelMember, User
from tests.conftest import launch_as, make_browser, open_a_form, row_counts
from tests.peer import DEFAULT_CONTEXT
from tests.peer import constants as c

MODULE = "/course/gp-pedagogik-a"
CTX = str(DEFAULT_CONTEXT["id"])
ROSTER = [
    {"user_id": "siti", "name": "Siti Rahayu", "roles": ["Learner"]},
    {"user_id": "budi", "name": "Budi Santoso", "roles": ["Learner"]},
    {"user_id": "dewi", "name": "Dewi Lestari", "roles": ["Learner"]},
    {"user_id": "eko", "name": "Eko Prasetyo", "roles": ["Learner"]},
    {"user_id": "mentor-1", "name": "Pak Mentor", "roles": ["Mentor"]},
    {"user_id": "mentor-2", "name": "Bu Mentor", "roles": ["Mentor"]},
    {"user_id": "pengampu-1", "name": "Pengampu", "roles": ["Instructor"]},
]
GROUPS = [
    {"id": "g1", "name": "Rombel A", "members": ["siti", "budi", "mentor-1", "pengampu-1"]},
    {"id": "g2", "name": "Rombel B", "members": ["dewi", "budi", "mentor-2"]},
]


def _offer_groups(lms) -> None:
    """The LMS admin allows the tool the course groups service (its scope)."""
    for tool in lms.tools.values():
        if c.SCOPE_GS not in tool.scopes:
            tool.scopes.append(c.SCOPE_GS)


def _kelas(live_tool, lms, browser, roles=("Administrator",), sub="admin-1") -> str:
    page = launch_as(live_tool, lms, browser, list(roles), sub, MODULE, name=sub)
    return live_tool.url(
        re.search(r'href="(/c/\d+/module/gp-pedagogik-a/kelas)"', page.text).group(1)
    )


def _state(app) -> dict[str, tuple[str | None, list[str]]]:
    """rombel name -> (mentor sub, peserta subs)."""
    with get_db(app).sessionmaker() as db:
        subs = dict(db.execute(select(User.id, User.sub)).all())
        out = {}
        for r in db.scalars(select(Rombel).order_by(Rombel.name)):
            members = db.scalars(select(RombelMember.user_id).where(RombelMember.rombel_id == r.id))
            out[r.name] = (subs.get(r.mentor_id), sorted(subs[u] for u in members))
        return out


def _counts(app) -> tuple[int, int]:
    with get_db(app).sessionmaker() as db:
        return (
            db.scalar(select(func.count()).select_from(Rombel)),
            db.scalar(select(func.count()).select_from(RombelMember)),
        )


def _summary(r) -> dict[str, list[str]]:
    return parse_qs(urlsplit(r.url).query)


def test_groups_become_rombel_with_their_peserta_and_mentor(live_tool, lms):
    _offer_groups(lms)
    lms.set_members(CTX, ROSTER)
    lms.set_groups(CTX, GROUPS)
    lms.groups_page_size = 1  # the tool must follow Link rel="next"
    lms.nrps_page_size = 3
    admin = make_browser()
    url = _kelas(live_tool, lms, admin)
    page = admin.get(url)
    assert "/kelas/lms-groups" in page.text  # the button: the LMS offered the service

    r = admin.post(url + "/lms-groups")
    assert r.status_code == 200
    assert _summary(r)["grouped"] == ["2-2-3-2"]  # 2 groups, 2 created, 3 placed, 2 mentors
    assert _state(live_tool.app) == {
        "Rombel A": ("mentor-1", ["budi", "siti"]),  # Budi: the first group wins
        "Rombel B": ("mentor-2", ["dewi"]),
    }
    status = re.search(r'<p class="ok" role="status">(.*?)</p>', r.text, re.S).group(1)
    assert "Budi Santoso" in status and "2 rombel" in status
    # the groups service was read page by page with its media type, NRPS with groups=true
    group_calls = [s for s in lms.service_calls if s.service == "groups"]
    assert [s.kind for s in group_calls] == ["groups", "groups", "sets"]
    assert all(s.status == 200 for s in group_calls)
    nrps_calls = [s for s in lms.service_calls if s.service == "nrps"]
    assert nrps_calls and all("groups=true" in s.query for s in nrps_calls)
    assert len(nrps_calls) == 3

    # again: nothing new, nothing moved
    before = _counts(live_tool.app)
    again = admin.post(url + "/lms-groups")
    assert _summary(again)["grouped"] == ["2-0-0-0"]
    assert _counts(live_tool.app) == before
    assert _state(live_tool.app)["Rombel A"] == ("mentor-1", ["budi", "siti"])


def test_an_nrps_without_group_enrollments_is_asked_per_member(live_tool, lms):
    _offer_groups(lms)
    lms.set_members(CTX, ROSTER)
    lms.set_groups(CTX, GROUPS)
    lms.nrps_group_enrollments = False
    admin = make_browser()
    url = _kelas(live_tool, lms, admin)
    r = admin.post(url + "/lms-groups")
    assert _summary(r)["grouped"] == ["2-2-3-2"]
    assert _state(live_tool.app)["Rombel B"] == ("mentor-2", ["dewi"])
    filtered = [s for s in lms.service_calls if s.service == "groups" and "user_id=" in s.query]
    assert len(filtered) == len(ROSTER)


def test_several_group_sets_the_pengampu_chooses_one(live_tool, lms):
    _offer_groups(lms)
    lms.set_members(CTX, ROSTER)
    lms.set_groups(
        CTX,
        [
            {**GROUPS[0], "set_id": "s1"},
            {**GROUPS[1], "set_id": "s1"},
            {"id": "g3", "name": "Proyek", "set_id": "s2", "members": ["eko", "siti"]},
        ],
        sets=[{"id": "s1", "name": "Rombel PLPG"}, {"id": "s2", "name": "Kelompok proyek"}],
    )
    pengampu = make_browser()
    url = _kelas(live_tool, lms, pengampu, ["Instructor"], "pengampu-1")
    before = _counts(live_tool.app)
    choose = pengampu.post(url + "/lms-groups")
    assert 'name="set_id"' in choose.text and "Kelompok proyek" in choose.text
    assert _counts(live_tool.app) == before  # asking changed nothing
    r = pengampu.post(url + "/lms-groups", data={"set_id": "s2"})
    assert _summary(r)["grouped"] == ["1-1-2-0"]
    assert _state(live_tool.app) == {"Proyek": (None, ["eko", "siti"])}


def test_a_started_class_is_refused_and_nothing_changes(live_tool, lms):
    _offer_groups(lms)
    lms.set_members(CTX, ROSTER)
    lms.set_groups(CTX, GROUPS)
    admin = make_browser()
    url = _kelas(live_tool, lms, admin)
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        inst.started_at = utcnow()
        db.commit()
    assert "/kelas/lms-groups" not in admin.get(url).text  # no button once started
    before, rombel = row_counts(live_tool.app), _counts(live_tool.app)
    r = admin.post(url + "/lms-groups")
    assert _summary(r)["error"] == ["groups_frozen"]
    assert "Juknis IV.D.2.b" in r.text
    assert row_counts(live_tool.app) == before and _counts(live_tool.app) == rombel
    assert not [s for s in lms.service_calls if s.service == "groups"]


def test_a_failing_lms_changes_nothing(live_tool, lms):
    from lti_tool.lti.service_connector import forget_tokens

    _offer_groups(lms)
    lms.set_members(CTX, ROSTER)
    lms.set_groups(CTX, GROUPS)
    lms.groups_page_size = 1
    admin = make_browser()
    url = _kelas(live_tool, lms, admin)
    before, rombel = row_counts(live_tool.app), _counts(live_tool.app)
    forget_tokens()
    for fault in (r"^/groups/.*/groups$", r"^/groups/.*from=1", r"^/groups/.*/sets", "nrps"):
        lms.fail_next(fault)
        r = admin.post(url + "/lms-groups")
        assert _summary(r)["error"] == ["gs_error"], fault
        assert "Tidak ada yang diubah" in r.text
        assert row_counts(live_tool.app) == before and _counts(live_tool.app) == rombel
    assert len(lms.faults_fired) == 4


def test_peserta_and_mentor_cannot_take_the_lms_groups(live_tool, lms):
    _offer_groups(lms)
    lms.set_members(CTX, ROSTER)
    lms.set_groups(CTX, GROUPS)
    admin = make_browser()
    url = _kelas(live_tool, lms, admin)
    before = _counts(live_tool.app)
    for roles, sub in ((["Learner"], "siti"), (["Mentor"], "mentor-1")):
        browser = make_browser()
        launch_as(live_tool, lms, browser, roles, sub, MODULE, name=sub)
        if sub == "siti":
            open_a_form(browser, live_tool, urlsplit(url).path.split("/module/")[0])
        else:  # a mentor sees the scores of their rombel (a form, with a CSRF token)
            assert 'name="csrf_token"' in browser.get(url.replace("/kelas", "/nilai")).text
        assert browser.post(url + "/lms-groups").status_code == 403
    assert _counts(live_tool.app) == before
    assert not [s for s in lms.service_calls if s.service == "groups"]


def test_no_button_without_the_groups_service(live_tool, lms):
    admin = make_browser()
    url = _kelas(live_tool, lms, admin)
    assert "/kelas/lms-groups" not in admin.get(url).text
    r = admin.post(url + "/lms-groups")
    assert _summary(r)["error"] == ["no_gs"]
