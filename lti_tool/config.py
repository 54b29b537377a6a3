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
    # Platform key sets are cached; an unknown kid forces a refetch at most this often
    # per key set URL (one a minute: forged kids cannot make us hammer the platform).
    LTI_KEYSET_CACHE_SECONDS = 3600
    LTI_KEYSET_MIN_REFETCH_SECONDS = 60
    # Registrations and the signing key are cached per process this long (seconds).
    LTI_REGISTRY_CACHE_SECONDS = 10
    # How long retired tool keys stay published after a rotation.
    LTI_KEY_GRACE_DAYS = 7
    LTI_INVITE_TTL_HOURS = 72
    LTI_LAUNCH_DATA_TTL = 8 * 3600
    # Timeout of every call to a platform (seconds).
    HTTP_TIMEOUT = 10
    # How scores reach the LMS gradebook: "thread" (a worker thread in each server
    # process), "queue" (jobs for `lti-tool worker`; needs the RQ job backend), "auto"
    # (queue when jobs go through RQ, else thread), or "off" (only `lti-tool grades
    # sync` delivers; tests drive it).
    GRADES_WORKER = "auto"
    # A score claimed by a delivery that died is taken again after this many seconds.
    GRADES_CLAIM_SECONDS = 300
    # A staff launch re-reads the course roster from the LMS (NRPS, in the background)
    # when it is older than this many hours; 0 turns it off.
    ROSTER_REFRESH_HOURS = 6

    # Scale-out. With REDIS_URL set, single-use nonces and deep-linking launch data live
    # in Redis with TTLs (shared by every process), and jobs go through RQ (run by
    # `lti-tool worker`). Unset: the database, and threads inside the web processes.
    REDIS_URL: str | None = None
    REDIS_KEY_PREFIX = "lti-tool:"
    # Seconds a Redis call may take before a launch is refused with "try again".
    REDIS_TIMEOUT = 2
    # "auto" (RQ when REDIS_URL is set, else "thread"), "rq", "thread" (a background
    # thread of the process that enqueued), "inline" (at once, in the caller).
    JOBS_BACKEND = "auto"
    JOBS_QUEUE = "lti-tool"
    # How often `lti-tool worker` looks for due work in the database between jobs.
    JOBS_TICK_SECONDS = 10
    # Report files and certificate batches made by jobs (lti_tool/exports): a file is
    # kept this many days; a build that fails is retried this many times, with backoff.
    EXPORT_KEEP_DAYS = 7
    EXPORT_RETRIES = 2

    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    # Largest text field (and url-encoded form) kept in memory, and most fields and
    # files in one form: a larger request is refused with 413 before anything is read.
    MAX_FORM_MEMORY_SIZE = 500 * 1024
    MAX_FORM_PARTS = 1000
    # Static files are fingerprinted (`?v=<hash>`), so they may be cached for a year;
    # other downloads set their own max-age.
    SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600
    # Gzip pages, CSS, JS and JSON for browsers that accept it (0: the proxy does it).
    COMPRESS_RESPONSES = True
    # Largest learning-material file a pengampu may upload (bytes).
    MATERI_MAX_UPLOAD = 50 * 1024 * 1024
    # Where uploaded files live (lti_tool/storage.py): unset, a folder under the instance
    # folder; file:///path, that folder; s3://bucket/prefix, S3-compatible storage at
    # S3_ENDPOINT_URL (unset: AWS), credentials and region from boto3's standard chain.
    STORAGE_URL: str | None = None
    S3_ENDPOINT_URL: str | None = None
    # Resumable uploads (tus, lti_tool/uploads): files above RESUMABLE_THRESHOLD bytes
    # are sent in UPLOAD_CHUNK_BYTES pieces and continue where a cut connection stopped.
    # Unfinished uploads live in UPLOAD_TMP_DIR (unset: <instance>/upload-sessions; with
    # several hosts, a volume they all share) and expire after UPLOAD_EXPIRY_HOURS.
    UPLOAD_TMP_DIR: str | None = None
    UPLOAD_EXPIRY_HOURS = 24
    RESUMABLE_THRESHOLD = 2 * 1024 * 1024
    UPLOAD_CHUNK_BYTES = 1024 * 1024
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    # The session lasts 8 hours from the latest launch; pages do not re-sign it.
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_NAME = "lti_tool_session"
    # CSRF tokens live as long as the session (a teacher may keep a form open for hours).
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True

    # Security headers (lti_tool/security.py). Pages may be framed by the registered,
    # active platforms (issuer and login URL origins) and these extra origins, e.g.
    # "https://lms.example.id,https://*.example.id".
    FRAME_ANCESTORS_EXTRA: tuple[str, ...] = ()
    # Where embedded videos of learning materials may come from (CSP frame-src and
    # media-src besides the tool itself).
    CSP_FRAME_SRC: tuple[str, ...] = ("https://www.youtube-nocookie.com",)
    CSP_MEDIA_SRC: tuple[str, ...] = ("https:",)
    # Rate limits (`limits` syntax, lti_tool/ratelimit.py): OIDC logins and
    # launches per client IP, uploads (any multipart form) per user. Counted in
    # RATELIMIT_STORAGE_URI, else REDIS_URL, else in each process's memory. A whole
    # learning centre (up to 60 peserta at a TM session) may share one address.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI: str | None = None
    RATELIMIT_LOGIN = "120/minute"
    RATELIMIT_LAUNCH = "120/minute"
    RATELIMIT_UPLOAD = "30/minute"

    # Certificates (STTPP, Juknis V.F): what the issuing unit prints on every
    # certificate. The bracketed defaults are placeholders: set them for a real class
    # (the staff certificate page warns while any is left).
    CERT_MINISTRY_NAME = "[Nama Kementerian]"
    CERT_UNIT_NAME = "[Nama Unit Penyelenggara (UPT/PPPPTK)]"
    CERT_UNIT_ADDRESS = "[Alamat Unit Penyelenggara]"
    CERT_SIGNATORY_TITLE = "Kepala"
    CERT_SIGNATORY_NAME = "[Nama Kepala Unit]"
    CERT_SIGNATORY_ID = "[NIP Kepala Unit]"
    CERT_CITY = "[Kota]"
    # A PNG or JPEG file (ministry or unit logo) printed at the top; None: no logo.
    CERT_LOGO_PATH: str | None = None
    # Certificate numbers read PREFIX/YEAR/SEQUENCE-CHECK (A-Z, 0-9, '.', '-' only).
    CERT_NUMBER_PREFIX = "STTPP"

    # Email (lti_tool/mail): deadline reminders and mentor feedback notices, each turned
    # on per course by its pengampu; nothing is sent while MAIL_ENABLED is off. The job
    # queue sends through SMTP_HOST:SMTP_PORT, logging in when SMTP_USERNAME is set;
    # SMTP_SSL: TLS from the first byte (port 465), SMTP_STARTTLS: a plain connection
    # upgraded to TLS (port 587). MAIL_REMINDER_DAYS_BEFORE: "2,0" reminds two days
    # before and on the due day, from MAIL_REMINDER_HOUR o'clock in the class time zone.
    MAIL_ENABLED = False
    SMTP_HOST = "localhost"
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False
    SMTP_SSL = False
    SMTP_TIMEOUT = 30
    MAIL_FROM: str | None = None
    MAIL_REPLY_TO: str | None = None
    MAIL_REMINDER_DAYS_BEFORE = "2,0"
    MAIL_REMINDER_HOUR = 7


class DevelopmentConfig(Config):
    """`make run` and local work."""


class TestingConfig(Config):
    TESTING = True
    LTI_KEYSET_MIN_REFETCH_SECONDS = 0
    RATELIMIT_ENABLED = False
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
