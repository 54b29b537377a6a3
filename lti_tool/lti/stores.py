"""Where launches keep their short-lived records: used nonces and deep-linking launch
data. The database (the default), or Redis with TTLs when REDIS_URL is set, so that
every process and server shares them and nothing needs purging. Chosen once, at app
creation (`init_app`).

A Redis that cannot be reached refuses the launch with a 503 "try again" page
(`service_unavailable`): a launch is never accepted without its nonce check.

A Redis restart without persistence forgets the used nonces (and with RDB snapshots,
those used since the last snapshot). A token used before the restart could then pass
the nonce check again, until its own time window closes (its iat may be at most
LTI_MAX_TOKEN_AGE old, and the login state it carries expires after LTI_STATE_TTL). To
close even that window, Redis keeps an epoch marker: Redis's run_id (new on every
restart or failover) and the time the tool first saw it. A token issued before the
current epoch is refused (`nonce_unverifiable`, "open the tool again"): its nonce may
have been used before the restart. Launches in flight during a restart therefore fail
with a clear message, and none succeeds unchecked. Run Redis with `maxmemory-policy
noeviction`: evicting nonce keys would reopen the window, while a full Redis only
refuses launches.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.errors import LtiError


def unavailable(exc: Exception) -> LtiError:
    return LtiError("service_unavailable", f"Redis: {type(exc).__name__}: {exc}", status=503)


class NonceStore(Protocol):
    def use(self, db: Session, issuer: str, nonce: str, *, ttl: int, issued_at: float) -> bool:
        """Record the nonce as used; False if it already was. Raises LtiError when it
        cannot be checked."""
        ...


class DbNonceStore:
    """The `lti_used_nonce` table, written in the launch's transaction (a refused
    launch rolls it back); `lti-tool cleanup` purges expired rows."""

    def use(self, db: Session, issuer: str, nonce: str, *, ttl: int, issued_at: float) -> bool:
        from lti_tool.services.launch_sql import run

        params = {
            "issuer": issuer,
            "nonce": nonce,
            "expires_at": utcnow() + timedelta(seconds=ttl),
        }
        return run(db, "nonce", params).first() is not None


# The epoch marker: Redis's run_id and when the tool first saw it. INFO inside a script
# is allowed by Redis; where a hosted Redis forbids it, the marker still detects the
# restarts that lose data (it disappears with them).
_EPOCH = """
local ok, info = pcall(redis.call, 'INFO', 'server')
local run = 'norunid'
if ok and type(info) == 'string' then run = string.match(info, 'run_id:(%x+)') or run end
local marker = redis.call('GET', KEYS[1])
if (not marker) or string.sub(marker, 1, #run + 1) ~= run .. ' ' then
  marker = run .. ' ' .. ARGV[1]
  redis.call('SET', KEYS[1], marker)
end
"""
# One round trip per launch: the marker, then SET NX EX of the nonce.
_USE_NONCE = (
    _EPOCH
    + """
local fresh = redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2])
if fresh then return {1, marker} end
return {0, marker}
"""
)


class RedisNonceStore:
    """`SET key 1 NX EX ttl` per nonce, plus the restart epoch (see the module doc)."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(_USE_NONCE)
        self._epoch = client.register_script(_EPOCH + "return marker")

    def key(self, issuer: str, nonce: str) -> str:
        digest = hashlib.sha256(f"{issuer}\0{nonce}".encode()).hexdigest()
        return f"{self.prefix}nonce:{digest}"

    @property
    def epoch_key(self) -> str:
        return f"{self.prefix}nonce-epoch"

    def prime(self) -> None:
        """Start the epoch when the app starts (not at the first launch, whose token
        was issued earlier), if Redis can be reached."""
        # When Redis is down, the first launch after it is back starts the epoch.
        with contextlib.suppress(RedisError):
            self._epoch(keys=[self.epoch_key], args=[f"{time.time():.3f}"])

    def use(self, db: Session, issuer: str, nonce: str, *, ttl: int, issued_at: float) -> bool:
        try:
            keys = [self.epoch_key, self.key(issuer, nonce)]
            fresh, marker = self._script(keys=keys, args=[f"{time.time():.3f}", int(ttl)])
        except RedisError as exc:
            raise unavailable(exc) from exc
        if not fresh:
            return False
        text = marker.decode() if isinstance(marker, bytes) else marker
        epoch = float(text.split(" ")[1])
        # iat is in whole seconds: a token of the epoch's own second is refused too.
        if issued_at < epoch:
            raise LtiError(
                "nonce_unverifiable",
                f"token issued at {issued_at:.0f}, before the session store's epoch {epoch:.0f}",
            )
        return True


@dataclass(frozen=True)
class StoredLaunch:
    """The validated claims of a deep-linking launch, kept for its response."""

    launch_id: str
    platform_id: int
    claims: dict[str, Any]


class LaunchDataStore(Protocol):
    def put(self, db: Session, launch: StoredLaunch, ttl: int) -> None: ...
    def get(self, db: Session, launch_id: str) -> StoredLaunch | None: ...
    def delete(self, db: Session, launch_id: str) -> None: ...


class DbLaunchDataStore:
    """The `lti_launch_data` table, in the caller's transaction."""

    def put(self, db: Session, launch: StoredLaunch, ttl: int) -> None:
        from lti_tool.models import LaunchData

        db.add(
            LaunchData(
                launch_id=launch.launch_id,
                platform_id=launch.platform_id,
                claims=launch.claims,
                expires_at=utcnow() + timedelta(seconds=ttl),
            )
        )

    def get(self, db: Session, launch_id: str) -> StoredLaunch | None:
        from lti_tool.models import LaunchData

        row = db.get(LaunchData, launch_id)
        if row is None:
            return None
        return StoredLaunch(row.launch_id, row.platform_id, row.claims)

    def delete(self, db: Session, launch_id: str) -> None:
        from lti_tool.models import LaunchData

        row = db.get(LaunchData, launch_id)
        if row is not None:
            db.delete(row)


class RedisLaunchDataStore:
    """One JSON value per launch, expiring after LTI_LAUNCH_DATA_TTL."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def key(self, launch_id: str) -> str:
        return f"{self.prefix}launch:{launch_id}"

    def put(self, db: Session, launch: StoredLaunch, ttl: int) -> None:
        value = json.dumps({"p": launch.platform_id, "c": launch.claims}, separators=(",", ":"))
        try:
            self.client.set(self.key(launch.launch_id), value, ex=int(ttl))
        except RedisError as exc:
            raise unavailable(exc) from exc

    def get(self, db: Session, launch_id: str) -> StoredLaunch | None:
        try:
            raw = self.client.get(self.key(launch_id))
        except RedisError as exc:
            raise unavailable(exc) from exc
        if raw is None:
            return None
        data = json.loads(raw)
        return StoredLaunch(launch_id, int(data["p"]), data["c"])

    def delete(self, db: Session, launch_id: str) -> None:
        try:
            self.client.delete(self.key(launch_id))
        except RedisError as exc:
            raise unavailable(exc) from exc


def init_app(app: Flask) -> None:
    """Redis stores when the app has a Redis client, else the database ones."""
    from lti_tool.redis_client import redis_client

    client = redis_client(app)
    prefix = app.config.get("REDIS_KEY_PREFIX") or ""
    if client is None:
        app.extensions["lti_nonces"] = DbNonceStore()
        app.extensions["lti_launch_data"] = DbLaunchDataStore()
    else:
        nonces = RedisNonceStore(client, prefix)
        nonces.prime()
        app.extensions["lti_nonces"] = nonces
        app.extensions["lti_launch_data"] = RedisLaunchDataStore(client, prefix)


def nonce_store(app: Flask) -> NonceStore:
    return app.extensions["lti_nonces"]


def launch_data_store(app: Flask) -> LaunchDataStore:
    return app.extensions["lti_launch_data"]
