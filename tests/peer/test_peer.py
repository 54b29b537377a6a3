"""Proves the test platform speaks LTI 1.3 correctly, without our tool.

The counterpart here is a throwaway tool built on pylti1p3 (an independent,
widely used LTI tool library) and served over real HTTP. If pylti1p3 accepts
the peer's launches and the peer accepts pylti1p3's deep-linking responses,
client assertions and registration requests, the peer is fit to judge our
own tool; the refusal tests show each forgery really is the defect it names.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from flask import Flask, jsonify, request
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.dynamic_registration import DynamicRegistration, generate_key_pair
from pylti1p3.registration import Registration
from pylti1p3.service_connector import REQUESTS_USER_AGENT, ServiceConnector
from pylti1p3.tool_config import ToolConfDict
from werkzeug.serving import make_server

from tests.peer import (
    REFUSAL_CASES,
    TestPlatform,
    add_query_params,
    decode_unverified,
    expand_role,
    forgeries,
    is_registration_close_page,
    make_browser,
    moodle_trailing_space_key,
)
from tests.peer import constants as c
from tests.peer.keys import b64url_decode

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------
# a throwaway pylti1p3 tool
# --------------------------------------------------------------------------


class _NoCacheConnector(ServiceConnector):
    """pylti1p3's connector without its class-wide token cache (tests stay independent)."""

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        return None


class TinyTool:
    """A minimal pylti1p3 Flask tool on a real port: login, launch, JWKS, DR."""

    def __init__(self, platform: TestPlatform, private_pem: str, public_pem: str) -> None:
        self.platform = platform
        self.private_pem = private_pem
        self.public_pem = public_pem
        self.client_id = "tiny-tool-client"
        self.deployment_ids = ["tiny-deployment-1"]
        self.kid = Registration.get_jwk(public_pem)["kid"]
        self.launches: list[dict[str, Any]] = []
        self.refusals: list[str] = []
        self.dr_requests: list[dict[str, str]] = []
        self._seen_nonces: set[str] = set()
        self._conf_data: dict[str, Any] = {}
        self.tool_conf: ToolConfDict | None = None
        self.app = self._build_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.05), daemon=True
        )

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> None:
        p = self.platform
        self._conf_data[p.issuer] = []
        self.tool_conf = ToolConfDict(self._conf_data)
        self.add_client(self.client_id, self.deployment_ids, p.auth_url, p.token_url, p.jwks_url)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()

    def add_client(
        self, client_id: str, deployments: list[str], auth: str, token: str, jwks: str
    ) -> None:
        """What a tool stores about a platform: by hand, or after dynamic registration."""
        assert self.tool_conf is not None
        self._conf_data[self.platform.issuer].append(
            {
                "default": not self._conf_data[self.platform.issuer],
                "client_id": client_id,
                "auth_login_url": auth,
                "auth_token_url": token,
                "key_set_url": jwks,
                "deployment_ids": deployments,
            }
        )
        self.tool_conf.set_private_key(self.platform.issuer, self.private_pem, client_id)
        self.tool_conf.set_public_key(self.platform.issuer, self.public_pem, client_id)

    def registration(self, client_id: str | None = None) -> Registration:
        assert self.tool_conf is not None
        return self.tool_conf.find_registration_by_params(
            self.platform.issuer, client_id or self.client_id
        )

    def _build_app(self) -> Flask:
        app = Flask("tiny_pylti1p3_tool")
        app.secret_key = secrets.token_hex(16)
        app.config["MAX_COOKIE_SIZE"] = 0  # pylti1p3 keeps launch data in the cookie session

        @app.route("/lti/login", methods=["GET", "POST"])
        def login() -> Any:
            oidc = FlaskOIDCLogin(FlaskRequest(), self.tool_conf)
            return oidc.redirect(self.url("/lti/launch"))

        @app.route("/lti/login-js", methods=["GET", "POST"])
        def login_js() -> Any:
            oidc = FlaskOIDCLogin(FlaskRequest(), self.tool_conf)
            return oidc.redirect(self.url("/lti/launch"), js_redirect=True)

        @app.route("/lti/launch", methods=["POST"])
        def launch() -> Any:
            message_launch = FlaskMessageLaunch(FlaskRequest(), self.tool_conf)
            try:
                data = message_launch.get_launch_data()
            except Exception as exc:  # pylti1p3 raises several exception types
                self.refusals.append(str(exc))
                return f"refused: {exc}", 400
            if data["nonce"] in self._seen_nonces:  # pylti1p3 leaves replay checks to us
                self.refusals.append("replayed id_token")
                return "refused: replayed id_token", 400
            self._seen_nonces.add(data["nonce"])
            self.launches.append(data)
            if message_launch.is_deep_link_launch():
                resource = DeepLinkResource().set_url(self.url("/lti/launch")).set_title("Modul A")
                return message_launch.get_deep_link().output_response_form([resource])
            return jsonify(
                validated=True,
                sub=data.get("sub"),
                deployment_id=data[c.CLAIM_DEPLOYMENT_ID],
                message_type=data[c.CLAIM_MESSAGE_TYPE],
            )

        @app.route("/cookie/set")
        def cookie_set() -> Any:
            resp = jsonify(set=True)
            resp.set_cookie("probe", "1", secure=True, samesite="None", httponly=True)
            return resp

        @app.route("/cookie/get")
        def cookie_get() -> Any:
            return jsonify(probe=request.cookies.get("probe"))

        @app.route("/lti/jwks")
        def jwks() -> Any:
            assert self.tool_conf is not None
            return jsonify(self.tool_conf.get_jwks())

        @app.route("/lti/register")
        def register() -> Any:
            self.dr_requests.append(dict(request.args))
            try:
                _TinyRegistration(self, request.args).register()
            except Exception as exc:  # LtiServiceException & co.
                return f"registration failed: {exc}", 400
            return _TinyRegistration.complete_html(None)  # type: ignore[arg-type]

        return app


class _TinyRegistration(DynamicRegistration):
    """pylti1p3's tool side of LTI-DR, pointed at the tiny tool's URLs."""

    client_name = "Tiny tool"

    def __init__(self, tool: TinyTool, args: Any) -> None:
        self.tool = tool
        self.args = args

    def get_openid_configuration_endpoint(self) -> str:
        return self.args["openid_configuration"]

    def get_registration_token(self) -> str:
        return self.args.get("registration_token")

    def get_initiate_login_uri(self) -> str:
        return self.tool.url("/lti/login")

    def get_jwks_uri(self) -> str:
        return self.tool.url("/lti/jwks")

    def get_redirect_uris(self) -> list[str]:
        return [self.tool.url("/lti/launch")]

    def get_domain(self) -> str:
        return urlsplit(self.tool.base_url).netloc

    def get_target_link_uri(self) -> str:
        return self.tool.url("/lti/launch")

    def get_logo_uri(self) -> str:
        return self.tool.url("/logo.png")

    def get_scopes(self) -> list[str]:
        return [c.SCOPE_AGS_SCORE, c.SCOPE_NRPS, "https://example.com/scope/not-offered"]

    def get_messages(self) -> list[dict[str, str]]:
        return [{"type": c.MESSAGE_DEEP_LINKING, "target_link_uri": self.tool.url("/lti/launch")}]

    def complete_registration(self, openid_configuration: dict, openid_registration: dict) -> Any:
        conf = openid_registration[c.TOOL_CONFIGURATION]
        self.tool.add_client(
            openid_registration["client_id"],
            [conf["deployment_id"]],
            openid_configuration["authorization_endpoint"],
            openid_configuration["token_endpoint"],
            openid_configuration["jwks_uri"],
        )
        return openid_registration


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tool_keys() -> tuple[str, str]:
    return generate_key_pair(2048)


@pytest.fixture
def platform() -> Iterator[TestPlatform]:
    with TestPlatform() as peer:
        yield peer


@pytest.fixture
def tool(platform: TestPlatform, tool_keys: tuple[str, str]) -> Iterator[TinyTool]:
    tiny = TinyTool(platform, *tool_keys)
    tiny.start()
    platform.register_tool(
        tiny.base_url, client_id=tiny.client_id, deployment_ids=tiny.deployment_ids
    )
    yield tiny
    tiny.stop()


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    with make_browser() as session:
        yield session


def _assertion(tool: TinyTool, aud: str, jti: str, key_pem: str | None = None) -> str:
    now = int(time.time())
    claims = {
        "iss": tool.client_id,
        "sub": tool.client_id,
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "jti": jti,
    }
    return jwt.encode(
        claims, key_pem or tool.private_pem, algorithm="RS256", headers={"kid": tool.kid}
    )


def _token_form(assertion: str, scope: str = c.SCOPE_AGS_SCORE) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": c.CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": scope,
    }


# --------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------


def test_jwks_publishes_rs256_public_key_and_counts_fetches(platform: TestPlatform) -> None:
    before = platform.jwks_fetch_count
    body = requests.get(platform.jwks_url, timeout=5).json()
    (key,) = body["keys"]
    assert {k: key[k] for k in ("kty", "alg", "use", "kid")} == {
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": platform.current_key.kid,
    }
    assert "d" not in key and "p" not in key  # never the private parts
    public = jwt.PyJWK(key).key
    assert public.public_numbers() == platform.current_key.public_key.public_numbers()
    assert platform.jwks_fetch_count == before + 1


def test_rotate_key_keeps_old_key_unless_dropped(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    old_kid = platform.current_key.kid
    new = platform.rotate_key()
    kids = [k["kid"] for k in requests.get(platform.jwks_url, timeout=5).json()["keys"]]
    assert kids == [old_kid, new.kid]

    result = platform.launch(browser)
    assert result.id_token_header["kid"] == new.kid
    assert result.ok, result.final_response.text if result.final_response else result

    newest = platform.rotate_key(drop_old=True)
    kids = [k["kid"] for k in requests.get(platform.jwks_url, timeout=5).json()["keys"]]
    assert kids == [newest.kid]
    assert platform.launch(browser).ok


# --------------------------------------------------------------------------
# OIDC launch
# --------------------------------------------------------------------------


def test_resource_link_launch_validates(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    result = platform.launch(
        browser,
        roles=["Instructor", "TeachingAssistant", "institution:Administrator"],
        custom={"kelas": "A"},
    )

    # every step is visible and is what a real LMS would produce
    assert result.login_response is not None and result.login_response.status_code == 302
    assert urlsplit(result.login_response.url).path == "/lti/login"
    assert result.auth_response is not None and result.auth_response.status_code == 200
    assert result.auth_params["redirect_uri"] == tool.url("/lti/launch")
    assert result.form_action == tool.url("/lti/launch")
    assert set(result.form) == {"id_token", "state"}
    assert result.form["state"] == result.state == result.auth_params["state"]
    assert result.final_response is not None and result.final_response.json()["validated"] is True
    assert result.ok and tool.launches and not tool.refusals

    # the id_token verifies independently against the published JWKS
    key = jwt.PyJWKClient(platform.jwks_url).get_signing_key_from_jwt(result.id_token)
    claims = jwt.decode(
        result.id_token,
        key.key,
        algorithms=["RS256"],
        audience=tool.client_id,
        issuer=platform.issuer,
    )
    assert claims == result.claims
    assert result.id_token_header == {"alg": "RS256", "typ": "JWT", "kid": platform.current_key.kid}
    assert claims["azp"] == tool.client_id
    assert claims["exp"] - claims["iat"] == 300
    assert claims["nonce"] == result.nonce == result.auth_params["nonce"]
    assert claims[c.CLAIM_VERSION] == "1.3.0"
    assert claims[c.CLAIM_MESSAGE_TYPE] == "LtiResourceLinkRequest"
    assert claims[c.CLAIM_DEPLOYMENT_ID] == "tiny-deployment-1"
    assert claims[c.CLAIM_TARGET_LINK_URI] == result.login_params["target_link_uri"]
    assert claims[c.CLAIM_ROLES] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
        "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    ]
    assert claims[c.CLAIM_RESOURCE_LINK]["id"] == "rl-modul-1"
    assert claims[c.CLAIM_CONTEXT]["type"] == [c.CONTEXT_TYPE_COURSE_OFFERING]
    assert claims[c.CLAIM_LAUNCH_PRESENTATION]["locale"] == "id-ID"
    assert claims[c.CLAIM_CUSTOM] == {"kelas": "A"}
    assert claims[c.CLAIM_AGS_ENDPOINT]["lineitems"].startswith(platform.base_url + "/ags/")
    assert claims[c.CLAIM_NRPS]["context_memberships_url"].startswith(platform.base_url)
    assert c.CLAIM_DL_SETTINGS not in claims

    # the login initiation carried every OIDC third-party login parameter
    assert result.login_params == {
        "iss": platform.issuer,
        "login_hint": claims["sub"],
        "target_link_uri": tool.url("/lti/launch"),
        "lti_message_hint": result.lti_message_hint,
        "client_id": tool.client_id,
        "lti_deployment_id": "tiny-deployment-1",
    }
    assert result.auth_params["lti_message_hint"] == result.lti_message_hint


def test_login_initiation_by_post_form(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    result = platform.launch(browser, login_method="POST", user="guru-77")
    assert result.login_response is not None
    assert result.login_response.request.method == "POST"
    assert result.ok
    assert tool.launches[-1]["sub"] == "guru-77"


def test_login_page_with_javascript_redirect_is_followed(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    platform.register_tool(
        tool.base_url,
        client_id=tool.client_id,
        deployment_ids=tool.deployment_ids,
        login_url=tool.url("/lti/login-js"),
    )
    result = platform.launch(browser)
    assert result.login_response is not None and result.login_response.status_code == 200
    assert "window.location" in result.login_response.text
    assert result.ok and len(tool.launches) == 1


def test_launch_reports_a_tool_that_never_redirects(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    platform.register_tool(
        tool.base_url,
        client_id=tool.client_id,
        deployment_ids=tool.deployment_ids,
        login_url=tool.url("/cookie/get"),
    )
    result = platform.launch(browser)
    assert result.error is not None and "did not send the browser" in result.error
    assert result.auth_response is None and not result.ok


def test_auth_endpoint_refuses_unregistered_redirect_uri(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    # the admin registered another redirect URI than the one the tool uses
    platform.register_tool(
        tool.base_url,
        client_id=tool.client_id,
        deployment_ids=tool.deployment_ids,
        redirect_uris=[tool.url("/somewhere-else")],
    )
    result = platform.launch(browser)
    assert result.auth_response is not None and result.auth_response.status_code == 400
    assert result.auth_error is not None and "redirect_uri" in result.auth_error
    assert result.launch_response is None and not tool.launches


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"scope": "profile"}, "scope"),
        ({"response_type": "code"}, "response_type"),
        ({"response_mode": "query"}, "response_mode"),
        ({"prompt": "login"}, "prompt"),
        ({"client_id": "nobody"}, "client_id"),
        ({"nonce": ""}, "nonce"),
        ({"state": ""}, "state"),
        ({"login_hint": "someone-else"}, "login_hint"),
        ({"lti_message_hint": "msg-unknown"}, "lti_message_hint"),
    ],
)
def test_auth_endpoint_checks_each_parameter(
    platform: TestPlatform,
    tool: TinyTool,
    browser: requests.Session,
    change: dict[str, str],
    reason: str,
) -> None:
    good = platform.launch(browser)
    assert good.ok
    params = {**good.auth_params, **change}
    resp = browser.get(platform.auth_url, params=params, allow_redirects=False)
    assert resp.status_code == 400
    assert reason in resp.json()["error_description"]
    # and the unchanged request is accepted, so the refusal is down to ``change``
    assert browser.get(platform.auth_url, params=good.auth_params).status_code == 200


def test_auth_endpoint_accepts_post(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    good = platform.launch(browser)
    resp = browser.post(platform.auth_url, data=good.auth_params)
    assert resp.status_code == 200
    assert 'name="id_token"' in resp.text


def test_replay_posts_the_same_token_again(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    result = platform.launch(browser)
    assert result.ok
    replay = platform.replay_launch(browser, result)
    assert replay.request.body is not None
    assert parse_qs(replay.request.body)["id_token"] == [result.id_token]
    assert replay.status_code == 400 and tool.refusals == ["replayed id_token"]


# --------------------------------------------------------------------------
# forged launches
# --------------------------------------------------------------------------

# Cases pylti1p3 itself refuses; the rest are checked by inspecting the token.
_PYLTI_REFUSES = {
    "expired",
    "wrong_aud",
    "unknown_iss",
    "unknown_deployment",
    "forged_nonce",
    "state_mismatch",
    "missing_message_type",
    "wrong_version",
    "foreign_key",
    "alg_none",
    "alg_hs256",
    "unknown_kid",
}


@pytest.mark.parametrize("case", sorted(REFUSAL_CASES))
def test_forged_launch(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session, case: str
) -> None:
    result = platform.launch(browser, tamper=REFUSAL_CASES[case]())
    assert result.launch_response is not None, result.auth_error or result.error
    if case in _PYLTI_REFUSES:
        assert result.launch_response.status_code == 400, case
        assert not tool.launches and len(tool.refusals) == 1
    else:
        claims = result.claims
        if case == "target_link_uri_mismatch":
            assert claims[c.CLAIM_TARGET_LINK_URI] != result.login_params["target_link_uri"]
        elif case == "multiple_aud_without_azp":
            assert claims["aud"] == [tool.client_id, "some-other-client"]
            assert "azp" not in claims
        else:  # pragma: no cover - a new case needs a check here
            pytest.fail(f"no check for {case}")
        # otherwise a perfectly valid token: the named defect is the only one
        key = jwt.PyJWK(platform.current_key.public_jwk).key
        jwt.decode(
            result.id_token,
            key,
            algorithms=["RS256"],
            audience=tool.client_id,
            issuer=platform.issuer,
        )


def test_algorithm_forgeries_are_what_they_claim(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    none = platform.launch(browser, tamper=forgeries.alg_none())
    assert none.id_token is not None and none.id_token.endswith(".")
    assert decode_unverified(none.id_token)[0]["alg"] == "none"

    hs = platform.launch(browser, tamper=forgeries.alg_hs256_with_public_key())
    assert hs.id_token is not None
    header, _ = decode_unverified(hs.id_token)
    assert header["alg"] == "HS256" and header["kid"] == platform.current_key.kid
    signing_input, _, sig = hs.id_token.rpartition(".")
    expected = hmac.new(
        platform.current_key.public_pem, signing_input.encode(), hashlib.sha256
    ).digest()
    assert b64url_decode(sig) == expected

    foreign = platform.launch(browser, tamper=forgeries.foreign_key())
    assert foreign.id_token_header["kid"] == platform.current_key.kid
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            foreign.id_token,
            platform.current_key.public_key,
            algorithms=["RS256"],
            options={"verify_aud": False},
        )


def test_failing_tamper_is_reported(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    def broken(forgery: forgeries.Forgery) -> None:
        raise KeyError("oops")

    with pytest.raises(RuntimeError, match="tamper"):
        platform.launch(browser, tamper=broken)


# --------------------------------------------------------------------------
# deep linking
# --------------------------------------------------------------------------


def _deep_link_launch(platform: TestPlatform, browser: requests.Session) -> Any:
    result = platform.launch(browser, message_type="LtiDeepLinkingRequest", roles=["Instructor"])
    assert result.ok, result.final_response.text if result.final_response else result
    return result


def test_deep_linking_round_trip(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    result = _deep_link_launch(platform, browser)
    settings = result.deep_linking_settings
    assert settings is not None
    assert settings["deep_link_return_url"] == platform.deep_link_return_url
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert settings["accept_multiple"] is True
    assert isinstance(settings["data"], str) and settings["data"]
    assert c.CLAIM_RESOURCE_LINK not in result.claims
    assert tool.launches[-1][c.CLAIM_MESSAGE_TYPE] == "LtiDeepLinkingRequest"

    answer = platform.submit_deep_link_form(browser, result.final_response)
    assert answer.status_code == 200, answer.text
    assert answer.request.url == platform.deep_link_return_url
    (accepted,) = platform.deep_link_responses
    assert accepted.ok and not platform.deep_link_errors
    assert accepted.claims[c.CLAIM_DL_DATA] == settings["data"]
    assert accepted.claims["iss"] == tool.client_id
    assert accepted.header["kid"] == tool.kid
    assert accepted.items == [
        {"type": "ltiResourceLink", "title": "Modul A", "url": tool.url("/lti/launch")}
    ]
    assert platform.tool_jwks_fetches == [tool.url("/lti/jwks")]


def _pylti_response_page(
    tool: TinyTool, settings: dict[str, Any], registration: Registration | None = None
) -> str:
    link = DeepLink(registration or tool.registration(), tool.deployment_ids[0], settings)
    resource = DeepLinkResource().set_url(tool.url("/lti/launch")).set_title("Modul B")
    return link.output_response_form([resource])


def test_deep_link_response_with_wrong_data_is_refused(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    result = _deep_link_launch(platform, browser)
    settings = {**result.deep_linking_settings, "data": "not-what-the-platform-sent"}
    answer = platform.submit_deep_link_form(browser, _pylti_response_page(tool, settings))
    assert answer.status_code == 400
    assert not platform.deep_link_responses
    (refused,) = platform.deep_link_errors
    assert refused.error is not None and "data" in refused.error
    # the genuine response from the same launch is still accepted
    good = platform.submit_deep_link_form(browser, result.final_response)
    assert good.status_code == 200 and len(platform.deep_link_responses) == 1


def test_deep_link_response_with_wrong_aud_is_refused(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    result = _deep_link_launch(platform, browser)
    registration = tool.registration().set_issuer("https://lms.other.example")
    page = _pylti_response_page(tool, result.deep_linking_settings, registration)
    answer = platform.submit_deep_link_form(browser, page)
    assert answer.status_code == 400
    (refused,) = platform.deep_link_errors
    assert "aud" in (refused.error or "")
    assert refused.claims["aud"] == ["https://lms.other.example"]


def test_deep_link_response_signed_by_unknown_key_is_refused(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session, tool_keys: Any
) -> None:
    result = _deep_link_launch(platform, browser)
    other_private, _ = generate_key_pair(2048)
    claims = DeepLink(
        tool.registration(), tool.deployment_ids[0], result.deep_linking_settings
    ).get_message_jwt([])
    token = jwt.encode(claims, other_private, algorithm="RS256", headers={"kid": tool.kid})
    answer = browser.post(platform.deep_link_return_url, data={"JWT": token})
    assert answer.status_code == 400
    assert "Signature" in (platform.deep_link_errors[0].error or "")


# --------------------------------------------------------------------------
# token endpoint and services
# --------------------------------------------------------------------------


def test_token_endpoint_issues_token_for_pylti1p3_assertion(
    platform: TestPlatform, tool: TinyTool
) -> None:
    token = _NoCacheConnector(tool.registration()).get_access_token(
        [c.SCOPE_AGS_SCORE, c.SCOPE_NRPS, "https://example.com/scope/unknown"]
    )
    issued = platform.access_tokens[token]
    assert issued.client_id == tool.client_id
    assert sorted(issued.scopes) == sorted([c.SCOPE_AGS_SCORE, c.SCOPE_NRPS])
    (call,) = platform.token_requests
    assert call.ok and call.assertion_claims["aud"] == platform.token_url
    (logged,) = platform.requests_from("/token")
    assert logged.user_agent == REQUESTS_USER_AGENT
    assert logged.form["grant_type"] == "client_credentials"

    # the AGS/NRPS stand-ins check the bearer token before answering 501
    lineitems = platform.url("/ags/course-ppg-101/lineitems")
    assert requests.get(lineitems, timeout=5).status_code == 401
    with_token = requests.get(lineitems, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert with_token.status_code == 501
    assert [s.authorized for s in platform.service_calls] == [False, True]


def test_token_endpoint_refuses_replayed_jti(platform: TestPlatform, tool: TinyTool) -> None:
    form = _token_form(_assertion(tool, platform.token_url, jti="jti-once"))
    first = requests.post(platform.token_url, data=form, timeout=5)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer" and body["scope"] == c.SCOPE_AGS_SCORE
    assert body["expires_in"] == 3600 and first.headers["Cache-Control"] == "no-store"

    again = requests.post(platform.token_url, data=form, timeout=5)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("form_change", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_assertion_type": "urn:other"}, "invalid_client"),
        ({"scope": "https://example.com/scope/unknown"}, "invalid_scope"),
    ],
)
def test_token_endpoint_refuses_bad_forms(
    platform: TestPlatform, tool: TinyTool, form_change: dict[str, str], error: str
) -> None:
    form = {**_token_form(_assertion(tool, platform.token_url, jti=secrets.token_hex(8)))}
    form.update(form_change)
    resp = requests.post(platform.token_url, data=form, timeout=5)
    assert resp.status_code == 400 and resp.json()["error"] == error


def test_token_endpoint_refuses_bad_assertions(platform: TestPlatform, tool: TinyTool) -> None:
    wrong_aud = _assertion(tool, "https://elsewhere.example/token", jti="a1")
    resp = requests.post(platform.token_url, data=_token_form(wrong_aud), timeout=5)
    assert resp.status_code == 400 and "aud" in resp.json()["error_description"]

    other_private, _ = generate_key_pair(2048)
    forged = _assertion(tool, platform.token_url, jti="a2", key_pem=other_private)
    resp = requests.post(platform.token_url, data=_token_form(forged), timeout=5)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_client"

    issuer_aud = _assertion(tool, platform.issuer, jti="a3")  # the issuer is a valid aud too
    resp = requests.post(platform.token_url, data=_token_form(issuer_aud), timeout=5)
    assert resp.status_code == 200


# --------------------------------------------------------------------------
# dynamic registration
# --------------------------------------------------------------------------


def test_openid_configuration(platform: TestPlatform) -> None:
    config = requests.get(platform.openid_configuration_url, timeout=5).json()
    assert config["issuer"] == platform.issuer
    assert config["registration_endpoint"] == platform.registration_url
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    lti = config[c.PLATFORM_CONFIGURATION]
    assert lti["messages_supported"] == [
        {"type": "LtiResourceLinkRequest"},
        {"type": "LtiDeepLinkingRequest"},
    ]


def test_moodle_style_configuration() -> None:
    with TestPlatform(moodle_style=True) as moodle:
        config = requests.get(moodle.openid_configuration_url, timeout=5).json()
    lti = config[c.PLATFORM_CONFIGURATION]
    assert all(isinstance(m, str) for m in lti["messages_supported"])
    assert lti["product_family_code"] == "moodle"
    assert "authorization_server" not in config

    with TestPlatform(moodle_style=True, openid_config_hook=moodle_trailing_space_key) as old:
        config = requests.get(old.openid_configuration_url, timeout=5).json()
    assert c.PLATFORM_CONFIGURATION not in config
    assert c.PLATFORM_CONFIGURATION + " " in config


def test_registration_initiation_url_keeps_existing_params(platform: TestPlatform) -> None:
    url = platform.registration_initiation_url("https://tool.example/lti/register?invite=abc")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path == "/lti/register"
    assert query["invite"] == ["abc"]
    assert query["openid_configuration"] == [platform.openid_configuration_url]
    assert query["registration_token"][0].startswith("regtok-")
    assert add_query_params("http://x/a?b=1#frag", {"c": "2"}) == "http://x/a?b=1&c=2#frag"


def test_dynamic_registration_with_pylti1p3(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    url = platform.registration_initiation_url(tool.url("/lti/register?invite=abc"))
    page = browser.get(url)
    assert page.status_code == 200, page.text
    assert is_registration_close_page(page.text)
    assert tool.dr_requests[0]["invite"] == "abc"

    (record,) = platform.registrations
    token = parse_qs(urlsplit(url).query)["registration_token"][0]
    assert record.token == token
    assert record.headers["Authorization"] == f"Bearer {token}"
    assert record.request_json["jwks_uri"] == tool.url("/lti/jwks")
    assert record.response_json["client_id"] == record.client_id
    assert record.response_json[c.TOOL_CONFIGURATION]["deployment_id"] == record.deployment_id
    assert record.tool.scopes == [c.SCOPE_AGS_SCORE, c.SCOPE_NRPS]  # unknown scope dropped

    # the registered tool can now be launched with the new client_id
    result = platform.launch(browser, client_id=record.client_id)
    assert result.ok, result.final_response.text if result.final_response else result
    assert result.claims["aud"] == record.client_id
    assert result.final_response.json()["deployment_id"] == record.deployment_id

    # the same token cannot register twice
    again = browser.get(platform.registration_initiation_url(tool.url("/lti/register"), token))
    assert again.status_code == 400
    assert platform.registration_errors[-1]["error"] == "invalid_token"
    assert platform.registration_errors[-1]["status"] == 401
    assert len(platform.registrations) == 1


def _metadata(tool_base: str) -> dict[str, Any]:
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool_base + "/lti/login",
        "redirect_uris": [tool_base + "/lti/launch"],
        "client_name": "Direct",
        "jwks_uri": tool_base + "/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": c.SCOPE_AGS_SCORE,
        c.TOOL_CONFIGURATION: {
            "domain": urlsplit(tool_base).netloc,
            "target_link_uri": tool_base + "/lti/launch",
            "claims": ["iss", "sub"],
            "messages": [{"type": "LtiDeepLinkingRequest"}],
        },
    }


@pytest.mark.parametrize(
    "breakage",
    [
        {"application_type": "native"},
        {"grant_types": ["client_credentials"]},
        {"response_types": ["code"]},
        {"token_endpoint_auth_method": "client_secret_basic"},
        {"initiate_login_uri": "/relative"},
        {"redirect_uris": []},
        {c.TOOL_CONFIGURATION: {"domain": "evil.example", "target_link_uri": "http://a.b/x"}},
    ],
)
def test_registration_metadata_is_validated(
    platform: TestPlatform, breakage: dict[str, Any]
) -> None:
    token = platform.new_registration_token()
    headers = {"Authorization": f"Bearer {token}"}
    bad = {**_metadata("http://127.0.0.1:9"), **breakage}
    resp = requests.post(platform.registration_url, json=bad, headers=headers, timeout=5)
    assert resp.status_code == 400
    assert resp.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    assert not platform.registrations
    # a refused request does not burn the token: the fixed one goes through
    good = _metadata("http://127.0.0.1:9")
    resp = requests.post(platform.registration_url, json=good, headers=headers, timeout=5)
    assert resp.status_code == 200 and len(platform.registrations) == 1


def test_registration_requires_bearer_token(platform: TestPlatform) -> None:
    body = _metadata("http://127.0.0.1:9")
    resp = requests.post(platform.registration_url, json=body, timeout=5)
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_token"
    resp = requests.post(
        platform.registration_url,
        json=body,
        headers={"Authorization": "Bearer made-up"},
        timeout=5,
    )
    assert resp.status_code == 401 and not platform.registrations


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def test_expand_role() -> None:
    assert expand_role("Learner") == "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    assert expand_role("Mentor") == "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
    assert expand_role("ContentDeveloper").endswith("membership#ContentDeveloper")
    assert expand_role("system:Administrator").endswith("system/person#Administrator")
    assert expand_role("http://example.com/role") == "http://example.com/role"
    with pytest.raises(ValueError, match="unknown"):
        expand_role("Headmaster")


def test_browser_sends_secure_cookies_on_loopback(tool: TinyTool) -> None:
    # a plain Session drops the Secure cookie over http; browsers (and make_browser) keep it
    with requests.Session() as plain, make_browser() as browser:
        for session, expected in ((plain, None), (browser, "1")):
            session.get(tool.url("/cookie/set"))
            assert session.get(tool.url("/cookie/get")).json()["probe"] == expected
