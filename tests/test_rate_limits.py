"""Rate limits: OIDC login and launch per client IP, uploads per user; a 429 page in
the user's language with Retry-After. Off in TestingConfig, on in these tests."""

from __future__ import annotations

import re

import pytest

from lti_tool.db import get_db
from tests.conftest import build_app, connect_peer, launch_as, make_browser, served
from tests.peer import TestPlatform

MODULE = "/course/gp-pedagogik-a"
TUGAS = MODULE + "/sesi-1/tugas"


@pytest.fixture
def limited(tmp_path):
    """A served tool with small limits and a registered peer."""

    app = build_app(
        tmp_path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN="100/minute",
        RATELIMIT_LAUNCH="3/minute",
        RATELIMIT_UPLOAD="2/minute",
    )
    with served(app) as tool, TestPlatform() as lms:
        connect_peer(tool, lms)
        yield tool, lms


def test_login_is_limited_per_client_ip(tmp_path):
    app = build_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3/minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/lti/login?iss=x").status_code == 400  # counted, refused anyway
    limited = client.get("/lti/login?iss=x")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "coba lagi" in limited.text.lower()
    # another address still gets through; other pages are not counted
    assert (
        client.get("/lti/login?iss=x", environ_base={"REMOTE_ADDR": "10.1.1.2"}).status_code == 400
    )
    assert client.get("/healthz").status_code == 200


def test_behind_a_proxy_the_forwarded_client_counts(tmp_path):
    app = build_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2/minute", PROXY_COUNT=1)
    client = app.test_client()

    def login(ip: str) -> int:
        return client.get("/lti/login?iss=x", headers={"X-Forwarded-For": ip}).status_code

    assert [login("203.0.113.7") for _ in range(3)] == [400, 400, 429]
    assert login("203.0.113.8") == 400  # one proxy address, many clients behind it


def test_launch_is_limited_and_the_refusal_writes_nothing(limited):
    from tests.conftest import row_counts

    tool, lms = limited
    browser = make_browser()
    for _ in range(3):
        assert lms.launch(browser, roles=["Learner"]).ok
    before = row_counts(tool.app)
    result = lms.launch(browser, roles=["Learner"])
    assert result.launch_response.status_code == 429
    assert int(result.launch_response.headers["Retry-After"]) >= 1
    assert row_counts(tool.app) == before


def test_uploads_are_limited_per_user(limited):
    tool, lms = limited
    siti, budi = make_browser(), make_browser()
    page = launch_as(tool, lms, siti, ["Learner"], "siti", TUGAS)
    launch_as(tool, lms, budi, ["Learner"], "budi", TUGAS)
    # an English launch: the 429 page speaks English
    lms.launch(
        siti,
        roles=["Learner"],
        user={"sub": "siti", "name": "Siti"},
        locale="en-US",
        target_link_uri=tool.url(TUGAS),
    )
    action = re.search(r'action="(/c/\d+/tugas/\d+/upload)"', page.text).group(1)
    siti.get(tool.url(re.search(r'"(/c/\d+/module/[^"]+)"', page.text).group(1)))

    def upload(browser, name: str):
        return browser.post(
            tool.url(action),
            files={"file": (name, b"Lembar kerja saya\n" * 10, "text/plain")},
            allow_redirects=False,
        )

    assert upload(siti, "a.txt").status_code < 400
    assert upload(siti, "b.txt").status_code < 400
    refused = upload(siti, "c.txt")
    assert refused.status_code == 429
    assert "Too many requests" in refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    # plain form posts are not uploads; another user has a budget of their own
    assert siti.get(tool.url(re.search(r'"(/c/\d+/module/[^"]+)"', page.text).group(1))).ok
    assert upload(budi, "d.txt").status_code < 400
    from sqlalchemy import text

    with get_db(tool.app).engine.connect() as conn:
        names = conn.execute(text("SELECT original_name FROM tugas_file")).scalars().all()
    assert sorted(names) == ["a.txt", "b.txt", "d.txt"]


def test_limits_are_off_in_the_test_config(tmp_path):
    client = build_app(tmp_path).test_client()
    assert {client.get("/lti/login?iss=x").status_code for _ in range(80)} == {400}


def test_unreachable_shared_storage_counts_in_memory(tmp_path):
    """Redis away: requests are still counted (in this process), never refused for it."""
    app = build_app(
        tmp_path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN="2/minute",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0",  # nothing listens on port 9
        REDIS_TIMEOUT=0.2,
    )
    assert app.extensions["lti_limiter"].shared
    client = app.test_client()
    assert [client.get("/lti/login?iss=x").status_code for _ in range(3)] == [400, 400, 429]


def test_memory_counters_of_finished_windows_are_swept():
    from limits import parse

    from lti_tool.ratelimit import ProcessMemoryStorage

    storage = ProcessMemoryStorage()
    storage.timer.join(1)  # MemoryStorage's first timer, cancelled
    storage.SWEEP_EVERY = 0.0
    storage.incr("ip-a", expiry=0.05)
    storage.incr("ip-b", expiry=60)
    assert not storage.timer.is_alive()  # counting starts no expiry thread
    assert set(storage.expirations) == {"ip-a", "ip-b"}
    import time

    time.sleep(0.06)
    storage.incr("ip-c", expiry=60)  # the next count sweeps ip-a, never seen again
    assert set(storage.expirations) == {"ip-b", "ip-c"}
    assert storage.get("ip-b") == 1
    limit = parse("1/minute")
    from limits.strategies import FixedWindowRateLimiter

    strategy = FixedWindowRateLimiter(ProcessMemoryStorage())
    assert strategy.hit(limit, "s", "k") and not strategy.hit(limit, "s", "k")
