"""Translated names of roles, modes and placeable kinds, for templates."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from lti_tool.i18n import gettext

ROLE_LABELS = {
    "peserta": _l("Participant (peserta)"),
    "mentor": _l("Mentor"),
    "pengampu": _l("Instructor (pengampu)"),
    "admin": _l("Class administrator"),
}
MODE_LABELS = {
    "daring-model-1": _l("Online, model 1"),
    "daring-model-2": _l("Online, model 2 (with mentor)"),
    "daring-kombinasi": _l("Blended (online and face to face)"),
    "plpg-pembekalan": _l("PLPG preparatory phase"),
}
KIND_LABELS = {
    "module": _l("Module"),
    "block": _l("Week"),
    "activity": _l("Activity"),
}


def _label(table):
    def label(key: str) -> str:
        lazy = table.get(key)
        return gettext(lazy._args[0]) if lazy is not None else key

    return label


def init_app(app: Flask) -> None:
    static_urls: dict[str, str] = {}

    def static_url(filename: str) -> str:
        """A static file's URL with a fingerprint of its content (`?v=`), computed once:
        browsers may cache it for a year and fetch it again only when it changes."""
        url = static_urls.get(filename)
        if url is None:
            content = (Path(app.static_folder) / filename).read_bytes()
            digest = hashlib.sha256(content).hexdigest()[:12]
            url = static_urls[filename] = url_for("static", filename=filename, v=digest)
        return url

    app.jinja_env.globals.update(
        static_url=static_url,
        role_label=_label(ROLE_LABELS),
        mode_label=_label(MODE_LABELS),
        kind_label=_label(KIND_LABELS),
        get_locale=lambda: str(get_locale() or "id"),
    )
