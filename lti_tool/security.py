"""Security headers on every response: Content-Security-Policy, nosniff, Referrer-Policy.

The tool lives in LMS iframes. X-Frame-Options cannot name several origins, so it is
never sent; CSP `frame-ancestors` says who may frame a page instead: the tool itself,
the registered active platforms (the origins of their issuer and OIDC login URL) and
FRAME_ANCESTORS_EXTRA. Those origins are read at most every
LTI_REGISTRY_CACHE_SECONDS per process, and at once after this process changes a
registration. Canvas Cloud issuers (canvas.instructure.com) frame the tool from the
school's own *.instructure.com host, which is added for them.

HTML pages get the full policy. Scripts, styles and images come only from the tool:
no `on...=` or `style=` attribute, no <style>; plugins load their scripts from their
static folders. The core's four tiny inline scripts (a launch page's
history.replaceState, the auto-posting form, the registration's close message, a
print button) carry a per-response nonce (`csp_nonce()` in a template adds it to the
policy) rather than living in a static file: the auto-posting page of a launch or a
Deep Linking response then posts at once, without first fetching a script over a
slow connection. Videos of learning materials come from CSP_FRAME_SRC and
CSP_MEDIA_SRC.

`form-action` is 'self', except on the auto-posting pages (a Deep Linking response
posted back to the platform, the demo platform's launch form): their template calls
`allow_form_action(url)`, which adds that URL's origin and the platforms' origins (a
platform may redirect between its own hosts after the post). The OIDC login answers
with a redirect to the platform, not with a form, so it needs no exception.

JSON answers get no CSP; files and other responses keep only `frame-ancestors`
(added to a policy a view set itself). File downloads send no Referer onwards.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from sqlalchemy import select

from lti_tool.cache import TTLCache
from lti_tool.db import get_db

# Canvas Cloud: one issuer for every school, which uses its own <school>.instructure.com.
CANVAS_CLOUD = {
    "https://canvas.instructure.com": "https://*.instructure.com",
    "https://canvas.beta.instructure.com": "https://*.beta.instructure.com",
    "https://canvas.test.instructure.com": "https://*.test.instructure.com",
}


# A host (name, IPv4 or [IPv6]) and port: nothing that could end a CSP source.
_HOST = re.compile(r"(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?")
# FRAME_ANCESTORS_EXTRA entries may also use a wildcard subdomain.
_SOURCE = re.compile(r"https?://(?:\*\.)?(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?")


def origin_of(url: str | None) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, else None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    netloc = parts.netloc.lower()
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(netloc):
        return None
    return f"{parts.scheme}://{netloc}"


def platform_origins(app: Flask) -> tuple[str, ...]:
    """Origins of the registered, active platforms, and FRAME_ANCESTORS_EXTRA."""

    def load() -> tuple[str, ...]:
        from lti_tool.models import Platform
        from lti_tool.models.platform import STATUS_ACTIVE

        with get_db(app).engine.connect() as conn:
            rows = conn.execute(
                select(Platform.issuer, Platform.auth_login_url).where(
                    Platform.status == STATUS_ACTIVE
                )
            ).all()
        found: list[str] = []
        for issuer, login_url in rows:
            for origin in (origin_of(issuer), origin_of(login_url)):
                if origin:
                    found.append(origin)
                    if origin in CANVAS_CLOUD:
                        found.append(CANVAS_CLOUD[origin])
        extra = app.config.get("FRAME_ANCESTORS_EXTRA") or ()
        found += [o.lower().rstrip("/") for o in extra if _SOURCE.fullmatch(o.lower().rstrip("/"))]
        return tuple(dict.fromkeys(found))

    return app.extensions["lti_frame_origins"].get("origins", load)


def csp_nonce() -> str:
    """This response's script nonce (a template global), made on first use."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def allow_form_action(url: str) -> str:
    """Let this page's form post to `url` (a template global; renders nothing)."""
    origin = origin_of(url)
    if origin:
        g.setdefault("csp_form_action", set()).add(origin)
    return ""


def _frame_ancestors(app: Flask) -> list[str]:
    origins = ["'self'", *platform_origins(app)]
    if request.endpoint == "lti.register":
        # Dynamic registration runs in the registering LMS's window, before the
        # platform is registered (the page does nothing without a valid invite).
        extra = origin_of(request.args.get("openid_configuration"))
        if extra:
            origins.append(extra)
    return origins


def html_policy(app: Flask) -> str:
    """The policy of an HTML page, for this response."""
    cfg = app.config
    form_action = ["'self'"]
    extra = sorted(g.get("csp_form_action") or ())
    if extra:
        form_action += [*extra, *platform_origins(app)]
    nonce = g.get("csp_nonce")
    directives = [
        "default-src 'self'",
        "script-src 'self'" + (f" 'nonce-{nonce}'" if nonce else ""),
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src " + " ".join(["'self'", *cfg.get("CSP_MEDIA_SRC", ())]),
        "frame-src " + " ".join(["'self'", *cfg.get("CSP_FRAME_SRC", ())]),
        "object-src 'none'",
        "base-uri 'self'",
        "form-action " + " ".join(dict.fromkeys(form_action)),
        "frame-ancestors " + " ".join(dict.fromkeys(_frame_ancestors(app))),
    ]
    return "; ".join(directives)


def _is_download(response: Response) -> bool:
    if response.headers.get("Content-Disposition"):
        return True
    endpoint = request.endpoint or ""
    return response.direct_passthrough and endpoint.rpartition(".")[2] != "static"


def add_headers(response: Response) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.pop("X-Frame-Options", None)
    if "Referrer-Policy" not in headers:
        policy = "no-referrer" if _is_download(response) else "strict-origin-when-cross-origin"
        headers["Referrer-Policy"] = policy
    mimetype = response.mimetype or ""
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return response
    own = headers.get("Content-Security-Policy")
    if own:
        if "frame-ancestors" not in own:
            ancestors = " ".join(dict.fromkeys(_frame_ancestors(app)))
            headers["Content-Security-Policy"] = f"{own}; frame-ancestors {ancestors}"
    elif mimetype == "text/html":
        headers["Content-Security-Policy"] = html_policy(app)
    else:
        ancestors = " ".join(dict.fromkeys(_frame_ancestors(app)))
        headers["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


def init_app(app: Flask) -> None:
    from lti_tool.extensions import invalidate_on_commit
    from lti_tool.models import Platform

    cache = TTLCache(app.config["LTI_REGISTRY_CACHE_SECONDS"])
    app.extensions["lti_frame_origins"] = cache
    invalidate_on_commit(get_db(app), "frame_origins", (Platform,), cache.invalidate)
    app.jinja_env.globals["allow_form_action"] = allow_form_action
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(add_headers)
