"""Rate limits: OIDC logins and launches per client IP, uploads per user.

RATELIMIT_LOGIN counts `/lti/login` and RATELIMIT_LAUNCH `/lti/launch` per client IP
(behind PROXY_COUNT proxies, ProxyFix has already put the client's address in
`remote_addr`). RATELIMIT_UPLOAD counts, per signed-in user, every POST with a
multipart body (what a browser sends for a form with a file: task, report and material
uploads, forum attachments, question banks, score imports, and any plugin's upload to
come, so the core needs no list of plugin endpoints) and every resumable upload
started (tus creation). Limits use the `limits` syntax ("120/minute", "10/second;
500/hour"), counted in fixed windows.

The check runs before every other request hook, so an upload over its limit is
refused before its body is read. Counters live in RATELIMIT_STORAGE_URI, else
REDIS_URL (shared by every worker, under REDIS_KEY_PREFIX), else in each process's
memory; while Redis cannot be reached, each process counts in its memory (a launch
is not refused because the counter is away). A refused request gets a 429 page in
the user's language with Retry-After.

The `limits` library (the one Flask-Limiter is built on) is used directly: only three
counters are needed, and Flask-Limiter's per-request bookkeeping (resolving every
application limit with its exemptions, the request context it keeps for its headers)
cost about a third of a millisecond on every launch, a tenth of the launch's CPU.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from flask import Flask, render_template, request, session
from flask_babel import gettext as _
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)

# endpoint -> setting with its limit, counted per client IP
PER_IP = {"lti.login": "RATELIMIT_LOGIN", "lti.launch": "RATELIMIT_LAUNCH"}
# uploads that are not multipart posts: a resumable (tus) upload's creation
UPLOAD_ENDPOINTS = frozenset({"uploads.create"})


class RateLimitExceeded(TooManyRequests):
    """A limit was reached; `retry_after` seconds until its window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


def client_ip() -> str:
    return request.remote_addr or "unknown"


def uploader() -> str:
    """The signed-in user (the client IP without a session)."""
    uid = session.get("uid")
    return f"user:{uid}" if uid is not None else f"ip:{client_ip()}"


def is_upload() -> bool:
    if request.method != "POST":
        return False
    return request.mimetype == "multipart/form-data" or request.endpoint in UPLOAD_ENDPOINTS


def storage_uri(config) -> str:
    return config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"


@lru_cache(maxsize=64)
def _items(value: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(value))


class ProcessMemoryStorage(MemoryStorage):
    """limits' memory storage without its expiry thread: MemoryStorage starts a
    `threading.Timer` whenever the previous one has ended (every 10 ms under steady
    traffic), which costs more than the count. Expired counters are dropped when read
    (as MemoryStorage does) and, for addresses never seen again, swept at most once a
    minute in the request that comes next."""

    SWEEP_EVERY = 60.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self._swept = time.monotonic()
        self._sweep_lock = threading.Lock()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self.get(key)  # drops the counter if its window has ended
        self._sweep()
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = time.time() + expiry
        return self.storage.get(key, 0)

    def _sweep(self) -> None:
        if time.monotonic() - self._swept < self.SWEEP_EVERY:
            return
        if not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._swept = time.monotonic()
            now = time.time()
            for key in [k for k, at in list(self.expirations.items()) if at <= now]:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)
        finally:
            self._sweep_lock.release()


class RateLimiter:
    """The app's counters: a fixed-window strategy over the configured storage, and a
    per-process memory fallback for when that storage (Redis) cannot be reached."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        uri = storage_uri(app.config)
        self.shared = not uri.startswith("memory://")
        if self.shared:
            timeout = float(app.config.get("REDIS_TIMEOUT") or 2)
            prefix = (app.config.get("REDIS_KEY_PREFIX") or "lti-tool:") + "limits"
            storage: Storage = storage_from_string(
                uri,
                key_prefix=prefix,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
            )
        else:
            storage = ProcessMemoryStorage()
        self.strategy = FixedWindowRateLimiter(storage)
        self._fallback: FixedWindowRateLimiter | None = None
        self._warned = 0.0

    def fallback(self) -> FixedWindowRateLimiter:
        if self._fallback is None:
            self._fallback = FixedWindowRateLimiter(ProcessMemoryStorage())
        return self._fallback

    def rule(self) -> tuple[str, str, str] | None:
        """(setting, scope, key) of the limit this request counts against, if any."""
        endpoint = request.endpoint
        setting = PER_IP.get(endpoint or "")
        if setting is not None:
            return setting, endpoint or "", client_ip()
        if is_upload():
            return "RATELIMIT_UPLOAD", "upload", uploader()
        return None

    def check(self) -> None:
        """Count this request; raise RateLimitExceeded when a limit is reached."""
        rule = self.rule()
        if rule is None:
            return
        setting, scope, key = rule
        items = _items(self.app.config[setting])
        try:
            self._hit(self.strategy, items, scope, key)
        except RateLimitExceeded:
            raise
        except Exception:  # the shared storage is away: count in this process
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                log.warning("rate limit storage unreachable; counting in memory", exc_info=True)
            self._hit(self.fallback(), items, scope, key)

    @staticmethod
    def _hit(
        strategy: FixedWindowRateLimiter, items: tuple[RateLimitItem, ...], scope: str, key: str
    ) -> None:
        for item in items:
            if not strategy.hit(item, scope, key):
                reset = strategy.get_window_stats(item, scope, key).reset_time
                raise RateLimitExceeded(max(1, int(reset - time.time())))


def init_app(app: Flask) -> RateLimiter | None:
    """Attach the limits (unless RATELIMIT_ENABLED is off) and the 429 page."""
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    if not app.config.get("RATELIMIT_ENABLED", True):
        app.extensions["lti_limiter"] = None
        return None
    limiter = RateLimiter(app)
    app.extensions["lti_limiter"] = limiter
    # First of all request hooks: before the CSRF check parses an upload's body.
    app.before_request_funcs.setdefault(None, []).insert(0, limiter.check)
    return limiter


def too_many_requests(exc: RateLimitExceeded):
    wait = exc.retry_after
    message = _("Too many requests in a short time. Wait %(n)s seconds and try again.", n=wait)
    html = render_template("error.html", title=_("Please wait a moment"), message=message, code=429)
    return html, 429, {"Retry-After": str(wait)}
