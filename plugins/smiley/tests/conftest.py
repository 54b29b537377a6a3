"""The project's shared fixtures (an app with the shared test templates)."""

from tests.conftest import app, db  # noqa: F401
