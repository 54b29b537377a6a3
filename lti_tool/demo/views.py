"""Demo LMS pages: pick a role, launch the tool in an iframe, receive deep links."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import jwt
from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from lti_tool.db import session as db_session
from lti_tool.demo import platform as demo
from lti_tool.extensions import csrf
from lti_tool.lti.http import http_session
from lti_tool.models import CourseModule

bp = Blueprint("demo", __name__, url_prefix="/demo")

ROLES = ("peserta", "mentor", "pengampu", "admin")


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="demo-message-hint")


def _placements_path() -> Path:
    return Path(current_app.instance_path) / "demo_placements.json"


def placements() -> list[dict]:
    path = _placements_path()
    if not path.exists():
        return []
    try:
        return json.loads(path.read_text())
    except ValueError:
        return []


@bp.get("/")
def home():
    locale = request.args.get("locale", "id-ID")
    return render_template("demo/home.html", roles=ROLES, placements=placements(), locale=locale)


def _default_target(base: str) -> str:
    """The demo course opens its module (DEMO_MODULE) when it is installed."""
    key = current_app.config.get("DEMO_MODULE")
    if key and db_session().scalar(select(CourseModule.id).where(CourseModule.key == key)):
        return f"{base}/course/{key}"
    return base + "/lti/launch"


@bp.get("/start")
def start():
    """Third-party initiated login, as an LMS starts it when a link is clicked."""
    role = request.args.get("role", "peserta")
    if role not in ROLES:
        abort(400)
    base = current_app.config["PUBLIC_BASE_URL"]
    message = request.args.get("message", "LtiResourceLinkRequest")
    if message not in ("LtiResourceLinkRequest", "LtiDeepLinkingRequest"):
        abort(400)
    index = request.args.get("link", type=int)
    items = placements()
    link = items[index] if index is not None and 0 <= index < len(items) else None
    target = link["url"] if link else _default_target(base)
    hint = _signer().dumps(
        {
            "role": role,
            "message": message,
            "target": target,
            "locale": request.args.get("locale", "id-ID"),
            "link": {"id": link["id"], "title": link["title"]} if link else None,
        }
    )
    params = {
        "iss": demo.issuer(current_app),
        "login_hint": role,
        "target_link_uri": target,
        "lti_message_hint": hint,
        "client_id": demo.CLIENT_ID,
        "lti_deployment_id": demo.DEPLOYMENT_ID,
    }
    return redirect(base + "/lti/login?" + urlencode(params), code=302)


@bp.route("/auth", methods=["GET", "POST"])
@csrf.exempt  # the demo platform's own endpoint
def auth():
    """The platform's OIDC authorization endpoint: check the request, sign the id_token."""
    source = request.values
    base = current_app.config["PUBLIC_BASE_URL"]
    expected = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": demo.CLIENT_ID,
        "redirect_uri": base + "/lti/launch",
    }
    for name, value in expected.items():
        if source.get(name) != value:
            return _("Invalid authentication request: %(field)s", field=name), 400
    if not source.get("nonce") or not source.get("state"):
        return _("Invalid authentication request: %(field)s", field="nonce/state"), 400
    try:
        hint = _signer().loads(source.get("lti_message_hint", ""), max_age=600)
    except BadSignature:
        return _("Invalid authentication request: %(field)s", field="lti_message_hint"), 400
    if hint["role"] != source.get("login_hint"):
        return _("Invalid authentication request: %(field)s", field="login_hint"), 400
    claims = demo.id_token_claims(
        current_app,
        role=hint["role"],
        nonce=source["nonce"],
        target_link_uri=hint["target"],
        message_type=hint["message"],
        locale=hint["locale"],
        resource_link=hint.get("link"),
    )
    token = jwt.encode(
        claims, demo.private_key(current_app), algorithm="RS256", headers={"kid": demo.KID}
    )
    return render_template(
        "lti/auto_post.html",
        action=source["redirect_uri"],
        fields={"id_token": token, "state": source["state"]},
        title=_("Opening the tool..."),
    )


@bp.get("/jwks")
def jwks():
    return jsonify(demo.jwks(current_app))


@bp.post("/deep-link-return")
@csrf.exempt  # receives the tool's signed deep-linking response, as a platform does
def deep_link_return():
    """Verify the tool's Deep Linking response with the tool's published keys."""
    token = request.form.get("JWT", "")
    base = current_app.config["PUBLIC_BASE_URL"]
    try:
        client = jwt.PyJWKClient(base + "/lti/jwks", cache_keys=False)
        client.fetch_data = lambda: http_session().get(base + "/lti/jwks").json()  # type: ignore[method-assign]
        key = client.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=demo.issuer(current_app),
            issuer=demo.CLIENT_ID,
        )
    except jwt.PyJWTError as exc:
        return render_template("demo/placed.html", error=str(exc), items=[]), 400
    items = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items") or []
    existing = placements()
    for item in items:
        existing.append(
            {
                "id": f"demo-link-{len(existing) + 1}",
                "title": item.get("title") or item.get("url"),
                "url": item.get("url"),
                "lineItem": item.get("lineItem"),
            }
        )
    _placements_path().write_text(json.dumps(existing, indent=1))
    return render_template("demo/placed.html", items=items, error=None)
