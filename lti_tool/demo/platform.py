"""The demo platform's identity: its RSA key, registration in the tool, users and course.

It is a real (small) LTI platform: it signs id_tokens with its own key, publishes
that key at /demo/jwks, and the tool verifies launches exactly as for Moodle.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Platform

CLIENT_ID = "demo-tool"
DEPLOYMENT_ID = "demo-deployment-1"
KID = "demo-platform-key-1"
CONTEXT = {
    "id": "demo-course-kka-1",
    "label": "KK-A Kelas 1",
    "title": "Guru Pembelajar Pedagogik KK-A, Kelas 1 (demo)",
    "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
}
M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
USERS: dict[str, dict[str, Any]] = {
    "peserta": {
        "sub": "demo-peserta-1",
        "given_name": "Siti",
        "family_name": "Rahayu",
        "email": "siti.rahayu@example.sch.id",
        "roles": [M + "Learner"],
    },
    "mentor": {
        "sub": "demo-mentor-1",
        "given_name": "Budi",
        "family_name": "Santoso",
        "email": "budi.santoso@example.sch.id",
        "roles": [M + "Mentor"],
    },
    "pengampu": {
        "sub": "demo-pengampu-1",
        "given_name": "Wayan",
        "family_name": "Sudarma",
        "email": "wayan.sudarma@example.ac.id",
        "roles": [M + "Instructor"],
    },
    "admin": {
        "sub": "demo-admin-1",
        "given_name": "Admin",
        "family_name": "Kelas",
        "email": "admin.kelas@example.go.id",
        "roles": [M + "Administrator"],
    },
}


def issuer(app: Flask) -> str:
    return app.config["PUBLIC_BASE_URL"] + "/demo"


def _key_path(app: Flask) -> Path:
    return Path(app.instance_path) / "demo_platform_key.pem"


def private_key(app: Flask) -> rsa.RSAPrivateKey:
    """The demo platform's key, created once in the instance folder."""
    cached = app.extensions.get("demo_key")
    if cached is not None:
        return cached
    path = _key_path(app)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        os.chmod(path, 0o600)
    app.extensions["demo_key"] = key
    return key  # type: ignore[return-value]


def jwks(app: Flask) -> dict[str, Any]:
    jwk = json.loads(RSAAlgorithm.to_jwk(private_key(app).public_key()))
    jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
    return {"keys": [jwk]}


def ensure_demo_registration(app: Flask, db: Session) -> Platform:
    """Register the demo platform with the tool (idempotent; follows PUBLIC_BASE_URL)."""
    from lti_tool.models import Deployment
    from lti_tool.models.platform import STATUS_ACTIVE

    iss = issuer(app)
    base = app.config["PUBLIC_BASE_URL"]
    platform = db.scalars(
        select(Platform).where(Platform.issuer == iss, Platform.client_id == CLIENT_ID)
    ).first()
    if platform is None:
        platform = Platform(issuer=iss, client_id=CLIENT_ID, name="Demo LMS")
        db.add(platform)
    platform.auth_login_url = base + "/demo/auth"
    platform.auth_token_url = base + "/demo/token"
    platform.key_set_url = base + "/demo/jwks"
    platform.status = STATUS_ACTIVE
    if DEPLOYMENT_ID not in platform.deployment_ids:
        platform.deployments.append(Deployment(deployment_id=DEPLOYMENT_ID))
    db.commit()
    private_key(app)
    return platform


def id_token_claims(
    app: Flask,
    *,
    role: str,
    nonce: str,
    target_link_uri: str,
    message_type: str,
    locale: str,
    resource_link: dict[str, str] | None,
) -> dict[str, Any]:
    """The claims a real LMS would send for this demo user."""
    user = USERS[role]
    now = int(time.time())
    base = app.config["PUBLIC_BASE_URL"]
    claims: dict[str, Any] = {
        "iss": issuer(app),
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": user["sub"],
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "name": f"{user['given_name']} {user['family_name']}",
        "given_name": user["given_name"],
        "family_name": user["family_name"],
        "email": user["email"],
        "locale": locale,
        "https://purl.imsglobal.org/spec/lti/claim/message_type": message_type,
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": DEPLOYMENT_ID,
        "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": target_link_uri,
        "https://purl.imsglobal.org/spec/lti/claim/roles": user["roles"],
        "https://purl.imsglobal.org/spec/lti/claim/context": CONTEXT,
        "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
            "guid": "demo-lms",
            "name": "Demo LMS",
            "product_family_code": "demo",
        },
        "https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {
            "document_target": "iframe",
            "locale": locale,
            "return_url": base + "/demo/",
        },
    }
    if message_type == "LtiDeepLinkingRequest":
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
            "deep_link_return_url": base + "/demo/deep-link-return",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True,
            "data": uuid.uuid4().hex,
        }
    else:
        claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = resource_link or {
            "id": "demo-link-module",
            "title": "Modul Guru Pembelajar",
        }
    return claims
