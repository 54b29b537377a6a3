"""Deep Linking 2.0: what a pengampu can place, and the signed response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Activity, CourseBlock, CourseModule

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
#: The AGS activityProgress values at which the gradebook offers a submission review.
REVIEWABLE_STATUS = ["Submitted", "Completed"]


@dataclass(frozen=True)
class Placeable:
    """One thing a pengampu can place: a whole module, a block (week) or an activity."""

    ref: str  # "m:<module>", "b:<module>/<block>", "a:<module>/<block>/<activity>"
    kind: str
    title: str
    path: str  # the target path under the tool's base URL
    graded: bool
    max_score: int = 100
    tag: str | None = None
    depth: int = 0


def placeables(db: Session) -> list[Placeable]:
    """Every module, block and activity of the loaded course templates, in order."""
    out: list[Placeable] = []
    modules = db.scalars(select(CourseModule).order_by(CourseModule.title, CourseModule.id))
    for module in modules:
        # The module's final score (NA, SP) gets a gradebook column from the start.
        scoring = (module.definition or {}).get("scoring")
        graded_module = bool(scoring) or any(a.graded for b in module.blocks for a in b.activities)
        out.append(
            Placeable(
                ref=f"m:{module.key}",
                kind="module",
                title=module.title,
                path=f"/course/{module.key}",
                graded=graded_module,
                tag=scoring["name"] if scoring else "final",
            )
        )
        for block in module.blocks:
            out.append(_block(module, block))
            for activity in block.activities:
                out.append(_activity(module, block, activity))
    return out


def _block(module: CourseModule, block: CourseBlock) -> Placeable:
    return Placeable(
        ref=f"b:{module.key}/{block.key}",
        kind="block",
        title=f"{module.title}: {block.title}",
        path=f"/course/{module.key}/{block.key}",
        graded=False,
        depth=1,
    )


def _activity(module: CourseModule, block: CourseBlock, activity: Activity) -> Placeable:
    return Placeable(
        ref=f"a:{module.key}/{block.key}/{activity.key}",
        kind="activity",
        title=f"{block.title}: {activity.title}",
        path=f"/course/{module.key}/{block.key}/{activity.key}",
        graded=activity.graded,
        max_score=activity.max_score,
        tag=activity.component,
        depth=2,
    )


def resources(chosen: list[Placeable], base_url: str) -> list[DeepLinkResource]:
    """One ltiResourceLink per chosen thing; gradable ones carry a lineItem.

    An activity's line item also carries `submissionReview` (LTI Submission Review):
    the LMS gradebook then offers to open a peserta's work in the tool with an
    LtiSubmissionReviewRequest, launched to `url` (the activity page; the launch
    finds the activity from it or from the line item and opens the review of that
    peserta's work). A module's final score column has no single work to review."""
    out = []
    for item in chosen:
        url = base_url + item.path
        res = DeepLinkResource().set_title(item.title).set_url(url)
        res.set_custom_params({"tool_ref": item.ref})
        if item.graded:
            line = LineItem()
            line.set_score_maximum(item.max_score)
            line.set_label(item.title)
            line.set_resource_id(item.ref)
            if item.tag:
                line.set_tag(item.tag)
            if item.kind == "activity":
                line.set_submission_review(list(REVIEWABLE_STATUS), url=url)
            res.set_lineitem(line)
        out.append(res)
    return out


class ToolDeepLink(DeepLink):
    """pylti1p3's DeepLink, but `data` is only sent back when the platform sent it."""

    def get_message_jwt(self, resources) -> dict[str, Any]:  # type: ignore[override]
        message = super().get_message_jwt(resources)
        key = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
        if "data" not in self._deep_link_settings:
            message.pop(key, None)
        return message
