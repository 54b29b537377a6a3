"""The `forum` activity type: Forum Sesi, and the PLPG mentoring forum (per rombel)."""

from __future__ import annotations

from pathlib import Path

from lti_tool.activities import ActivityType
from plugins.forum import models, views
from plugins.forum.settings import ForumSettings

_ = models  # the tables register with the metadata on import


class Forum(ActivityType):
    """Forum diskusi"""

    name = "forum"
    graded = False
    settings_model = ForumSettings
    completion_rules = ("viewed", "submitted")
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"
    translations_dir = Path(__file__).parent / "translations"

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)

    @classmethod
    def upload_limit(cls, activity, slot: str, role: str) -> int | None:
        """Resumable uploads (lti_tool/uploads): a post's attachment, when the forum
        takes files (who may post where is checked when the post is sent)."""
        files = ForumSettings.model_validate(activity.settings or {}).files()
        return files.max_mb * 1024 * 1024 if files is not None and not slot else None

    @classmethod
    def staff_url(cls, context_id: int, module_key: str, activity) -> str | None:
        """The printable record of every thread and post (linked from the overview)."""
        from flask import url_for

        return url_for("forum.record", ctx=context_id, activity_id=activity.id)

    @classmethod
    def housekeeping(cls, db, now) -> dict[str, int]:
        """Forget files accepted with a refused form that was never sent again."""
        from flask import current_app

        from plugins.forum.service import stale_pending

        stale = stale_pending(db, now)
        names = [a.stored_name for a in stale]
        for a in stale:
            db.delete(a)
        db.commit()
        storage = views.storage_of(current_app)
        for name in names:
            storage.delete(name)
        return {"forum files never posted removed": len(names)}
