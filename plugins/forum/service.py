"""Who sees which threads, the bounded queries behind the pages, and read markers.

Every list is one query (threads with their post and unread counts; a page of posts
with their authors), plus one query each for the attachments and quoted posts of the
page: the cost of a page does not grow with the number of threads or posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from lti_tool.db import utcnow
from lti_tool.models import CourseInstance, Rombel, User
from lti_tool.services import roster
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU, PESERTA, STAFF
from plugins.forum.models import ForumAttachment, ForumPost, ForumRead, ForumThread
from plugins.forum.settings import ForumSettings

THREADS_PER_PAGE = 20
POSTS_PER_PAGE = 50
#: An author may change a post this long after sending it.
EDIT_MINUTES = 30
#: The same text by the same author in the same thread this soon again is a resend.
RESEND_SECONDS = 30
MAX_TITLE = 200
MAX_BODY = 20_000
MAX_FILES = 5
#: Files accepted with a refused form wait this long for the form to be sent again.
PENDING_HOURS = 24


def settings_of(activity) -> ForumSettings:
    return ForumSettings.model_validate(activity.settings or {})


@dataclass(frozen=True)
class Scope:
    """What a viewer may see and where they may open threads."""

    kind: str  # "class" or "rombel"
    #: Rombel ids whose threads are visible; None: every thread of the forum.
    rombels: frozenset[int] | None
    #: Rombel scope: the rombels the viewer may open a thread in (id, name).
    post_to: list[tuple[int, str]] = field(default_factory=list)
    #: Rombel names by id (for labels).
    names: dict[int, str] = field(default_factory=dict)

    def sees(self, thread: ForumThread) -> bool:
        if self.rombels is None:
            return True
        return thread.rombel_id is not None and thread.rombel_id in self.rombels

    def clause(self) -> Any:
        if self.rombels is None:
            return true()
        if not self.rombels:
            return false()
        return ForumThread.rombel_id.in_(self.rombels)


def scope_of(
    db: Session, instance: CourseInstance, settings: ForumSettings, user_id: int, role: str
) -> Scope:
    if settings.scope == "class":
        return Scope(kind="class", rombels=None)
    groups = roster.rombels(db, instance)
    names = {r.id: r.name for r in groups}
    if role in (PENGAMPU, ADMIN):
        mine: list[Rombel] = groups
        return Scope("rombel", None, [(r.id, r.name) for r in mine], names)
    if role == MENTOR:
        mine = [r for r in groups if r.mentor_id == user_id]
    elif role == PESERTA:
        rid = roster.assignments(db, instance).get(user_id)
        mine = [r for r in groups if r.id == rid]
    else:
        mine = []
    return Scope("rombel", frozenset(r.id for r in mine), [(r.id, r.name) for r in mine], names)


def can_open_thread(role: str, settings: ForumSettings, scope: Scope) -> bool:
    if role not in STAFF and not settings.peserta_threads:
        return False
    return scope.kind == "class" or bool(scope.post_to)


def _visible_post(staff: bool):
    """Posts counted and marked unread: not removed; hidden ones only for staff."""
    cond = ForumPost.deleted_at.is_(None)
    return cond if staff else and_(cond, ForumPost.hidden_at.is_(None))


@dataclass
class ThreadRow:
    thread: ForumThread
    author: str
    posts: int
    unread: int
    first_hidden: bool
    first_deleted: bool

    @property
    def replies(self) -> int:
        return max(self.posts - (0 if self.first_hidden or self.first_deleted else 1), 0)


def thread_rows(
    db: Session,
    ctx: int,
    activity_id: int,
    scope: Scope,
    user_id: int,
    staff: bool,
    page: int,
) -> tuple[list[ThreadRow], int]:
    """A page of threads (pinned first, then by last activity) with their counts, in
    one query; and how many threads there are."""
    first = aliased(ForumPost)
    read = aliased(ForumRead)
    visible = _visible_post(staff)
    where = and_(
        ForumThread.context_pk == ctx, ForumThread.activity_id == activity_id, scope.clause()
    )
    unread = func.coalesce(
        func.sum(
            case(
                (
                    and_(
                        ForumPost.id > func.coalesce(read.last_post_id, 0),
                        ForumPost.author_id != user_id,
                    ),
                    1,
                ),
                else_=0,
            )
        ),
        0,
    )
    stmt = (
        select(
            ForumThread,
            User,
            func.count(ForumPost.id),
            unread,
            first.hidden_at,
            first.deleted_at,
        )
        .join(User, User.id == ForumThread.author_id)
        .outerjoin(ForumPost, and_(ForumPost.thread_id == ForumThread.id, visible))
        .outerjoin(first, first.id == ForumThread.first_post_id)
        .outerjoin(read, and_(read.thread_id == ForumThread.id, read.user_id == user_id))
        .where(where)
        .group_by(ForumThread.id, User.id, first.hidden_at, first.deleted_at, read.last_post_id)
        .order_by(ForumThread.pinned.desc(), ForumThread.last_post_at.desc(), ForumThread.id.desc())
        .limit(THREADS_PER_PAGE)
        .offset((page - 1) * THREADS_PER_PAGE)
    )
    rows = [
        ThreadRow(t, u.display_name, int(n), int(un), hid is not None, dele is not None)
        for t, u, n, un, hid, dele in db.execute(stmt)
    ]
    total = db.scalar(select(func.count(ForumThread.id)).where(where)) or 0
    return rows, int(total)


def unread_total(db: Session, ctx: int, activity_id: int, scope: Scope, user_id: int, staff: bool):
    """Unread posts over the whole forum (all threads the viewer sees)."""
    read = aliased(ForumRead)
    return int(
        db.scalar(
            select(func.count(ForumPost.id))
            .join(ForumThread, ForumThread.id == ForumPost.thread_id)
            .outerjoin(read, and_(read.thread_id == ForumThread.id, read.user_id == user_id))
            .where(
                ForumThread.context_pk == ctx,
                ForumThread.activity_id == activity_id,
                scope.clause(),
                _visible_post(staff),
                ForumPost.author_id != user_id,
                ForumPost.id > func.coalesce(read.last_post_id, 0),
            )
        )
        or 0
    )


@dataclass
class PostView:
    post: ForumPost
    author: str
    files: list[ForumAttachment]
    quote: tuple[str, ForumPost] | None  # (author name, post)
    new: bool


def count_posts(db: Session, thread_id: int) -> int:
    return int(
        db.scalar(select(func.count(ForumPost.id)).where(ForumPost.thread_id == thread_id)) or 0
    )


def posts_page(
    db: Session, thread: ForumThread, page: int, user_id: int, read_upto: int
) -> tuple[list[PostView], int]:
    """A page of a thread's posts in order, with authors, files and quoted posts."""
    total = count_posts(db, thread.id)
    rows = db.execute(
        select(ForumPost, User)
        .join(User, User.id == ForumPost.author_id)
        .where(ForumPost.thread_id == thread.id)
        .order_by(ForumPost.id)
        .limit(POSTS_PER_PAGE)
        .offset((page - 1) * POSTS_PER_PAGE)
    ).all()
    ids = [p.id for p, _u in rows]
    files: dict[int, list[ForumAttachment]] = {}
    if ids:
        for a in db.scalars(
            select(ForumAttachment)
            .where(ForumAttachment.post_id.in_(ids))
            .order_by(ForumAttachment.id)
        ):
            files.setdefault(a.post_id, []).append(a)
    quoted: dict[int, tuple[str, ForumPost]] = {}
    quote_ids = {p.quote_id for p, _u in rows if p.quote_id}
    if quote_ids:
        for q, u in db.execute(
            select(ForumPost, User)
            .join(User, User.id == ForumPost.author_id)
            .where(ForumPost.id.in_(quote_ids), ForumPost.thread_id == thread.id)
        ):
            quoted[q.id] = (u.display_name, q)
    views = [
        PostView(
            post=p,
            author=u.display_name,
            files=files.get(p.id, []),
            quote=quoted.get(p.quote_id) if p.quote_id else None,
            new=p.id > read_upto and p.author_id != user_id,
        )
        for p, u in rows
    ]
    return views, total


def last_page(total: int, per_page: int) -> int:
    return max((total + per_page - 1) // per_page, 1)


def page_of_post(db: Session, thread_id: int, post_id: int) -> int:
    before = db.scalar(
        select(func.count(ForumPost.id)).where(
            ForumPost.thread_id == thread_id, ForumPost.id <= post_id
        )
    )
    return last_page(int(before or 1), POSTS_PER_PAGE)


def read_upto(db: Session, thread_id: int, user_id: int) -> int:
    return int(
        db.scalar(
            select(ForumRead.last_post_id).where(
                ForumRead.thread_id == thread_id, ForumRead.user_id == user_id
            )
        )
        or 0
    )


def mark_read(db: Session, thread_id: int, user_id: int, upto: int) -> None:
    """Move the user's marker forward to `upto` (never back). Commits."""
    row = db.scalars(
        select(ForumRead).where(ForumRead.thread_id == thread_id, ForumRead.user_id == user_id)
    ).first()
    if row is None:
        db.add(ForumRead(thread_id=thread_id, user_id=user_id, last_post_id=upto))
    elif row.last_post_id < upto:
        row.last_post_id = upto
        row.read_at = utcnow()
    else:
        return
    try:
        db.commit()
    except IntegrityError:  # the same user's other tab got there first
        db.rollback()
        mark_read(db, thread_id, user_id, upto)


def resend_of(
    db: Session, user_id: int, submit_key: str | None, thread_id: int | None, source: str
) -> ForumPost | None:
    """The post this form already made: the same one-time form key with the same text
    (a double click, a resent request), or the same text by the same author in the same
    thread moments ago (the form sent again from another tab)."""
    if submit_key:
        found = db.scalars(
            select(ForumPost).where(
                ForumPost.author_id == user_id, ForumPost.submit_key == submit_key
            )
        ).first()
        if found is not None and found.source == source:
            return found
    if thread_id is None or not source:
        return None
    since = utcnow() - timedelta(seconds=RESEND_SECONDS)
    return db.scalars(
        select(ForumPost)
        .where(
            ForumPost.author_id == user_id,
            ForumPost.thread_id == thread_id,
            ForumPost.source == source,
            ForumPost.created_at >= since,
            ForumPost.deleted_at.is_(None),
        )
        .order_by(ForumPost.id.desc())
    ).first()


def by_key(db: Session, user_id: int, submit_key: str) -> ForumPost | None:
    """The post made with this form key, if any."""
    return db.scalars(
        select(ForumPost).where(ForumPost.author_id == user_id, ForumPost.submit_key == submit_key)
    ).first()


def recent_thread(
    db: Session, ctx: int, activity_id: int, user_id: int, title: str, source: str
) -> ForumThread | None:
    """A thread with the same title and opening text this author opened moments ago."""
    since = utcnow() - timedelta(seconds=RESEND_SECONDS)
    return db.scalars(
        select(ForumThread)
        .join(ForumPost, ForumPost.id == ForumThread.first_post_id)
        .where(
            ForumThread.context_pk == ctx,
            ForumThread.activity_id == activity_id,
            ForumThread.author_id == user_id,
            ForumThread.title == title,
            ForumThread.created_at >= since,
            ForumPost.source == source,
            ForumPost.deleted_at.is_(None),
        )
    ).first()


def editable(post: ForumPost, user_id: int, now: datetime) -> bool:
    return (
        post.author_id == user_id
        and post.deleted_at is None
        and post.hidden_at is None
        and now - post.created_at <= timedelta(minutes=EDIT_MINUTES)
    )


def can_moderate(role: str, post: ForumPost) -> bool:
    """Pengampu and admins moderate every post; a mentor the posts of peserta and
    mentors in the threads they see (never a pengampu's)."""
    if role in (PENGAMPU, ADMIN):
        return True
    return role == MENTOR and post.author_role in (PESERTA, MENTOR)


def pending_files(
    db: Session, ctx: int, activity_id: int, user_id: int, ids: list[int]
) -> list[ForumAttachment]:
    """The viewer's own files waiting for a post (ids from the resent form; others'
    ids, or ids already used, are ignored)."""
    if not ids:
        return []
    return list(
        db.scalars(
            select(ForumAttachment)
            .where(
                ForumAttachment.id.in_(ids[:MAX_FILES]),
                ForumAttachment.user_id == user_id,
                ForumAttachment.context_pk == ctx,
                ForumAttachment.activity_id == activity_id,
                ForumAttachment.post_id.is_(None),
            )
            .order_by(ForumAttachment.id)
        )
    )


def stale_pending(db: Session, now: datetime) -> list[ForumAttachment]:
    return list(
        db.scalars(
            select(ForumAttachment).where(
                ForumAttachment.post_id.is_(None),
                ForumAttachment.created_at < now - timedelta(hours=PENDING_HOURS),
            )
        )
    )


def record_rows(db: Session, ctx: int, activity_id: int, scope: Scope):
    """Every thread the viewer sees, with every post and its author, in order (the
    record for the programme's reports)."""
    return db.execute(
        select(ForumThread, ForumPost, User)
        .join(ForumPost, ForumPost.thread_id == ForumThread.id)
        .join(User, User.id == ForumPost.author_id)
        .where(
            ForumThread.context_pk == ctx,
            ForumThread.activity_id == activity_id,
            scope.clause(),
        )
        .order_by(ForumThread.rombel_id, ForumThread.created_at, ForumThread.id, ForumPost.id)
    ).all()


def files_of(db: Session, post_ids: list[int]) -> dict[int, list[ForumAttachment]]:
    out: dict[int, list[ForumAttachment]] = {}
    if post_ids:
        for a in db.scalars(
            select(ForumAttachment)
            .where(ForumAttachment.post_id.in_(post_ids))
            .order_by(ForumAttachment.id)
        ):
            out.setdefault(a.post_id, []).append(a)
    return out
