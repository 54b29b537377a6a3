"""Driving the penilaian pages through real launches of the test template."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.db import session
from tests.conftest import launch_as, make_browser

BASE = "/course/penilaian-uji/sesi-1/"
SELF = BASE + "penilaian-diri"  # moderation as feedback, 2 criteria of 16 points, max 100
MODERATED = BASE + "penilaian-moderasi"  # moderator's score counts, 3 x 3 points, max 10
AFTER_UPLOAD = BASE + "penilaian-wajib"  # require_deliverable


def open_as(live_tool, lms, browser, sub, target=SELF, roles=("Learner",)):
    page = launch_as(live_tool, lms, browser, list(roles), sub, target)
    assert page.status_code == 200, page.text[:500]
    return page


def ctx_of(url_or_text: str) -> int:
    return int(re.search(r"/c/(\d+)/", url_or_text).group(1))


def page_url(live_tool, ctx: int, target: str = SELF) -> str:
    """The activity's page in the course (as the launch showed it)."""
    return live_tool.url(f"/c/{ctx}/module/" + target.removeprefix("/course/"))


def action_of(text: str) -> str:
    return re.search(r'action="(/c/\d+/penilaian/\d+)"', text).group(1)


def activity_id(text: str) -> int:
    return int(re.search(r"/c/\d+/penilaian/(\d+)", text).group(1))


def user_id(app, sub: str) -> int:
    from lti_tool.models import User

    with app.app_context():
        return session().scalars(select(User.id).where(User.sub == sub)).one()


def instance(app, ctx: int):
    from lti_tool.models import CourseInstance

    return (
        session()
        .scalars(
            select(CourseInstance).where(
                CourseInstance.context_pk == ctx, CourseInstance.module_key == "penilaian-uji"
            )
        )
        .one()
    )


def rows(app, kind: str | None = None):
    from plugins.penilaian.models import PenilaianAssessment

    with app.app_context():
        query = select(PenilaianAssessment)
        if kind is not None:
            query = query.where(PenilaianAssessment.kind == kind)
        found = list(session().scalars(query))
        for r in found:
            session().expunge(r)
        return found


def score_of(app, ctx: int, uid: int, aid: int):
    from grading.report import scores_in

    with app.app_context():
        row = scores_in(session(), ctx).get((uid, aid))
        return None if row is None else (row.score, row.max_score, row.source, row.version)


def completion_of(app, ctx: int, uid: int, aid: int):
    from lti_tool.services.completion import states

    with app.app_context():
        row = states(session(), ctx, uid).get(aid)
        return None if row is None else (row.state, row.completed_at is not None)


def checked(text: str, criterion: int, level: int) -> bool:
    return f'name="c-{criterion}" value="{level}" checked' in text


def another(live_tool, lms, sub, target=SELF, roles=("Learner",)):
    """A second user with a browser of their own: (browser, first page)."""
    b = make_browser()
    return b, open_as(live_tool, lms, b, sub, target, roles)


def worked(points, total, top, score) -> str:
    """The computation as the page states it: points, divided by total, times top."""
    return f"{points} \u00f7 {total} \u00d7 {top} = {score}"
