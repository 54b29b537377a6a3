"""What an accepted launch writes: user, course, resource link, membership, log.

Each record is one INSERT ... ON CONFLICT DO UPDATE statement: a launch is the
hottest path of the tool (every page a teacher opens from the LMS starts with one).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.errors import LtiError
from lti_tool.lti.registry import PlatformInfo
from lti_tool.lti.stores import DbLaunchDataStore, LaunchDataStore, StoredLaunch
from lti_tool.models import LaunchData
from lti_tool.services import submission_review
from lti_tool.services.launch_sql import run
from lti_tool.services.roles import ADMIN, PENGAMPU, programme_role
from lti_tool.services.submission_review import SR_REQUEST, ReviewTarget

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
GS_CLAIM = "https://purl.imsglobal.org/spec/lti-gs/claim/groupsservice"
DL_REQUEST = "LtiDeepLinkingRequest"
NO_CONTEXT = "__no_context__"
_EVENTS = {DL_REQUEST: "deep_link", SR_REQUEST: "submission_review"}


@dataclass
class LaunchOutcome:
    """What the views need after a launch was recorded."""

    user_id: int
    user_name: str
    context_id: int
    context_title: str
    role: str
    launch_id: str | None
    message_type: str
    resource_link_id: int | None
    target_link_uri: str
    locale: str | None
    #: For an LtiSubmissionReviewRequest: whose work, in which activity.
    review: ReviewTarget | None = None


def locale_of(claims: dict[str, Any]) -> str | None:
    """The UI language asked for by `launch_presentation.locale` (id or en), if any."""
    raw = (claims.get(CLAIM + "launch_presentation") or {}).get("locale")
    if not isinstance(raw, str) or not raw:
        return None
    lang = raw.replace("_", "-").split("-")[0].lower()
    if lang in {"id", "in"}:
        return "id"
    if lang == "en":
        return "en"
    return None


def _text(claims: dict[str, Any], name: str, limit: int = 255) -> str | None:
    value = claims.get(name)
    return value[:limit] if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def display_name(claims: dict[str, Any]) -> str:
    full = " ".join(p for p in (_text(claims, "given_name"), _text(claims, "family_name")) if p)
    return _text(claims, "name") or full or _text(claims, "email") or str(claims.get("sub"))


def record_launch(
    db: Session,
    platform: PlatformInfo,
    claims: dict[str, Any],
    *,
    launch_data_ttl: int,
    launch_store: LaunchDataStore | None = None,
) -> LaunchOutcome:
    """Upsert everything the launch tells us and log it. The caller commits. A deep
    linking launch's claims go to `launch_store` (default: the database)."""
    message_type = claims[CLAIM + "message_type"]
    roles = claims.get(CLAIM + "roles") or []
    role = programme_role(roles)
    if role is None:
        raise LtiError("no_role", f"roles {roles!r} map to no programme role", status=403)
    if message_type == DL_REQUEST and role not in (PENGAMPU, ADMIN):
        raise LtiError("no_role", "only a pengampu or admin can place content", status=403)
    if message_type == SR_REQUEST:
        submission_review.check_role(role)

    now = utcnow()
    locale = locale_of(claims)
    user_id, suspended_at = run(
        db,
        "user",
        {
            "issuer": platform.issuer,
            "sub": str(claims["sub"])[:255],
            # Name and email claims are optional (privacy settings): NULL keeps what we knew.
            "name": _text(claims, "name"),
            "given_name": _text(claims, "given_name"),
            "family_name": _text(claims, "family_name"),
            "email": _text(claims, "email"),
            "locale": locale,
            # Moodle sends the user's ID number (e.g. the nomor peserta) here.
            "person_sourcedid": _text(_dict(claims.get(CLAIM + "lis")), "person_sourcedid"),
            "now": now,
        },
    ).one()
    if suspended_at is not None:  # the caller rolls back: only the refusal remains
        raise LtiError("account_suspended", f"user {user_id} is suspended", status=403)

    ctx = claims.get(CLAIM + "context") or {}
    services = {}
    if claims.get(AGS_CLAIM):
        services["ags"] = claims[AGS_CLAIM]
    if claims.get(NRPS_CLAIM):
        services["nrps"] = claims[NRPS_CLAIM]
    if isinstance(claims.get(GS_CLAIM), dict):  # LTI Course Groups Service 1.0
        services["groups"] = claims[GS_CLAIM]
    context_id, context_title = run(
        db,
        "context_services" if services else "context",
        {
            "platform_id": platform.id,
            "issuer": platform.issuer,
            "deployment_id": claims[CLAIM + "deployment_id"],
            "context_id": str(ctx.get("id") or NO_CONTEXT)[:255],
            "label": _text(ctx, "label"),
            "title": _text(ctx, "title", 2000),
            "services": services,
            "now": now,
        },
    ).one()
    run(
        db,
        "membership",
        {
            "user_id": user_id,
            "context_pk": context_id,
            "lti_roles": roles,
            "role": role,
            "now": now,
        },
    )

    target = claims.get(CLAIM + "target_link_uri", "")
    link_id = None
    review = None
    rl = claims.get(CLAIM + "resource_link") or {}
    if message_type == SR_REQUEST:
        # The review URL is not the link's target: the resource link is only looked up.
        review, link_id = submission_review.resolve(
            db, platform.issuer, claims, context_pk=context_id, viewer_id=user_id, role=role
        )
    elif rl.get("id"):
        link_id = run(
            db,
            "resource_link",
            {
                "context_pk": context_id,
                "resource_link_id": str(rl["id"])[:255],
                "title": _text(rl, "title", 2000),
                "target": target,
                "lineitem_url": (claims.get(AGS_CLAIM) or {}).get("lineitem"),
                "now": now,
            },
        ).scalar_one()

    launch_id = None
    if message_type == DL_REQUEST:  # kept for the deep-linking response
        launch_id = secrets.token_urlsafe(24)
        (launch_store or DbLaunchDataStore()).put(
            db, StoredLaunch(launch_id, platform.id, claims), launch_data_ttl
        )
    run(
        db,
        "log",
        {
            "at": now,
            "user_id": user_id,
            "context_pk": context_id,
            "resource_link_pk": link_id,
            "role": role,
            "event": _EVENTS.get(message_type, "launch"),
            "detail": (target if review is None else review.describe())[:2000],
        },
    )
    return LaunchOutcome(
        user_id=user_id,
        user_name=display_name(claims),
        context_id=context_id,
        context_title=context_title or platform.name,
        role=role,
        launch_id=launch_id,
        message_type=message_type,
        resource_link_id=link_id,
        target_link_uri=target,
        locale=locale,
        review=review,
    )


def purge_expired(db: Session) -> dict[str, int]:
    """Delete expired nonces and launch data (run by `lti-tool cleanup`)."""
    from lti_tool.models import UsedNonce

    now = utcnow()
    counts = {}
    for model in (UsedNonce, LaunchData):
        result = db.execute(delete(model).where(model.expires_at < now))
        counts[model.__tablename__] = result.rowcount or 0
    db.commit()
    return counts
