"""The "send me a test email" of the course's email page: proves that the SMTP
settings work, to the staff member who asked (whether or not they opted out)."""

from __future__ import annotations

from flask_babel import gettext as _

from lti_tool import jobs, mail
from lti_tool.db import session as db_session
from lti_tool.mail import compose, smtp
from lti_tool.models import Context, CourseInstance, User


@jobs.job
def send_test_mail(user_id: int, instance_id: int) -> dict:
    """Mail the staff member a short test message. SMTP failures raise (and are
    retried once by the queue: the person waits for it)."""
    if not mail.enabled():
        return {"sent": 0, "skipped": "mail off"}
    db = db_session()
    user, inst = db.get(User, user_id), db.get(CourseInstance, instance_id)
    if user is None or inst is None or not user.email:
        return {"sent": 0, "skipped": "no address"}
    context = db.get(Context, inst.context_pk)
    course = (context.title if context else None) or inst.module.title
    with compose.in_language(user.locale) as lang:
        letter = compose.Letter(
            subject=_("Test email from Guru Pembelajar Online"),
            greeting=_("Hello %(name)s,", name=user.display_name),
            paragraphs=[
                _(
                    "You asked for this test email on the email page of %(module)s in the "
                    "course “%(course)s”. It arrived, so the tool can send email.",
                    module=inst.module.title,
                    course=course,
                )
            ],
        )
        message = compose.build(user.id, user.display_name, user.email, letter, lang)
    smtp.send(message)
    return {"sent": 1}
