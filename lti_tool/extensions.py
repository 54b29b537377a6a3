"""Extensions: database, Babel, the registration cache, the platform key-set cache."""

from __future__ import annotations

from itertools import chain

from flask import Flask, g, session
from flask_babel import Babel
from sqlalchemy import event

from lti_tool.db import Database
from lti_tool.lti.keyset import KeySetCache
from lti_tool.lti.registry import Registry

babel = Babel()


def select_locale() -> str:
    """The launch's locale (kept in the session) or Bahasa Indonesia."""
    forced = g.get("locale")
    if forced:
        return forced
    return session.get("locale") or "id"


def init_app(app: Flask) -> None:
    database = Database(app.config["DATABASE_URL"])
    database.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.extensions["lti_keysets"] = KeySetCache(
        ttl=app.config["LTI_KEYSET_CACHE_SECONDS"],
        min_refetch=app.config["LTI_KEYSET_MIN_REFETCH_SECONDS"],
    )
    registry = Registry(ttl=app.config["LTI_REGISTRY_CACHE_SECONDS"])
    app.extensions["lti_registry"] = registry
    _invalidate_registry_on_commit(database, registry)


def _invalidate_registry_on_commit(database: Database, registry: Registry) -> None:
    """A commit that touched a registration or a tool key drops this process's cache."""
    from lti_tool.models import Deployment, Platform, ToolKey

    watched = (Platform, Deployment, ToolKey)

    @event.listens_for(database.sessionmaker, "after_flush")
    def _mark(session, _ctx) -> None:
        if any(isinstance(o, watched) for o in chain(session.new, session.dirty, session.deleted)):
            session.info["registry_dirty"] = True

    @event.listens_for(database.sessionmaker, "after_commit")
    def _drop(session) -> None:
        if session.info.pop("registry_dirty", False):
            registry.invalidate()
