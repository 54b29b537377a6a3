"""The project's shared fixtures, on an app with the forum's own test template
(data/forum-uji.yaml: a class forum and a rombel forum).

The app is built as tests/conftest.py::build_app builds it (migrated SQLite in
tmp_path, a signing key), but installs only this template: the forum's tests do not
depend on the shared fixture template, which other activity types change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from lti_tool import create_app
from lti_tool.config import TestingConfig
from lti_tool.db import get_db
from tests.conftest import LiveTool, app, browser, db, live_tool, lms  # noqa: F401

TEMPLATE = Path(__file__).parent / "data" / "forum-uji.yaml"


def install_forum_template(app: Flask) -> None:
    from course_templates.loader import install, load_template

    with app.app_context():
        from lti_tool.db import session

        db = session()
        activities = app.extensions["lti_activities"]
        spec = load_template(TEMPLATE, activities)
        install(db, spec, activities, source=TEMPLATE, instance_path=app.instance_path)
        db.commit()


def build_forum_app(tmp_path: Path, **overrides) -> Flask:
    from lti_tool.migrate import upgrade
    from lti_tool.services.keys import ensure_signing_key

    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    settings.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'tool.db'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "PUBLIC_BASE_URL": "http://127.0.0.1:1",
            "SECRET_KEY": "test-secret",
        }
    )
    settings.update(overrides)
    app = create_app(settings)
    upgrade(app)
    with app.app_context():
        from lti_tool.db import session

        ensure_signing_key(session())
        session().commit()
    install_forum_template(app)
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:  # noqa: F811
    app = build_forum_app(tmp_path)
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def live_tool(tmp_path: Path) -> Iterator[LiveTool]:  # noqa: F811
    app = build_forum_app(tmp_path)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveTool(app=app, base_url=base)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        get_db(app).engine.dispose()
