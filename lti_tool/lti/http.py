"""The one requests.Session the tool uses to call platforms.

Canvas refuses calls without a User-Agent, so every outgoing call names the tool.
"""

from __future__ import annotations

import requests
from flask import current_app

import lti_tool


def user_agent() -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    return f"lti-tool-guru-pembelajar/{lti_tool.__version__} (+{base})"


def http_session() -> requests.Session:
    """A Session per app with the User-Agent and timeouts set."""
    s = current_app.extensions.get("lti_http")
    if s is None:
        s = TimeoutSession(current_app.config.get("HTTP_TIMEOUT", 10))
        s.headers["User-Agent"] = user_agent()
        current_app.extensions["lti_http"] = s
    return s


class TimeoutSession(requests.Session):
    """requests has no default timeout; a platform that hangs must not hang a worker."""

    def __init__(self, timeout: float, pool: int = 32) -> None:
        super().__init__()
        self._timeout = timeout
        # Grade passback posts in parallel: keep that many connections per platform.
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=pool)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, **kwargs)
