"""The project's shared fixtures, with the plugin's own test template installed too
(`data/penilaian-uji.yaml`, launched at `/course/penilaian-uji/<block>/<activity>`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from lti_tool.db import get_db
from tests.conftest import LiveTool, browser, build_app, db, lms, served, shared_templates  # noqa: F401

TEMPLATES = shared_templates(Path(__file__).parent / "data" / "penilaian-uji.yaml")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(tmp_path, templates=TEMPLATES)
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def live_tool(tmp_path: Path) -> Iterator[LiveTool]:
    """As tests/conftest.py's, with the penilaian test template installed."""
    with served(build_app(tmp_path, templates=TEMPLATES)) as tool:
        yield tool
