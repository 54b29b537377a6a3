"""Feedback notices: "your mentor gave feedback on Laporan 2", by email.

Plugins call `notify_feedback` from their grading views (the core imports no plugin),
in the transaction that saves the score or comment: the notice is enqueued only once
that transaction commits (nothing is mailed for a grade that was rolled back). The job
checks everything again at send time and claims the notice in the sent-log by its own
key first, so a job that runs twice mails once.
"""

from __future__ import annotations

import logging
import uuid

from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lti_tool import jobs, mail
from lti_tool.db import session as db_session
from lti_tool.mail import compose, preferences, sentlog, smtp
from lti_tool.models import Context, CourseInstance, MailSent, Membership, User
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU

log = logging.getLogger(__name__)

KIND = "feedback"
#: What was given feedback on, as plugins name it.
KINDS = ("laporan", "tugas", "refleksi", "penilaian")
RETRIES = 5
_PENDING = "lti_tool.mail.notices.pending"
_LISTENING = "lti_tool.mail.notices.listening"


def notify_feedback(
    db: Session,
    inst: CourseInstance | None,
    user_id: int,
    activity_title: str,
    by_user_id: int,
    kind: str,
    *,
    activity_id: int | None = None,
) -> bool:
    """Mail peserta `user_id` that `by_user_id` gave feedback (`kind`, one of KINDS) on
    `activity_title`, if mail is on, the course sends feedback notices, and the peserta
    can be mailed. Call it before the commit that saves the feedback: the job is
    enqueued after that commit (at once when no transaction is open). Returns whether a
    notice was queued or will be."""
    if kind not in KINDS:
        raise ValueError(f"unknown feedback kind {kind!r}")
    if inst is None or user_id == by_user_id or not mail.enabled():
        return False
    open_transaction = db.in_transaction()
    if not preferences.course_sends(db, inst.id, preferences.FEEDBACK):
        return False
    if user_id not in preferences.reachable(db, [user_id]):
        return False
    args = (inst.id, user_id, activity_id, activity_title[:300], by_user_id, kind, uuid.uuid4().hex)
    if open_transaction:
        _after_commit(db, args)
    else:
        _enqueue(args)
    return True


def _after_commit(db: Session, args: tuple) -> None:
    if not db.info.get(_LISTENING):
        event.listen(db, "after_commit", _enqueue_pending)
        event.listen(db, "after_rollback", _drop_pending)
        db.info[_LISTENING] = True
    db.info.setdefault(_PENDING, []).append(args)


def _enqueue_pending(db: Session) -> None:
    for args in db.info.pop(_PENDING, []):
        _enqueue(args)


def _drop_pending(db: Session) -> None:
    db.info.pop(_PENDING, None)


def _enqueue(args: tuple) -> None:
    """Queue the job; a queue that cannot be reached costs the notice, never the grade."""
    try:
        jobs.enqueue(
            send_feedback_notice,
            *args,
            retry=RETRIES,
            description=f"feedback notice to user {args[1]}",
        )
    except Exception:
        log.exception("feedback notice to user %s not queued", args[1])


def _role_words(db: Session, context_pk: int, user_id: int) -> str:
    role = db.scalar(
        select(Membership.role).where(
            Membership.context_pk == context_pk, Membership.user_id == user_id
        )
    )
    return {
        MENTOR: _("your mentor"),
        PENGAMPU: _("your pengampu"),
        ADMIN: _("the class administrator"),
    }.get(role, _("staff of your course"))


def _letter(db: Session, inst: CourseInstance, user: User, title: str, by: User | None, kind: str):
    context = db.get(Context, inst.context_pk)
    course = (context.title if context else None) or inst.module.title
    name = by.display_name if by else _("Your course's staff")
    role = _role_words(db, inst.context_pk, by.id) if by else ""
    info = {"name": name, "role": role, "title": title}
    what = {
        "laporan": _("%(name)s (%(role)s) scored and commented your report “%(title)s”.", **info),
        "tugas": _("%(name)s (%(role)s) graded your task “%(title)s”.", **info),
        "refleksi": _("%(name)s (%(role)s) commented on your reflection “%(title)s”.", **info),
        "penilaian": _("%(name)s (%(role)s) reviewed your self-assessment “%(title)s”.", **info),
    }[kind]
    return compose.Letter(
        subject=_("Feedback on “%(title)s”", title=title),
        greeting=_("Hello %(name)s,", name=user.display_name),
        paragraphs=[what],
        closing=[
            _(
                "Open the course “%(course)s” in your LMS and start %(module)s from there "
                "to read it: the tool opens only through the LMS.",
                course=course,
                module=inst.module.title,
            )
        ],
    )


@jobs.job
def send_feedback_notice(
    instance_id: int,
    user_id: int,
    activity_id: int | None,
    title: str,
    by_user_id: int,
    kind: str,
    ref: str,
) -> dict:
    """Mail one feedback notice (claimed by `ref` first). SMTP failures raise: the
    queue retries, the claim is released."""
    if not mail.enabled():
        return {"sent": 0, "skipped": "mail off"}
    db = db_session()
    inst = db.get(CourseInstance, instance_id)
    if inst is None or not preferences.course_sends(db, inst.id, preferences.FEEDBACK):
        return {"sent": 0, "skipped": "course off"}
    user = preferences.reachable(db, [user_id]).get(user_id)
    if user is None:
        return {"sent": 0, "skipped": "not reachable"}
    claimed = sentlog.claim(
        db,
        [
            MailSent(
                user_id=user_id, instance_id=inst.id, kind=KIND, activity_id=activity_id, ref=ref
            )
        ],
    )
    if not claimed:
        return {"sent": 0, "skipped": "sent already"}
    try:
        with compose.in_language(user.locale) as lang:
            letter = _letter(db, inst, user, title, db.get(User, by_user_id), kind)
            message = compose.build(user.id, user.display_name, user.email, letter, lang)
        smtp.send(message)
    except smtp.AddressRefusedError:
        sentlog.mark(db, claimed, "refused")
        return {"sent": 0, "refused": 1}
    except Exception:
        db.rollback()
        sentlog.release(db, claimed)
        raise
    sentlog.mark(db, claimed)
    return {"sent": 1}
