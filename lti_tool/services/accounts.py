"""Local accounts: suspending a user in this tool, whatever the LMS says.

A suspended user's launches are refused (services/launches.py) and an open session
ends on its next request (web/auth.py). The account and its work are kept.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import User


class AccountError(Exception):
    """A user that cannot be found or changed; the message says why."""


def find_user(db: Session, who: str) -> User:
    """A user by id, or by exact email or LMS user id (sub) when that is unique."""
    who = who.strip()
    if who.isascii() and who.isdigit() and len(who) <= 18:  # not "²", nor past BIGINT
        user = db.get(User, int(who))
        if user is not None:
            return user
    matches = db.scalars(select(User).where(or_(User.email == who, User.sub == who))).all()
    if not matches:
        raise AccountError(f"no user {who!r} (give an id, an email or an LMS user id)")
    if len(matches) > 1:
        ids = ", ".join(str(u.id) for u in matches)
        raise AccountError(f"{who!r} names several users ({ids}): give the id")
    return matches[0]


def suspend(db: Session, who: str, reason: str | None = None) -> User:
    user = find_user(db, who)
    if user.suspended_at is None:
        user.suspended_at = utcnow()
    user.suspended_reason = (reason or "").strip() or None
    db.commit()
    return user


def unsuspend(db: Session, who: str) -> User:
    user = find_user(db, who)
    user.suspended_at = None
    user.suspended_reason = None
    db.commit()
    return user


def users(db: Session, *, suspended_only: bool = False, limit: int = 200) -> list[User]:
    stmt = select(User).order_by(User.id).limit(limit)
    if suspended_only:
        stmt = stmt.where(User.suspended_at.is_not(None))
    return list(db.scalars(stmt))
