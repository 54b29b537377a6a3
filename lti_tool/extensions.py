"""Extensions: database, Babel, the platform key-set cache."""

from __future__ import annotations

from flask import Flask, g, session
from flask_babel import Babel

from lti_tool.db import Database
from lti_tool.lti.keyset import KeySetCache

babel = Babel()


def select_locale() -> str:
    """The launch's locale (kept in the session) or Bahasa Indonesia."""
    forced = g.get("locale")
    if forced:
        return forced
    return session.get("locale") or "id"


def init_app(app: Flask) -> None:
    Database(app.config["DATABASE_URL"]).init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.extensions["lti_keysets"] = KeySetCache(
        ttl=app.config["LTI_KEYSET_CACHE_SECONDS"],
        min_refetch=app.config["LTI_KEYSET_MIN_REFETCH_SECONDS"],
    )
