"""The process's Redis client, from REDIS_URL (None when it is unset).

One client (and its connection pool) per app, hence per process: gunicorn creates the
app in each worker after forking, and redis-py's pool opens new connections in a
forked child anyway. Calls time out after REDIS_TIMEOUT seconds and are retried once
on a fresh connection (a Redis restart breaks every pooled connection): a launch that
cannot reach Redis is refused quickly with "try again", never accepted unchecked.
Every key the tool writes starts with REDIS_KEY_PREFIX (several tools, or tests, can
share one Redis).
"""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def connect(url: str, *, timeout: float = 2.0) -> Redis:
    """A client with short timeouts and one immediate retry."""
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
    )


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["lti_redis"] = (
        connect(url, timeout=float(app.config.get("REDIS_TIMEOUT") or 2)) if url else None
    )


def redis_client(app: Flask | None = None) -> Redis | None:
    """The app's client, or None when REDIS_URL is unset."""
    return (app or current_app).extensions.get("lti_redis")


def redis_key(app: Flask | None, *parts: str) -> str:
    """A key under the app's REDIS_KEY_PREFIX."""
    prefix = (app or current_app).config.get("REDIS_KEY_PREFIX") or ""
    return prefix + ":".join(parts)
