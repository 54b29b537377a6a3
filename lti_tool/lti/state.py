"""The OIDC `state`: a signed, expiring token that carries the login's nonce.

The login writes nothing to the database: the state itself holds the platform,
the nonce, the target_link_uri and the login parameters, signed with the app's
secret. It is bound to the browser by a cookie named after it, set at login; the
launch must come back with both. Replays are stopped by the nonce, which is
recorded as used when a launch is accepted.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

STATE_COOKIE_PREFIX = "lti1p3-state-"
_SALT = "lti-oidc-state"


@dataclass(frozen=True)
class LoginState:
    platform_id: int
    nonce: str
    target_link_uri: str
    login_params: dict[str, Any]


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def new_state(
    secret: str, platform_id: int, target: str, params: dict[str, Any]
) -> tuple[str, str]:
    """Return (state, nonce) for a new login."""
    nonce = secrets.token_urlsafe(24)
    state = _serializer(secret).dumps({"p": platform_id, "n": nonce, "t": target, "h": params})
    return state, nonce


def cookie_name(state: str) -> str:
    return STATE_COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:24]


def cookie_value(state: str) -> str:
    return hashlib.sha256(b"browser:" + state.encode()).hexdigest()[:32]


class StateError(Exception):
    def __init__(self, reason: str, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


def read_state(secret: str, state: str, max_age: int) -> LoginState:
    """Verify signature and age of a state; raise StateError otherwise."""
    try:
        data = _serializer(secret).loads(state, max_age=max_age)
    except SignatureExpired as exc:
        raise StateError("state expired", expired=True) from exc
    except BadSignature as exc:
        raise StateError("state was not issued by this tool") from exc
    try:
        return LoginState(
            platform_id=int(data["p"]),
            nonce=data["n"],
            target_link_uri=data["t"],
            login_params=dict(data.get("h") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError("malformed state") from exc
