"""The `smiley` activity type: Reaksi Peserta, complete when submitted."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from lti_tool.activities import ActivityType
from plugins.smiley import models, views
from plugins.smiley.report import SmileyReport

_ = models  # the table registers with the metadata on import


class SmileySettings(BaseModel):
    """Items and options; left out, they come from the template's `smiley` block."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    items: list[str] = Field(default_factory=list, max_length=20)
    comment: bool | None = None
    anonymous_to_mentor: bool | None = None


class Smiley(ActivityType):
    """Reaksi peserta"""

    name = "smiley"
    graded = False
    settings_model = SmileySettings
    completion_rules = ("submitted",)
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"
    report_kinds = (SmileyReport,)

    @classmethod
    def on_view(cls, page) -> str | None:
        return None  # complete when the survey is submitted

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)

    @classmethod
    def demo_seed(cls, db, inst, activity, user_ids, rng) -> int:
        """Answers for a demo class, leaning positive (see plugins/smiley/demo.py)."""
        from plugins.smiley import demo

        return demo.seed(db, inst, activity, user_ids, rng)

    @classmethod
    def analysis_sections(cls, db, inst, rombel_ids) -> list:
        return views.analysis_sections(db, inst, rombel_ids)
