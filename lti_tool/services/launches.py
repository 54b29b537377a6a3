"""What an accepted launch writes: user, course, resource link, membership, log, claims."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.errors import LtiError
from lti_tool.models import (
    ActivityLog,
    Context,
    LaunchData,
    Membership,
    OidcState,
    Platform,
    ResourceLink,
    User,
)
from lti_tool.services.roles import ADMIN, PENGAMPU, programme_role

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_REQUEST = "LtiDeepLinkingRequest"
NO_CONTEXT = "__no_context__"


@dataclass
class LaunchOutcome:
    """What the views need after a launch was recorded."""

    user: User
    context: Context
    role: str
    launch_id: str
    message_type: str
    resource_link: ResourceLink | None
    target_link_uri: str
    locale: str | None


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


def record_launch(
    db: Session,
    platform: Platform,
    state: OidcState,
    claims: dict[str, Any],
    *,
    launch_data_ttl: int,
) -> LaunchOutcome:
    """Upsert everything the launch tells us and log it. The caller commits."""
    message_type = claims[CLAIM + "message_type"]
    roles = claims.get(CLAIM + "roles") or []
    role = programme_role(roles)
    if role is None:
        raise LtiError("no_role", f"roles {roles!r} map to no programme role", status=403)
    if message_type == DL_REQUEST and role not in (PENGAMPU, ADMIN):
        raise LtiError("no_role", "only a pengampu or admin can place content", status=403)

    now = utcnow()
    user = _upsert_user(db, platform.issuer, claims, now)
    context = _upsert_context(db, platform, claims, now)
    membership = db.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.context_pk == context.id)
    ).first()
    if membership is None:
        membership = Membership(
            user_id=user.id,
            context_pk=context.id,
            lti_roles=roles,
            role=role,
            first_launch_at=now,
            last_launch_at=now,
        )
        db.add(membership)
    else:
        membership.lti_roles = roles
        membership.role = role
        membership.last_launch_at = now

    target = claims.get(CLAIM + "target_link_uri", "")
    link = None
    rl = claims.get(CLAIM + "resource_link") or {}
    if rl.get("id"):
        link = db.scalars(
            select(ResourceLink).where(
                ResourceLink.context_pk == context.id, ResourceLink.resource_link_id == rl["id"]
            )
        ).first()
        lineitem = (claims.get(AGS_CLAIM) or {}).get("lineitem")
        if link is None:
            link = ResourceLink(context_pk=context.id, resource_link_id=rl["id"])
            db.add(link)
        link.title = rl.get("title") or link.title
        link.target = target
        link.lineitem_url = lineitem or link.lineitem_url
        db.flush()

    launch_id = secrets.token_urlsafe(24)
    db.add(
        LaunchData(
            launch_id=launch_id,
            platform_id=platform.id,
            claims=claims,
            expires_at=now + timedelta(seconds=launch_data_ttl),
        )
    )
    db.add(
        ActivityLog(
            at=now,
            user_id=user.id,
            context_pk=context.id,
            resource_link_pk=link.id if link else None,
            role=role,
            event="deep_link" if message_type == DL_REQUEST else "launch",
            detail=target,
        )
    )
    db.delete(state)
    return LaunchOutcome(
        user=user,
        context=context,
        role=role,
        launch_id=launch_id,
        message_type=message_type,
        resource_link=link,
        target_link_uri=target,
        locale=locale_of(claims),
    )


def _upsert_user(db: Session, issuer: str, claims: dict[str, Any], now) -> User:
    sub = str(claims["sub"])
    user = db.scalars(select(User).where(User.issuer == issuer, User.sub == sub)).first()
    if user is None:
        user = User(issuer=issuer, sub=sub, created_at=now)
        db.add(user)
    # Name and email claims are optional (privacy settings); keep what we knew.
    for attr in ("name", "given_name", "family_name", "email"):
        value = claims.get(attr)
        if isinstance(value, str) and value:
            setattr(user, attr, value[:255])
    user.locale = locale_of(claims) or user.locale
    user.last_launch_at = now
    db.flush()
    return user


def _upsert_context(db: Session, platform: Platform, claims: dict[str, Any], now) -> Context:
    ctx = claims.get(CLAIM + "context") or {}
    context_id = str(ctx.get("id") or NO_CONTEXT)
    deployment_id = claims[CLAIM + "deployment_id"]
    context = db.scalars(
        select(Context).where(
            Context.issuer == platform.issuer,
            Context.deployment_id == deployment_id,
            Context.context_id == context_id,
        )
    ).first()
    if context is None:
        context = Context(
            platform_id=platform.id,
            issuer=platform.issuer,
            deployment_id=deployment_id,
            context_id=context_id,
            created_at=now,
        )
        db.add(context)
    context.label = ctx.get("label") or context.label
    context.title = ctx.get("title") or context.title or platform.name
    services = {}
    if claims.get(AGS_CLAIM):
        services["ags"] = claims[AGS_CLAIM]
    if claims.get(NRPS_CLAIM):
        services["nrps"] = claims[NRPS_CLAIM]
    if services and services != context.services:
        context.services = {**(context.services or {}), **services}
    context.updated_at = now
    db.flush()
    return context


def purge_expired(db: Session) -> dict[str, int]:
    """Delete expired states, nonces and launch data (run by `lti-tool cleanup`)."""
    from lti_tool.models import UsedNonce

    now = utcnow()
    counts = {}
    for model in (OidcState, UsedNonce, LaunchData):
        result = db.execute(delete(model).where(model.expires_at < now))
        counts[model.__tablename__] = result.rowcount or 0
    db.commit()
    return counts
