"""The web session after a launch: who is signed in, in which courses, with what role.

One browser may hold launches from several courses (tabs); the session keeps a
role per course, and every course page checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import abort, current_app, g, session, url_for

from lti_tool.db import session as db_session
from lti_tool.models import Activity, User

if TYPE_CHECKING:
    from lti_tool.services.launches import LaunchOutcome


def sign_in(outcome: LaunchOutcome) -> None:
    """Remember who launched, into which course, in which role (one per course)."""
    if session.get("uid") != outcome.user_id:
        session.clear()
    session.permanent = True
    session["uid"] = outcome.user_id
    session["name"] = outcome.user_name
    courses = dict(session.get("courses") or {})
    courses[str(outcome.context_id)] = [outcome.role, outcome.context_title]
    session["courses"] = courses
    if outcome.locale:
        session["locale"] = outcome.locale
    if outcome.message_type == "LtiDeepLinkingRequest":
        session["dl_launch"] = outcome.launch_id


def current_user_id() -> int | None:
    return session.get("uid")


def current_user() -> User | None:
    uid = current_user_id()
    if uid is None:
        return None
    if "user" not in g:
        g.user = db_session().get(User, uid)
    return g.user


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a course page, from the session (no database read)."""

    user_id: int
    name: str
    role: str


@dataclass(frozen=True)
class Course:
    """The course (LTI context) a page belongs to, as recorded at launch."""

    id: int
    title: str


def role_in(context_pk: int) -> str | None:
    entry = (session.get("courses") or {}).get(str(context_pk))
    return entry[0] if entry else None


def course_access(view):
    """Require a launch into the course `ctx` of the URL; gives the view `context`, `role`."""

    @wraps(view)
    def wrapper(ctx: int, *args, **kwargs):
        entry = (session.get("courses") or {}).get(str(ctx))
        if current_user_id() is None or not entry:
            abort(401)
        role, title = entry
        g.context, g.role = Course(id=ctx, title=title), role
        g.viewer = Viewer(user_id=current_user_id(), name=session.get("name", ""), role=role)
        return view(ctx, *args, **kwargs)

    return wrapper


def target_url(outcome: LaunchOutcome) -> str:
    """Where a resource-link launch lands, from the path of its target_link_uri."""
    base_path = urlsplit(current_app.config["PUBLIC_BASE_URL"]).path.rstrip("/")
    path = urlsplit(outcome.target_link_uri).path
    if base_path and path.startswith(base_path):
        path = path[len(base_path) :]
    parts = [p for p in path.split("/") if p]
    ctx = outcome.context_id
    if len(parts) >= 2 and parts[0] == "course":
        module = parts[1]
        if len(parts) == 2:
            return url_for("web.module", ctx=ctx, module_key=module)
        if len(parts) == 3:
            return url_for("web.module", ctx=ctx, module_key=module, _anchor=f"b-{parts[2]}")
        return url_for(
            "web.activity", ctx=ctx, module_key=module, block_key=parts[2], activity_key=parts[3]
        )
    return url_for("web.course_home", ctx=ctx)


def review_url(outcome: LaunchOutcome) -> str:
    """Where a submission review launch lands: the activity type's review of that
    peserta's work (by default its staff page), else the activity page itself."""
    review = outcome.review
    assert review is not None
    ctx = outcome.context_id
    activity = db_session().get(Activity, review.activity_id)
    plugin = current_app.extensions["lti_activities"].get(activity.type) if activity else None
    url = plugin.review_url(ctx, review.module_key, activity, review.user_id) if plugin else None
    return url or url_for(
        "web.activity",
        ctx=ctx,
        module_key=review.module_key,
        block_key=review.block_key,
        activity_key=review.activity_key,
    )
