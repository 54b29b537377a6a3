"""The `penilaian` activity type: Penilaian Diri (PD), a self-assessment of a
deliverable against a rubric, optionally moderated by the mentor or pengampu."""

from __future__ import annotations

from pathlib import Path

from lti_tool.activities import ActivityType
from plugins.penilaian import assessments, models, views
from plugins.penilaian.settings import PenilaianSettings

_ = models  # the tables register with the metadata on import


class Penilaian(ActivityType):
    """Penilaian diri"""

    name = "penilaian"
    graded = True
    settings_model = PenilaianSettings
    completion_rules = ("submitted", "graded")
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"
    translations_dir = Path(__file__).parent / "translations"

    @classmethod
    def on_view(cls, page) -> str | None:
        return None  # complete when the self-assessment is saved (or its score final)

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)

    @classmethod
    def staff_url(cls, context_id: int, module_key: str, activity) -> str | None:
        from flask import url_for

        return url_for("penilaian.overview", ctx=context_id, activity_id=activity.id)

    @classmethod
    def review_url(cls, context_id: int, module_key: str, activity, user_id: int) -> str | None:
        """The peserta's deliverable beside the self-assessment and the moderation."""
        from flask import url_for

        return url_for("penilaian.review", ctx=context_id, activity_id=activity.id, user_id=user_id)

    @classmethod
    def regrade(cls, db, context_pk: int, activity, user_id: int):
        """Recompute the stored scorings from the levels chosen and report the one that
        counts; the score in percent, or None before a self-assessment."""
        return assessments.update_grade(db, context_pk, activity, user_id)

    @classmethod
    def check_template(cls, spec, files_dir: Path) -> list[tuple[tuple, str]]:
        """The rubric must be one of `resources.rubrics`; the deliverable, a `tugas`
        activity of the same template."""
        problems: list[tuple[tuple, str]] = []
        keys = [r.key for r in spec.resources.rubrics]
        seen: set[str] = set()
        for ri, r in enumerate(spec.resources.rubrics):
            if r.key in seen:
                problems.append(
                    (("resources", "rubrics", ri, "key"), f"rubric key {r.key!r} is used twice")
                )
            seen.add(r.key)
        refs = {f"{b.key}/{a.key}": a for b in spec.blocks for a in b.activities}
        for bi, block in enumerate(spec.blocks):
            for ai, a in enumerate(block.activities):
                if a.type != cls.name:
                    continue
                loc = ("blocks", bi, "activities", ai, "settings")
                s = PenilaianSettings.model_validate(a.settings)
                if s.rubric not in keys:
                    known = ", ".join(keys) or "none"
                    problems.append(
                        (
                            (*loc, "rubric"),
                            f"no rubric {s.rubric!r} in resources.rubrics (defined: {known})",
                        )
                    )
                if s.deliverable is not None:
                    target = refs.get(s.deliverable)
                    if target is None:
                        problems.append(
                            (
                                (*loc, "deliverable"),
                                f"unknown activity {s.deliverable!r} (expected block/activity)",
                            )
                        )
                    elif target.type != "tugas":
                        problems.append(
                            (
                                (*loc, "deliverable"),
                                f"{s.deliverable!r} is a {target.type!r} activity, "
                                "not a tugas (upload) activity",
                            )
                        )
        return problems
