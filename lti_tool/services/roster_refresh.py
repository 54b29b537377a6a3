"""Keep the course roster fresh: a staff launch re-reads it from the LMS (NRPS) when
the last reading is older than ROSTER_REFRESH_HOURS, in a background thread so the
launch does not wait for the LMS. Peserta who enrolled but never opened the tool then
show up in completion and the withdrawn rule without anyone pressing a button."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import or_, update

from lti_tool.db import utcnow
from lti_tool.models import Context

log = logging.getLogger(__name__)


def due(app: Flask, db, context_pk: int) -> bool:
    """Claim the refresh of this course if it is due (one process wins the claim)."""
    hours = app.config.get("ROSTER_REFRESH_HOURS") or 0
    if hours <= 0:
        return False
    context = db.get(Context, context_pk)
    if context is None or not (context.services or {}).get("nrps"):
        return False
    now = utcnow()
    claimed = db.execute(
        update(Context)
        .where(
            Context.id == context_pk,
            or_(
                Context.roster_synced_at.is_(None),
                Context.roster_synced_at < now - timedelta(hours=hours),
            ),
        )
        .values(roster_synced_at=now)
    ).rowcount
    db.commit()
    return claimed == 1


def refresh(app: Flask, context_pk: int) -> None:
    """Read the roster now (in the caller's thread)."""
    from lti_tool.db import session
    from lti_tool.lti.http import http_session
    from lti_tool.services import nrps

    with app.app_context():
        db = session()
        context = db.get(Context, context_pk)
        key = app.extensions["lti_registry"].signing_key(db)
        try:
            members = nrps.fetch_members(db, context, key, http_session())
            nrps.sync_roster(db, context, members)
            db.commit()
        except nrps.RosterError as exc:
            db.rollback()
            # Try again on a later staff launch rather than in six hours.
            context = db.get(Context, context_pk)
            context.roster_synced_at = None
            db.commit()
            log.warning("roster refresh of course %s failed: %s", context_pk, exc)


def after_staff_launch(app: Flask, db, context_pk: int) -> threading.Thread | None:
    """Start a background refresh if one is due; returns the thread (tests join it)."""
    if not due(app, db, context_pk):
        return None
    thread = threading.Thread(
        target=refresh, args=(app, context_pk), name="roster-refresh", daemon=True
    )
    thread.start()
    return thread
