"""Configuration classes.

Every setting can come from the environment so that `make run`, the CLI and a
production server read the same values. `PUBLIC_BASE_URL` is the address the
LMS uses to reach the tool; every URL the tool hands to an LMS is built from it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_instance_path() -> Path:
    return Path(os.environ.get("INSTANCE_PATH", REPO_ROOT / "instance")).resolve()


class Config:
    """Defaults for every environment; values are read from the environment at import."""

    HOST: str = os.environ.get("HOST", "127.0.0.1")
    PORT: int = int(os.environ.get("PORT", "5000"))
    PUBLIC_BASE_URL: str | None = os.environ.get("PUBLIC_BASE_URL") or None
    DATABASE_URL: str | None = os.environ.get("DATABASE_URL") or None
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY") or None
    DEMO: bool = _bool(os.environ.get("DEMO"))
    TESTING: bool = False

    # Behind nginx or another proxy: how many proxies to trust for X-Forwarded-*.
    PROXY_COUNT: int = int(os.environ.get("PROXY_COUNT", "0"))

    BABEL_DEFAULT_LOCALE = "id"
    BABEL_SUPPORTED_LOCALES = ("id", "en")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE", "Asia/Jakarta")

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
    HTTP_TIMEOUT = 10

    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    SESSION_COOKIE_NAME = "lti_tool_session"
    SESSION_COOKIE_HTTPONLY = True


class DevelopmentConfig(Config):
    """`make run`: the demo launcher is on."""

    DEMO = _bool(os.environ.get("DEMO"), default=True)


class TestingConfig(Config):
    TESTING = True
    DEMO = False
    LTI_KEYSET_MIN_REFETCH_SECONDS = 0


class ProductionConfig(Config):
    DEMO = False


def load_config(config: Any) -> dict[str, Any]:
    """Turn a config class, mapping or None into a plain dict of UPPERCASE settings."""
    if config is None:
        name = os.environ.get("LTI_TOOL_ENV", "development").lower()
        config = {
            "development": DevelopmentConfig,
            "production": ProductionConfig,
            "testing": TestingConfig,
        }.get(name, DevelopmentConfig)
    if isinstance(config, dict):
        base = {k: getattr(Config, k) for k in dir(Config) if k.isupper()}
        base.update(config)
        return base
    return {k: getattr(config, k) for k in dir(config) if k.isupper()}
