"""Translations for templates, fetched once per request.

Flask-Babel resolves the context, the locale and the catalog on every `_()` call;
a page calls it dozens of times. These callables ask once per request and keep
the catalog in `g` (`use_locale` resets it when a view changes the language).
"""

from __future__ import annotations

from flask import Flask, g
from flask_babel import get_translations, refresh


def translations():
    t = g.get("_babel_t")
    if t is None:
        t = g._babel_t = get_translations()
    return t


def use_locale(code: str | None) -> None:
    """Switch this request's language (e.g. to word an error as the launch asked)."""
    g.locale = code
    g.pop("_babel_t", None)
    refresh()


def gettext(message: str) -> str:
    return translations().ugettext(message)


def init_app(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=gettext,
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
