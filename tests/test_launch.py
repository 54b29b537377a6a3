"""Launches from a real platform peer over HTTP: accepted ones and every refusal.

A refused launch must answer 4xx with a page in the user's language and write
nothing (row counts of every table a launch touches stay the same).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import ActivityLog, Context, Membership, ResourceLink, User
from tests.conftest import make_browser, row_counts
from tests.peer import REFUSAL_CASES, forgeries


def _session(app):
    return get_db(app).sessionmaker()


@pytest.mark.parametrize(
    ("roles", "role", "label"),
    [
        (["Learner"], "peserta", "Peserta"),
        (["Mentor"], "mentor", "Mentor"),
        (["TeachingAssistant"], "mentor", "Mentor"),
        (["Instructor"], "pengampu", "Pengampu"),
        (["Administrator"], "admin", "Admin kelas"),
        (["ContentDeveloper"], "admin", "Admin kelas"),
        (
            ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
            "admin",
            "Admin kelas",
        ),
    ],
)
def test_launch_in_each_role(live_tool, lms, browser, roles, role, label):
    result = lms.launch(browser, roles=roles, user={"sub": f"u-{role}", "name": "Ibu Sri Wahyuni"})
    assert result.ok, result.error
    page = result.final_response
    assert page.status_code == 200
    assert f'Ibu Sri Wahyuni · <span class="role">{label}</span>' in page.text
    assert "Selamat datang, Ibu Sri Wahyuni." in page.text  # Bahasa Indonesia by default
    with _session(live_tool.app) as db:
        user = db.scalars(select(User).where(User.sub == f"u-{role}")).one()
        assert user.issuer == lms.issuer and user.name == "Ibu Sri Wahyuni"
        membership = db.scalars(select(Membership).where(Membership.user_id == user.id)).one()
        assert membership.role == role
        log = db.scalars(select(ActivityLog).where(ActivityLog.user_id == user.id)).one()
        assert log.event == "launch" and log.role == role


def test_relaunch_updates_and_logs_again(live_tool, lms, browser):
    first = lms.launch(browser, roles=["Learner"], user={"sub": "u1", "name": "Siti"})
    assert first.ok
    # second launch without the optional name claim keeps the known name
    second = lms.launch(browser, roles=["Learner"], user={"sub": "u1"})
    assert second.ok, second.error
    with _session(live_tool.app) as db:
        user = db.scalars(select(User).where(User.sub == "u1")).one()
        assert user.name == "Siti"
        assert db.query(ActivityLog).filter_by(user_id=user.id).count() == 2
        assert db.query(Context).count() == 1
        ctx = db.query(Context).one()
        assert "ags" in ctx.services and "nrps" in ctx.services
        link = db.query(ResourceLink).one()
        assert link.context_pk == ctx.id


def test_launch_language_follows_locale_claim(lms, browser):
    english = lms.launch(
        browser, roles=["Learner"], locale="en-US", user={"sub": "e", "name": "Ann"}
    )
    assert "Welcome, Ann." in english.final_response.text
    indonesian = lms.launch(
        browser, roles=["Learner"], locale="id-ID", user={"sub": "e", "name": "Ann"}
    )
    assert "Selamat datang, Ann." in indonesian.final_response.text


def test_launch_into_a_module_and_an_activity(live_tool, lms, browser):
    module = lms.launch(browser, target_link_uri=live_tool.url("/course/gp-pedagogik-a"))
    assert module.ok, module.error
    assert "Minggu ke-1" in module.final_response.text
    assert "Sesi Pembelajaran 1" in module.final_response.text
    activity = lms.launch(
        browser, target_link_uri=live_tool.url("/course/gp-pedagogik-a/sesi-2/tes-sumatif")
    )
    assert activity.ok, activity.error
    assert "Tes Sumatif Sesi 2" in activity.final_response.text


def test_login_by_post_works(lms, browser):
    assert lms.launch(browser, login_method="POST").ok


def _register_second_client(live_tool, lms, client_id: str) -> None:
    """Another registration of the same platform: its client id is a trusted audience."""
    from lti_tool.db import session
    from lti_tool.services.platforms import add_platform

    with live_tool.app.app_context():
        add_platform(
            session(),
            name="Peer LMS, second tool",
            issuer=lms.issuer,
            client_id=client_id,
            auth_login_url=lms.auth_url,
            auth_token_url=lms.token_url,
            key_set_url=lms.jwks_url,
            deployment_ids=["deployment-1"],
        )


def test_several_audiences_with_our_azp_are_accepted(live_tool, lms, browser):
    _register_second_client(live_tool, lms, "another-client")

    def tamper(f):
        f.claims["aud"] = [f.claims["aud"], "another-client"]
        f.claims["azp"] = f.tool.client_id

    assert lms.launch(browser, tamper=tamper).ok


def test_an_untrusted_extra_audience_is_refused(live_tool, lms, browser):
    """aud may name only audiences the tool trusts, even with our azp."""
    lms.launch(browser, roles=["Learner"])
    before = row_counts(live_tool.app)

    def tamper(f):
        f.claims["aud"] = [f.claims["aud"], "someone-we-do-not-know"]
        f.claims["azp"] = f.tool.client_id

    _refused(live_tool, lms.launch(browser, tamper=tamper), "bad_audience", before)


def test_several_audiences_with_a_foreign_azp_are_refused(live_tool, lms, browser):
    before = row_counts(live_tool.app)
    result = lms.launch(browser, tamper=forgeries.multiple_aud_wrong_azp())
    _refused(live_tool, result, "bad_audience", before)


def test_iat_in_the_future_is_refused(live_tool, lms, browser):
    before = row_counts(live_tool.app)
    result = lms.launch(browser, tamper=forgeries.issued_in_future(seconds_ahead=600))
    _refused(live_tool, result, "expired", before)


@pytest.mark.parametrize("header", ["jwk", "jku", "x5u", "x5c"])
def test_key_hints_in_the_header_are_refused(live_tool, lms, browser, header):
    """Keys come only from the registered key set URL, never from the token."""
    before = row_counts(live_tool.app)
    values = {
        "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        "jku": "https://evil.example/jwks.json",
        "x5u": "https://evil.example/cert.pem",
        "x5c": ["MIIB"],
    }

    def tamper(f):
        f.headers[header] = values[header]

    _refused(live_tool, lms.launch(browser, tamper=tamper), "bad_alg", before)


def test_another_rsa_algorithm_with_the_right_key_is_refused(live_tool, lms, browser):
    """Only RS256: an RS512 token signed with the platform's real key is refused."""
    before = row_counts(live_tool.app)

    def tamper(f):
        f.algorithm = "RS512"

    _refused(live_tool, lms.launch(browser, tamper=tamper), "bad_alg", before)


def _refused(live_tool, result, code: str | None = None, before=None):
    response = (
        result.launch_response if result.launch_response is not None else result.final_response
    )
    assert response is not None, result.error
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if code:
        assert f"<code>{code}</code>" in response.text, response.text
    if before is not None:
        assert row_counts(live_tool.app) == before
    return response


REFUSAL_CODES = {
    "expired": "expired",
    "wrong_aud": "bad_audience",
    "multiple_aud_without_azp": "bad_audience",
    "unknown_iss": "unknown_platform",
    "unknown_deployment": "unknown_deployment",
    "forged_nonce": "bad_nonce",
    "state_mismatch": "state_mismatch",
    "target_link_uri_mismatch": "target_mismatch",
    "missing_message_type": "bad_message",
    "wrong_version": "bad_message",
    "foreign_key": "bad_signature",
    "alg_none": "bad_alg",
    "alg_hs256": "bad_alg",
    "unknown_kid": "bad_signature",
}


def test_every_refusal_case_is_covered():
    assert set(REFUSAL_CODES) == set(REFUSAL_CASES)


@pytest.mark.parametrize("case", sorted(REFUSAL_CODES))
def test_refused_launch_writes_nothing(live_tool, lms, browser, case):
    lms.launch(browser, roles=["Learner"])  # a good launch first: tables are not empty
    before = row_counts(live_tool.app)
    result = lms.launch(browser, roles=["Learner"], tamper=REFUSAL_CASES[case]())
    response = _refused(live_tool, result, REFUSAL_CODES[case], before)
    # the page speaks Bahasa Indonesia and says what to tell the LMS admin
    assert "Aplikasi tidak dapat dibuka" in response.text
    assert "Yang perlu disampaikan kepada administrator LMS Anda" in response.text


def test_refusal_page_follows_the_token_locale(live_tool, lms, browser):
    result = lms.launch(browser, locale="en-US", tamper=forgeries.expired())
    response = _refused(live_tool, result, "expired")
    assert "The launch has expired." in response.text


def test_replayed_token_is_refused(live_tool, lms, browser):
    first = lms.launch(browser, roles=["Learner"])
    assert first.ok
    before = row_counts(live_tool.app)
    replay = lms.replay_launch(browser, first)
    assert 400 <= replay.status_code < 500
    assert row_counts(live_tool.app) == before


def test_replay_from_another_browser_is_refused(live_tool, lms, browser):
    first = lms.launch(browser, roles=["Learner"], follow=False)
    other = make_browser()
    before = row_counts(live_tool.app)
    replay = other.post(first.form_action, data=first.form, allow_redirects=False)
    assert replay.status_code == 400
    assert row_counts(live_tool.app) == before


def test_replay_after_the_state_cookie_is_gone_is_a_used_nonce(live_tool, lms, browser):
    first = lms.launch(browser, roles=["Learner"])
    assert first.ok
    assert not [c for c in browser.cookies if c.name.startswith("lti1p3-state-")]
    replay = lms.replay_launch(browser, first)
    assert replay.status_code == 400 and "<code>bad_nonce</code>" in replay.text


def test_unknown_kid_refetches_key_set_once_then_refuses(live_tool, lms, browser):
    assert lms.launch(browser).ok
    fetches = lms.jwks_fetch_count
    assert lms.launch(browser).ok
    assert lms.jwks_fetch_count == fetches  # cached
    before = row_counts(live_tool.app)
    result = lms.launch(browser, tamper=forgeries.unknown_kid())
    _refused(live_tool, result, "bad_signature", before)
    assert lms.jwks_fetch_count == fetches + 1  # refetched once for the unknown kid


def test_platform_key_rotation_is_followed(lms, browser):
    assert lms.launch(browser).ok
    lms.rotate_key(drop_old=True)
    result = lms.launch(browser)
    assert result.ok, result.error


def test_outgoing_calls_name_the_tool(lms, browser):
    assert lms.launch(browser).ok
    fetches = lms.requests_from("/jwks")
    assert fetches
    for record in fetches:
        assert record.user_agent and record.user_agent.startswith("lti-tool-guru-pembelajar/")


def test_unknown_deployment_at_login_is_refused(live_tool, lms, browser):
    before = row_counts(live_tool.app)
    result = lms.launch(browser, deployment_id="nobody-knows")
    response = result.login_response
    assert response.status_code == 400 and "<code>unknown_deployment</code>" in response.text
    assert row_counts(live_tool.app) == before


def test_login_with_foreign_target_is_refused(live_tool, lms, browser):
    result = lms.launch(browser, target_link_uri="https://evil.example/steal")
    assert result.login_response.status_code == 400
    assert "<code>bad_target</code>" in result.login_response.text


def test_pending_platform_is_refused(live_tool, lms, browser):
    from lti_tool.models import Platform

    with live_tool.app.app_context():
        from lti_tool.db import session

        db = session()
        db.scalars(select(Platform)).one().status = "pending"
        db.commit()
    result = lms.launch(browser)
    assert result.login_response.status_code == 400
    assert "<code>platform_pending</code>" in result.login_response.text


def test_role_without_programme_role_is_refused(live_tool, lms, browser):
    before = row_counts(live_tool.app)
    result = lms.launch(
        browser, roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Observer"]
    )
    _refused(live_tool, result, "no_role", before)


def test_blocked_cookies_offer_a_new_window(live_tool, lms):
    """A browser that keeps no cookies (third-party cookies blocked in the iframe)."""
    from http.cookiejar import DefaultCookiePolicy

    blocked = make_browser()
    blocked.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    before = row_counts(live_tool.app)
    result = lms.launch(blocked)
    response = result.launch_response
    assert response.status_code == 400
    assert "Buka aplikasi di jendela baru" in response.text
    link = re.search(r'href="([^"]+)" target="_blank"', response.text).group(1)
    assert link.startswith(live_tool.url("/lti/login?"))
    assert row_counts(live_tool.app) == before
    # the new window (a first-party context, cookies allowed) completes the launch
    import html

    window = make_browser()
    first = window.get(html.unescape(link), allow_redirects=False)
    assert first.status_code == 302 and first.headers["Location"].startswith(lms.auth_url)


def test_course_pages_need_a_launch(live_tool):
    client = live_tool.app.test_client()
    assert client.get("/c/1/").status_code == 401
