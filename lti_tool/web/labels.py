"""Translated names of roles, modes and placeable kinds, for templates."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

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


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        role_label=lambda r: str(ROLE_LABELS.get(r, r)),
        mode_label=lambda m: str(MODE_LABELS.get(m, m)),
        kind_label=lambda k: str(KIND_LABELS.get(k, k)),
        get_locale=lambda: str(get_locale() or "id"),
    )
