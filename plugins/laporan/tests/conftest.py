"""The project's shared fixtures, with the plugin's own PLPG-shaped test module
(`data/plpg-laporan-uji.yaml`, launched at `/course/plpg-laporan-uji/<block>/<activity>`)
installed after the shared ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from lti_tool.db import get_db
from tests.conftest import LiveTool, browser, build_app, db, lms, served, shared_templates  # noqa: F401

TEMPLATES = shared_templates(Path(__file__).parent / "data" / "plpg-laporan-uji.yaml")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(tmp_path, templates=TEMPLATES)
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def live_tool(tmp_path: Path) -> Iterator[LiveTool]:
    with served(build_app(tmp_path, templates=TEMPLATES)) as tool:
        yield tool
