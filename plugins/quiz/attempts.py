"""Attempts: opening hours, starting, autosaving, submitting and grading.

Every rule is checked here on the server (the page's timer is only a courtesy): answers
are accepted until the attempt's deadline plus a short grace for a slow connection; an
attempt past its deadline is finished with the answers it saved, whoever touches it
first. The quiz grade (highest, last, first or mean attempt) goes to `grading/`.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grading.report import report_score
from lti_tool.models import Activity, CourseInstance, DueOverride
from lti_tool.services import completion, schedule
from lti_tool.web.params import int_param
from plugins.quiz import banks, engine
from plugins.quiz.models import QuizAttempt
from plugins.quiz.settings import QuizSettings

GRACE = timedelta(seconds=30)


class QuizError(Exception):
    """A request the quiz rules refuse; `code` picks the message shown."""

    def __init__(self, code: str, **info: Any) -> None:
        super().__init__(code)
        self.code = code
        self.info = info


def settings_of(activity: Activity) -> QuizSettings:
    return QuizSettings.model_validate(activity.settings or {})


@dataclass(frozen=True)
class Window:
    opens: datetime | None  # naive UTC
    closes: datetime | None


def window(db: Session, inst: CourseInstance | None, activity: Activity, user_id: int) -> Window:
    """When the quiz opens and closes for this peserta (no dates: always open)."""
    if inst is None or inst.start_date is None:
        return Window(None, None)
    s = settings_of(activity)
    block = activity.block
    span = schedule.block_span(inst.start_date, block.week, block.weeks)
    overrides = {
        o.user_id: o.due_date
        for o in db.scalars(
            select(DueOverride).where(
                DueOverride.instance_id == inst.id,
                DueOverride.activity_id == activity.id,
                (DueOverride.user_id.is_(None)) | (DueOverride.user_id == user_id),
            )
        )
    }
    due = schedule.due_date(
        inst.start_date,
        block.week,
        block.weeks,
        activity.due_day,
        overrides.get(None),
        overrides.get(user_id),
    )
    first = span.first + timedelta(days=s.opens_day or 0)
    opens = schedule.end_of_day_utc(first - timedelta(days=1), inst.timezone) + timedelta(seconds=1)
    return Window(opens, schedule.end_of_day_utc(due, inst.timezone))


def attempts_of(db: Session, ctx: int, activity_id: int, user_id: int) -> list[QuizAttempt]:
    return list(
        db.scalars(
            select(QuizAttempt)
            .where(
                QuizAttempt.context_pk == ctx,
                QuizAttempt.activity_id == activity_id,
                QuizAttempt.user_id == user_id,
            )
            .order_by(QuizAttempt.number)
        )
    )


def overdue(attempt: QuizAttempt, now: datetime) -> bool:
    return (
        attempt.state == "inprogress"
        and attempt.deadline is not None
        and now > attempt.deadline + GRACE
    )


def start(
    db: Session,
    ctx: int,
    inst: CourseInstance | None,
    activity: Activity,
    user_id: int,
    now: datetime,
    files_dir: Path,
) -> QuizAttempt:
    """The attempt in progress, or a new one if the rules allow (the caller commits)."""
    s = settings_of(activity)
    mine = attempts_of(db, ctx, activity.id, user_id)
    for a in mine:
        if overdue(a, now):
            finish(db, a, activity, "timeout", now)
    going = next((a for a in mine if a.state == "inprogress"), None)
    if going is not None:
        return going
    win = window(db, inst, activity, user_id)
    if win.opens is not None and now < win.opens:
        raise QuizError("not_open", at=win.opens)
    if win.closes is not None and now > win.closes:
        raise QuizError("closed")
    if s.attempts and len(mine) >= s.attempts:
        raise QuizError("no_attempts_left", allowed=s.attempts)
    bank = banks.ensure_template_bank(db, activity.block.module, files_dir, s.bank)
    pool = banks.questions_of(db, bank, s.category) if bank is not None else []
    if not pool or (s.questions is not None and len(pool) < s.questions):
        raise QuizError("bank_short", have=len(pool), need=s.questions or 1)
    rng = random.Random(secrets.randbits(64))
    slots = engine.draw(
        [(q.id, q.data) for q in pool],
        s.questions,
        rng,
        shuffle_questions=s.shuffle_questions,
        shuffle_answers=s.shuffle_answers,
    )
    deadline = None
    if s.time_limit:
        deadline = now + timedelta(minutes=s.time_limit)
    if win.closes is not None:
        deadline = min(deadline or win.closes, win.closes)
    attempt = QuizAttempt(
        context_pk=ctx,
        activity_id=activity.id,
        user_id=user_id,
        number=len(mine) + 1,
        slots=slots,
        answers={},
        started_at=now,
        deadline=deadline,
    )
    try:
        with db.begin_nested():
            db.add(attempt)
    except IntegrityError:
        # A second click started the same attempt in another request: continue that one.
        db.expire_all()
        again = [a for a in attempts_of(db, ctx, activity.id, user_id) if a.state == "inprogress"]
        if again:
            return again[0]
        raise
    return attempt


def read_answers(attempt: QuizAttempt, form) -> dict[str, Any]:
    """The answers a posted attempt form holds, by slot; QuizError("tampered") when a
    field names a slot or an option that this attempt never showed."""
    raw: dict[str, Any] = {}
    for key in form:
        if not key.startswith("s") or key == "submit":
            continue
        head, _, sub = key[1:].partition("-")
        index = int_param(head, 4)
        if index is None or index >= len(attempt.slots):
            raise QuizError("tampered")
        slot = attempt.slots[index]
        snap_type = slot["snap"]["qtype"]
        if sub:
            if snap_type != "matching":
                raise QuizError("tampered")
            raw.setdefault(head, {})[sub] = form.get(key)
        elif snap_type == "multiresponse":
            raw[head] = form.getlist(key)
        else:
            raw[head] = form.get(key)
    out = {}
    for n, value in raw.items():
        try:
            cleaned = engine.clean_answer(attempt.slots[int(n)], value)
        except engine.AnswerError as exc:
            raise QuizError("tampered") from exc
        if cleaned is not None:
            out[n] = cleaned
    return out


def save(
    db: Session, attempt: QuizAttempt, activity: Activity, answers: dict, now: datetime
) -> None:
    """Store the attempt's answers (the whole form each time); refused once it is over.

    The conditional update takes the attempt's row for this transaction: a second
    submit or an autosave racing with a submit waits here, then finds it finished."""
    taken = db.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.state == "inprogress")
        .values(saved_at=now)
    ).rowcount
    db.refresh(attempt)
    if not taken or attempt.state != "inprogress":
        raise QuizError("finished")
    if overdue(attempt, now):
        finish(db, attempt, activity, "timeout", now)
        raise QuizError("time_up")
    attempt.answers = answers
    attempt.saved_at = now


def stored(value: Decimal) -> str:
    """Points as kept in the attempt's 20-character column: partial credit such as 1/3
    has endless digits (PostgreSQL refuses a longer value; SQLite kept it whole). The
    percentage is computed from the unrounded points before this."""
    text = f"{value.quantize(Decimal('0.0000001'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def finish(db: Session, attempt: QuizAttempt, activity: Activity, how: str, now: datetime) -> None:
    """Grade the attempt with its saved answers and report the quiz grade."""
    graded = engine.grade(attempt.slots, attempt.answers or {})
    attempt.state = "finished"
    attempt.finished_by = how
    attempt.finished_at = min(now, attempt.deadline + GRACE) if attempt.deadline else now
    attempt.points = stored(graded.points)
    attempt.max_points = stored(graded.max_points)
    attempt.percent = str(graded.percent)
    attempt.fractions = [str(f) for f in graded.per_slot]
    db.flush()
    update_grade(db, attempt.context_pk, activity, attempt.user_id)


def update_grade(db: Session, ctx: int, activity: Activity, user_id: int) -> Decimal | None:
    """Combine the finished attempts as the quiz says and report the grade."""
    s = settings_of(activity)
    done = [
        Decimal(a.percent)
        for a in attempts_of(db, ctx, activity.id, user_id)
        if a.state == "finished" and a.percent is not None
    ]
    pct = engine.combine(done, s.grading_method)
    if pct is None:
        return None
    top = Decimal(activity.max_score)
    points = (pct * top / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    report_score(
        db,
        context_pk=ctx,
        activity=activity,
        user_id=user_id,
        score=points,
        max_score=top,
        source="quiz",
    )
    completion.record(db, ctx, activity, user_id, "graded")
    if s.pass_mark is not None and pct >= s.pass_mark:
        completion.record(db, ctx, activity, user_id, "passed")
    return pct


def finish_overdue(db: Session, ctx: int, activity: Activity, now: datetime) -> int:
    """Finish every attempt of the quiz whose time is up (for staff pages and cleanup)."""
    rows = db.scalars(
        select(QuizAttempt).where(
            QuizAttempt.context_pk == ctx,
            QuizAttempt.activity_id == activity.id,
            QuizAttempt.state == "inprogress",
            QuizAttempt.deadline.is_not(None),
            QuizAttempt.deadline < now - GRACE,
        )
    ).all()
    for a in rows:
        finish(db, a, activity, "timeout", now)
    return len(rows)


def finish_all_overdue(db: Session, now: datetime) -> int:
    """finish_overdue over every quiz (for `lti-tool cleanup`); the caller commits."""
    rows = db.scalars(
        select(QuizAttempt).where(
            QuizAttempt.state == "inprogress",
            QuizAttempt.deadline.is_not(None),
            QuizAttempt.deadline < now - GRACE,
        )
    ).all()
    for a in rows:
        finish(db, a, db.get(Activity, a.activity_id), "timeout", now)
    return len(rows)
