"""OIDC third-party initiated login (the first leg of every launch)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.errors import LtiError
from lti_tool.lti.toolconf import DbToolConf
from lti_tool.models import OidcState, Platform
from lti_tool.models.platform import STATUS_ACTIVE

LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
    "lti_storage_target",
)


def is_own_url(url: str, base_url: str) -> bool:
    """True when `url` is on this tool (same scheme, host, port, under the base path)."""
    u, b = urlsplit(url), urlsplit(base_url)
    if (u.scheme, u.netloc.lower()) != (b.scheme, b.netloc.lower()):
        return False
    base_path = b.path.rstrip("/")
    return u.path == base_path or u.path.startswith(base_path + "/") or not base_path


def find_platform(db: Session, iss: str, client_id: str | None) -> Platform:
    """The registration a login names; pending or unknown ones are refused."""
    conf = DbToolConf(db)
    platform = conf.platform(iss, client_id)
    if platform is not None:
        return platform
    from sqlalchemy import select

    query = select(Platform).where(Platform.issuer == iss)
    if client_id:
        query = query.where(Platform.client_id == client_id)
    rows = list(db.scalars(query))
    if rows and all(p.status != STATUS_ACTIVE for p in rows):
        raise LtiError("platform_pending", f"{iss} {client_id or ''} is not active")
    if not client_id and len(conf.active_platforms(iss)) > 1:
        raise LtiError("missing_params", "client_id is required: the issuer has several")
    raise LtiError("unknown_platform", f"issuer {iss!r} client {client_id!r} not registered")


def start_login(
    db: Session, params: dict[str, str], *, base_url: str, redirect_uri: str, ttl: int
) -> tuple[str, OidcState]:
    """Validate the login request, record state + nonce, return the platform auth URL."""
    iss = params.get("iss")
    login_hint = params.get("login_hint")
    target = params.get("target_link_uri")
    if not iss or not login_hint or not target:
        raise LtiError("missing_params", "iss, login_hint and target_link_uri are required")
    if not is_own_url(target, base_url):
        raise LtiError("bad_target", f"target_link_uri {target!r} is not under {base_url}")
    platform = find_platform(db, iss, params.get("client_id") or None)
    deployment = params.get("lti_deployment_id")
    if deployment and deployment not in platform.deployment_ids:
        raise LtiError("unknown_deployment", f"deployment {deployment!r} is not registered")

    state = OidcState(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        platform_id=platform.id,
        target_link_uri=target,
        login_params={k: params[k] for k in LOGIN_PARAMS if params.get(k)},
        expires_at=utcnow() + timedelta(seconds=ttl),
    )
    db.add(state)
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": redirect_uri,
        "login_hint": login_hint,
        "state": state.state,
        "nonce": state.nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    sep = "&" if "?" in platform.auth_login_url else "?"
    return platform.auth_login_url + sep + urlencode(query), state
