"""The application factory."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool.config import default_instance_path, load_config


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from config, else one generated once and kept in instance/secret_key."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    os.chmod(path, 0o600)
    return key


def create_app(config: Any = None) -> Flask:
    """Build the app. `config` is a config class, a dict of settings, or None (environment)."""
    settings = load_config(config)
    instance = Path(settings.get("INSTANCE_PATH") or default_instance_path())
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=False)
    app.config.update(settings)
    instance.mkdir(parents=True, exist_ok=True)

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = (
            secrets.token_urlsafe(32) if app.config.get("TESTING") else _secret_key(instance)
        )
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'lti_tool.db'}"
    if not app.config.get("PUBLIC_BASE_URL"):
        app.config["PUBLIC_BASE_URL"] = f"http://{app.config['HOST']}:{app.config['PORT']}"
    app.config["PUBLIC_BASE_URL"] = app.config["PUBLIC_BASE_URL"].rstrip("/")
    _cookie_settings(app)

    from lti_tool.web import compress

    compress.init_app(app)  # the first after_request registered runs last: on the final body

    if app.config.get("PROXY_COUNT"):
        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]

    from lti_tool import extensions

    # The session holds only JSON values (ids, names, roles): plain JSON is enough, and
    # cheaper than Flask's tagged serializer on every launch.
    app.session_interface.serializer = _JsonSerializer()
    extensions.init_app(app)

    from lti_tool.lti.views import bp as lti_bp
    from lti_tool.web.analysis import bp as analysis_bp
    from lti_tool.web.biodata import bp as biodata_bp
    from lti_tool.web.certificates import bp as certificates_bp
    from lti_tool.web.gradebook_export import bp as gradebook_export_bp
    from lti_tool.web.grades import bp as grades_bp
    from lti_tool.web.mail import bp as mail_bp
    from lti_tool.web.meetings import bp as meetings_bp
    from lti_tool.web.rekap import bp as rekap_bp
    from lti_tool.web.reports import bp as reports_bp
    from lti_tool.web.score_import import bp as score_import_bp
    from lti_tool.web.scores import bp as scores_bp
    from lti_tool.web.staff import bp as staff_bp
    from lti_tool.web.views import bp as web_bp

    app.register_blueprint(lti_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(scores_bp)
    app.register_blueprint(score_import_bp)
    app.register_blueprint(gradebook_export_bp)
    app.register_blueprint(grades_bp)
    app.register_blueprint(rekap_bp)
    app.register_blueprint(analysis_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(biodata_bp)
    app.register_blueprint(mail_bp)
    from lti_tool.uploads.tus import bp as uploads_bp

    app.register_blueprint(uploads_bp)  # resumable uploads (tus) for plugin forms
    from lti_tool.exports.views import bp as exports_bp

    app.register_blueprint(exports_bp)  # report files and certificate batches (jobs)
    for plugin in app.extensions["lti_activities"]:
        if plugin.blueprint is not None:
            app.register_blueprint(plugin.blueprint)
    if app.config.get("DEMO"):
        from lti_tool.demo.views import bp as demo_bp

        app.register_blueprint(demo_bp)

    from lti_tool.web import labels
    from lti_tool.web.errors import register_error_handlers

    labels.init_app(app)
    from lti_tool.web import nomor

    nomor.init_app(app)

    register_error_handlers(app)

    from lti_tool import ratelimit, request_limits, security
    from lti_tool.web import auth

    security.init_app(app)  # CSP, nosniff, Referrer-Policy on every response
    request_limits.init_app(app)  # url-encoded bodies no larger than MAX_FORM_MEMORY_SIZE
    ratelimit.init_app(app)  # login, launch and upload limits (before other hooks)
    auth.init_app(app)  # a suspended user's open session ends

    from lti_tool import mail

    mail.init_app(app)  # refuses incomplete SMTP settings at start-up

    from lti_tool.cli import register_commands

    register_commands(app)
    return app


class _JsonSerializer:
    """dumps/loads for itsdangerous: compact JSON, no type tags."""

    @staticmethod
    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    @staticmethod
    def loads(value: str | bytes) -> Any:
        return json.loads(value)


def _cookie_settings(app: Flask) -> None:
    """Inside an LMS iframe the session cookie is third-party: over HTTPS it must be
    SameSite=None; Secure; Partitioned (CHIPS). Over plain http (the local demo)
    browsers refuse SameSite=None without Secure, so Lax is used there."""
    https = urlsplit(app.config["PUBLIC_BASE_URL"]).scheme == "https"
    app.config["LTI_HTTPS"] = https
    app.config.setdefault("SESSION_COOKIE_SECURE", https)
    if https:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_SAMESITE"] = "None"
        app.config["SESSION_COOKIE_PARTITIONED"] = True
    else:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
        app.config["SESSION_COOKIE_PARTITIONED"] = False
