"""Records, checks and fault rules behind the peer's AGS 2.0 endpoints.

The HTTP side lives in :mod:`tests.peer.platform`; this module holds what it
stores (line items, per-user gradebook entries with their score history),
the request-body checks of the 1EdTech Assignment and Grade Services 2.0
spec (line item and score JSON, ISO 8601 timestamps, media types) and the
fault-injection rules tests use to make any endpoint fail on purpose.
Like the rest of the peer it imports nothing from ``lti_tool``.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from . import constants as c

#: Fault targets naming a kind of request instead of a path pattern.
FAULT_KINDS = ("token", "jwks", "nrps", "ags", "lineitems", "lineitem", "scores", "results")

_AGS_PATH = re.compile(
    r"^/ags/(?P<ctx>[^/]+)/lineitems(?:/(?P<item>[^/]+)/lineitem(?:/(?P<sub>scores|results))?)?/?$"
)


class AgsError(Exception):
    """An AGS request the platform refuses: HTTP status, OAuth-style error code, headers."""

    def __init__(
        self,
        description: str,
        *,
        status: int = 400,
        error: str = "invalid_request",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.error = error
        self.headers = dict(headers or {})


# --------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------


@dataclass
class LineItem:
    """One gradebook column.

    ``coupled`` items are the ones the platform makes for a resource link
    (the launch's ``lineitem`` claim, like a Moodle activity's own grade
    item): they cannot be deleted and keep their ``resourceLinkId``.
    ``query`` is the query string the item's URL carries (``type_id=3``,
    like Moodle) or ``""``; requests for the item must repeat it.
    ``client_id`` is the tool that owns it (``None``: any tool).
    """

    item_id: str
    context_id: str
    label: str
    score_maximum: float
    client_id: str | None
    query: str = ""
    resource_id: str | None = None
    tag: str | None = None
    resource_link_id: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    grades_released: bool | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    coupled: bool = False
    created_at: float = field(default_factory=time.time)

    def path(self) -> str:
        return f"/ags/{quote(self.context_id, safe='')}/lineitems/{self.item_id}/lineitem"

    def url(self, base_url: str, suffix: str = "") -> str:
        """The item's URL (``suffix`` ``/scores`` or ``/results`` goes before the query)."""
        return base_url + self.path() + suffix + (f"?{self.query}" if self.query else "")

    def to_json(self, base_url: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.url(base_url),
            "label": self.label,
            "scoreMaximum": self.score_maximum,
        }
        optional = {
            "resourceId": self.resource_id,
            "tag": self.tag,
            "resourceLinkId": self.resource_link_id,
            "startDateTime": self.start_date_time,
            "endDateTime": self.end_date_time,
            "gradesReleased": self.grades_released,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        body.update(self.extensions)
        return body


@dataclass
class GradebookEntry:
    """What the gradebook holds for one user on one line item.

    ``result_score`` is the gradebook value, on the line item's scale: set
    by a ``FullyGraded`` score with ``scoreGiven``, cleared (``None``) by
    any other score, as Moodle's gradebookservices does. ``history`` is
    every accepted score body, oldest first.
    """

    user_id: str
    result_score: float | None = None
    comment: str | None = None
    activity_progress: str | None = None
    grading_progress: str | None = None
    timestamp: str | None = None
    when: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FaultRule:
    """An injected failure: see :meth:`TestPlatform.fail_next`.

    ``status`` ``None`` with a ``delay`` answers normally, only late.
    ``remaining`` counts down as requests are hit; ``hits`` counts up.
    """

    target: str
    status: int | None
    remaining: int
    retry_after: int | float | str | None = None
    body: Any = None
    delay: float | None = None
    method: str | None = None
    hits: int = 0

    def matches(self, method: str, path: str, query: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.target in FAULT_KINDS:
            return self.target in request_kinds(path)
        full = f"{path}?{query}" if query else path
        return re.search(self.target, full) is not None


@dataclass
class FaultHit:
    """One request a fault rule answered (or delayed)."""

    rule: FaultRule
    method: str
    path: str
    status: int | None
    time: float


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def request_kinds(path: str) -> set[str]:
    """The fault kinds a request path belongs to (``/token`` -> ``{"token"}``)."""
    if path == "/token":
        return {"token"}
    if path == "/jwks":
        return {"jwks"}
    if path.startswith("/nrps/"):
        return {"nrps"}
    if not path.startswith("/ags/"):
        return set()
    match = _AGS_PATH.match(path)
    if match is None:
        return {"ags"}
    if match["sub"]:
        return {"ags", match["sub"]}
    return {"ags", "lineitem" if match["item"] else "lineitems"}


def parse_lineitem_ref(ref: Any) -> str | None:
    """A line item id from an id (``7``/``"7"``), a URL or path, or an item's JSON."""
    if isinstance(ref, Mapping):
        ref = ref.get("id")
    if isinstance(ref, int) and not isinstance(ref, bool):
        return str(ref)
    if not isinstance(ref, str):
        return None
    if "/" not in ref:
        return ref
    path = re.sub(r"^[a-z]+://[^/]+", "", ref).split("?", 1)[0]
    match = _AGS_PATH.match(path)
    return match["item"] if match and match["item"] else None


def media_type(header: str | None) -> str:
    """``Content-Type: application/x+json; charset=utf-8`` -> ``application/x+json``."""
    return (header or "").split(";", 1)[0].strip().lower()


def accepts(accept: str | None, media: str) -> bool:
    """Whether an ``Accept`` header allows ``media`` (absent means anything)."""
    if not accept or not accept.strip():
        return True
    major = media.split("/", 1)[0]
    for part in accept.split(","):
        item, _, params = part.partition(";")
        item = item.strip().lower()
        if re.search(r"(^|;)\s*q\s*=\s*0(\.0*)?\s*($|;)", params):
            continue
        if item in (media, "*/*", f"{major}/*", "application/json"):
            return True
    return False


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_iso8601(value: Any, name: str) -> datetime:
    """An ISO 8601 date-time with a time zone (sub-second precision allowed)."""
    if not isinstance(value, str) or "T" not in value.upper():
        raise AgsError(f"{name} must be an ISO 8601 date-time string, got {value!r}")
    try:
        when = datetime.fromisoformat(value.replace("t", "T").replace("z", "Z"))
    except ValueError as exc:
        raise AgsError(f"{name} {value!r} is not an ISO 8601 date-time") from exc
    if when.tzinfo is None or when.utcoffset() is None:
        raise AgsError(f"{name} {value!r} has no time zone offset")
    return when


def check_lineitem_body(body: Any, *, for_update: bool = False) -> dict[str, Any]:
    """Validate a line item POST/PUT body (AGS 2.0 section 3.2); return the fields.

    ``label`` (non-blank string) and ``scoreMaximum`` (number > 0) are
    required; ``resourceId``, ``tag``, ``resourceLinkId`` must be strings,
    ``startDateTime``/``endDateTime`` ISO 8601 date-times (end not before
    start), ``gradesReleased`` a boolean. URL-named extension properties are
    kept; other unknown properties are ignored.
    """
    verb = "updated" if for_update else "created"
    if not isinstance(body, dict):
        raise AgsError(f"the line item to be {verb} must be a JSON object")
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise AgsError("label is required and must be a non-blank string")
    maximum = body.get("scoreMaximum")
    if not is_number(maximum) or maximum <= 0:
        raise AgsError(f"scoreMaximum is required and must be a number > 0, got {maximum!r}")
    fields: dict[str, Any] = {"label": label, "score_maximum": maximum}
    for key, attr in (
        ("resourceId", "resource_id"),
        ("tag", "tag"),
        ("resourceLinkId", "resource_link_id"),
    ):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise AgsError(f"{key} must be a string")
        fields[attr] = value
    start = end = None
    if body.get("startDateTime") is not None:
        start = parse_iso8601(body["startDateTime"], "startDateTime")
    if body.get("endDateTime") is not None:
        end = parse_iso8601(body["endDateTime"], "endDateTime")
    if start is not None and end is not None and end < start:
        raise AgsError("endDateTime is before startDateTime")
    fields["start_date_time"] = body.get("startDateTime")
    fields["end_date_time"] = body.get("endDateTime")
    released = body.get("gradesReleased")
    if released is not None and not isinstance(released, bool):
        raise AgsError("gradesReleased must be a boolean")
    fields["grades_released"] = released
    fields["extensions"] = {k: v for k, v in body.items() if "://" in k}
    return fields


def check_score_body(body: Any) -> datetime:
    """Validate a score (AGS 2.0 section 3.4); return its parsed ``timestamp``.

    Required: ``userId`` (string), ``timestamp`` (ISO 8601 with zone),
    ``activityProgress``, ``gradingProgress`` (their vocabularies).
    ``scoreGiven`` is a number >= 0 and needs ``scoreMaximum``, a number > 0;
    ``comment`` a string or null; ``scoringUserId`` a string; ``submission``
    an object whose ``startedAt``/``submittedAt`` are ISO 8601 date-times.
    """
    if not isinstance(body, dict):
        raise AgsError("the score must be a JSON object")
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise AgsError(f"userId is required and must be a non-empty string, got {user_id!r}")
    when = parse_iso8601(body.get("timestamp"), "timestamp")
    activity = body.get("activityProgress")
    if activity not in c.ACTIVITY_PROGRESS:
        raise AgsError(f"activityProgress must be one of {c.ACTIVITY_PROGRESS}, got {activity!r}")
    grading = body.get("gradingProgress")
    if grading not in c.GRADING_PROGRESS:
        raise AgsError(f"gradingProgress must be one of {c.GRADING_PROGRESS}, got {grading!r}")
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is not None:
        if not is_number(given) or given < 0:
            raise AgsError(f"scoreGiven must be a number >= 0, got {given!r}")
        if maximum is None:
            raise AgsError("scoreMaximum is required when scoreGiven is present")
    if maximum is not None and (not is_number(maximum) or maximum <= 0):
        raise AgsError(f"scoreMaximum must be a number > 0, got {maximum!r}")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise AgsError("comment must be a string")
    scorer = body.get("scoringUserId")
    if scorer is not None and not isinstance(scorer, str):
        raise AgsError("scoringUserId must be a string")
    submission = body.get("submission")
    if submission is not None:
        if not isinstance(submission, dict):
            raise AgsError("submission must be an object")
        for key in ("startedAt", "submittedAt"):
            if submission.get(key) is not None:
                parse_iso8601(submission[key], f"submission.{key}")
    return when


def scaled_score(score: Mapping[str, Any], item_maximum: float) -> float | None:
    """The gradebook value a score sets: ``scoreGiven`` rescaled to the item's
    maximum for ``FullyGraded`` scores, ``None`` (cleared) for any other."""
    given = score.get("scoreGiven")
    if score.get("gradingProgress") != "FullyGraded" or given is None:
        return None
    maximum = score.get("scoreMaximum") or item_maximum
    value = given if maximum == item_maximum else given * item_maximum / maximum
    return round(float(value), 5)


def page_bounds(args: Mapping[str, str], default_limit: int | None) -> tuple[int, int | None]:
    """``from``/``limit`` query parameters (Moodle's names) -> (offset, limit or None)."""
    try:
        offset = int(args.get("from", 0))
        limit_arg = args.get("limit")
        limit = int(limit_arg) if limit_arg not in (None, "") else default_limit
    except ValueError as exc:
        raise AgsError("limit and from must be integers") from exc
    if offset < 0 or (limit is not None and limit < 1):
        raise AgsError("limit must be >= 1 and from >= 0")
    return offset, limit
