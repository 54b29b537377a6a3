"""The signed link in every mail that turns the tool's emails off without a login.

The token holds only the user id, signed with SECRET_KEY (its own salt, so no other
signed value of the tool can stand in for it). It does not expire: a link in an old
mail must still work. Anyone holding the link can only switch that person's emails
off or on again.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

_SALT = "lti-tool.mail.unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def token_for(user_id: int) -> str:
    return _serializer().dumps(user_id)


def user_of(token: str) -> int | None:
    """The user id a token was made for, or None when it is not one of ours."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def url_for_user(user_id: int) -> str:
    """The absolute link (built from PUBLIC_BASE_URL: mails are composed outside requests)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/mail/unsubscribe/{token_for(user_id)}"
