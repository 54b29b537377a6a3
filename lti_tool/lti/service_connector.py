"""pylti1p3's ServiceConnector with an access-token cache.

The fork leaves caching to the framework; pylti1p3's own Flask connector keys tokens
by issuer and scopes only, so two registrations (client ids) of one issuer would share
a token. Tokens are cached per process until shortly before they expire and, when
REDIS_URL is set, in Redis too (under REDIS_KEY_PREFIX, expiring with the token): each
RQ job runs in a child process of its own, and without the shared copy every job and
every web worker would ask the LMS for a token of its own. Redis already holds the
tool's other short-lived secrets (nonces, launch data); a Redis that cannot be reached
only means a token is requested again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from flask import current_app, has_app_context
from pylti1p3.service_connector import ServiceConnector
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_tokens: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()
MARGIN = 30  # seconds before expiry when a token is no longer used


def _shared_store() -> tuple[Any, str] | None:
    """(Redis client, key prefix) of the current app, when it has Redis."""
    if not has_app_context():
        return None
    from lti_tool.redis_client import redis_client, redis_key

    client = redis_client(current_app)
    if client is None:
        return None
    return client, redis_key(current_app, "ags-token", "")


class ToolServiceConnector(ServiceConnector):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared = _shared_store()

    def _key(self, scope_key: str) -> str:
        reg = self._registration
        return f"{reg.get_issuer()}|{reg.get_client_id()}|{scope_key}"

    def _shared_key(self, key: str) -> str:
        assert self._shared is not None
        return self._shared[1] + hashlib.sha256(key.encode()).hexdigest()

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        key = self._key(scope_key)
        with _lock:
            hit = _tokens.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        if self._shared is None:
            return None
        try:
            pipe = self._shared[0].pipeline(transaction=False)
            pipe.get(self._shared_key(key))
            pipe.pttl(self._shared_key(key))
            value, pttl = pipe.execute()
        except RedisError:
            log.warning("access token cache in Redis unreachable", exc_info=True)
            return None
        if value is None or pttl is None or pttl <= 0:
            return None
        token = value.decode() if isinstance(value, bytes) else str(value)
        with _lock:
            _tokens[key] = (token, time.monotonic() + pttl / 1000)
        return token

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        key = self._key(scope_key)
        keep = float(expires_in) - MARGIN
        with _lock:
            _tokens[key] = (access_token, time.monotonic() + keep)
        if self._shared is None or keep < 1:
            return
        try:
            self._shared[0].set(self._shared_key(key), access_token, px=int(keep * 1000))
        except RedisError:
            log.warning("access token cache in Redis unreachable", exc_info=True)


def forget_token(connector: ToolServiceConnector, scopes) -> None:
    """Drop the cached token of one registration and scope set (the LMS said 401)."""
    key = connector._key(connector._scope_key(sorted(scopes)))
    with _lock:
        _tokens.pop(key, None)
    if connector._shared is not None:
        try:
            connector._shared[0].delete(connector._shared_key(key))
        except RedisError:
            log.warning("access token cache in Redis unreachable", exc_info=True)


def forget_tokens() -> None:
    """Drop every token cached in this process (tests; a platform that revoked ours).
    Copies in Redis expire with their tokens (each test has a key prefix of its own)."""
    with _lock:
        _tokens.clear()
