"""The `settings` of a quiz activity in a course template."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class QuizSettings(BaseModel):
    """Which bank it draws from and how it runs (Moodle's quiz settings, simplified)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: The bank's name in the module (a template `resources.question_banks` key, or a
    #: bank the pengampu imports).
    bank: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")
    #: Only questions of this category (and its sub-categories).
    category: str | None = None
    #: How many questions are drawn at random for each attempt (all when left out).
    questions: int | None = Field(default=None, ge=1, le=200)
    shuffle_questions: bool = True
    shuffle_answers: bool = True
    #: Minutes; enforced on the server. None: no time limit.
    time_limit: int | None = Field(default=None, ge=1, le=24 * 60)
    #: Allowed attempts; 0 means unlimited.
    attempts: int = Field(default=1, ge=0, le=50)
    grading_method: Literal["highest", "last", "first", "mean"] = "highest"
    #: Days after the block's first day when it opens (default: the first day). It
    #: closes at the end of its due day (the template's `due_day`, or the pengampu's).
    opens_day: int | None = Field(default=None, ge=0, le=400)
    #: What a peserta sees after submitting: the score only; which answers were right;
    #: also the correct answers and feedback; or those only once the quiz has closed.
    review: Literal["score", "responses", "answers", "answers_after_close"] = "answers"
    #: Percent needed for the completion rule `passed`.
    pass_mark: Decimal | None = Field(default=None, ge=0, le=100)
