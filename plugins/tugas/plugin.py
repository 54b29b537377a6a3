"""The `tugas` activity type: task uploads (tugas dan tagihan), graded by staff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lti_tool.activities import ActivityType
from plugins.tugas import models, service, views
from plugins.tugas.settings import TugasSettings

_ = models  # the tables register with the metadata on import


class Tugas(ActivityType):
    """Unggah tugas"""

    name = "tugas"
    graded = True
    settings_model = TugasSettings
    completion_rules = ("submitted", "graded", "passed")
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"
    translations_dir = Path(__file__).parent / "translations"

    @classmethod
    def on_view(cls, page) -> str | None:
        return None  # complete when a file is uploaded (or when graded)

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)

    @classmethod
    def upload_limit(cls, activity, slot: str, role: str) -> int | None:
        """Resumable uploads (lti_tool/uploads): a peserta's file, up to the task's size."""
        from lti_tool.services.roles import PESERTA

        return service.settings_of(activity).max_bytes if role == PESERTA and not slot else None

    @classmethod
    def staff_url(cls, context_id: int, module_key: str, activity) -> str | None:
        from flask import url_for

        return url_for("tugas.grading", ctx=context_id, activity_id=activity.id)

    @classmethod
    def review_url(cls, context_id: int, module_key: str, activity, user_id: int) -> str | None:
        """The grading page of that peserta (files, status, grade form, history)."""
        from flask import url_for

        return url_for("tugas.grade_page", ctx=context_id, activity_id=activity.id, user_id=user_id)

    @classmethod
    def regrade(cls, db, context_pk: int, activity, user_id: int):
        return service.regrade(db, context_pk, activity, user_id)

    @classmethod
    def housekeeping(cls, db, now) -> dict[str, int]:
        """Files left in storage by a crash (no row points to them, a day old)."""
        from flask import current_app

        from lti_tool.storage import storage_for

        store = storage_for("tugas", current_app)
        return {"stray upload files removed": service.sweep(db, store, now)}

    @classmethod
    def asset_paths(cls, settings: dict[str, Any]) -> list[tuple[tuple, str]]:
        """The task sheet shipped with the template, checked to exist when it loads."""
        rel = settings.get("instructions_file")
        return [(("instructions_file",), rel)] if rel else []
