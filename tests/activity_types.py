"""An activity type that exists only in tests: a graded activity, so that deep-linking
line items and score components can be tested before the real graded plugins exist."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from lti_tool.activities import ActivityType


class GradedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passing_score: int = 60


class TestGraded(ActivityType):
    """Graded test activity"""

    __test__ = False
    name = "test_graded"
    graded = True
    settings_model = GradedSettings
    completion_rules = ("graded", "passed", "submitted")

    @classmethod
    def regrade(cls, db, context_pk, activity, user_id):
        from grading.report import percent, scores_in

        row = scores_in(db, context_pk, [user_id]).get((user_id, activity.id))
        return None if row is None else percent(row)

    @classmethod
    def staff_url(cls, context_id, module_key, activity):
        return f"/c/{context_id}/test-graded/{activity.id}/review"
