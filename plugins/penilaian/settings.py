"""The `settings` of a penilaian (self-assessment) activity in a course template."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

KEY = r"^[a-z0-9][a-z0-9_-]{0,99}$"
REF = r"^[a-z0-9][a-z0-9_-]{0,99}/[a-z0-9][a-z0-9_-]{0,99}$"


class PenilaianSettings(BaseModel):
    """Which rubric, which deliverable, and whether staff moderate the self-assessment."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: A `resources.rubrics` key of the template (the class may hold an edited copy).
    rubric: str = Field(pattern=KEY)
    #: The deliverable assessed: "<block>/<activity>" of a `tugas` activity of the module.
    deliverable: str | None = Field(default=None, pattern=REF)
    #: The peserta must have uploaded the deliverable before assessing it.
    require_deliverable: bool = False
    #: Mentors and pengampu may score the deliverable with the same rubric.
    moderation: bool = False
    #: The moderator's score replaces the peserta's for the component (else feedback only).
    moderated_counts: bool = False
    #: The peserta may add a comment to the self-assessment.
    comment: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> PenilaianSettings:
        if self.require_deliverable and self.deliverable is None:
            raise ValueError("require_deliverable needs a deliverable (block/activity)")
        if self.moderated_counts and not self.moderation:
            raise ValueError("moderated_counts needs moderation: true")
        return self
