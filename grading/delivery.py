"""Delivering the grade outbox to the LMS (LTI Assignment and Grade Services 2.0).

Each row is claimed before it is sent (so several workers never send one twice) and
settled after: delivered; retried later with exponential backoff and jitter on
timeouts, 5xx and 429 (RetryLaterError-After honoured); failed, with the LMS's answer, on other
4xx. A row whose worker died mid-delivery is claimed again after CLAIM_TIMEOUT. One
access token per platform and scope set is reused until it expires and refreshed once
on a 401. The line item of a column is the deep-linking one (found by its resourceId)
or created; its label and maximum follow the template.
"""

from __future__ import annotations

import email.utils
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.service_connector import ToolServiceConnector, forget_token
from lti_tool.lti.toolconf import registration_for
from lti_tool.models import Context, GradeOutbox, LineItem, Platform, ResourceLink, User

log = logging.getLogger(__name__)

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
CLAIM_TIMEOUT = timedelta(minutes=5)
BASE_DELAY = 2.0  # seconds before the first retry
MAX_DELAY = 3600.0
MAX_TRIES = 20


class RetryLaterError(Exception):
    """Try again later (after `after` seconds, if the LMS said so)."""

    def __init__(self, status: int | None, detail: str, after: float | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.after = status, detail, after


class RefusedError(Exception):
    """The LMS will not take this score as it is; retrying would not help."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass
class Outcome:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    superseded: int = 0
    errors: list[str] = field(default_factory=list)


def scores_url(lineitem_url: str) -> str:
    """`/scores` appended to the line item's path, keeping its query (Moodle's has one)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def results_url(lineitem_url: str) -> str:
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/results"))


def backoff(tries: int, rng: random.Random | None = None) -> float:
    """Seconds before try number `tries` + 1: doubling from BASE_DELAY, capped, +-25%."""
    delay = min(BASE_DELAY * 2 ** max(tries - 1, 0), MAX_DELAY)
    return delay * (0.75 + 0.5 * (rng or random).random())


def retry_after(value: str | None) -> float | None:
    """RetryLaterError-After as seconds (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


class Client:
    """AGS calls for one platform: bearer token (cached per scope set) and retry rules."""

    def __init__(self, platform: Platform, key: Any, http: requests.Session, scopes) -> None:
        self.connector = ToolServiceConnector(
            registration_for(platform, key), requests_session=http
        )
        self.http = http
        self.scopes = sorted(set(scopes))

    def _token(self) -> str:
        try:
            return self.connector.get_access_token(self.scopes)
        except requests.RequestException as exc:
            raise RetryLaterError(None, f"token request failed: {exc}") from exc
        except Exception as exc:  # pylti1p3 raises its own errors for token answers
            raise RetryLaterError(None, f"token refused: {exc}") from exc

    def call(self, method: str, url: str, **kwargs) -> requests.Response:
        """One AGS request; a 401 refreshes the token once."""
        for attempt in (1, 2):
            headers = dict(kwargs.pop("headers", {}) or {})
            headers["Authorization"] = f"Bearer {self._token()}"
            try:
                resp = self.http.request(method, url, headers=headers, **kwargs)
            except requests.RequestException as exc:
                raise RetryLaterError(None, f"{type(exc).__name__}: {exc}") from exc
            if resp.status_code == 401 and attempt == 1:
                forget_token(self.connector, self.scopes)
                kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
                continue
            return self._check(resp)
        return self._check(resp)

    @staticmethod
    def _check(resp: requests.Response) -> requests.Response:
        status = resp.status_code
        if status < 300:
            return resp
        detail = f"{status} {resp.text[:500]}".strip()
        if status == 429 or status >= 500 or status in (401, 408):
            raise RetryLaterError(
                status, detail, retry_after(resp.headers.get("RetryLaterError-After"))
            )
        raise RefusedError(status, detail)


def _lineitem_url(db: Session, client: Client, context: Context, row: GradeOutbox) -> str:
    """The column's line item URL: known, found by resourceId, or created."""
    known = db.scalars(
        select(LineItem).where(
            LineItem.context_pk == context.id, LineItem.resource_id == row.resource_id
        )
    ).first()
    if known is not None:
        if (known.label, known.score_max) != (row.label, row.score_max):
            item = client.call("GET", known.url, headers={"Accept": LINEITEM_TYPE}).json()
            item.update(label=row.label, scoreMaximum=float(Decimal(row.score_max)))
            client.call("PUT", known.url, json=item, headers={"Content-Type": LINEITEM_TYPE})
            known.label, known.score_max = row.label, row.score_max
        return known.url
    ags = (context.services or {}).get("ags") or {}
    container = ags.get("lineitems")
    url = None
    if container:
        sep = "&" if "?" in container else "?"
        found = client.call(
            "GET",
            f"{container}{sep}resource_id={requests.utils.quote(row.resource_id, safe='')}",
            headers={"Accept": CONTAINER_TYPE},
        ).json()
        items = found if isinstance(found, list) else []
        if items:
            url = items[0]["id"]
        else:
            created = client.call(
                "POST",
                container,
                json={
                    "label": row.label,
                    "scoreMaximum": float(Decimal(row.score_max)),
                    "resourceId": row.resource_id,
                    **({"tag": row.tag} if row.tag else {}),
                },
                headers={"Content-Type": LINEITEM_TYPE, "Accept": LINEITEM_TYPE},
            ).json()
            url = created["id"]
    else:
        # No container: only the line item of a link placed for this very activity.
        url = None
        if row.resource_id.startswith("a:"):
            url = db.scalar(
                select(ResourceLink.lineitem_url).where(
                    ResourceLink.context_pk == context.id,
                    ResourceLink.lineitem_url.is_not(None),
                    ResourceLink.target.endswith("/course/" + row.resource_id[2:]),
                )
            )
        if url is None:
            raise RefusedError(None, "the LMS offers no line items container for this course")
    db.add(
        LineItem(
            context_pk=context.id,
            resource_id=row.resource_id,
            url=url,
            label=row.label,
            score_max=row.score_max,
            tag=row.tag,
        )
    )
    return url


def score_body(row: GradeOutbox, user: User) -> dict:
    body = {
        "userId": user.sub,
        "timestamp": row.timestamp.replace(tzinfo=UTC).isoformat(timespec="microseconds"),
        "activityProgress": row.activity_progress,
        "gradingProgress": row.grading_progress,
    }
    if row.score_given is not None:
        body["scoreGiven"] = float(Decimal(row.score_given))
        body["scoreMaximum"] = float(Decimal(row.score_max))
    if row.comment:
        body["comment"] = row.comment
    return body


def _claim(db: Session, row_id: int, now: datetime) -> bool:
    claimed = db.execute(
        update(GradeOutbox)
        .where(GradeOutbox.id == row_id, GradeOutbox.state == "pending")
        .values(state="sending", claimed_at=now)
    )
    db.commit()
    return claimed.rowcount == 1


def deliver_due(
    db: Session,
    key: Any,
    http: requests.Session,
    *,
    now: datetime | None = None,
    limit: int = 200,
    context_pk: int | None = None,
    clients: dict | None = None,
) -> Outcome:
    """Send the due outbox rows (oldest first); each is settled in its own commit."""
    now = now or utcnow()
    out = Outcome()
    db.execute(  # rows of a worker that died mid-delivery
        update(GradeOutbox)
        .where(GradeOutbox.state == "sending", GradeOutbox.claimed_at < now - CLAIM_TIMEOUT)
        .values(state="pending")
    )
    db.commit()
    query = select(GradeOutbox.id).where(
        GradeOutbox.state == "pending", GradeOutbox.next_try_at <= now
    )
    if context_pk is not None:
        query = query.where(GradeOutbox.context_pk == context_pk)
    ids = list(db.scalars(query.order_by(GradeOutbox.id).limit(limit)))
    clients = {} if clients is None else clients
    for row_id in ids:
        if not _claim(db, row_id, now):
            continue
        row = db.get(GradeOutbox, row_id)
        db.refresh(row)
        _deliver(db, row, key, http, clients, out, now)
        db.commit()
    return out


def _deliver(db, row, key, http, clients, out: Outcome, now: datetime) -> None:
    row.tries += 1
    row.claimed_at = None
    try:
        context = db.get(Context, row.context_pk)
        platform = db.get(Platform, context.platform_id) if context.platform_id else None
        if platform is None or not platform.is_active:
            raise RefusedError(None, "the course's LMS registration is missing or not active")
        ags = (context.services or {}).get("ags") or {}
        scopes = ags.get("scope") or [SCOPE_LINEITEM, SCOPE_SCORE]
        client = clients.get((platform.id, tuple(sorted(scopes))))
        if client is None:
            client = clients[(platform.id, tuple(sorted(scopes)))] = Client(
                platform, key, http, scopes
            )
        url = _lineitem_url(db, client, context, row)
        user = db.get(User, row.user_id)
        try:
            client.call(
                "POST",
                scores_url(url),
                json=score_body(row, user),
                headers={"Content-Type": SCORE_TYPE},
            )
        except RefusedError as exc:
            if exc.status == 404:  # the column was deleted in the LMS: find or make it again
                db.execute(
                    LineItem.__table__.delete().where(
                        LineItem.context_pk == context.id,
                        LineItem.resource_id == row.resource_id,
                    )
                )
                raise RetryLaterError(404, exc.detail, 0) from exc
            if exc.status == 409 and _newer_delivered(db, row):
                row.state, row.last_status, row.last_error = "superseded", 409, exc.detail
                out.superseded += 1
                return
            raise
    except RetryLaterError as exc:
        row.last_status, row.last_error = exc.status, exc.detail
        if row.tries >= MAX_TRIES:
            row.state = "failed"
            out.failed += 1
        else:
            wait = exc.after if exc.after is not None else backoff(row.tries)
            row.state, row.next_try_at = "pending", now + timedelta(seconds=wait)
            out.retried += 1
        out.errors.append(exc.detail)
        return
    except RefusedError as exc:
        row.state, row.last_status, row.last_error = "failed", exc.status, exc.detail
        out.failed += 1
        out.errors.append(exc.detail)
        return
    row.state, row.delivered_at, row.last_status, row.last_error = "delivered", now, 200, None
    out.delivered += 1


def _newer_delivered(db: Session, row: GradeOutbox) -> bool:
    return (
        db.scalar(
            select(GradeOutbox.id).where(
                GradeOutbox.context_pk == row.context_pk,
                GradeOutbox.resource_id == row.resource_id,
                GradeOutbox.user_id == row.user_id,
                GradeOutbox.id > row.id,
            )
        )
        is not None
    )


def read_results(db: Session, key: Any, http: requests.Session, context: Context, resource_id):
    """What the LMS gradebook holds for a column: {user sub: resultScore} (all pages)."""
    item = db.scalars(
        select(LineItem).where(
            LineItem.context_pk == context.id, LineItem.resource_id == resource_id
        )
    ).first()
    if item is None:
        return {}
    platform = db.get(Platform, context.platform_id)
    scopes = ((context.services or {}).get("ags") or {}).get("scope") or [SCOPE_RESULT]
    client = Client(platform, key, http, scopes)
    url: str | None = results_url(item.url)
    out: dict[str, Any] = {}
    while url:
        resp = client.call("GET", url, headers={"Accept": RESULTS_TYPE})
        for r in resp.json():
            out[r.get("userId")] = r.get("resultScore")
        url = resp.links.get("next", {}).get("url")
    return out
