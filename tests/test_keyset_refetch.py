"""At most one key set refetch per platform per LTI_KEYSET_MIN_REFETCH_SECONDS (60 s
in production, 0 in the test config) for tokens naming an unknown kid."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from lti_tool.config import Config, TestingConfig
from lti_tool.lti.errors import LtiError
from lti_tool.lti.keyset import KeySetCache
from tests.conftest import build_app, connect_peer, make_browser, row_counts, served
from tests.peer import TestPlatform, forgeries
from tests.peer.keys import SigningKey


def test_production_waits_a_minute_between_refetches():
    assert Config.LTI_KEYSET_MIN_REFETCH_SECONDS == 60
    assert TestingConfig.LTI_KEYSET_MIN_REFETCH_SECONDS == 0


@pytest.fixture
def tool_and_lms(tmp_path):

    app = build_app(tmp_path, LTI_KEYSET_MIN_REFETCH_SECONDS=60)
    with served(app) as tool, TestPlatform() as lms:
        connect_peer(tool, lms)
        yield tool, lms


def _age(app, seconds: float) -> None:
    """Make the cached key sets `seconds` older (the clock cannot be turned)."""
    for entry in app.extensions["lti_keysets"]._entries.values():
        entry.fetched_at -= seconds


def test_a_burst_of_unknown_kids_makes_one_refetch(tool_and_lms):
    tool, lms = tool_and_lms
    browser = make_browser()
    assert lms.launch(browser).ok
    fetches = lms.jwks_fetch_count
    # fetched just now: unknown kids are refused without asking the platform again
    for _ in range(3):
        refused = lms.launch(browser, tamper=forgeries.unknown_kid())
        assert refused.launch_response.status_code == 400
    assert lms.jwks_fetch_count == fetches
    # a minute later: the first unknown kid refetches, the rest of the burst does not
    _age(tool.app, 61)
    before = row_counts(tool.app)
    for _ in range(5):
        refused = lms.launch(browser, tamper=forgeries.unknown_kid())
        assert refused.launch_response.status_code == 400
        assert "<code>bad_signature</code>" in refused.launch_response.text
    assert lms.jwks_fetch_count == fetches + 1
    assert row_counts(tool.app) == before
    # a real rotation is followed once the minute has passed
    lms.rotate_key(drop_old=True)
    _age(tool.app, 61)
    assert lms.launch(browser).ok
    assert lms.jwks_fetch_count == fetches + 2


class _SlowKeySet:
    """A key set URL that takes a moment to answer and counts its calls."""

    def __init__(self, jwk: dict) -> None:
        self.jwk = jwk
        self.calls = 0
        self.lock = threading.Lock()

    def get(self, url, headers=None):
        with self.lock:
            self.calls += 1
        time.sleep(0.05)
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps({"keys": [self.jwk]}).encode()
        return response


def test_concurrent_unknown_kids_wait_for_one_fetch():
    key = SigningKey.generate(kid="k1")
    http = _SlowKeySet(key.public_jwk)
    cache = KeySetCache(ttl=3600, min_refetch=60)
    assert cache.get_key("https://lms.example/jwks", "k1", http) is not None
    assert http.calls == 1
    cache._entries["https://lms.example/jwks"].fetched_at -= 61
    errors = []

    def forged():
        try:
            cache.get_key("https://lms.example/jwks", "forged", http)
        except LtiError as exc:
            errors.append(exc.code)

    threads = [threading.Thread(target=forged) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == ["bad_signature"] * 8
    assert http.calls == 2  # one refetch for the whole burst
