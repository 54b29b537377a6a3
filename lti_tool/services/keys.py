"""The tool's signing keys: create, rotate, publish as JWKS, pick the signing key."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import ToolKey


def _new_key() -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    kid = secrets.token_urlsafe(12)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return ToolKey(kid=kid, private_pem=pem, public_jwk=json.dumps(jwk))


def ensure_signing_key(db: Session) -> tuple[ToolKey, bool]:
    """Return the current signing key, creating the first one if there is none."""
    key = current_signing_key(db)
    if key is not None:
        return key, False
    key = _new_key()
    db.add(key)
    db.commit()
    return key, True


def current_signing_key(db: Session) -> ToolKey | None:
    return db.scalars(
        select(ToolKey)
        .where(ToolKey.retire_at.is_(None))
        .order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
        .limit(1)
    ).first()


def rotate(db: Session, grace_days: int) -> tuple[ToolKey, list[ToolKey]]:
    """Add a new signing key; keys signing until now stay published for `grace_days`.
    Keys whose grace period is over are deleted."""
    now = utcnow()
    db.execute(delete(ToolKey).where(ToolKey.retire_at.is_not(None), ToolKey.retire_at <= now))
    retiring = list(db.scalars(select(ToolKey).where(ToolKey.retire_at.is_(None))))
    for key in retiring:
        key.retire_at = now + timedelta(days=grace_days)
    new = _new_key()
    db.add(new)
    db.commit()
    return new, retiring


def published_keys(db: Session) -> list[ToolKey]:
    now = utcnow()
    return list(
        db.scalars(
            select(ToolKey)
            .where((ToolKey.retire_at.is_(None)) | (ToolKey.retire_at > now))
            .order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
        )
    )


def jwks(db: Session) -> dict[str, Any]:
    return {"keys": [json.loads(k.public_jwk) for k in published_keys(db)]}
