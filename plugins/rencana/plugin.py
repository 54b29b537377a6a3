"""The `rencana` activity type: a learning plan, complete when submitted."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from lti_tool.activities import ActivityType
from plugins.rencana import models, views

_ = models  # the table registers with the metadata on import


class RencanaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: What to plan for each week (one prompt per week of the module).
    weeks: list[str] = Field(min_length=1, max_length=26)
    max_chars: int = Field(default=2000, ge=100, le=20000)


class Rencana(ActivityType):
    """Rencana belajar"""

    name = "rencana"
    graded = False
    settings_model = RencanaSettings
    completion_rules = ("submitted",)
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"

    @classmethod
    def on_view(cls, page) -> str | None:
        return None  # complete when submitted, not when opened

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)
