"""Task submissions: due dates, uploads, replacements, deletions and grades (no Flask).

The uploaded files *are* the submission (as in most LMS task types without a separate
"send" step): the first upload makes it submitted, and the LMS is told it waits for a
grader. Every rule is checked here, before anything is stored: the file's name, the
number of files, the due date and the late policy, then each file while it is copied
to storage (its size, its emptiness, its type from its content). A refused upload
stores nothing; several files in one upload are accepted or refused together.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.models import Activity, CourseInstance, DueOverride
from lti_tool.services import completion, schedule
from lti_tool.storage import UNAVAILABLE, LocalStorage, Storage, StorageError
from plugins.tugas.models import TugasFile, TugasGradeAudit, TugasSubmission
from plugins.tugas.settings import FILE_TYPES, TugasSettings, type_of_extension, type_of_mime

#: The longest file name kept (characters, the extension included).
NAME_MAX = 150
#: The longest feedback accepted (characters).
FEEDBACK_MAX = 5000


class TugasError(Exception):
    """A request the task's rules refuse: `code` picks the message, `status` the HTTP
    answer, `info` fills the message in."""

    STATUS = {
        "missing": 400,
        "name": 400,
        "name_control": 400,
        "empty": 400,
        "too_large": 413,
        "storage_unavailable": 503,
        "type": 415,
        "mismatch": 415,
        "closed": 409,
        "too_many": 409,
        "score": 400,
        "score_removed": 400,
        "feedback_html": 400,
        "feedback_long": 400,
    }

    def __init__(self, code: str, **info: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = self.STATUS.get(code, 400)
        self.info = info


def settings_of(activity: Activity) -> TugasSettings:
    return TugasSettings.model_validate(activity.settings or {})


# -- due dates -------------------------------------------------------------------------


def instance_of(db: Session, context_pk: int, activity: Activity) -> CourseInstance | None:
    return db.scalars(
        select(CourseInstance).where(
            CourseInstance.context_pk == context_pk,
            CourseInstance.module_key == activity.block.module.key,
        )
    ).first()


def deadline(
    db: Session, inst: CourseInstance | None, activity: Activity, user_id: int
) -> datetime | None:
    """The end of the due day (naive UTC) for this peserta: their own moved due date,
    else the class's, else the template's; None while the class has no start date."""
    if inst is None or inst.start_date is None:
        return None
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
    block = activity.block
    due = schedule.due_date(
        inst.start_date,
        block.week,
        block.weeks,
        activity.due_day,
        overrides.get(None),
        overrides.get(user_id),
    )
    return schedule.end_of_day_utc(due, inst.timezone)


def is_late(moment: datetime, due: datetime | None) -> bool:
    return due is not None and moment > due


def closed(settings: TugasSettings, due: datetime | None, now: datetime) -> bool:
    """Whether the peserta can no longer change their submission."""
    return settings.late == "refuse" and is_late(now, due)


# -- names and text ----------------------------------------------------------------------

_BIDI = {"\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def _control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in _BIDI


def shown_name(raw: str) -> str:
    """A name fit to repeat in a message: control characters replaced, length limited."""
    text = "".join("\ufffd" if _control(c) else c for c in raw)
    return text if len(text) <= 80 else text[:77] + "..."


def clean_filename(raw: str | None) -> str:
    """The peserta's file name as it will be shown and downloaded, or TugasError.

    A name with folder parts (/ or \\), markup characters (< >), control or text-
    direction characters, or nothing but dots is refused rather than silently changed,
    so the peserta knows which file to rename. Spaces are tidied and a long name is
    shortened, keeping its extension."""
    if raw is None or not raw.strip():
        raise TugasError("missing")
    name = unicodedata.normalize("NFC", raw)
    if any(_control(c) for c in name):
        raise TugasError("name_control", name=shown_name(name))
    name = " ".join(name.split())
    if "/" in name or "\\" in name or "<" in name or ">" in name or not name.strip("."):
        raise TugasError("name", name=shown_name(name))
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            name = stem[: NAME_MAX - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:NAME_MAX].rstrip()
    return name


def download_name(name: str, mime: str) -> str:
    """The name a file is downloaded under: the peserta's, with the extension of its
    real type added when the name does not carry one ("laporan" -> "laporan.pdf")."""
    kind = type_of_mime(mime)
    if kind is None:
        return name
    ext = PurePosixPath(name).suffix.lstrip(".").lower()
    if ext in FILE_TYPES[kind][2]:
        return name
    return f"{name}.{FILE_TYPES[kind][1]}"


_TAG = re.compile(r"<\s*/?\s*[A-Za-z][^<>]*>|<\s*[!?]")


def clean_feedback(raw: str | None) -> str | None:
    """Feedback as plain text: line ends unified, control characters dropped; text with
    HTML tags is refused (it would show as code, or be meant to run)."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(c for c in text if c in "\n\t" or not _control(c)).strip()
    if not text:
        return None
    if len(text) > FEEDBACK_MAX:
        raise TugasError("feedback_long", n=FEEDBACK_MAX)
    if _TAG.search(text):
        raise TugasError("feedback_html")
    return text


def parse_score(raw: str | None, top: Decimal) -> Decimal | None:
    """A score typed by staff: 0..top, at most two decimals, comma or point."""
    text = (raw or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise TugasError("score", max=top) from exc
    if (
        not value.is_finite()
        or value < 0
        or value > top
        or value != value.quantize(Decimal("0.01"))
    ):
        raise TugasError("score", max=top)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- submissions -------------------------------------------------------------------------


def submission_of(
    db: Session, context_pk: int, activity_id: int, user_id: int
) -> TugasSubmission | None:
    return db.scalars(
        select(TugasSubmission).where(
            TugasSubmission.context_pk == context_pk,
            TugasSubmission.activity_id == activity_id,
            TugasSubmission.user_id == user_id,
        )
    ).first()


def files_in(db: Session, submission: TugasSubmission | None) -> list[TugasFile]:
    if submission is None or submission.id is None:
        return []
    return list(
        db.scalars(
            select(TugasFile)
            .where(TugasFile.submission_id == submission.id)
            .order_by(TugasFile.uploaded_at, TugasFile.id)
        )
    )


def _submission_for(db: Session, context_pk: int, activity: Activity, user_id: int):
    sub = submission_of(db, context_pk, activity.id, user_id)
    if sub is not None:
        return sub
    sub = TugasSubmission(context_pk=context_pk, activity_id=activity.id, user_id=user_id)
    try:
        with db.begin_nested():
            db.add(sub)
    except IntegrityError:
        # another request of the same peserta created it at the same moment
        db.expire_all()
        sub = submission_of(db, context_pk, activity.id, user_id)
        if sub is None:
            raise
    return sub


@dataclass
class Incoming:
    """A file arriving in a request: the name the browser sent and its stream."""

    filename: str | None
    stream: BinaryIO


@dataclass
class Change:
    """What an upload or deletion did; the caller commits, then removes `obsolete`
    (stored names of files no longer in the submission), or on a failed commit
    removes `stored` (the new files)."""

    files: list[TugasFile] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)


_MARKUP = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<script|<svg|<\?xml)", re.I)


def _looks_like_markup(head: bytes) -> bool:
    return bool(_MARKUP.match(head[:512].removeprefix(b"\xef\xbb\xbf")))


def _store_all(
    store: Storage, settings: TugasSettings, named: list[tuple[str, BinaryIO]]
) -> list[tuple[str, Any]]:
    """Copy every file to storage, checking each; on any refusal remove the ones already
    copied and raise (so nothing of this upload stays)."""
    allowed = settings.allowed()
    done: list[tuple[str, Any]] = []
    try:
        for name, stream in named:
            try:
                stored = store.save(stream, max_bytes=settings.max_bytes, allowed=allowed)
            except StorageError as exc:
                raise TugasError(
                    exc.code if exc.code in ("empty", "too_large", "type", UNAVAILABLE) else "type",
                    name=shown_name(name),
                    mb=settings.max_mb,
                    types=", ".join(t.upper() for t in settings.types),
                ) from exc
            done.append((name, stored))
            actual = type_of_mime(stored.mime)
            claimed = type_of_extension(PurePosixPath(name).suffix.lstrip("."))
            if claimed is not None and claimed != actual:
                raise TugasError(
                    "mismatch",
                    name=shown_name(name),
                    claimed=claimed.upper(),
                    actual=actual.upper(),
                )
            if stored.mime == "text/plain" and _looks_like_markup(stored.head):
                raise TugasError(
                    "type",
                    name=shown_name(name),
                    types=", ".join(t.upper() for t in settings.types),
                )
    except BaseException:
        for _name, stored in done:
            store.delete(stored.name)
        raise
    return done


def upload(
    db: Session,
    store: Storage,
    *,
    context_pk: int,
    inst: CourseInstance | None,
    activity: Activity,
    user_id: int,
    incoming: list[Incoming],
    now: datetime,
    replace: TugasFile | None = None,
) -> Change:
    """Add files to the peserta's submission (or put one in the place of `replace`).
    The caller commits; see Change."""
    settings = settings_of(activity)
    due = deadline(db, inst, activity, user_id)
    if closed(settings, due, now):
        raise TugasError("closed", at=due)
    incoming = [f for f in incoming if f.filename]
    if not incoming or (replace is not None and len(incoming) != 1):
        raise TugasError("missing")
    names = [clean_filename(f.filename) for f in incoming]  # every name before any byte
    sub = _submission_for(db, context_pk, activity, user_id)
    current = files_in(db, sub)
    if replace is not None and replace.id not in {f.id for f in current}:
        raise TugasError("missing")  # the caller found it; it was deleted meanwhile
    after = len(current) - (replace is not None) + len(incoming)
    if after > settings.max_files:
        raise TugasError("too_many", n=settings.max_files)
    stored = _store_all(
        store, settings, list(zip(names, (f.stream for f in incoming), strict=True))
    )
    change = Change(stored=[s.name for _n, s in stored])
    try:
        if replace is not None:
            change.obsolete.append(replace.stored_name)
            db.delete(replace)
        for name, s in stored:
            row = TugasFile(
                submission_id=sub.id,
                stored_name=s.name,
                original_name=name,
                mime=s.mime,
                size=s.size,
                sha256=s.sha256,
                uploaded_at=now,
            )
            db.add(row)
            change.files.append(row)
        had_files = bool(current)
        sub.updated_at = now
        if sub.submitted_at is None:
            sub.submitted_at = now
        db.flush()
        if len(files_in(db, sub)) > settings.max_files:  # a second upload at the same moment
            raise TugasError("too_many", n=settings.max_files)
        completion.record(db, context_pk, activity, user_id, "submitted")
        if not had_files and sub.score is None and activity.graded:
            from grading import passback

            passback.waiting_for_grader(db, context_pk, activity, user_id)
    except BaseException:
        for name in change.stored:
            store.delete(name)
        raise
    return change


def delete(
    db: Session,
    *,
    inst: CourseInstance | None,
    activity: Activity,
    submission: TugasSubmission,
    file: TugasFile,
    now: datetime,
) -> Change:
    """Take a file out of the peserta's submission (the caller commits)."""
    settings = settings_of(activity)
    due = deadline(db, inst, activity, submission.user_id)
    if closed(settings, due, now):
        raise TugasError("closed", at=due)
    db.delete(file)
    submission.updated_at = now
    return Change(obsolete=[file.stored_name])


# -- status and grades -------------------------------------------------------------------

NOT_SUBMITTED, SUBMITTED, LATE, GRADED = "not_submitted", "submitted", "late", "graded"


@dataclass(frozen=True)
class Standing:
    """Where a peserta's submission stands, for both the peserta and the staff."""

    status: str  # not_submitted | submitted | late | graded
    files: list[TugasFile]
    late: bool  # a current file came after the due date
    due: datetime | None
    submission: TugasSubmission | None
    changed_after_grading: bool

    @property
    def score(self) -> str | None:
        return self.submission.score if self.submission else None


def is_graded(activity: Activity, sub: TugasSubmission | None) -> bool:
    if sub is None:
        return False
    return sub.score is not None if activity.graded else sub.graded_at is not None


def standing(
    db: Session,
    inst: CourseInstance | None,
    activity: Activity,
    sub: TugasSubmission | None,
    user_id: int,
    due: datetime | None = None,
    files: list[TugasFile] | None = None,
) -> Standing:
    due = due if due is not None else deadline(db, inst, activity, user_id)
    files = files if files is not None else files_in(db, sub)
    late = any(is_late(f.uploaded_at, due) for f in files)
    graded = is_graded(activity, sub)
    if graded:
        status = GRADED
    elif not files:
        status = NOT_SUBMITTED
    else:
        status = LATE if late else SUBMITTED
    changed = bool(
        graded and sub.graded_at and sub.updated_at and sub.updated_at > sub.graded_at and files
    )
    return Standing(status, files, late, due, sub, changed)


def grade(
    db: Session,
    *,
    context_pk: int,
    activity: Activity,
    user_id: int,
    by: int,
    score_text: str | None,
    feedback_text: str | None,
    now: datetime,
) -> bool:
    """Save a grade and feedback for the peserta (audited); report the score to
    `grading/` with the feedback as its comment. Returns whether anything changed.
    The caller commits."""
    settings = settings_of(activity)
    top = Decimal(activity.max_score)
    score = parse_score(score_text, top) if activity.graded else None
    feedback = clean_feedback(feedback_text)
    sub = _submission_for(db, context_pk, activity, user_id)
    if activity.graded and score is None and sub.score is not None:
        raise TugasError("score_removed")
    new_score = None if score is None else str(score)
    if (new_score, feedback) == (sub.score, sub.feedback):
        return False
    old_score, old_max, old_feedback = sub.score, sub.max_score, sub.feedback
    db.add(
        TugasGradeAudit(
            submission_id=sub.id,
            old_score=old_score,
            new_score=new_score,
            feedback=feedback,
            changed_by=by,
            changed_at=now,
        )
    )
    sub.score = new_score
    if score is not None:
        sub.max_score = str(top)
    sub.feedback = feedback
    sub.graded_by = by
    sub.graded_at = now
    db.flush()
    if score is None:
        return True
    from grading import passback
    from grading.report import report_score

    report_score(
        db,
        context_pk=context_pk,
        activity=activity,
        user_id=user_id,
        score=score,
        max_score=top,
        source="tugas",
        comment=feedback,
    )
    if (old_score, old_max) == (new_score, str(top)) and feedback != old_feedback:
        # the same score, so grading/ queued nothing: send the new feedback with it
        passback.score_changed(db, context_pk, activity, user_id, score, top, feedback)
    completion.record(db, context_pk, activity, user_id, "graded")
    if settings.pass_mark is not None and score * 100 / top >= settings.pass_mark:
        completion.record(db, context_pk, activity, user_id, "passed")
    return True


def audit_of(db: Session, sub: TugasSubmission | None) -> list[TugasGradeAudit]:
    if sub is None:
        return []
    return list(
        db.scalars(
            select(TugasGradeAudit)
            .where(TugasGradeAudit.submission_id == sub.id)
            .order_by(TugasGradeAudit.changed_at.desc(), TugasGradeAudit.id.desc())
        )
    )


def sweep(
    db: Session, store: Storage | Path, now: datetime, min_age: timedelta = timedelta(days=1)
) -> int:
    """Remove from storage (a Storage, or a folder) what no row points to and is older
    than `min_age`: copies of a process killed while copying, and stored files whose
    transaction never committed. Returns how many were removed."""
    if isinstance(store, Path):
        store = LocalStorage(store)
    known = set(db.scalars(select(TugasFile.stored_name)))
    return store.sweep(known, (now - min_age).replace(tzinfo=None))


def regrade(db: Session, context_pk: int, activity: Activity, user_id: int) -> Decimal | None:
    """Report the stored grade again (a no-op when grading/ has it); its percent."""
    sub = submission_of(db, context_pk, activity.id, user_id)
    if sub is None or sub.score is None or not sub.max_score:
        return None
    from grading.report import report_score

    score, top = Decimal(sub.score), Decimal(sub.max_score)
    report_score(
        db,
        context_pk=context_pk,
        activity=activity,
        user_id=user_id,
        score=score,
        max_score=top,
        source="tugas",
        comment=sub.feedback,
    )
    return score * 100 / top
