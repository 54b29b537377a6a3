"""LTI Dynamic Registration with the peer (standard and Moodle variants), and
manual registration details at /lti/config."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import Platform, RegistrationInvite
from tests.conftest import row_counts
from tests.peer import TestPlatform, is_registration_close_page, moodle_trailing_space_key

SCOPES = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly",
}


def _invite(live_tool) -> str:
    runner = live_tool.app.test_cli_runner()
    out = runner.invoke(args=["platforms", "invite"]).output.strip().splitlines()[-1]
    assert out.startswith(live_tool.url("/lti/register?invite="))
    return out


def _platforms(live_tool):
    with get_db(live_tool.app).sessionmaker() as db:
        return list(db.scalars(select(Platform)))


def test_dynamic_registration_then_launch(live_tool, browser):
    with TestPlatform() as lms:
        url = _invite(live_tool)
        page = lms.start_dynamic_registration(browser, url)
        assert page.status_code == 200, page.text[:500]
        assert is_registration_close_page(page.text)
        assert "Pendaftaran selesai" in page.text
        (reg,) = lms.registrations
        body = reg.request_json
        assert set(body["scope"].split()) == SCOPES
        tool_conf = body["https://purl.imsglobal.org/spec/lti-tool-configuration"]
        assert tool_conf["domain"] == live_tool.base_url.split("//")[1]
        assert tool_conf["target_link_uri"].startswith(live_tool.base_url)
        assert {"name", "email", "given_name", "family_name"} <= set(tool_conf["claims"])
        assert {m["type"] for m in tool_conf["messages"]} == {
            "LtiResourceLinkRequest",
            "LtiDeepLinkingRequest",
        }
        assert reg.headers.get("User-Agent", "").startswith("lti-tool-guru-pembelajar/")
        (platform,) = _platforms(live_tool)
        assert platform.status == "active"
        assert platform.client_id == reg.client_id
        assert platform.deployment_ids == [reg.deployment_id]
        assert platform.key_set_url == lms.jwks_url and platform.auth_login_url == lms.auth_url
        with get_db(live_tool.app).sessionmaker() as db:
            invite = db.scalars(select(RegistrationInvite)).one()
            assert invite.used_at is not None and invite.platform_id == platform.id
        # the registration works at once: launch through it
        result = lms.launch(browser, client_id=reg.client_id, roles=["Instructor"])
        assert result.ok, result.error
        # and the invite cannot be used again
        before = row_counts(live_tool.app)
        again = lms.start_dynamic_registration(browser, url)
        assert again.status_code == 403
        assert "Tautan pendaftaran ini tidak berlaku" in again.text
        assert row_counts(live_tool.app) == before


def test_moodle_variant_is_accepted(live_tool, browser):
    with TestPlatform(moodle_style=True, openid_config_hook=moodle_trailing_space_key) as lms:
        page = lms.start_dynamic_registration(browser, _invite(live_tool))
        assert page.status_code == 200, page.text[:500]
        (reg,) = lms.registrations
        assert lms.launch(browser, client_id=reg.client_id).ok


def test_registration_needs_an_invite(live_tool, browser):
    with TestPlatform() as lms:
        before = row_counts(live_tool.app)
        page = lms.start_dynamic_registration(browser, live_tool.url("/lti/register"))
        assert page.status_code == 403
        forged = lms.start_dynamic_registration(
            browser, live_tool.url("/lti/register?invite=guess")
        )
        assert forged.status_code == 403
        assert not lms.registrations
        assert row_counts(live_tool.app) == before


def test_refused_registration_keeps_the_invite(live_tool, browser):
    """A platform that refuses our registration consumes nothing: the admin can retry."""
    with TestPlatform() as lms:
        url = _invite(live_tool)
        before = row_counts(live_tool.app)
        page = browser.get(lms.registration_initiation_url(url, token="not-a-valid-token"))
        assert page.status_code == 400
        assert "<code>registration_failed</code>" in page.text
        assert row_counts(live_tool.app) == before
        ok = lms.start_dynamic_registration(browser, url)
        assert ok.status_code == 200


def test_issuer_must_match_configuration_host(live_tool, browser):
    with TestPlatform(issuer="https://elsewhere.example") as lms:
        page = lms.start_dynamic_registration(browser, _invite(live_tool))
        assert page.status_code == 400
        assert not _platforms(live_tool)


def test_config_json_for_manual_registration(live_tool):
    client = live_tool.app.test_client()
    conf = client.get("/lti/config").json
    base = live_tool.base_url
    assert conf["login_url"] == base + "/lti/login"
    assert conf["redirect_uris"] == [base + "/lti/launch"]
    assert conf["jwks_url"] == base + "/lti/jwks"
    assert conf["dynamic_registration_url"] == base + "/lti/register"
    assert conf["public_jwk_set"]["keys"][0]["alg"] == "RS256"
    assert set(conf["scopes"]) == SCOPES
    canvas = conf["canvas"]
    assert canvas["oidc_initiation_url"] == base + "/lti/login"
    assert canvas["public_jwk_url"] == base + "/lti/jwks"
    placements = canvas["extensions"][0]["settings"]["placements"]
    assert {p["message_type"] for p in placements} == {
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    }


def add_args(lms, name: str, client_id: str, *extra: str) -> list[str]:
    """`lti-tool platforms add` with the peer's URLs, as an LMS admin would type it."""
    return [
        "platforms",
        "add",
        "--name",
        name,
        "--issuer",
        lms.issuer,
        "--client-id",
        client_id,
        "--auth-login-url",
        lms.auth_url,
        "--auth-token-url",
        lms.token_url,
        "--key-set-url",
        lms.jwks_url,
        *extra,
    ]


def test_manual_registration_with_the_cli_then_launch(live_tool, browser):
    with TestPlatform() as lms:
        lms.register_tool(live_tool.base_url, client_id="manual-1", deployment_ids=["d-a", "d-b"])
        runner = live_tool.app.test_cli_runner()
        args = add_args(
            lms,
            "Canvas Dinas",
            "manual-1",
            "--deployment-id",
            "d-a",
            "--deployment-id",
            "d-b",
            "--pending",
        )
        assert runner.invoke(args=args).exit_code == 0
        refused = lms.launch(browser, deployment_id="d-a")
        assert "<code>platform_pending</code>" in refused.login_response.text
        assert runner.invoke(args=["platforms", "activate", "--all"]).exit_code == 0
        for deployment in ("d-a", "d-b"):
            result = lms.launch(browser, deployment_id=deployment)
            assert result.ok, result.error


def test_auto_deployments_learn_new_deployments_from_signed_launches(live_tool, browser):
    """Canvas creates a deployment per installation; the registration may not know it."""
    with TestPlatform() as lms:
        lms.register_tool(live_tool.base_url, client_id="canvas-1", deployment_ids=["course-7"])
        runner = live_tool.app.test_cli_runner()
        args = add_args(lms, "Canvas", "canvas-1")
        refused = runner.invoke(args=args)
        assert refused.exit_code != 0 and "--auto-deployments" in refused.output
        assert runner.invoke(args=[*args, "--auto-deployments"]).exit_code == 0
        result = lms.launch(browser, deployment_id="course-7")
        assert result.ok, result.error
        listing = runner.invoke(args=["platforms", "list", "-v"]).output
        assert "course-7 (+auto)" in listing and f"key set URL:    {lms.jwks_url}" in listing
        # a forged token still cannot add a deployment
        from tests.peer import forgeries

        before = row_counts(live_tool.app)
        bad = lms.launch(
            browser,
            deployment_id="course-7",
            tamper=forgeries.combine(
                forgeries.unknown_deployment("course-8"), forgeries.foreign_key()
            ),
        )
        assert bad.launch_response.status_code == 400
        assert row_counts(live_tool.app) == before


def test_add_deployment_command(live_tool, browser):
    with TestPlatform() as lms:
        lms.register_tool(live_tool.base_url, client_id="m-1", deployment_ids=["a", "b"])
        runner = live_tool.app.test_cli_runner()
        args = add_args(lms, "Moodle", "m-1", "--deployment-id", "a")
        assert runner.invoke(args=args).exit_code == 0
        assert lms.launch(browser, deployment_id="b").login_response.status_code == 400
        (platform,) = _platforms(live_tool)
        out = runner.invoke(args=["platforms", "add-deployment", str(platform.id), "b"])
        assert out.exit_code == 0, out.output
        assert lms.launch(browser, deployment_id="b").ok
