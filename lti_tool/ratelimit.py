"""Rate limits: OIDC logins and launches per client IP, uploads per user.

RATELIMIT_LOGIN counts `/lti/login` and RATELIMIT_LAUNCH `/lti/launch` per client IP
(behind PROXY_COUNT proxies, ProxyFix has already put the client's address in
`remote_addr`). RATELIMIT_UPLOAD counts, per signed-in user, every POST with a
multipart body (what a browser sends for a form with a file: task, report and material
uploads, forum attachments, question banks, score imports, and any plugin's upload to
come, so the core needs no list of plugin endpoints) and every resumable upload
started (tus creation).

The checks run before every other request hook, so an upload over its limit is
refused before its body is read. Counters live in RATELIMIT_STORAGE_URI, else
REDIS_URL (shared by every worker, under REDIS_KEY_PREFIX), else in each process's
memory; while Redis cannot be reached, each process counts in its memory (a launch
is not refused because the counter is away). Each app gets
a Limiter of its own: Flask-Limiter keeps storage and limits on the Limiter, and
tests build many apps in one process. A refused request gets a 429 page in the
user's language with Retry-After.
"""

from __future__ import annotations

import time

from flask import Flask, render_template, request, session
from flask_babel import gettext as _
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded

# endpoint -> setting with its limit, counted per client IP
PER_IP = {"lti.login": "RATELIMIT_LOGIN", "lti.launch": "RATELIMIT_LAUNCH"}
# uploads that are not multipart posts: a resumable (tus) upload's creation
UPLOAD_ENDPOINTS = frozenset({"uploads.create"})


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


def _per_ip(app: Flask, endpoint: str, setting: str) -> ApplicationLimit:
    return ApplicationLimit(
        limit_provider=lambda: app.config[setting],
        key_function=client_ip,
        scope=endpoint,
        exempt_when=lambda: request.endpoint != endpoint,
    )


def init_app(app: Flask) -> Limiter | None:
    """Attach the limits (unless RATELIMIT_ENABLED is off) and the 429 page."""
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    if not app.config.get("RATELIMIT_ENABLED", True):
        app.extensions["lti_limiter"] = None
        return None
    limits = [_per_ip(app, endpoint, setting) for endpoint, setting in PER_IP.items()]
    limits.append(
        ApplicationLimit(
            limit_provider=lambda: app.config["RATELIMIT_UPLOAD"],
            key_function=uploader,
            scope="upload",
            exempt_when=lambda: not is_upload(),
        )
    )
    uri = storage_uri(app.config)
    options = {}
    if uri.startswith(("redis://", "rediss://")):
        timeout = float(app.config.get("REDIS_TIMEOUT") or 2)
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    limiter = Limiter(
        client_ip,
        application_limits=limits,
        storage_uri=uri,
        storage_options=options,
        key_prefix=(app.config.get("REDIS_KEY_PREFIX") or "lti-tool:") + "limits",
        in_memory_fallback_enabled=not uri.startswith("memory://"),
        swallow_errors=True,
    )
    limiter.init_app(app)
    # Every other request skips the limiter's bookkeeping at once.
    limiter.request_filter(lambda: request.endpoint not in PER_IP and not is_upload())
    # First of all request hooks: before the CSRF check parses an upload's body.
    hooks = app.before_request_funcs.setdefault(None, [])
    check = next(f for f in hooks if getattr(f, "__self__", None) is limiter)
    hooks.remove(check)
    hooks.insert(0, check)
    app.extensions["lti_limiter"] = limiter
    return limiter


def too_many_requests(exc: RateLimitExceeded):
    from flask import current_app

    limiter: Limiter | None = current_app.extensions.get("lti_limiter")
    current = limiter.current_limit if limiter is not None else None
    wait = max(1, int(current.reset_at - time.time())) if current is not None else 60
    message = _("Too many requests in a short time. Wait %(n)s seconds and try again.", n=wait)
    html = render_template("error.html", title=_("Please wait a moment"), message=message, code=429)
    return html, 429, {"Retry-After": str(wait)}
