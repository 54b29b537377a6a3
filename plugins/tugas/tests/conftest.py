"""The project's shared fixtures (a live tool, the LTI platform peer, browsers)."""

from tests.conftest import app, browser, db, live_tool, lms  # noqa: F401
