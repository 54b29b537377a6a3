"""The `laporan` activity type: the PLPG progress reports (laporan kemajuan).

One activity holds the four reports of the preparatory phase (shared/seeds/000_*):
the peserta uploads each before the deadline the mentor set for the rombel, may
replace it or cancel it with (X) until then, and sees its status and feedback; the
mentor reviews the rombel x report matrix, comments and scores each report (0-100);
the activity score (component `laporan`, skor laporan) is their mean.
"""

from __future__ import annotations

from pathlib import Path

from lti_tool.activities import ActivityType
from plugins.laporan import models, views
from plugins.laporan.report import PlpgReport
from plugins.laporan.settings import LaporanSettings

_ = models  # the tables register with the metadata on import


class Laporan(ActivityType):
    """Laporan kemajuan"""

    name = "laporan"
    graded = True
    settings_model = LaporanSettings
    completion_rules = ("submitted", "graded")
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"
    translations_dir = Path(__file__).parent / "translations"
    report_kinds = (PlpgReport,)

    @classmethod
    def on_view(cls, page) -> str | None:
        return None  # complete when every report is handed in (or scored)

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)

    @classmethod
    def upload_limit(cls, activity, slot: str, role: str) -> int | None:
        """Resumable uploads (lti_tool/uploads): a peserta's report `slot` (its key)."""
        from lti_tool.services.roles import PESERTA
        from plugins.laporan import service

        s = service.settings_of(activity)
        if role != PESERTA or s.report(slot) is None:
            return None
        return s.max_mb * 1024 * 1024

    @classmethod
    def staff_url(cls, context_id: int, module_key: str, activity) -> str | None:
        from flask import url_for

        return url_for("laporan.matrix", ctx=context_id, activity_id=activity.id)

    @classmethod
    def review_url(cls, context_id: int, module_key: str, activity, user_id: int) -> str | None:
        from flask import url_for

        return url_for("laporan.review", ctx=context_id, activity_id=activity.id, user_id=user_id)

    @classmethod
    def regrade(cls, db, context_pk: int, activity, user_id: int):
        from plugins.laporan import service

        return service.regrade(db, context_pk, activity, user_id)

    @classmethod
    def check_template(cls, spec, files_dir: Path) -> list[tuple[tuple, str]]:
        """Reports are scored by the mentor: the activity must be graded."""
        return [
            (
                ("blocks", bi, "activities", ai, "graded"),
                "a laporan activity is scored: set `graded: true`",
            )
            for bi, block in enumerate(spec.blocks)
            for ai, a in enumerate(block.activities)
            if a.type == cls.name and not a.graded
        ]
