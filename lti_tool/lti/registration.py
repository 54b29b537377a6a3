"""LTI Dynamic Registration (1EdTech LTI-DR 1.0), open only through an invite.

Moodle's variant is accepted: `messages_supported` as plain strings, optional
fields missing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.config_json import registration_request
from lti_tool.lti.errors import LtiError
from lti_tool.models import Deployment, Platform, RegistrationInvite
from lti_tool.models.platform import STATUS_ACTIVE

PLATFORM_CONF = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONF = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(db: Session, *, hours: int, note: str | None = None) -> str:
    """A single-use registration token; only its hash is stored."""
    token = secrets.token_urlsafe(24)
    db.add(
        RegistrationInvite(
            token_hash=hash_token(token), note=note, expires_at=utcnow() + timedelta(hours=hours)
        )
    )
    db.commit()
    return token


def _valid_invite(db: Session, token: str) -> RegistrationInvite:
    if not token:
        raise LtiError("invite_invalid", "no invite in the registration URL", status=403)
    invite = db.scalars(
        select(RegistrationInvite).where(RegistrationInvite.token_hash == hash_token(token))
    ).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        raise LtiError("invite_invalid", "unknown, used or expired invite", status=403)
    return invite


def _https_or_local(url: str) -> bool:
    parts = urlsplit(url)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    return parts.scheme == "https" or (parts.scheme == "http" and local)


def fetch_platform_configuration(
    http: requests.Session, url: str, token: str | None
) -> dict[str, Any]:
    if not url or not _https_or_local(url):
        raise LtiError("registration_failed", f"bad openid_configuration URL {url!r}")
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"  # Moodle asks for it here too
    try:
        resp = http.get(url, headers=headers)
        resp.raise_for_status()
        conf = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise LtiError("registration_failed", f"cannot read {url}: {exc}") from exc
    if not isinstance(conf, dict):
        raise LtiError("registration_failed", "openid configuration is not an object")
    for field in ("issuer", "authorization_endpoint", "registration_endpoint", "jwks_uri"):
        if not isinstance(conf.get(field), str) or not conf[field]:
            raise LtiError("registration_failed", f"openid configuration lacks {field}")
    if urlsplit(conf["issuer"]).netloc.lower() != urlsplit(url).netloc.lower():
        raise LtiError("registration_failed", "issuer host differs from the configuration URL")
    return conf


def _messages_supported(conf: dict[str, Any]) -> set[str]:
    platform = conf.get(PLATFORM_CONF) or {}
    out = set()
    for m in platform.get("messages_supported") or []:
        if isinstance(m, str):
            out.add(m)  # Moodle 4.x sends plain strings
        elif isinstance(m, dict) and isinstance(m.get("type"), str):
            out.add(m["type"])
    return out


def register_platform(
    db: Session,
    http: requests.Session,
    *,
    invite: str,
    openid_configuration: str,
    registration_token: str | None,
    base_url: str,
) -> Platform:
    """Run the whole exchange; nothing is stored unless the platform accepted us."""
    invite_row = _valid_invite(db, invite)
    conf = fetch_platform_configuration(http, openid_configuration, registration_token)
    body = registration_request(base_url)
    supported = _messages_supported(conf)
    if supported and "LtiDeepLinkingRequest" not in supported:
        tool_conf = body[TOOL_CONF]
        tool_conf["messages"] = [
            m for m in tool_conf["messages"] if m["type"] != "LtiDeepLinkingRequest"
        ]
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        resp = http.post(conf["registration_endpoint"], json=body, headers=headers)
        resp.raise_for_status()
        answer = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise LtiError("registration_failed", f"registration refused: {exc}") from exc
    client_id = answer.get("client_id") if isinstance(answer, dict) else None
    if not client_id:
        raise LtiError("registration_failed", "the platform returned no client_id")
    deployment_id = (answer.get(TOOL_CONF) or {}).get("deployment_id")

    platform_conf = conf.get(PLATFORM_CONF) or {}
    issuer = conf["issuer"]
    platform = db.scalars(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == str(client_id))
    ).first()
    if platform is None:
        platform = Platform(issuer=issuer, client_id=str(client_id))
        db.add(platform)
    platform.name = platform_conf.get("product_family_code") or urlsplit(issuer).netloc
    platform.product_family = platform_conf.get("product_family_code")
    platform.auth_login_url = conf["authorization_endpoint"]
    platform.auth_token_url = conf.get("token_endpoint") or ""
    platform.key_set_url = conf["jwks_uri"]
    platform.auth_audience = conf.get("authorization_server") or None
    platform.status = STATUS_ACTIVE
    # Without a deployment id (Canvas), deployments are learnt from signed launches.
    platform.auto_deployments = not deployment_id
    db.flush()
    if deployment_id and str(deployment_id) not in platform.deployment_ids:
        platform.deployments.append(Deployment(deployment_id=str(deployment_id)))
    invite_row.used_at = utcnow()
    invite_row.platform_id = platform.id
    db.flush()
    return platform
