"""The web session after a launch: who is signed in, in which courses, with what role.

One browser may hold launches from several courses (tabs); the session keeps a
role per course, and every course page checks it.

A user the tool's administrator suspends loses an open session on its next request:
every request with a signed-in user looks the id up in a per-process set of the
suspended ids, read at most every LTI_REGISTRY_CACHE_SECONDS (one small indexed query,
not one per request) and at once after this process changes a user. Other processes
see a suspension within that time; new launches are refused at once (the launch
reads the flag in the statement that records the user).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lti_tool.cache import TTLCache
from lti_tool.db import get_db
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


def suspended_ids() -> frozenset[int]:
    """Ids of the suspended users (cached per process, see the module docstring)."""

    def load() -> frozenset[int]:
        with get_db().engine.connect() as conn:
            return frozenset(conn.scalars(select(User.id).where(User.suspended_at.is_not(None))))

    return current_app.extensions["lti_suspended"].get("ids", load)


# A new launch checks suspension itself (and may be another user in this browser).
_UNCHECKED = frozenset({"lti.login", "lti.launch"})


def refuse_suspended():
    """Before each request: end the session of a suspended user (403 page)."""
    uid = session.get("uid")
    endpoint = request.endpoint or ""
    if uid is None or endpoint in _UNCHECKED or endpoint.rpartition(".")[2] == "static":
        return None
    if uid not in suspended_ids():
        return None
    g.locale = session.get("locale")  # the page keeps the user's language
    session.clear()
    title = _("Your account is suspended in this tool.")
    message = _("Contact the tool's administrator to have it restored.")
    return render_template("error.html", title=title, message=message, code=403), 403


def init_app(app: Flask) -> None:
    from lti_tool.extensions import invalidate_on_commit

    cache = TTLCache(app.config["LTI_REGISTRY_CACHE_SECONDS"])
    app.extensions["lti_suspended"] = cache
    invalidate_on_commit(get_db(app), "suspended", (User,), cache.invalidate)
    app.before_request(refuse_suspended)


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
