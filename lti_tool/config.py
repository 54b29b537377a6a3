"""Configuration classes, and environment overrides for every setting.

`make run`, the CLI and a production server read the same values: every UPPERCASE
setting below can be set by an environment variable of the same name (typed after
its default: integers, booleans as 1/0/true/false/yes/no). `PUBLIC_BASE_URL` is the
address the LMS uses to reach the tool; every URL the tool hands to an LMS is
built from it (default http://HOST:PORT).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_instance_path() -> Path:
    return Path(os.environ.get("INSTANCE_PATH") or REPO_ROOT / "instance").resolve()


class Config:
    """Defaults for every environment."""

    HOST = "127.0.0.1"
    PORT = 5000
    PUBLIC_BASE_URL: str | None = None
    DATABASE_URL: str | None = None
    SECRET_KEY: str | None = None
    INSTANCE_PATH: str | None = None
    # The demo LMS at /demo/ (development only; `make run` turns it on).
    DEMO = False
    # The module the demo course opens (when installed).
    DEMO_MODULE = "gp-informatika-smp"
    TESTING = False

    # Behind nginx or another proxy: how many proxies to trust for X-Forwarded-*.
    PROXY_COUNT = 0

    BABEL_DEFAULT_LOCALE = "id"
    BABEL_SUPPORTED_LOCALES = ("id", "en")
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"

    # How long an OIDC login may take before its state expires (seconds).
    LTI_STATE_TTL = 600
    # Clock skew tolerated on iat/exp (seconds) and the oldest iat accepted.
    LTI_JWT_LEEWAY = 60
    LTI_MAX_TOKEN_AGE = 600
    # Platform key sets are cached; an unknown kid forces a refetch at most this often.
    LTI_KEYSET_CACHE_SECONDS = 3600
    LTI_KEYSET_MIN_REFETCH_SECONDS = 5
    # Registrations and the signing key are cached per process this long (seconds).
    LTI_REGISTRY_CACHE_SECONDS = 10
    # How long retired tool keys stay published after a rotation.
    LTI_KEY_GRACE_DAYS = 7
    LTI_INVITE_TTL_HOURS = 72
    LTI_LAUNCH_DATA_TTL = 8 * 3600
    # Timeout of every call to a platform (seconds).
    HTTP_TIMEOUT = 10
    # How scores reach the LMS gradebook: "thread" (a worker thread in each server
    # process), or "off" (only `lti-tool grades sync` delivers; tests drive it).
    GRADES_WORKER = "thread"
    # A staff launch re-reads the course roster from the LMS (NRPS, in the background)
    # when it is older than this many hours; 0 turns it off.
    ROSTER_REFRESH_HOURS = 6

    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    # Static files are fingerprinted (`?v=<hash>`), so they may be cached for a year;
    # other downloads set their own max-age.
    SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600
    # Largest learning-material file a pengampu may upload (bytes).
    MATERI_MAX_UPLOAD = 50 * 1024 * 1024
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    # The session lasts 8 hours from the latest launch; pages do not re-sign it.
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_NAME = "lti_tool_session"
    # CSRF tokens live as long as the session (a teacher may keep a form open for hours).
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True


class DevelopmentConfig(Config):
    """`make run` and local work."""


class TestingConfig(Config):
    TESTING = True
    LTI_KEYSET_MIN_REFETCH_SECONDS = 0
    GRADES_WORKER = "off"
    ROSTER_REFRESH_HOURS = 0


class ProductionConfig(Config):
    """Behind a reverse proxy with TLS; SECRET_KEY and PUBLIC_BASE_URL must be set."""


ENVIRONMENTS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def settings_of(config: type) -> dict[str, Any]:
    return {k: getattr(config, k) for k in dir(config) if k.isupper()}


def _coerce(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ValueError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc
    if isinstance(default, tuple):
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    return raw or None


def from_environment(settings: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Override each setting that has an environment variable of the same name."""
    out = dict(settings)
    for name, default in settings.items():
        if name in environ:
            out[name] = _coerce(name, environ[name], default)
    return out


def load_config(config: Any = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings from a config class or LTI_TOOL_ENV (plus environment overrides), or
    from a dict (taken as it is, on top of the defaults: tests stay hermetic)."""
    environ = os.environ if environ is None else environ
    if isinstance(config, Mapping):
        return {**settings_of(Config), **config}
    if config is None:
        name = environ.get("LTI_TOOL_ENV", "development").strip().lower()
        if name not in ENVIRONMENTS:
            raise ValueError(f"LTI_TOOL_ENV must be one of {sorted(ENVIRONMENTS)}, got {name!r}")
        config = ENVIRONMENTS[name]
    return from_environment(settings_of(config), environ)
