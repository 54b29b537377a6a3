"""The `evaluasi` activity type: Evaluasi Penyelenggaraan, complete when submitted."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from lti_tool.activities import ActivityType
from plugins.evaluasi import models, views
from plugins.evaluasi.report import EvaluationReport

_ = models  # the table registers with the metadata on import


class EvaluasiSettings(BaseModel):
    """Extra items a programme adds after the nine of Lampiran 1."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    extra_items: list[str] = Field(default_factory=list, max_length=20)
    extra_open: list[str] = Field(default_factory=list, max_length=10)


class Evaluasi(ActivityType):
    """Evaluasi penyelenggaraan"""

    name = "evaluasi"
    graded = False
    settings_model = EvaluasiSettings
    completion_rules = ("submitted",)
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"
    report_kinds = (EvaluationReport,)

    @classmethod
    def on_view(cls, page) -> str | None:
        return None

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)

    @classmethod
    def demo_seed(cls, db, inst, activity, user_ids, rng) -> int:
        """Answers for a demo class, leaning positive (see plugins/evaluasi/demo.py)."""
        from plugins.evaluasi import demo

        return demo.seed(db, inst, activity, user_ids, rng)

    @classmethod
    def analysis_sections(cls, db, inst, rombel_ids) -> list:
        return views.analysis_sections(db, inst, rombel_ids)
