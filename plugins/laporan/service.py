"""Progress reports: deadlines, uploads, cancellations, reviews and the score (no Flask).

Every rule is checked before anything is stored: the report exists, the file's name,
the deadline, that a scored report is no longer changed; then the file while it is
copied to storage (its size, its emptiness, its type from its content, which must
agree with the name's extension). A refused upload stores nothing. Replacing or
cancelling deletes the earlier file but keeps its row (the audit of what was handed
in when); the caller deletes the files listed by the function once it committed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import Activity, ActivityScore, CourseInstance
from lti_tool.services import completion, roster, schedule
from lti_tool.storage import Storage, StorageError
from plugins.laporan.models import LaporanAudit, LaporanDeadline, LaporanSubmission
from plugins.laporan.settings import FILE_TYPES, LaporanSettings

#: The longest file name kept (characters, the extension included).
NAME_MAX = 150
#: The longest comment accepted (characters).
COMMENT_MAX = 5000
#: Rows that are a report's current state (at most one per report).
CURRENT = ("submitted", "missing")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class LaporanError(Exception):
    """A request the rules refuse: `code` picks the message, `status` the HTTP answer,
    `info` fills the message in. Nothing was stored."""

    STATUS = {
        "missing_file": 400,
        "name": 400,
        "name_control": 400,
        "name_long": 400,
        "empty": 400,
        "too_large": 413,
        "storage_unavailable": 503,
        "type": 415,
        "mismatch": 415,
        "closed": 409,
        "scored": 409,
        "nothing": 409,
        "busy": 409,
        "score": 400,
        "score_removed": 400,
        "comment_html": 400,
        "comment_long": 400,
        "not_missed": 409,
        "date": 400,
        "time_without_date": 400,
    }

    def __init__(self, code: str, **info: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = self.STATUS.get(code, 400)
        self.info = info


def settings_of(activity: Activity) -> LaporanSettings:
    return LaporanSettings.model_validate(activity.settings or {})


# -- file names ---------------------------------------------------------------------------

_RESERVED = set('<>:"|?*')


def check_name(raw: str | None) -> str:
    """The peserta's file name as given, if it is a plain file name: no folder parts,
    no control or invisible formatting characters, none of < > : " | ? *, not only
    dots, at most NAME_MAX characters. Refused otherwise (the name is never used as a
    path: stored files get generated names)."""
    name = unicodedata.normalize("NFC", raw or "")
    if not name.strip():
        raise LaporanError("missing_file")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise LaporanError("name_control", name=_printable(name))
    if "/" in name or "\\" in name or any(c in _RESERVED for c in name) or not name.strip("."):
        raise LaporanError("name", name=_printable(name))
    name = name.strip()
    if len(name) > NAME_MAX:
        raise LaporanError("name_long", name=name[:40] + "…", n=NAME_MAX)
    return name


def _printable(name: str) -> str:
    """A refused name as it can be shown back: control characters as `?`, shortened."""
    shown = "".join("?" if unicodedata.category(c)[0] == "C" else c for c in name)
    return shown if len(shown) <= 80 else shown[:79] + "…"


def extension(name: str) -> str | None:
    if "." not in name.strip(".") or name.endswith("."):
        return None
    return name.rsplit(".", 1)[1].lower()


def _type_of_extension(ext: str) -> str | None:
    return next((t for t, (_m, _s, exts) in FILE_TYPES.items() if ext in exts), None)


def _type_of_mime(mime: str) -> str | None:
    return next((t for t, (m, _s, _e) in FILE_TYPES.items() if m == mime), None)


# -- deadlines ------------------------------------------------------------------------------


def rombel_id_of(db: Session, inst: CourseInstance, user_id: int) -> int | None:
    return roster.assignments(db, inst).get(user_id)


def deadlines(db: Session, inst: CourseInstance, activity: Activity) -> dict:
    """{(rombel id or None, report key): LaporanDeadline} of the activity."""
    rows = db.scalars(
        select(LaporanDeadline).where(
            LaporanDeadline.instance_id == inst.id, LaporanDeadline.activity_id == activity.id
        )
    )
    return {(r.rombel_id, r.report_key): r for r in rows}


def deadline_for(table: dict, rombel_id: int | None, key: str) -> datetime | None:
    """The rombel's own deadline for the report, else the class-wide one (UTC)."""
    row = table.get((rombel_id, key)) if rombel_id is not None else None
    row = row or table.get((None, key))
    return row.due_at if row is not None else None


def parse_deadline(day: str, clock: str, tz: str) -> datetime | None:
    """A date (YYYY-MM-DD) and time (HH:MM, default 23:59) in the class time zone, as
    naive UTC; None when both are empty (the deadline is removed)."""
    day, clock = (day or "").strip(), (clock or "").strip()
    if not day and not clock:
        return None
    if not day:
        raise LaporanError("time_without_date")
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day) or not re.fullmatch(
        r"([0-9]{2}:[0-9]{2})?", clock
    ):
        raise LaporanError("date")
    try:
        d = date.fromisoformat(day)
        t = time.fromisoformat(clock) if clock else time(23, 59)
    except ValueError:
        raise LaporanError("date") from None
    if not 2000 <= d.year <= 2100:
        raise LaporanError("date")
    # the whole minute typed counts: "23:59" is until 23:59:59
    local = datetime.combine(d, t.replace(second=59), tzinfo=schedule.zone(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def set_deadline(
    db: Session,
    inst: CourseInstance,
    activity: Activity,
    rombel_id: int | None,
    key: str,
    due_at: datetime | None,
    by: int,
) -> bool:
    """Set (or remove, with None) the report's deadline for a rombel (None: the class);
    True when it changed."""
    row = deadlines(db, inst, activity).get((rombel_id, key))
    if row is None and due_at is None:
        return False
    if row is not None and row.due_at == due_at:
        return False
    before = row.due_at.isoformat() if row is not None else None
    if due_at is None:
        db.delete(row)
    elif row is None:
        db.add(
            LaporanDeadline(
                instance_id=inst.id,
                activity_id=activity.id,
                rombel_id=rombel_id,
                report_key=key,
                due_at=due_at,
                set_by=by,
            )
        )
    else:
        row.due_at, row.set_by = due_at, by
    _audit(
        db,
        inst.context_pk,
        activity,
        None,
        key,
        "deadline",
        by,
        rombel_id=rombel_id,
        before=before,
        after=due_at.isoformat() if due_at else None,
    )
    return True


# -- submissions --------------------------------------------------------------------------


def current(db: Session, ctx: int, activity_id: int, user_ids: list[int] | None = None) -> dict:
    """{(user id, report key): the current row (submitted or missing)}."""
    query = select(LaporanSubmission).where(
        LaporanSubmission.context_pk == ctx,
        LaporanSubmission.activity_id == activity_id,
        LaporanSubmission.state.in_(CURRENT),
    )
    if user_ids is not None:
        query = query.where(LaporanSubmission.user_id.in_(user_ids))
    return {(r.user_id, r.report_key): r for r in db.scalars(query)}


def history(db: Session, ctx: int, activity_id: int, user_id: int) -> list[LaporanSubmission]:
    return list(
        db.scalars(
            select(LaporanSubmission)
            .where(
                LaporanSubmission.context_pk == ctx,
                LaporanSubmission.activity_id == activity_id,
                LaporanSubmission.user_id == user_id,
            )
            .order_by(LaporanSubmission.submitted_at, LaporanSubmission.id)
        )
    )


def _audit(db, ctx, activity, user_id, key, action, by, **detail) -> None:
    db.add(
        LaporanAudit(
            context_pk=ctx,
            activity_id=activity.id,
            user_id=user_id,
            report_key=key,
            action=action,
            by=by,
            detail=detail,
        )
    )


def _open_for_change(row: LaporanSubmission | None, due: datetime | None, now: datetime) -> None:
    if row is not None and row.score is not None:
        raise LaporanError("scored")
    if due is not None and now > due:
        raise LaporanError("closed", due=due)


@dataclass
class Stored:
    row: LaporanSubmission
    delete_after_commit: list[str]


def upload(
    db: Session,
    storage: Storage,
    *,
    ctx: int,
    activity: Activity,
    user_id: int,
    key: str,
    due: datetime | None,
    filename: str | None,
    stream: BinaryIO,
    now: datetime,
) -> Stored:
    """Hand in (or replace) the peserta's report `key`; refused before the deadline
    check passes, and then while storing, with nothing stored."""
    s = settings_of(activity)
    name = check_name(filename)
    old = current(db, ctx, activity.id, [user_id]).get((user_id, key))
    _open_for_change(old, due, now)
    ext = extension(name)
    if ext is not None and _type_of_extension(ext) not in s.types:
        raise LaporanError("type", name=name, types=s.type_names())
    try:
        stored = storage.save(stream, max_bytes=s.max_mb * 1024 * 1024, allowed=s.allowed())
    except StorageError as exc:
        raise LaporanError(exc.code, name=name, mb=s.max_mb, types=s.type_names()) from None
    actual = _type_of_mime(stored.mime)
    if ext is not None and _type_of_extension(ext) != actual:
        storage.delete(stored.name)
        raise LaporanError(
            "mismatch", name=name, claimed=ext.upper(), actual=(actual or "?").upper()
        )
    if ext is None:
        name = f"{name}.{FILE_TYPES[actual][1]}"
    to_delete = []
    if old is not None:
        old.state, old.removed_at, old.removed_by = "replaced", now, user_id
        if old.stored_name:
            to_delete.append(old.stored_name)
        old.stored_name = None
        db.flush()  # the partial unique index sees one current row at a time
    row = LaporanSubmission(
        context_pk=ctx,
        activity_id=activity.id,
        user_id=user_id,
        report_key=key,
        state="submitted",
        stored_name=stored.name,
        original_name=name,
        mime=stored.mime,
        size=stored.size,
        sha256=stored.sha256,
        submitted_at=now,
    )
    db.add(row)
    _audit(
        db,
        ctx,
        activity,
        user_id,
        key,
        "replaced" if old is not None else "uploaded",
        user_id,
        name=name,
        size=stored.size,
        sha256=stored.sha256,
    )
    db.flush()
    mine = current(db, ctx, activity.id, [user_id])
    if all(
        (user_id, r.key) in mine and mine[(user_id, r.key)].state == "submitted" for r in s.reports
    ):
        completion.record(db, ctx, activity, user_id, "submitted")
    if _score_row(db, ctx, activity, user_id) is None:
        from grading.passback import waiting_for_grader

        waiting_for_grader(db, ctx, activity, user_id)
    return Stored(row, to_delete)


def cancel(
    db: Session, *, ctx: int, activity: Activity, user_id: int, key: str, due, now: datetime
) -> list[str]:
    """The (X): withdraw the peserta's report before the deadline. The file goes, the
    row stays (state `cancelled`). Returns the stored names to delete after commit."""
    row = current(db, ctx, activity.id, [user_id]).get((user_id, key))
    if row is None or row.state != "submitted":
        raise LaporanError("nothing")
    _open_for_change(row, due, now)
    names = [row.stored_name] if row.stored_name else []
    row.state, row.removed_at, row.removed_by, row.stored_name = "cancelled", now, user_id, None
    _audit(db, ctx, activity, user_id, key, "cancelled", user_id, name=row.original_name)
    return names


# -- reviews and the score ------------------------------------------------------------------


def parse_score(raw: str | None) -> Decimal | None:
    """A score 0-100 with at most two decimals (comma or point); None when empty."""
    text = (raw or "").strip().replace(",", ".")
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,2})?", text):
        raise LaporanError("score")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise LaporanError("score") from None
    if not 0 <= value <= HUNDRED:
        raise LaporanError("score")
    return value


#: What makes text markup in a browser: a tag (`<` right before a name, `/`, `!` or
#: `?`), a numeric character reference, a script URL. "a < b" is not.
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<[!?/]|&#|\bjavascript\s*:", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_comment(raw: str | None) -> str | None:
    """The reviewer's comment as plain text: line breaks kept, control and invisible
    formatting characters removed; markup (tags, character references, script URLs) is
    refused, so no stored comment is ever HTML. It is escaped again when shown."""
    text = _CONTROL.sub("", (raw or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        return None
    if _TAG.search(text):
        raise LaporanError("comment_html")
    if len(text) > COMMENT_MAX:
        raise LaporanError("comment_long", n=COMMENT_MAX)
    return text


def review(
    db: Session,
    *,
    ctx: int,
    activity: Activity,
    user_id: int,
    key: str,
    due: datetime | None,
    score_text: str | None,
    comment_text: str | None,
    by: int,
    now: datetime,
) -> LaporanSubmission:
    """Score (0-100) and comment one report. A report not handed in can be scored (e.g.
    0) once its deadline has passed. A score given can be changed, not removed."""
    score = parse_score(score_text)
    comment = clean_comment(comment_text)
    row = current(db, ctx, activity.id, [user_id]).get((user_id, key))
    if row is not None and row.score is not None and score is None:
        raise LaporanError("score_removed")
    if row is None:
        if due is None or now <= due:
            raise LaporanError("not_missed")
        if score is None:
            raise LaporanError("score")
        row = LaporanSubmission(
            context_pk=ctx,
            activity_id=activity.id,
            user_id=user_id,
            report_key=key,
            state="missing",
            original_name="",
            mime="",
            size=0,
            sha256="",
            submitted_at=now,
        )
        db.add(row)
    before = row.score
    row.score = str(score) if score is not None else None
    row.comment = comment
    row.reviewed_by, row.reviewed_at = by, now
    _audit(db, ctx, activity, user_id, key, "reviewed", by, before=before, score=row.score)
    db.flush()
    regrade(db, ctx, activity, user_id)
    return row


def aggregate(s: LaporanSettings, rows: dict, user_id: int) -> Decimal | None:
    """The activity score in percent (2 decimals, half-up) from the report scores, or
    None while the rule says it is not known yet."""
    scores = [
        Decimal(rows[(user_id, r.key)].score)
        for r in s.reports
        if (user_id, r.key) in rows and rows[(user_id, r.key)].score is not None
    ]
    if not scores:
        return None
    if s.aggregate == "mean" and len(scores) < len(s.reports):
        return None
    return (sum(scores, Decimal(0)) / len(scores)).quantize(CENT, rounding=ROUND_HALF_UP)


def _score_row(db: Session, ctx: int, activity: Activity, user_id: int):
    return db.scalars(
        select(ActivityScore).where(
            ActivityScore.context_pk == ctx,
            ActivityScore.activity_id == activity.id,
            ActivityScore.user_id == user_id,
        )
    ).first()


def regrade(db: Session, ctx: int, activity: Activity, user_id: int) -> Decimal | None:
    """Recompute the peserta's activity score from the report scores and report it to
    grading/ (percent, or None while not known); `graded` completion when every
    report is scored."""
    from grading.report import report_score

    s = settings_of(activity)
    rows = current(db, ctx, activity.id, [user_id])
    percent = aggregate(s, rows, user_id)
    if percent is None:
        return None
    top = Decimal(activity.max_score)
    points = (percent * top / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    report_score(
        db,
        context_pk=ctx,
        activity=activity,
        user_id=user_id,
        score=points,
        max_score=top,
        source="laporan",
    )
    if all(
        (user_id, r.key) in rows and rows[(user_id, r.key)].score is not None for r in s.reports
    ):
        completion.record(db, ctx, activity, user_id, "graded")
    return percent


# -- status -------------------------------------------------------------------------------


def status(row: LaporanSubmission | None, due: datetime | None, now: datetime) -> str:
    """belum (not yet), terlewat (deadline passed, nothing handed in), terkirim (handed
    in, waiting for review), dinilai (scored)."""
    if row is not None and row.score is not None:
        return "dinilai"
    if row is not None and row.state == "submitted":
        return "terkirim"
    if due is not None and now > due:
        return "terlewat"
    return "belum"


def now() -> datetime:
    return utcnow()
