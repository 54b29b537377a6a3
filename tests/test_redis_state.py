"""With REDIS_URL, single-use nonces and deep-linking launch data live in Redis with
TTLs. Against a private redis-server: a replay is refused through Redis; Redis down
means a clear 503 and nothing accepted; a Redis restart (which forgets the nonces)
lets no replay through, and launches in flight either succeed checked or fail with a
clear message."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import func, select

from lti_tool.db import get_db
from lti_tool.lti.errors import LtiError
from lti_tool.lti.state import cookie_name, cookie_value
from lti_tool.lti.stores import DbNonceStore, RedisNonceStore, StoredLaunch
from lti_tool.models import ActivityLog
from tests.conftest import build_app, make_browser, row_counts, served
from tests.peer import forgeries
from tests.redis_helpers import RedisServer, backdate_epoch, free_port, private_redis


@pytest.fixture
def redis_server():
    yield from private_redis()


@pytest.fixture
def prefix() -> str:
    return f"t-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def live_tool(tmp_path, redis_server, prefix):  # the lms fixture uses this one
    app = build_app(tmp_path, REDIS_URL=redis_server.url(5), REDIS_KEY_PREFIX=prefix)
    backdate_epoch(redis_server, prefix)
    with served(app) as tool:
        yield tool


def keys(server: RedisServer, pattern: str) -> dict[str, int]:
    """{key: ttl} of db 5."""
    client = server.client(5)
    return {k.decode(): client.ttl(k) for k in client.scan_iter(pattern)}


def replay_with_cookie(result) -> requests.Response:
    """POST the same id_token and state again, with the browser's state cookie: only
    the nonce can stop it."""
    state = result.form["state"]
    return requests.post(
        result.form_action,
        data=result.form,
        headers={"Cookie": f"{cookie_name(state)}={cookie_value(state)}"},
        allow_redirects=False,
        timeout=10,
    )


def launches_logged(app) -> int:
    with get_db(app).sessionmaker() as db:
        return db.scalar(select(func.count()).where(ActivityLog.event == "launch"))


def test_the_stores_follow_redis_url(tmp_path, live_tool):
    (tmp_path / "plain").mkdir()
    plain = build_app(tmp_path / "plain", REDIS_URL=None)  # also under make test-pg
    assert isinstance(plain.extensions["lti_nonces"], DbNonceStore)
    get_db(plain).engine.dispose()
    assert isinstance(live_tool.app.extensions["lti_nonces"], RedisNonceStore)


def test_a_launch_uses_its_nonce_in_redis_and_a_replay_is_refused(
    live_tool, lms, browser, redis_server, prefix
):
    first = lms.launch(browser, roles=["Learner"], locale="en-US")
    assert first.ok, first.error
    nonces = keys(redis_server, f"{prefix}nonce:*")
    assert len(nonces) == 1
    (ttl,) = nonces.values()
    cfg = live_tool.app.config
    assert cfg["LTI_STATE_TTL"] < ttl <= cfg["LTI_STATE_TTL"] + cfg["LTI_JWT_LEEWAY"]
    before = row_counts(live_tool.app)
    assert before["lti_used_nonce"] == 0  # not in the database
    replay = replay_with_cookie(first)
    assert replay.status_code == 400 and "<code>bad_nonce</code>" in replay.text
    assert row_counts(live_tool.app) == before


def test_deep_linking_launch_data_lives_in_redis_with_its_ttl(
    live_tool, lms, browser, redis_server, prefix
):
    result = lms.launch(browser, roles=["Instructor"], message_type="LtiDeepLinkingRequest")
    assert result.ok, result.error
    (ttl,) = keys(redis_server, f"{prefix}launch:*").values()
    assert live_tool.app.config["LTI_LAUNCH_DATA_TTL"] - 60 < ttl
    assert row_counts(live_tool.app)["lti_launch_data"] == 0
    picker = result.final_response
    page = browser.post(picker.url, data={"item": ["m:gp-pedagogik-a"]}, allow_redirects=False)
    assert page.status_code == 200
    assert lms.submit_deep_link_form(browser, page).status_code == 200, lms.deep_link_errors
    assert keys(redis_server, f"{prefix}launch:*") == {}  # used once
    again = browser.post(picker.url, data={"item": ["m:gp-pedagogik-a"]}, allow_redirects=False)
    assert again.status_code == 403


def test_redis_down_refuses_the_launch_with_a_503(live_tool, lms, browser, redis_server):
    assert lms.launch(browser, roles=["Learner"]).ok
    before = row_counts(live_tool.app)
    logged = launches_logged(live_tool.app)
    redis_server.kill()
    result = lms.launch(browser, roles=["Learner"], locale="en-US")
    assert result.launch_response.status_code == 503
    assert "<code>service_unavailable</code>" in result.launch_response.text
    assert "temporary problem" in result.launch_response.text
    assert row_counts(live_tool.app) == before and launches_logged(live_tool.app) == logged


def test_an_unreachable_redis_url_refuses_launches(tmp_path, browser):
    from tests.peer import TestPlatform

    app = build_app(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    with served(app) as tool, TestPlatform() as lms:
        lms.register_tool(tool.base_url, client_id="c1", deployment_ids=["d1"])
        with app.app_context():
            from lti_tool.db import session
            from lti_tool.services.platforms import add_platform

            add_platform(
                session(),
                name="Peer",
                issuer=lms.issuer,
                client_id="c1",
                auth_login_url=lms.auth_url,
                auth_token_url=lms.token_url,
                key_set_url=lms.jwks_url,
                deployment_ids=["d1"],
            )
        before = row_counts(app)
        started = time.monotonic()
        result = lms.launch(browser, roles=["Learner"], locale="en-US")
        assert time.monotonic() - started < 10  # refused quickly, not after long retries
        assert result.launch_response.status_code == 503
        assert "temporary problem" in result.launch_response.text
        assert row_counts(app) == before


def test_a_restart_forgets_nonces_yet_no_replay_passes(
    live_tool, lms, browser, redis_server, prefix
):
    first = lms.launch(browser, roles=["Learner"], locale="en-US")
    assert first.ok
    redis_server.restart()  # no persistence: every used nonce is forgotten
    assert keys(redis_server, f"{prefix}*") == {}
    before = row_counts(live_tool.app)
    replay = replay_with_cookie(first)
    # Its nonce passes SET NX again, but the token is older than Redis's new epoch.
    assert replay.status_code == 400 and "<code>nonce_unverifiable</code>" in replay.text
    assert row_counts(live_tool.app) == before
    time.sleep(1.1)  # tokens of the epoch's own second are refused (iat has whole seconds)
    # A token older than LTI_MAX_TOKEN_AGE is refused anyway, before any nonce check.
    old = lms.launch(browser, roles=["Learner"], locale="en-US", tamper=forgeries.expired())
    assert old.launch_response.status_code == 400
    assert "<code>expired</code>" in old.launch_response.text
    # New launches work at once, and are single-use again.
    again = lms.launch(browser, roles=["Learner"], locale="en-US")
    assert again.ok, again.error
    assert "<code>bad_nonce</code>" in replay_with_cookie(again).text


def test_the_nonce_store_after_a_restart(redis_server, prefix):
    store = RedisNonceStore(redis_server.client(5), prefix)
    store.prime()
    backdate_epoch(redis_server, prefix)
    issued = time.time() - 1
    assert store.use(None, "iss", "n1", ttl=60, issued_at=issued) is True
    assert store.use(None, "iss", "n1", ttl=60, issued_at=issued) is False
    redis_server.restart()
    with pytest.raises(LtiError) as refused:
        store.use(None, "iss", "n1", ttl=60, issued_at=issued)
    assert refused.value.code == "nonce_unverifiable" and refused.value.status == 400
    assert store.use(None, "iss", "n2", ttl=60, issued_at=time.time() + 1) is True
    assert store.use(None, "iss", "n2", ttl=60, issued_at=time.time() + 1) is False
    redis_server.kill()
    with pytest.raises(LtiError) as down:
        store.use(None, "iss", "n3", ttl=60, issued_at=time.time())
    assert down.value.code == "service_unavailable" and down.value.status == 503


def test_the_launch_data_store_round_trip(redis_server, prefix):
    from lti_tool.lti.stores import RedisLaunchDataStore

    store = RedisLaunchDataStore(redis_server.client(5), prefix)
    store.put(None, StoredLaunch("L1", 3, {"a": [1, "b"]}), ttl=30)
    assert store.get(None, "L1") == StoredLaunch("L1", 3, {"a": [1, "b"]})
    assert 0 < redis_server.client(5).ttl(f"{prefix}launch:L1") <= 30
    store.delete(None, "L1")
    assert store.get(None, "L1") is None


@pytest.mark.slow
def test_redis_restarted_during_launches(live_tool, lms, redis_server):
    """Three browsers launch over and over while Redis is killed and started again:
    each launch succeeds (its nonce checked) or fails with a clear message, and no
    accepted launch can be replayed afterwards."""
    outcomes: list[tuple[str, object]] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def launcher(n: int) -> None:
        with make_browser() as b:
            i = 0
            while not stop.is_set():
                i += 1
                result = lms.launch(b, user=f"guru{n}-{i}", roles=["Learner"], locale="en-US")
                resp = result.launch_response
                if result.ok:
                    kind = "ok"
                elif (
                    resp is not None
                    and resp.status_code == 503
                    and ("<code>service_unavailable</code>" in resp.text)
                ):
                    kind = "unavailable"
                elif resp is not None and "<code>nonce_unverifiable</code>" in resp.text:
                    kind = "unverifiable"
                else:
                    kind = "other"
                    errors.append(f"{result.error} {resp.status_code if resp else ''}")
                with lock:
                    outcomes.append((kind, result))

    threads = [threading.Thread(target=launcher, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        redis_server.kill()
        time.sleep(1.0)
        redis_server.start()
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    kinds = [k for k, _ in outcomes]
    assert not errors, errors
    assert kinds.count("ok") >= 3 and kinds.count("unavailable") >= 1
    accepted = [r for k, r in outcomes if k == "ok"]
    assert launches_logged(live_tool.app) == len(accepted)  # nothing else was accepted
    for result in accepted:
        replay = replay_with_cookie(result)
        assert replay.status_code == 400, replay.text[:300]
        assert "<code>bad_nonce</code>" in replay.text or "nonce_unverifiable" in replay.text
    assert launches_logged(live_tool.app) == len(accepted)
