"""Platform key sets: cached, refetched when a token names an unknown kid.

Platforms such as D2L rotate keys often; a kid we have not seen triggers one refetch
(at most once per LTI_KEYSET_MIN_REFETCH_SECONDS per URL, so forged kids cannot make
us hammer the platform). Concurrent launches wait for one fetch per URL instead of
each fetching: a burst of unknown kids makes one request to the platform.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from lti_tool.lti.errors import LtiError


@dataclass
class _Entry:
    keys: dict[str, dict[str, Any]]
    fetched_at: float
    parsed: dict[str, PyJWK] = field(default_factory=dict)


class KeySetCache:
    """Thread-safe per-process cache of platform JWKS, keyed by URL."""

    def __init__(self, ttl: float, min_refetch: float) -> None:
        self.ttl = ttl
        self.min_refetch = min_refetch
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._fetching: dict[str, threading.Lock] = {}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fetch(self, url: str, http: requests.Session) -> _Entry:
        try:
            resp = http.get(url, headers={"Accept": "application/json"})
            resp.raise_for_status()
            data = resp.json()
            keys = {k["kid"]: k for k in data.get("keys", []) if isinstance(k, dict) and "kid" in k}
        except (requests.RequestException, ValueError, AttributeError, TypeError) as exc:
            raise LtiError("bad_signature", f"cannot fetch key set {url}: {exc}") from exc
        entry = _Entry(keys=keys, fetched_at=time.monotonic())
        with self._lock:
            self._entries[url] = entry
        return entry

    def _due(self, entry: _Entry | None, kid: str) -> bool:
        """Whether the set must be (re)fetched to look for `kid`."""
        if entry is None:
            return True
        age = time.monotonic() - entry.fetched_at
        return age > self.ttl or (kid not in entry.keys and age >= self.min_refetch)

    def get_key(self, url: str, kid: str, http: requests.Session) -> PyJWK:
        """The RS256 public key for `kid`, refetching the set once if it is unknown."""
        with self._lock:
            entry = self._entries.get(url)
            gate = self._fetching.setdefault(url, threading.Lock())
        if self._due(entry, kid):
            with gate:  # one fetch per URL at a time; the others use its result
                with self._lock:
                    entry = self._entries.get(url)
                if self._due(entry, kid):
                    entry = self._fetch(url, http)
        assert entry is not None
        jwk = entry.keys.get(kid)
        if jwk is None:
            raise LtiError("bad_signature", f"unknown kid {kid!r} in {url}")
        if jwk.get("kty") != "RSA" or jwk.get("alg", "RS256") != "RS256":
            raise LtiError("bad_signature", f"key {kid!r} is not an RS256 key")
        parsed = entry.parsed.get(kid)
        if parsed is None:
            try:
                parsed = PyJWK(jwk, algorithm="RS256")
            except PyJWKError as exc:
                raise LtiError("bad_signature", f"key {kid!r} unusable: {exc}") from exc
            entry.parsed[kid] = parsed
        return parsed
