"""The sent-log: claim a mail's items before sending, mark them after.

Claim first, send, then mark: two runs of one job (a retry, two workers) cannot both
claim an item (unique constraint), so no item is mailed twice. A crash after the
claim leaves the row "sending" and the item is not mailed again (at most once). When
SMTP fails the claims are released (deleted), so the retried job claims them anew.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import MailSent


def claim(db: Session, rows: Iterable[MailSent]) -> list[MailSent]:
    """Insert and commit the rows no other run holds; returns those claimed now."""
    rows = list(rows)
    if not rows:
        return []
    db.add_all(rows)
    try:
        db.commit()
        return rows
    except IntegrityError:  # some are held: claim one at a time
        db.rollback()
    claimed = []
    for row in rows:
        fresh = MailSent(
            user_id=row.user_id,
            instance_id=row.instance_id,
            kind=row.kind,
            activity_id=row.activity_id,
            due_date=row.due_date,
            days_before=row.days_before,
            ref=row.ref,
        )
        db.add(fresh)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            continue
        claimed.append(fresh)
    return claimed


def mark(db: Session, rows: list[MailSent], state: str = "sent") -> None:
    ids = [r.id for r in rows]
    if ids:
        db.execute(
            update(MailSent).where(MailSent.id.in_(ids)).values(state=state, sent_at=utcnow())
        )
        db.commit()


def release(db: Session, rows: list[MailSent]) -> None:
    """Forget the claims (the mail was not handed over): a retry may claim them again."""
    ids = [r.id for r in rows]
    if ids:
        db.execute(delete(MailSent).where(MailSent.id.in_(ids)))
        db.commit()
