"""The project's shared fixtures, with the plugin's own test template installed too
(`data/penilaian-uji.yaml`, launched at `/course/penilaian-uji/<block>/<activity>`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from lti_tool.db import get_db
from tests.conftest import LiveTool, browser, build_app, db, lms  # noqa: F401

TEMPLATE = Path(__file__).parent / "data" / "penilaian-uji.yaml"


def install_template(app: Flask) -> None:
    from course_templates.loader import install, load_template

    with app.app_context():
        from lti_tool.db import session

        activities = app.extensions["lti_activities"]
        spec = load_template(TEMPLATE, activities)
        install(session(), spec, activities, source=TEMPLATE, instance_path=app.instance_path)
        session().commit()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(tmp_path)
    install_template(app)
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def live_tool(tmp_path: Path) -> Iterator[LiveTool]:
    """As tests/conftest.py's, with the penilaian test template installed."""
    app = build_app(tmp_path)
    install_template(app)
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
