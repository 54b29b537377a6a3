"""OIDC third-party initiated login (the first leg of every launch)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from sqlalchemy.orm import Session

from lti_tool.lti.errors import LtiError
from lti_tool.lti.registry import PlatformInfo, Registry
from lti_tool.lti.state import new_state

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
    return not base_path or u.path == base_path or u.path.startswith(base_path + "/")


def find_platform(db: Session, registry: Registry, iss: str, client_id: str | None) -> PlatformInfo:
    """The registration a login names; pending or unknown ones are refused."""
    platform = registry.find(db, iss, client_id)
    if platform is not None:
        return platform
    rows = [p for p in registry.platforms(db, iss) if not client_id or p.client_id == client_id]
    if rows and not any(p.is_active for p in rows):
        raise LtiError("platform_pending", f"{iss} {client_id or ''} is not active")
    if not client_id and len(registry.active(db, iss)) > 1:
        raise LtiError("missing_params", "client_id is required: the issuer has several")
    raise LtiError("unknown_platform", f"issuer {iss!r} client {client_id!r} not registered")


def start_login(
    db: Session,
    registry: Registry,
    params: dict[str, str],
    *,
    secret: str,
    base_url: str,
    redirect_uri: str,
) -> tuple[str, str]:
    """Validate the login request; return (platform auth URL, state)."""
    iss = params.get("iss")
    login_hint = params.get("login_hint")
    target = params.get("target_link_uri")
    if not iss or not login_hint or not target:
        raise LtiError("missing_params", "iss, login_hint and target_link_uri are required")
    if not is_own_url(target, base_url):
        raise LtiError("bad_target", f"target_link_uri {target!r} is not under {base_url}")
    platform = find_platform(db, registry, iss, params.get("client_id") or None)
    deployment = params.get("lti_deployment_id")
    if deployment and deployment not in platform.deployment_ids and not platform.auto_deployments:
        raise LtiError("unknown_deployment", f"deployment {deployment!r} is not registered")

    kept = {k: params[k] for k in LOGIN_PARAMS if params.get(k)}
    state, nonce = new_state(secret, platform.id, target, kept)
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": redirect_uri,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    sep = "&" if "?" in platform.auth_login_url else "?"
    return platform.auth_login_url + sep + urlencode(query), state
