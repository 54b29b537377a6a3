"""Deadline reminders: who has an activity due in MAIL_REMINDER_DAYS_BEFORE days that
they have not completed, and the job that mails each of them one list a day.

`lti-tool mail reminders` (run by cron or a systemd timer, hourly or daily) calls
`plan` and enqueues `send_reminders` per peserta; the job looks again at send time
(the peserta may have completed the activity, opted out, or the course turned
reminders off since) and claims each item in the sent-log before mailing it, so a
reminder is never sent twice. Days count in each class's time zone, and a class's
reminders go out from MAIL_REMINDER_HOUR o'clock there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import jobs, mail
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.mail import compose, preferences, sentlog, smtp
from lti_tool.models import (
    ActivityCompletion,
    Context,
    CourseInstance,
    CourseMailSettings,
    DueOverride,
    MailSent,
    Membership,
    User,
)
from lti_tool.services import roster, schedule
from lti_tool.services.roles import PESERTA

KIND = "reminder"
#: Retries of a reminder job whose SMTP server failed (10 s, 1 min, 5 min, 15 min, 1 h).
RETRIES = 5


@dataclass(frozen=True)
class DueItem:
    """One activity a peserta has not completed, due `days_before` days after the day
    the reminder is for."""

    instance_id: int
    activity_id: int
    title: str
    block_title: str
    due: date
    days_before: int


def _local_now(tz: str, now: datetime) -> datetime:
    return now.replace(tzinfo=UTC).astimezone(schedule.zone(tz))


def due_items(
    db: Session,
    inst: CourseInstance,
    day: date,
    days: tuple[int, ...],
    user_ids: list[int] | None = None,
) -> dict[int, list[DueItem]]:
    """Per peserta of the class (or of `user_ids`), the activities due `n` days after
    `day` (n in `days`) that they have not completed; withdrawn PLPG peserta have none."""
    if inst.start_date is None:
        return {}
    targets = {day + timedelta(days=n): n for n in days}
    query = select(Membership.user_id).where(
        Membership.context_pk == inst.context_pk, Membership.role == PESERTA
    )
    if user_ids is not None:
        query = query.where(Membership.user_id.in_(user_ids))
    people = set(db.scalars(query)) - roster.withdrawn(db, inst)
    if not people:
        return {}
    everyone: dict[int, date] = {}
    personal: dict[tuple[int, int], date] = {}
    for o in db.scalars(select(DueOverride).where(DueOverride.instance_id == inst.id)):
        if o.user_id is None:
            everyone[o.activity_id] = o.due_date
        elif o.user_id in people:
            personal[(o.activity_id, o.user_id)] = o.due_date
    done = set(
        db.execute(
            select(ActivityCompletion.user_id, ActivityCompletion.activity_id).where(
                ActivityCompletion.context_pk == inst.context_pk,
                ActivityCompletion.completed_at.is_not(None),
            )
        ).all()
    )
    out: dict[int, list[DueItem]] = defaultdict(list)
    for block in inst.module.blocks:
        for a in block.activities:
            base = schedule.due_date(
                inst.start_date, block.week, block.weeks, a.due_day, everyone.get(a.id)
            )
            for uid in sorted(people):
                due = personal.get((a.id, uid), base)
                if due in targets and (uid, a.id) not in done:
                    out[uid].append(DueItem(inst.id, a.id, a.title, block.title, due, targets[due]))
    return dict(out)


def _already(db: Session, inst_id: int, user_ids, dues) -> set[tuple[int, int, date, int]]:
    """(user, activity, due, days_before) of items the sent-log holds."""
    rows = db.execute(
        select(
            MailSent.user_id, MailSent.activity_id, MailSent.due_date, MailSent.days_before
        ).where(
            MailSent.instance_id == inst_id,
            MailSent.kind == KIND,
            MailSent.due_date.in_(list(dues)),
            MailSent.user_id.in_(list(user_ids)),
        )
    )
    return {tuple(r) for r in rows}


def _fresh(db: Session, inst_id: int, by_user: dict[int, list[DueItem]]) -> dict:
    if not by_user:
        return {}
    dues = {i.due for items in by_user.values() for i in items}
    held = _already(db, inst_id, by_user, dues)
    out = {}
    for uid, items in by_user.items():
        left = [i for i in items if (uid, i.activity_id, i.due, i.days_before) not in held]
        if left:
            out[uid] = left
    return out


@dataclass
class Planned:
    """One peserta's reminder mail: the (instance, day) parts it covers, and its items."""

    user_id: int
    email: str
    parts: list[tuple[int, str]] = field(default_factory=list)
    items: list[DueItem] = field(default_factory=list)


def plan(db: Session, now: datetime | None = None) -> list[Planned]:
    """The reminder mails due now (naive UTC `now`), one per peserta, for every class
    with reminders on, a start date, and a local time past MAIL_REMINDER_HOUR."""
    if not mail.enabled():
        return []
    now = now or utcnow()
    days = mail.reminder_days(current_app.config["MAIL_REMINDER_DAYS_BEFORE"])
    hour = current_app.config["MAIL_REMINDER_HOUR"]
    instances = db.scalars(
        select(CourseInstance)
        .join(CourseMailSettings, CourseMailSettings.instance_id == CourseInstance.id)
        .where(CourseMailSettings.reminders.is_(True), CourseInstance.start_date.is_not(None))
        .order_by(CourseInstance.id)
    )
    planned: dict[int, Planned] = {}
    for inst in instances:
        local = _local_now(inst.timezone, now)
        if local.hour < hour:
            continue
        day = local.date()
        by_user = due_items(db, inst, day, days)
        people = preferences.reachable(db, by_user)
        by_user = _fresh(db, inst.id, {u: i for u, i in by_user.items() if u in people})
        for uid, items in by_user.items():
            p = planned.setdefault(uid, Planned(uid, people[uid].email))
            p.parts.append((inst.id, day.isoformat()))
            p.items += items
    return list(planned.values())


def enqueue_planned(planned: list[Planned]) -> list[str]:
    """One job per planned mail; returns the job ids."""
    return [
        jobs.enqueue(
            send_reminders,
            p.user_id,
            [list(part) for part in p.parts],
            retry=RETRIES,
            description=f"reminder mail to user {p.user_id}",
        )
        for p in planned
    ]


def send_planned_now(planned: list[Planned]) -> tuple[int, list[tuple[Planned, Exception]]]:
    """Send the planned mails in this process (a command without a job worker: the
    in-process queue's threads would die with it); returns how many went, and those
    that failed, which the next run plans again."""
    sent, failed = 0, []
    for p in planned:
        try:
            result = send_reminders(p.user_id, [list(part) for part in p.parts])
        except Exception as exc:  # SMTP down: its items were released
            failed.append((p, exc))
            continue
        sent += bool(result.get("sent"))
    return sent, failed


# -- the job -------------------------------------------------------------------------------


def _items_now(db: Session, user_id: int, parts) -> list[tuple[CourseInstance, list[DueItem]]]:
    """What is still to remind the user of, per class: the course still sends
    reminders, the activity is still not completed and not yet past due, and no run
    claimed it."""
    days = mail.reminder_days(current_app.config["MAIL_REMINDER_DAYS_BEFORE"])
    out = []
    for instance_id, day_iso in parts:
        inst = db.get(CourseInstance, int(instance_id))
        if inst is None or not preferences.course_sends(db, inst.id, preferences.REMINDERS):
            continue
        today = schedule.today_in(inst.timezone)
        items = due_items(db, inst, date.fromisoformat(day_iso), days, [user_id]).get(user_id, [])
        items = [i for i in items if i.due >= today]
        items = _fresh(db, inst.id, {user_id: items}).get(user_id, [])
        if items:
            out.append((inst, items))
    return out


def _days_left(left: int) -> str:
    if left <= 0:
        return _("today")
    if left == 1:
        return _("tomorrow")
    return ngettext("in %(num)s day", "in %(num)s days", left)


def _letter(db: Session, user: User, groups, lang: str) -> compose.Letter:
    sections = []
    for inst, items in groups:
        context = db.get(Context, inst.context_pk)
        course = (context.title if context else None) or inst.module.title
        lines = []
        for i in items:
            left = (i.due - schedule.today_in(inst.timezone)).days
            lines.append(
                _(
                    "%(activity)s (%(block)s): due %(due)s, %(when)s",
                    activity=i.title,
                    block=i.block_title,
                    due=compose.due_text(i.due, inst.timezone, lang),
                    when=_days_left(left),
                )
            )
        heading = _("%(module)s, course “%(course)s”", module=inst.module.title, course=course)
        sections.append(compose.Section(heading, lines))
    count = sum(len(items) for _inst, items in groups)
    return compose.Letter(
        subject=ngettext(
            "Reminder: %(num)s activity is due soon",
            "Reminder: %(num)s activities are due soon",
            count,
        ),
        greeting=_("Hello %(name)s,", name=user.display_name),
        paragraphs=[
            ngettext(
                "This activity is due soon and you have not completed it yet:",
                "These activities are due soon and you have not completed them yet:",
                count,
            )
        ],
        sections=sections,
        closing=[
            _(
                "Open the course in your LMS and start the module from there: the tool "
                "opens only through the LMS."
            )
        ],
    )


@jobs.job
def send_reminders(user_id: int, parts: list) -> dict:
    """Mail `user_id` one reminder listing what is due (see `_items_now`). SMTP
    failures raise (the queue retries; the items stay unclaimed)."""
    if not mail.enabled():
        return {"sent": 0, "skipped": "mail off"}
    db = db_session()
    user = preferences.reachable(db, [user_id]).get(user_id)
    if user is None:
        return {"sent": 0, "skipped": "not reachable"}
    groups = _items_now(db, user_id, parts)
    rows = [
        MailSent(
            user_id=user_id,
            instance_id=i.instance_id,
            kind=KIND,
            activity_id=i.activity_id,
            due_date=i.due,
            days_before=i.days_before,
        )
        for _inst, items in groups
        for i in items
    ]
    claimed = sentlog.claim(db, rows)
    if not claimed:
        return {"sent": 0}
    mine = {(r.instance_id, r.activity_id, r.due_date, r.days_before) for r in claimed}
    groups = [
        (inst, [i for i in items if (inst.id, i.activity_id, i.due, i.days_before) in mine])
        for inst, items in groups
    ]
    groups = [(inst, items) for inst, items in groups if items]
    try:
        with compose.in_language(user.locale) as lang:
            letter = _letter(db, user, groups, lang)
            message = compose.build(user.id, user.display_name, user.email, letter, lang)
        smtp.send(message)
    except smtp.AddressRefusedError:
        sentlog.mark(db, claimed, "refused")
        return {"sent": 0, "refused": len(claimed)}
    except Exception:  # not handed over (SMTP down, or composing failed): retry later
        db.rollback()
        sentlog.release(db, claimed)
        raise
    sentlog.mark(db, claimed)
    return {"sent": len(claimed)}
