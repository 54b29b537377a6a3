"""The `refleksi` activity type: the session reflection journal ("blog", Juknis
III.E.2.d) and the Penutup's kesimpulan dan umpan balik, complete when submitted."""

from __future__ import annotations

from pathlib import Path

from lti_tool.activities import ActivityType
from plugins.refleksi import models, views
from plugins.refleksi.settings import RefleksiSettings

_ = models  # the tables register with the metadata on import


class Refleksi(ActivityType):
    """Refleksi"""

    name = "refleksi"
    graded = False
    settings_model = RefleksiSettings
    completion_rules = ("submitted",)
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"
    translations_dir = Path(__file__).parent / "translations"

    @classmethod
    def on_view(cls, page) -> str | None:
        return None  # complete when submitted, not when opened

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)

    @classmethod
    def staff_url(cls, context_id: int, module_key: str, activity) -> str | None:
        from flask import url_for

        return url_for("refleksi.staff", ctx=context_id, activity_id=activity.id)

    @classmethod
    def review_url(cls, context_id: int, module_key: str, activity, user_id: int) -> str | None:
        """The peserta's reflection (with its comments), else the class list."""
        from flask import url_for

        from lti_tool.db import session

        mine = views._entry(session(), context_id, activity.id, user_id)
        if mine is not None:
            return url_for("refleksi.entry", ctx=context_id, entry_id=mine.id)
        return cls.staff_url(context_id, module_key, activity)
