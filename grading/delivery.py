"""Delivering the grade outbox to the LMS (LTI Assignment and Grade Services 2.0).

Each row is claimed before it is sent (so several workers never send one twice) and
settled after: delivered; retried later with exponential backoff and jitter on
timeouts, 5xx and 429 (Retry-After honoured); failed, with the LMS's answer, on other
4xx. A row whose worker died mid-delivery is claimed again after the claim timeout
(GRADES_CLAIM_SECONDS, default CLAIM_TIMEOUT); on PostgreSQL concurrent workers claim
with FOR UPDATE SKIP LOCKED. One
access token per platform and scope set is reused until it expires and refreshed once
on a 401. The line item of a column is the deep-linking one (found by its resourceId)
or created; its label and maximum follow the template.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.cookies import RequestsCookieJar, merge_cookies
from requests.sessions import merge_setting
from requests.structures import CaseInsensitiveDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value

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
    """Retry-After as seconds (delta-seconds or an HTTP date)."""
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
        # Threads posting in parallel share one token: one fetch, one refresh.
        self._lock = threading.Lock()
        # What Session.request would work out for every score (proxies and CA bundle
        # from the environment, the session's timeout), once per LMS origin.
        self._send_settings: dict[str, dict[str, Any]] = {}

    def _token(self) -> str:
        with self._lock:
            try:
                return self.connector.get_access_token(self.scopes)
            except requests.RequestException as exc:
                raise RetryLaterError(None, f"token request failed: {exc}") from exc
            except Exception as exc:  # pylti1p3 raises its own errors for token answers
                raise RetryLaterError(None, f"token refused: {exc}") from exc

    def _expired(self, used: str) -> None:
        """The LMS refused `used`: forget it, unless another thread already has."""
        with self._lock:
            if (
                self.connector._get_cached_access_token(self.connector._scope_key(self.scopes))
                == used
            ):
                forget_token(self.connector, self.scopes)

    def call(self, method: str, url: str, **kwargs) -> requests.Response:
        """One AGS request; a 401 refreshes the token once."""
        headers = dict(kwargs.pop("headers", {}) or {})
        return self._authorized(
            lambda token: self.http.request(
                method, url, headers={**headers, "Authorization": f"Bearer {token}"}, **kwargs
            )
        )

    def _authorized(self, send: Callable[[str], requests.Response]) -> requests.Response:
        """`send(token)` with the current token; a 401 refreshes the token once."""
        for attempt in (1, 2):
            used = self._token()
            try:
                resp = send(used)
            except requests.RequestException as exc:
                raise RetryLaterError(None, f"{type(exc).__name__}: {exc}") from exc
            if resp.status_code == 401 and attempt == 1:
                self._expired(used)
                continue
            return self._check(resp)
        return self._check(resp)

    def post_score(self, url: str, body: dict) -> requests.Response:
        """POST one score (the hot path of a delivery): what `call` does, without
        requests' per-call look-ups of the environment (proxies, netrc, CA bundle: done
        once per origin) that cost as much CPU as the post itself."""
        try:
            data = json.dumps(body, allow_nan=False).encode("utf-8")
        except ValueError as exc:  # as requests' InvalidJSONError, a RequestException
            raise RetryLaterError(None, f"InvalidJSONError: {exc}") from exc
        settings = self._settings(url)
        http = self.http
        # The session's cookies (a load balancer's, say), as Session.request sends them.
        jar = merge_cookies(RequestsCookieJar(), http.cookies) if len(http.cookies) else None

        def send(token: str) -> requests.Response:
            prep = requests.PreparedRequest()
            prep.prepare(
                method="POST",
                url=url,
                headers=merge_setting(
                    {"Content-Type": SCORE_TYPE, "Authorization": f"Bearer {token}"},
                    http.headers,
                    dict_class=CaseInsensitiveDict,
                ),
                data=data,
                cookies=jar,
                hooks=http.hooks,
            )
            return http.send(prep, **settings)

        return self._authorized(send)

    def _settings(self, url: str) -> dict[str, Any]:
        """Session.send's keywords for `url`, as Session.request would pass them."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        settings = self._send_settings.get(origin)
        if settings is None:
            settings = self.http.merge_environment_settings(url, {}, None, None, None)
            settings["allow_redirects"] = True
            # TimeoutSession's default (a plain Session has none, as in `call`).
            settings["timeout"] = getattr(self.http, "_timeout", None)
            self._send_settings[origin] = settings
        return settings

    @staticmethod
    def _check(resp: requests.Response) -> requests.Response:
        status = resp.status_code
        if status < 300:
            return resp
        detail = f"{status} {resp.text[:500]}".strip()
        if status == 429 or status >= 500 or status in (401, 408):
            raise RetryLaterError(status, detail, retry_after(resp.headers.get("Retry-After")))
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
                    **_review(row.resource_id),
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


def _review(resource_id: str) -> dict:
    """An activity column lets the LMS open a peserta's submission (Submission Review)."""
    if not resource_id.startswith("a:"):
        return {}
    from flask import current_app

    base = current_app.config.get("PUBLIC_BASE_URL", "")
    return {
        "submissionReview": {
            "reviewableStatus": ["Submitted", "Completed"],
            "url": f"{base}/course/{resource_id[2:]}",
        }
    }


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


def claim_timeout() -> timedelta:
    """GRADES_CLAIM_SECONDS of the current app (CLAIM_TIMEOUT outside one)."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("GRADES_CLAIM_SECONDS"):
        return timedelta(seconds=int(current_app.config["GRADES_CLAIM_SECONDS"]))
    return CLAIM_TIMEOUT


def claim_batch(
    db: Session, now: datetime, *, limit: int = 500, context_pk: int | None = None
) -> str | None:
    """Claim up to `limit` due rows, oldest first, for one delivery run; returns the
    claim token (None when nothing is due). The caller commits. Rows a dead worker
    claimed longer than the claim timeout ago are due again. On PostgreSQL the rows
    are locked with FOR UPDATE SKIP LOCKED, so concurrent workers claim disjoint
    batches without waiting for each other; SQLite serialises writers anyway, and the
    conditional update keeps a row from being claimed twice."""
    return _claim(db, now, limit=limit, context_pk=context_pk)[0]


def _claim(
    db: Session, now: datetime, *, limit: int, context_pk: int | None
) -> tuple[str | None, list[int]]:
    """claim_batch, also returning the ids it tried to claim (a superset of the rows
    the token holds: on SQLite another worker may have taken some of them first)."""
    db.execute(  # rows of a worker that died mid-delivery
        update(GradeOutbox)
        .where(GradeOutbox.state == "sending", GradeOutbox.claimed_at < now - claim_timeout())
        .values(state="pending", claim=None)
    )
    query = select(GradeOutbox.id).where(
        GradeOutbox.state == "pending", GradeOutbox.next_try_at <= now
    )
    if context_pk is not None:
        query = query.where(GradeOutbox.context_pk == context_pk)
    query = query.order_by(GradeOutbox.id).limit(limit)
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.scalars(query))
    if not ids:
        return None, []
    token = uuid.uuid4().hex
    db.execute(
        update(GradeOutbox)
        .where(GradeOutbox.id.in_(ids), GradeOutbox.state == "pending")
        .values(state="sending", claimed_at=now, claim=token)
    )
    return token, ids


def deliver_due(
    db: Session,
    key: Any,
    http: requests.Session,
    *,
    now: datetime | None = None,
    limit: int = 500,
    context_pk: int | None = None,
    clients: dict | None = None,
    parallel: int = 32,
) -> Outcome:
    """Send the due outbox rows, oldest first: claim a batch in one statement, find
    the line items (in the database's thread), post the scores `parallel` at a time,
    then settle the batch in one commit. The database work is per batch, not per
    row (a handful of statements for the batch's contexts, users and line items,
    one UPDATE for the rows delivered), so it stays small next to the posts; pass
    `clients` to keep the AGS clients (and their settings) over several batches."""
    now = now or utcnow()
    out = Outcome()
    token, ids = _claim(db, now, limit=limit, context_pk=context_pk)
    db.commit()
    if token is None:
        return out
    mine = (GradeOutbox.id.in_(ids), GradeOutbox.claim == token)
    # Counted now, committed with the line items below: a worker that dies while
    # posting leaves the try counted, as before.
    db.execute(
        update(GradeOutbox)
        .where(*mine)
        .values(tries=GradeOutbox.tries + 1)
        .execution_options(synchronize_session=False)
    )
    rows = list(
        db.scalars(
            select(GradeOutbox)
            .where(*mine)
            .order_by(GradeOutbox.id)
            .execution_options(populate_existing=True)  # tries as just counted
        )
    )
    users = {
        u.id: u for u in db.scalars(select(User).where(User.id.in_({r.user_id for r in rows})))
    }
    clients = {} if clients is None else clients
    # Looked up once per batch (and held here: the session's identity map is weak).
    targets = {pk: _client_for(db, pk, key, http, clients) for pk in {r.context_pk for r in rows}}
    lineitems: dict[tuple[int, str], str] = {}
    jobs = []
    for row in rows:
        target = targets[row.context_pk]
        if isinstance(target, RefusedError):
            _settle_error(db, row, target, out, now)
            continue
        context, client = target
        try:
            cache_key = (row.context_pk, row.resource_id)
            url = lineitems.get(cache_key)
            if url is None:
                url = lineitems[cache_key] = scores_url(_lineitem_url(db, client, context, row))
            jobs.append((row, client, url, score_body(row, users[row.user_id])))
        except (RetryLaterError, RefusedError) as exc:
            _settle_error(db, row, exc, out, now)
    db.commit()  # line items found or created, and rows that could not even be posted

    def post(job):
        _row, client, url, body = job
        try:
            client.post_score(url, body)
        except (RetryLaterError, RefusedError) as exc:
            return exc
        return None

    if len(jobs) > 1 and parallel > 1:
        with ThreadPoolExecutor(min(parallel, len(jobs))) as pool:
            results = list(pool.map(post, jobs))
    else:
        results = [post(job) for job in jobs]
    delivered = []
    for (row, _client, _url, _body), exc in zip(jobs, results, strict=True):
        if exc is None:
            delivered.append(row)
        else:
            _settle_error(db, row, exc, out, now, posted=True)
    if delivered:  # one statement for the batch, not one per row
        settled = {
            "state": "delivered",
            "delivered_at": now,
            "claimed_at": None,
            "claim": None,
            "last_status": 200,
            "last_error": None,
        }
        db.execute(
            update(GradeOutbox)
            .where(GradeOutbox.id.in_([row.id for row in delivered]))
            .values(**settled)
            .execution_options(synchronize_session=False)
        )
        for row in delivered:  # the loaded rows say what the database now holds
            for name, value in settled.items():
                set_committed_value(row, name, value)
        out.delivered += len(delivered)
    db.commit()
    return out


def _client_for(
    db: Session, context_pk: int, key, http, clients
) -> tuple[Context, Client] | RefusedError:
    """A context's AGS client (one per platform and scope set), or why there is none."""
    context = db.get(Context, context_pk)
    platform = None
    if context is not None and context.platform_id:
        # Its deployments (loaded eagerly by default) are not needed to post.
        platform = db.get(Platform, context.platform_id, options=[lazyload(Platform.deployments)])
    if platform is None or not platform.is_active:
        return RefusedError(None, "the course's LMS registration is missing or not active")
    ags = (context.services or {}).get("ags") or {}
    scopes = tuple(sorted(ags.get("scope") or [SCOPE_LINEITEM, SCOPE_SCORE]))
    client = clients.get((platform.id, scopes))
    if client is None:
        client = clients[(platform.id, scopes)] = Client(platform, key, http, scopes)
    return context, client


def _settle_error(
    db: Session,
    row: GradeOutbox,
    exc: RetryLaterError | RefusedError,
    out: Outcome,
    now: datetime,
    posted: bool = False,
) -> None:
    """A row the LMS did not take: superseded, retried later, or failed."""
    row.claimed_at, row.claim = None, None
    if posted and isinstance(exc, RefusedError) and exc.status == 404:
        # The column was deleted in the LMS: find or make it again on the next try.
        db.execute(
            LineItem.__table__.delete().where(
                LineItem.context_pk == row.context_pk, LineItem.resource_id == row.resource_id
            )
        )
        exc = RetryLaterError(404, exc.detail, 0)
    if posted and isinstance(exc, RefusedError) and exc.status == 409:
        # The LMS holds a score at least as recent as this one. Our timestamps grow
        # strictly and an older row is never sent after a newer one, so it is this
        # very score (an earlier try whose answer was lost) or a newer one of ours.
        if _newer_delivered(db, row):
            row.state, out.superseded = "superseded", out.superseded + 1
        else:
            row.state, row.delivered_at, out.delivered = "delivered", now, out.delivered + 1
        row.last_status, row.last_error = 409, exc.detail
        return
    row.last_status, row.last_error = exc.status, exc.detail
    out.errors.append(exc.detail)
    if isinstance(exc, RetryLaterError) and row.tries < MAX_TRIES:
        wait = exc.after if exc.after is not None else backoff(row.tries)
        row.state, row.next_try_at = "pending", now + timedelta(seconds=wait)
        out.retried += 1
    else:
        row.state = "failed"
        out.failed += 1


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
