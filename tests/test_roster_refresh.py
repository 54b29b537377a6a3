"""A staff launch re-reads the course roster from the LMS in the background when the
last reading is older than ROSTER_REFRESH_HOURS; peserta launches never do; a failed
reading is tried again on the next staff launch."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lti_tool.db import session, utcnow
from lti_tool.models import Context, Membership, User
from tests.conftest import launch_as, make_browser
from tests.peer import DEFAULT_CONTEXT

ROSTER = [
    {"user_id": "guru-a", "name": "Guru A", "roles": ["Learner"]},
    {"user_id": "guru-b", "name": "Guru B", "roles": ["Learner"]},
    {"user_id": "mentor-x", "name": "Mentor X", "roles": ["Mentor"]},
]


def _launch(live_tool, lms, roles, sub):
    with make_browser() as b:
        launch_as(live_tool, lms, b, roles, sub, "/course/gp-pedagogik-a")
    return live_tool.app.extensions.get("roster_refresh_last")


def _subs(app) -> set[str]:
    with app.app_context():
        return set(session().scalars(select(User.sub).join(Membership)))


def test_a_staff_launch_refreshes_a_stale_roster(live_tool, lms):
    app = live_tool.app
    app.config["ROSTER_REFRESH_HOURS"] = 6
    lms.set_members(DEFAULT_CONTEXT["id"], ROSTER)
    assert _launch(live_tool, lms, ["Learner"], "siti") is None  # peserta: never
    assert "guru-a" not in _subs(app)
    thread = _launch(live_tool, lms, ["Instructor"], "pengampu-1")
    assert thread is not None
    thread.join(10)
    assert {"guru-a", "guru-b", "mentor-x"} <= _subs(app)
    assert _launch(live_tool, lms, ["Instructor"], "pengampu-1") is None  # fresh: not again
    with app.app_context():
        db = session()
        ctx = db.scalars(select(Context)).one()
        ctx.roster_synced_at = utcnow() - timedelta(hours=7)
        db.commit()
    lms.set_members(DEFAULT_CONTEXT["id"], [*ROSTER, {"user_id": "guru-c", "roles": ["Learner"]}])
    thread = _launch(live_tool, lms, ["Mentor"], "mentor-x")
    assert thread is not None
    thread.join(10)
    assert "guru-c" in _subs(app)


def test_a_failed_refresh_is_tried_again_on_the_next_staff_launch(live_tool, lms):
    app = live_tool.app
    app.config["ROSTER_REFRESH_HOURS"] = 6
    lms.set_members(DEFAULT_CONTEXT["id"], ROSTER)
    lms.fail_next("nrps", 503)
    thread = _launch(live_tool, lms, ["Instructor"], "pengampu-1")
    thread.join(10)
    assert "guru-a" not in _subs(app)
    with app.app_context():
        assert session().scalars(select(Context)).one().roster_synced_at is None
    thread = _launch(live_tool, lms, ["Instructor"], "pengampu-1")
    assert thread is not None
    thread.join(10)
    assert "guru-a" in _subs(app)


def test_off_by_configuration(live_tool, lms):
    assert live_tool.app.config["ROSTER_REFRESH_HOURS"] == 0  # the test default
    lms.set_members(DEFAULT_CONTEXT["id"], ROSTER)
    assert _launch(live_tool, lms, ["Instructor"], "pengampu-1") is None
    assert "guru-a" not in _subs(live_tool.app)
