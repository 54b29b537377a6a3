"""LTI Submission Review (AGS 2.0): whose work, in which activity, may this viewer see.

A platform sends an LtiSubmissionReviewRequest when a staff member opens a grade cell
of a line item the tool created with a `submissionReview` property (see
lti/deep_linking.py). The launch names the peserta in `for_user.user_id` (their
`sub`), the line item in the AGS claim's `lineitem`, and lands on the line item's
review URL (the activity page) or the resource link's target.

The activity is found, first match wins, from: the resource links of the course
whose recorded line item is that URL; the line items the tool itself found or
created in the LMS (their resourceId names the activity); the resource link of the
launch; the target_link_uri. Only reads are made here: a refusal raises LtiError
and the launch's transaction is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.errors import LtiError
from lti_tool.models import (
    Activity,
    CourseBlock,
    CourseInstance,
    LineItem,
    Membership,
    ResourceLink,
    Rombel,
    RombelMember,
    User,
)
from lti_tool.services.instances import newest_module
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU, PESERTA

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SR_REQUEST = "LtiSubmissionReviewRequest"
REVIEWERS = frozenset({PENGAMPU, ADMIN, MENTOR})


@dataclass(frozen=True)
class ReviewTarget:
    """The activity whose work is reviewed and the peserta (user id) who did it."""

    activity_id: int
    module_key: str
    block_key: str
    activity_key: str
    user_id: int

    def describe(self) -> str:
        """For the launch log: what was reviewed, whose."""
        return f"{self.module_key}/{self.block_key}/{self.activity_key} user {self.user_id}"


def activity_path(url: str | None) -> tuple[str, str, str] | None:
    """(module, block, activity) of an activity page URL `.../course/<m>/<b>/<a>`,
    or of a line item resourceId `a:<m>/<b>/<a>` or `<m>/<b>/<a>`."""
    if not url:
        return None
    if "://" in url or url.startswith("/"):
        parts = [p for p in urlsplit(url).path.split("/") if p]
        if len(parts) >= 4 and parts[-4] == "course":
            return parts[-3], parts[-2], parts[-1]
        return None
    parts = url.removeprefix("a:").split("/")
    if len(parts) == 3 and all(parts):
        return parts[0], parts[1], parts[2]
    return None


def check_role(role: str) -> None:
    """Refuse a review launch from anyone but staff (before anything is written)."""
    if role not in REVIEWERS:
        raise LtiError("review_not_staff", f"role {role!r} cannot review submissions", status=403)


def resolve(
    db: Session,
    issuer: str,
    claims: dict[str, Any],
    *,
    context_pk: int,
    viewer_id: int,
    role: str,
) -> tuple[ReviewTarget, int | None]:
    """The reviewed activity and peserta, and the resource link (pk) of the launch if
    known; LtiError when the viewer may not review that peserta's work there."""
    check_role(role)
    sub = str((claims.get(CLAIM + "for_user") or {}).get("user_id"))
    reviewed = db.scalar(select(User.id).where(User.issuer == issuer, User.sub == sub[:255]))
    if reviewed is None:
        raise LtiError("review_unknown_user", f"no user {sub!r} of {issuer}", status=404)
    member_role = db.scalar(
        select(Membership.role).where(
            Membership.user_id == reviewed, Membership.context_pk == context_pk
        )
    )
    if member_role != PESERTA:
        raise LtiError(
            "review_not_peserta", f"user {sub!r} is {member_role or 'no member'} here", status=403
        )

    link = None
    rl_id = (claims.get(CLAIM + "resource_link") or {}).get("id")
    if rl_id:
        link = db.scalars(
            select(ResourceLink).where(
                ResourceLink.context_pk == context_pk,
                ResourceLink.resource_link_id == str(rl_id)[:255],
            )
        ).first()
    found = _find_activity(db, claims, context_pk, link)
    if found is None:
        raise LtiError("review_no_activity", "neither the lineitem nor the target names one")
    activity, module_key, instance = found

    if role == MENTOR:
        mine = (
            db.scalar(
                select(Rombel.id)
                .join(RombelMember, RombelMember.rombel_id == Rombel.id)
                .where(
                    RombelMember.instance_id == instance.id,
                    RombelMember.user_id == reviewed,
                    Rombel.mentor_id == viewer_id,
                )
            )
            if instance is not None
            else None
        )
        if mine is None:
            raise LtiError(
                "review_not_mentor", f"user {sub!r} is in no rombel of theirs", status=403
            )
    target = ReviewTarget(
        activity_id=activity.id,
        module_key=module_key,
        block_key=activity.block.key,
        activity_key=activity.key,
        user_id=reviewed,
    )
    return target, link.id if link is not None else None


def _find_activity(
    db: Session, claims: dict[str, Any], context_pk: int, link: ResourceLink | None
) -> tuple[Activity, str, CourseInstance | None] | None:
    lineitem = (claims.get(AGS_CLAIM) or {}).get("lineitem")
    candidates: list[str | None] = []
    if lineitem:
        candidates += db.scalars(
            select(ResourceLink.target).where(
                ResourceLink.context_pk == context_pk, ResourceLink.lineitem_url == lineitem
            )
        ).all()
        candidates += db.scalars(
            select(LineItem.resource_id).where(
                LineItem.context_pk == context_pk, LineItem.url == lineitem
            )
        ).all()
    if link is not None:
        candidates.append(link.target)
    candidates.append(claims.get(CLAIM + "target_link_uri"))
    for candidate in candidates:
        path = activity_path(candidate)
        if path is None:
            continue
        found = _activity(db, context_pk, *path)
        if found is not None:
            return found
    return None


def _activity(
    db: Session, context_pk: int, module_key: str, block_key: str, activity_key: str
) -> tuple[Activity, str, CourseInstance | None] | None:
    """The activity in the module version this course is pinned to (the newest
    installed one if the module was never opened here)."""
    instance = db.scalars(
        select(CourseInstance).where(
            CourseInstance.context_pk == context_pk, CourseInstance.module_key == module_key
        )
    ).first()
    module_id = instance.module_id if instance is not None else None
    if module_id is None:
        module = newest_module(db, module_key)
        if module is None:
            return None
        module_id = module.id
    activity = db.scalars(
        select(Activity)
        .join(CourseBlock)
        .where(
            CourseBlock.module_id == module_id,
            CourseBlock.key == block_key,
            Activity.key == activity_key,
        )
    ).first()
    return (activity, module_key, instance) if activity is not None else None
