"""Email pages: a course's email settings (pengampu and admin kelas), and the
unsubscribe page every mail links to, which works without a login.

The unsubscribe link carries a signed token (lti_tool/mail/unsubscribe.py). Opening
it only shows a page with a button: link checkers and mail scanners that open links
change nothing. The button's POST, and the one-click POST mail programs send from the
List-Unsubscribe-Post header (RFC 8058), need no CSRF token: the signed token is the
authorisation, and all it can do is switch that person's emails off or on.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l

from lti_tool import jobs, mail
from lti_tool.db import session as db_session
from lti_tool.extensions import csrf
from lti_tool.i18n import use_locale
from lti_tool.mail import preferences, unsubscribe
from lti_tool.mail.compose import language_of
from lti_tool.mail.trial import send_test_mail
from lti_tool.models import User
from lti_tool.services.roles import ADMIN, PENGAMPU
from lti_tool.web.auth import course_access
from lti_tool.web.views import _instance

bp = Blueprint("mail", __name__)
EDITORS = (PENGAMPU, ADMIN)

ERRORS = {
    "mail_off": _l(
        "Email is turned off on this server (MAIL_ENABLED), so no test email was sent. "
        "Ask the tool's administrator to set up SMTP."
    ),
    "no_email": _l(
        "The LMS did not share your email address with the tool, so no test email was "
        "sent. Nothing was changed."
    ),
    "queue": _l(
        "The job queue cannot be reached right now: no test email was sent. Try again later."
    ),
    "action": _l("Unknown request. Nothing was changed."),
}
DONE = {
    "saved": _l("Email settings saved."),
    "test": _l("A test email is on its way to %(email)s. It may take a few minutes."),
}


@bp.route("/c/<int:ctx>/module/<module_key>/email", methods=["GET", "POST"])
@course_access
def settings(ctx: int, module_key: str):
    """The course's choice of emails, and a test email to the viewer."""
    if g.role not in EDITORS:
        abort(403)
    db = db_session()
    inst = _instance(ctx, module_key)
    me = db.get(User, g.viewer.user_id)
    if request.method == "POST":
        action = request.form.get("action")
        if action == "save":
            preferences.save_course_settings(
                db,
                inst.id,
                reminders=request.form.get("reminders") == "1",
                feedback_notices=request.form.get("feedback_notices") == "1",
                by=g.viewer.user_id,
            )
            db.commit()
            return redirect(
                url_for("mail.settings", ctx=ctx, module_key=module_key, done="saved"), 303
            )
        if action != "test":
            return _page(inst, me, error="action", status=400)
        if not mail.enabled():
            return _page(inst, me, error="mail_off", status=409)
        if me is None or not me.email:
            return _page(inst, me, error="no_email", status=409)
        try:
            jobs.enqueue(send_test_mail, me.id, inst.id, retry=1, description="test email")
        except jobs.JobQueueError:
            return _page(inst, me, error="queue", status=503)
        return redirect(url_for("mail.settings", ctx=ctx, module_key=module_key, done="test"), 303)
    return _page(inst, me, done=request.args.get("done"))


def _page(
    inst, me: User | None, *, error: str | None = None, done: str | None = None, status: int = 200
):
    db = db_session()
    row = preferences.course_settings(db, inst.id)
    cfg = current_app.config
    days = mail.reminder_days(cfg["MAIL_REMINDER_DAYS_BEFORE"])
    notice = None
    if done in DONE:
        notice = DONE[done] % {"email": me.email if me else ""} if done == "test" else DONE[done]
    return render_template(
        "course/mail_settings.html",
        inst=inst,
        module=inst.module,
        enabled=mail.enabled(),
        reminders=bool(row and row.reminders),
        feedback_notices=bool(row and row.feedback_notices),
        days=days,
        hour=cfg["MAIL_REMINDER_HOUR"],
        my_email=me.email if me else None,
        opted_out=bool(me and preferences.opted_out(db, [me.id])),
        unsubscribe_url=unsubscribe.url_for_user(me.id) if me else None,
        error=ERRORS.get(error or ""),
        notice=notice,
        viewer=g.viewer,
        context=g.context,
    ), status


# -- unsubscribe, without a login ----------------------------------------------------------


def _public(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


@bp.route("/mail/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token authorises; see the module docstring
def unsubscribe_page(token: str):
    db = db_session()
    user_id = unsubscribe.user_of(token)
    user = db.get(User, user_id) if user_id is not None else None
    if user is None:
        return _public(render_template("mail/unsubscribe.html", state="invalid"), 404)
    use_locale(language_of(user.locale))
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        choice = "off" if one_click else request.form.get("emails")
        if choice not in ("off", "on"):
            return _public(render_template("mail/unsubscribe.html", state="bad", token=token), 400)
        preferences.set_opted_out(db, user.id, choice == "off")
        db.commit()
        if one_click:
            return _public(render_template("mail/unsubscribe.html", state="off", token=token))
        return redirect(url_for("mail.unsubscribe_page", token=token, done=choice), 303)
    off = bool(preferences.opted_out(db, [user.id]))
    return _public(
        render_template(
            "mail/unsubscribe.html",
            state="off" if off else "on",
            token=token,
            done=request.args.get("done") in ("off", "on"),
        )
    )
