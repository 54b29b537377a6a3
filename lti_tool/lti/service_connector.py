"""pylti1p3's ServiceConnector with an access-token cache.

The fork leaves caching to the framework; pylti1p3's own Flask connector keys tokens
by issuer and scopes only, so two registrations (client ids) of one issuer would share
a token. Tokens are cached per process until shortly before they expire.
"""

from __future__ import annotations

import threading
import time

from pylti1p3.service_connector import ServiceConnector

_tokens: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()
MARGIN = 30  # seconds before expiry when a token is no longer used


class ToolServiceConnector(ServiceConnector):
    def _key(self, scope_key: str) -> str:
        reg = self._registration
        return f"{reg.get_issuer()}|{reg.get_client_id()}|{scope_key}"

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        with _lock:
            hit = _tokens.get(self._key(scope_key))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        with _lock:
            _tokens[self._key(scope_key)] = (access_token, time.monotonic() + expires_in - MARGIN)


def forget_token(connector: ToolServiceConnector, scopes) -> None:
    """Drop the cached token of one registration and scope set (the LMS said 401)."""
    key = connector._key(connector._scope_key(sorted(scopes)))
    with _lock:
        _tokens.pop(key, None)


def forget_tokens() -> None:
    """Drop every cached token (tests; a platform that revoked ours)."""
    with _lock:
        _tokens.clear()
