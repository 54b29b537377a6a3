"""The project's shared fixtures, with the plugin's own PLPG-shaped test module
(`data/plpg-laporan-uji.yaml`, launched at `/course/plpg-laporan-uji/<block>/<activity>`)
installed after the shared ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from lti_tool.db import get_db
from tests.conftest import LiveTool, browser, build_app, db, lms  # noqa: F401

TEMPLATE = Path(__file__).parent / "data" / "plpg-laporan-uji.yaml"


def build(tmp_path: Path) -> Flask:
    from course_templates.loader import install, load_template

    app = build_app(tmp_path)
    with app.app_context():
        from lti_tool.db import session

        activities = app.extensions["lti_activities"]
        spec = load_template(TEMPLATE, activities)
        install(session(), spec, activities, source=TEMPLATE, instance_path=app.instance_path)
        session().commit()
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build(tmp_path)
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def live_tool(tmp_path: Path) -> Iterator[LiveTool]:
    app = build(tmp_path)
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
