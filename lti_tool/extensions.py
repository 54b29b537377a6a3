"""Extensions: database, Babel, the registration cache, the platform key-set cache."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

from flask import Flask, g, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event

from lti_tool.cache import TTLCache
from lti_tool.db import Database
from lti_tool.lti.keyset import KeySetCache
from lti_tool.lti.registry import Registry

babel = Babel()
csrf = CSRFProtect()


def select_locale() -> str:
    """The launch's locale (kept in the session) or Bahasa Indonesia."""
    forced = g.get("locale")
    if forced:
        return forced
    return session.get("locale") or "id"


def init_app(app: Flask) -> None:
    database = Database(app.config["DATABASE_URL"])
    database.init_app(app)
    from lti_tool import jobs, redis_client
    from lti_tool.lti import stores

    redis_client.init_app(app)  # REDIS_URL: nonces, launch data and jobs in Redis
    stores.init_app(app)
    jobs.init_app(app)
    from lti_tool.activities import ActivityRegistry

    activities = ActivityRegistry.discover()
    for extra in app.config.get("EXTRA_ACTIVITY_TYPES", ()):  # tests register their own
        activities.add(extra, source="EXTRA_ACTIVITY_TYPES")
    app.extensions["lti_activities"] = activities
    # Plugins bring catalogs of their own; Flask-Babel merges every directory listed.
    dirs = [app.config.get("BABEL_TRANSLATION_DIRECTORIES") or "translations"]
    dirs += [str(p.translations_dir) for p in activities if p.translations_dir is not None]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dict.fromkeys(dirs))
    babel.init_app(app, locale_selector=select_locale)
    # Every state-changing form carries a token; the two platform-initiated LTI
    # endpoints (and the demo platform's own) are exempted where they are defined.
    csrf.init_app(app)
    from lti_tool import i18n, storage

    i18n.init_app(app)
    storage.init_app(app)
    app.extensions["lti_keysets"] = KeySetCache(
        ttl=app.config["LTI_KEYSET_CACHE_SECONDS"],
        min_refetch=app.config["LTI_KEYSET_MIN_REFETCH_SECONDS"],
    )
    ttl = app.config["LTI_REGISTRY_CACHE_SECONDS"]
    registry = Registry(ttl=ttl)
    app.extensions["lti_registry"] = registry
    catalog = TTLCache(ttl)
    app.extensions["lti_catalog"] = catalog

    from lti_tool.models import Activity, CourseBlock, CourseModule, Deployment, Platform, ToolKey

    invalidate_on_commit(database, "registry", (Platform, Deployment, ToolKey), registry.invalidate)
    invalidate_on_commit(
        database, "catalog", (CourseModule, CourseBlock, Activity), catalog.invalidate
    )
    from grading import worker

    worker.init_app(app)


def invalidate_on_commit(
    database: Database, name: str, watched: tuple[type, ...], drop: Callable[[], None]
) -> None:
    """Call `drop` after a commit of this process that touched a `watched` model."""
    flag = f"dirty:{name}"

    @event.listens_for(database.sessionmaker, "after_flush")
    def _mark(session, _ctx) -> None:
        if any(isinstance(o, watched) for o in chain(session.new, session.dirty, session.deleted)):
            session.info[flag] = True

    @event.listens_for(database.sessionmaker, "after_commit")
    def _drop(session) -> None:
        if session.info.pop(flag, False):
            drop()
