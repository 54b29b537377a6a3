"""The project's shared fixtures, on an app with the forum's own test template
(data/forum-uji.yaml: a class forum and a rombel forum) and only that one: the forum's
tests do not depend on the shared fixture template, which other activity types change.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from lti_tool.db import get_db
from tests.conftest import LiveTool, browser, build_app, db, lms, served  # noqa: F401

TEMPLATE = Path(__file__).parent / "data" / "forum-uji.yaml"


def build_forum_app(tmp_path: Path, **overrides) -> Flask:
    return build_app(tmp_path, templates=[TEMPLATE], **overrides)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build_forum_app(tmp_path)
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def live_tool(tmp_path: Path) -> Iterator[LiveTool]:
    with served(build_forum_app(tmp_path)) as tool:
        yield tool
