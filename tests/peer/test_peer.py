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
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import jwt
import pytest
import requests
from flask import Flask, jsonify, request
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.course_groups import CourseGroupsService
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.dynamic_registration import DynamicRegistration, generate_key_pair
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem as PyltiLineItem
from pylti1p3.registration import Registration
from pylti1p3.service_connector import REQUESTS_USER_AGENT, ServiceConnector
from pylti1p3.tool_config import ToolConfDict
from werkzeug.serving import make_server

from tests.peer import (
    DEFAULT_CONTEXT,
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


def test_course_page_embeds_a_fresh_launch_in_an_iframe(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    """What a real browser does with the LMS page: load the iframe's src (the login
    initiation), follow the tool to /auth, post the id_token to the tool."""
    from html import unescape

    from tests.peer import find_form

    page_url = platform.course_page(title="Modul 1", user="guru-9", locale="en-US")
    srcs = []
    for _ in range(2):  # every view of the page is a launch of its own
        page = browser.get(page_url)
        assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
        srcs.append(unescape(re.search(r'<iframe[^>]* src="([^"]+)"', page.text).group(1)))
    assert srcs[0] != srcs[1] and all(s.startswith(tool.url("/")) for s in srcs)
    auth = browser.get(srcs[1])  # tool login -> the peer's /auth (redirects followed)
    form = find_form(auth.text, auth.url)
    assert browser.post(form.action, data=form.fields).status_code == 200
    (launch,) = tool.launches
    assert launch["sub"] == "guru-9"
    assert launch[c.CLAIM_LAUNCH_PRESENTATION]["locale"] == "en-US"
    assert browser.get(platform.url("/lms/course/nope")).status_code == 404
    with pytest.raises(TypeError):
        platform.course_page(follow=False)


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

    # the services check the bearer token, then its scope: a score-only token
    # may not list line items (RFC 6750 insufficient_scope)
    lineitems = platform.url("/ags/course-ppg-101/lineitems")
    assert requests.get(lineitems, timeout=5).status_code == 401
    with_token = requests.get(lineitems, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert with_token.status_code == 403
    assert 'error="insufficient_scope"' in with_token.headers["WWW-Authenticate"]
    assert [s.authorized for s in platform.service_calls] == [False, False]
    assert [s.token is not None for s in platform.service_calls] == [False, True]


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


# --------------------------------------------------------------------------
# Assignment and Grade Services 2.0
# --------------------------------------------------------------------------

COURSE = "course-ags-1"
DEFAULT_CONTEXT_ID = str(DEFAULT_CONTEXT["id"])
_OMIT: Any = object()


def _token_for(
    platform: TestPlatform, tool: TinyTool, *scopes: str, client_id: str | None = None
) -> str:
    """An access token from /token, obtained with a client assertion as a tool does."""
    cid = client_id or tool.client_id
    now = int(time.time())
    claims = {
        "iss": cid,
        "sub": cid,
        "aud": platform.token_url,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_hex(8),
    }
    assertion = jwt.encode(claims, tool.private_pem, algorithm="RS256", headers={"kid": tool.kid})
    form = _token_form(assertion, " ".join(scopes or c.AGS_SCOPES))
    resp = requests.post(platform.token_url, data=form, timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def _headers(token: str | None, **extra: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update({k.replace("_", "-"): v for k, v in extra.items()})
    return headers


def _with_suffix(url: str, suffix: str) -> str:
    """What a correct tool does: put /scores or /results before the URL's query."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path + suffix))


def _ts(second: int, fraction: str = "000") -> str:
    return f"2026-03-02T09:15:{second:02d}.{fraction}+07:00"


def _create_lineitem(
    platform: TestPlatform,
    token: str,
    context_id: str = COURSE,
    content_type: str = c.MEDIA_LINEITEM,
    **fields: Any,
) -> requests.Response:
    body = {"label": "Tugas 1", "scoreMaximum": 10, **fields}
    body = {k: v for k, v in body.items() if v is not _OMIT}
    return requests.post(
        platform.lineitems_url(context_id),
        data=json.dumps(body),
        headers=_headers(token, Content_Type=content_type, Accept=c.MEDIA_LINEITEM),
        timeout=5,
    )


def _post_score(
    lineitem_url: str,
    token: str,
    *,
    content_type: str = c.MEDIA_SCORE,
    timeout: float = 5,
    **fields: Any,
) -> requests.Response:
    body = {
        "userId": "learner-1",
        "timestamp": _ts(1),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": 7,
        "scoreMaximum": 10,
        **fields,
    }
    body = {k: v for k, v in body.items() if v is not _OMIT}
    return requests.post(
        _with_suffix(lineitem_url, "/scores"),
        data=json.dumps(body),
        headers=_headers(token, Content_Type=content_type),
        timeout=timeout,
    )


def _put(url: str, token: str, body: dict[str, Any]) -> requests.Response:
    return requests.put(
        url,
        data=json.dumps(body),
        headers=_headers(token, Content_Type=c.MEDIA_LINEITEM),
        timeout=5,
    )


def _get(url: str, token: str | None, accept: str | None = None) -> requests.Response:
    extra = {"Accept": accept} if accept else {}
    return requests.get(url, headers=_headers(token, **extra), timeout=5)


@pytest.fixture
def course(platform: TestPlatform, tool: TinyTool) -> str:
    """A roster with two learners and two members of staff."""
    platform.set_members(
        COURSE,
        [
            {"user_id": "learner-1"},
            {"user_id": "learner-2", "roles": ["Learner"]},
            {"user_id": "learner-3", "roles": ["Learner#GuestLearner"]},
            {"user_id": "teacher-1", "roles": ["Instructor"]},
            {"user_id": "ta-1", "roles": ["TeachingAssistant"]},
        ],
    )
    return COURSE


@pytest.fixture
def token(platform: TestPlatform, tool: TinyTool) -> str:
    return _token_for(platform, tool)


def test_ags_create_lineitem_answers_201_with_query_string_url(
    platform: TestPlatform, tool: TinyTool, course: str, token: str
) -> None:
    resp = _create_lineitem(
        platform,
        token,
        resourceId="quiz-7",
        tag="grade",
        startDateTime="2026-03-01T00:00:00+07:00",
        endDateTime="2026-03-08T23:59:59.999+07:00",
        **{"https://tool.example/ext": {"x": 1}},
    )
    assert resp.status_code == 201
    assert resp.headers["Content-Type"] == c.MEDIA_LINEITEM
    item = resp.json()
    type_id = platform.tools[tool.client_id].type_id
    assert item["id"] == resp.headers["Location"]
    assert item["id"].startswith(platform.url(f"/ags/{course}/lineitems/"))
    assert item["id"].endswith(f"/lineitem?type_id={type_id}")  # Moodle's URL shape
    assert item["label"] == "Tugas 1" and item["scoreMaximum"] == 10
    assert item["resourceId"] == "quiz-7" and item["tag"] == "grade"
    assert item["endDateTime"] == "2026-03-08T23:59:59.999+07:00"
    assert item["https://tool.example/ext"] == {"x": 1}
    assert platform.lineitems(course) == [item]

    got = _get(item["id"], token, c.MEDIA_LINEITEM)
    assert got.status_code == 200 and got.json() == item
    assert got.headers["Content-Type"] == c.MEDIA_LINEITEM

    # /scores goes before the query; appended after it, the POST lands on the
    # line item itself; without the query, the platform cannot tell the tool
    assert _post_score(item["id"], token).status_code == 200
    stray = requests.post(
        item["id"] + "/scores",
        data="{}",
        headers=_headers(token, Content_Type=c.MEDIA_SCORE),
        timeout=5,
    )
    assert stray.status_code == 405 and stray.headers["Allow"] == "GET, PUT, DELETE"
    bare = _post_score(item["id"].split("?")[0], token, timestamp=_ts(2))
    assert bare.status_code == 400 and "type_id" in bare.json()["error_description"]
    assert platform.gradebook(item["id"]) == {"learner-1": 7.0}


def test_ags_lineitem_urls_without_query(platform: TestPlatform, course: str, token: str) -> None:
    platform.lineitem_url_query = "none"
    item = _create_lineitem(platform, token).json()
    assert item["id"].endswith("/lineitem")
    assert _post_score(item["id"], token).status_code == 200


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"label": _OMIT}, 400),
        ({"label": "  "}, 400),
        ({"scoreMaximum": _OMIT}, 400),
        ({"scoreMaximum": 0}, 400),
        ({"scoreMaximum": -5}, 400),
        ({"scoreMaximum": "10"}, 400),
        ({"scoreMaximum": True}, 400),
        ({"resourceLinkId": "rl-never-launched"}, 400),
        ({"tag": 7}, 400),
        ({"startDateTime": "kemarin"}, 400),
        ({"startDateTime": "2026-03-01T00:00:00"}, 400),  # no time zone
        ({"startDateTime": "2026-03-08T00:00:00Z", "endDateTime": "2026-03-01T00:00:00Z"}, 400),
        ({"content_type": "application/json"}, 415),
    ],
)
def test_ags_create_lineitem_is_validated(
    platform: TestPlatform, course: str, token: str, fields: dict[str, Any], status: int
) -> None:
    resp = _create_lineitem(platform, token, **fields)
    assert resp.status_code == status, resp.text
    assert platform.lineitems(course) == []
    assert platform.service_calls[-1].status == status


def test_ags_list_lineitems_filters_and_pages(
    platform: TestPlatform, course: str, token: str
) -> None:
    linked = platform.add_lineitem(course, label="Modul 1", resource_link_id="rl-modul-1")
    for n in range(5):
        created = _create_lineitem(
            platform,
            token,
            label=f"Kuis {n}",
            tag="kuis" if n % 2 else "tugas",
            resourceId=f"res-{n}",
            resourceLinkId="rl-modul-1" if n == 4 else None,
        )
        assert created.status_code == 201

    container = platform.lineitems_url(course)
    everything = _get(container, token, c.MEDIA_LINEITEM_CONTAINER)
    assert everything.status_code == 200 and "Link" not in everything.headers
    assert everything.headers["Content-Type"] == c.MEDIA_LINEITEM_CONTAINER
    labels = [i["label"] for i in everything.json()]
    assert labels == ["Modul 1", "Kuis 0", "Kuis 1", "Kuis 2", "Kuis 3", "Kuis 4"]
    assert everything.json()[0] == linked

    def labels_of(query: str) -> list[str]:
        resp = _get(f"{container}?{query}", token, c.MEDIA_LINEITEM_CONTAINER)
        assert resp.status_code == 200
        return [i["label"] for i in resp.json()]

    assert labels_of("tag=kuis") == ["Kuis 1", "Kuis 3"]
    assert labels_of("resource_id=res-2") == ["Kuis 2"]
    assert labels_of("resource_link_id=rl-modul-1") == ["Modul 1", "Kuis 4"]
    assert labels_of("resource_link_id=rl-modul-1&tag=tugas") == ["Kuis 4"]

    # limit pages through Link rel="next" (filters kept), until there is none
    url: str | None = f"{container}?tag=tugas&limit=2"
    pages = []
    while url:
        resp = _get(url, token, c.MEDIA_LINEITEM_CONTAINER)
        pages.append([i["label"] for i in resp.json()])
        link = requests.utils.parse_header_links(resp.headers.get("Link", ""))
        url = next((x["url"] for x in link if x.get("rel") == "next"), None)
    assert pages == [["Kuis 0", "Kuis 2"], ["Kuis 4"]]
    assert 'rel="prev"' in resp.headers["Link"] and 'rel="first"' in resp.headers["Link"]

    # the page size the platform imposes on its own
    platform.ags_page_size = 4
    first = _get(container, token)
    assert len(first.json()) == 4 and 'rel="next"' in first.headers["Link"]

    assert _get(container, token, c.MEDIA_LINEITEM).status_code == 406
    assert _get(container + "?limit=0", token).status_code == 400
    assert _get(platform.lineitems_url("no-such-course"), token).status_code == 404


def test_ags_update_and_delete_lineitem(
    platform: TestPlatform, tool: TinyTool, course: str, token: str
) -> None:
    item = _create_lineitem(platform, token, tag="v1").json()
    change = {"id": item["id"], "label": "Tugas 1 (revisi)", "scoreMaximum": 20}

    def put(body: dict[str, Any], content_type: str = c.MEDIA_LINEITEM) -> requests.Response:
        return requests.put(
            item["id"],
            data=json.dumps(body),
            headers=_headers(token, Content_Type=content_type),
            timeout=5,
        )

    updated = put(change)
    assert updated.status_code == 200
    assert updated.headers["Content-Type"] == c.MEDIA_LINEITEM
    assert updated.json() == change  # a full replacement: the tag is gone
    assert platform.lineitem(item["id"]) == change
    assert put(change, "application/json").status_code == 415
    assert put({**change, "scoreMaximum": 0}).status_code == 400
    other_id = item["id"].replace("/lineitems/", "/lineitems/999", 1)
    assert put({**change, "id": other_id}).status_code == 400

    # a score on the old maximum is rescaled to the new one in the gradebook
    assert _post_score(item["id"], token, scoreGiven=5, scoreMaximum=10).status_code == 200
    assert platform.gradebook(item["id"]) == {"learner-1": 10.0}

    deleted = requests.delete(item["id"], headers=_headers(token), timeout=5)
    assert deleted.status_code == 204 and deleted.content == b""
    assert _get(item["id"], token).status_code == 404
    assert requests.delete(item["id"], headers=_headers(token), timeout=5).status_code == 404
    assert platform.lineitems(course) == []
    with pytest.raises(KeyError):
        platform.gradebook(item["id"])

    missing = platform.url(f"/ags/{course}/lineitems/4242/lineitem")
    assert _get(missing, token).status_code == 404
    assert _put(missing, token, change).status_code == 404

    # the resource link's own line item cannot be deleted, nor moved to another link
    linked = platform.add_lineitem(course, label="Modul 1", resource_link_id="rl-modul-1")
    assert requests.delete(linked["id"], headers=_headers(token), timeout=5).status_code == 403
    moved = _put(linked["id"], token, {**linked, "resourceLinkId": "rl-lain"})
    assert moved.status_code == 400
    relabelled = _put(linked["id"], token, {**linked, "label": "Modul 1 (baru)"})
    assert relabelled.status_code == 200
    assert relabelled.json()["resourceLinkId"] == "rl-modul-1"


def test_ags_fully_graded_sets_and_other_progress_clears_the_gradebook(
    platform: TestPlatform, course: str, token: str
) -> None:
    item = platform.add_lineitem(course, label="Tes Akhir", score_maximum=100)

    def score(second: int, **fields: Any) -> None:
        resp = _post_score(item["id"], token, timestamp=_ts(second), **fields)
        assert resp.status_code == 200, resp.text

    score(1, scoreGiven=7, scoreMaximum=10, comment="Bagus")
    assert platform.gradebook(item["id"]) == {"learner-1": 70.0}
    score(2, gradingProgress="PendingManual", activityProgress="Submitted", scoreGiven=8)
    assert platform.gradebook(item["id"]) == {"learner-1": None}  # Moodle clears it
    entry = platform.result(item["id"], "learner-1")
    assert entry is not None and entry.grading_progress == "PendingManual"
    assert entry.comment is None and entry.activity_progress == "Submitted"
    score(3, scoreGiven=9, scoreMaximum=10)
    score(4, userId="learner-2", scoreGiven=100, scoreMaximum=100)
    score(5, userId="learner-3", gradingProgress="FullyGraded", scoreGiven=_OMIT)
    assert platform.gradebook(item["id"]) == {
        "learner-1": 90.0,
        "learner-2": 100.0,
        "learner-3": None,
    }
    history = platform.score_history(item["id"], "learner-1")
    assert [h["timestamp"] for h in history] == [_ts(1), _ts(2), _ts(3)]
    assert history[0]["comment"] == "Bagus"
    assert [h["userId"] for h in platform.score_history(item)] == [
        "learner-1",
        "learner-1",
        "learner-1",
        "learner-2",
        "learner-3",
    ]
    assert platform.result(item["id"], "nobody") is None


def test_ags_score_timestamps_must_increase(
    platform: TestPlatform, course: str, token: str
) -> None:
    item = platform.add_lineitem(course, label="Kuis")
    assert _post_score(item["id"], token, timestamp=_ts(10, "250")).status_code == 200
    same = _post_score(item["id"], token, timestamp=_ts(10, "250"), scoreGiven=9)
    assert same.status_code == 409 and same.json()["error"] == "conflict"
    older = _post_score(item["id"], token, timestamp=_ts(9, "999"), scoreGiven=9)
    assert older.status_code == 409
    # the same instant in another zone is not later either
    utc = _post_score(item["id"], token, timestamp="2026-03-02T02:15:10.250Z", scoreGiven=9)
    assert utc.status_code == 409
    # sub-second precision counts, and each user and line item has its own clock
    later = _post_score(item["id"], token, timestamp=_ts(10, "250001"), scoreGiven=8)
    assert later.status_code == 200
    assert _post_score(item["id"], token, userId="learner-2", timestamp=_ts(1)).status_code == 200
    assert platform.gradebook(item["id"]) == {"learner-1": 80.0, "learner-2": 70.0}
    assert len(platform.score_history(item["id"], "learner-1")) == 2

    # Moodle keeps whole seconds: a later score within the same second is refused
    platform.whole_second_timestamps = True
    same_second = _post_score(item["id"], token, timestamp=_ts(10, "900"))
    assert same_second.status_code == 409
    assert _post_score(item["id"], token, timestamp=_ts(11)).status_code == 200


@pytest.mark.parametrize(
    "fields",
    [
        {"userId": _OMIT},
        {"userId": 42},
        {"timestamp": _OMIT},
        {"timestamp": "2026-03-02"},
        {"timestamp": "2026-03-02T09:15:00"},
        {"timestamp": "bukan tanggal"},
        {"activityProgress": _OMIT},
        {"activityProgress": "Done"},
        {"gradingProgress": _OMIT},
        {"gradingProgress": "Graded"},
        {"scoreMaximum": _OMIT},
        {"scoreGiven": -1},
        {"scoreGiven": "7"},
        {"scoreMaximum": 0},
        {"comment": 5},
        {"submission": "kemarin"},
        {"submission": {"submittedAt": "kemarin"}},
        {"userId": "teacher-1"},
        {"userId": "ta-1"},
        {"userId": "stranger"},
    ],
)
def test_ags_score_is_validated(
    platform: TestPlatform, course: str, token: str, fields: dict[str, Any]
) -> None:
    item = platform.add_lineitem(course, label="Kuis")
    resp = _post_score(item["id"], token, **fields)
    assert resp.status_code == 400, resp.text
    assert platform.score_history(item["id"]) == []


def test_ags_score_content_type_and_extras(platform: TestPlatform, course: str, token: str) -> None:
    item = platform.add_lineitem(course, label="Kuis")
    wrong = _post_score(item["id"], token, content_type="application/json")
    assert wrong.status_code == 415 and wrong.json()["error"] == "unsupported_media_type"
    resp = requests.post(
        _with_suffix(item["id"], "/scores"),
        data="{not json",
        headers=_headers(token, Content_Type=c.MEDIA_SCORE),
        timeout=5,
    )
    assert resp.status_code == 400
    ok = _post_score(
        item["id"],
        token,
        content_type=c.MEDIA_SCORE + "; charset=utf-8",
        scoreGiven=12,  # more than the maximum: extra credit is allowed
        timestamp="2026-03-02T02:15:00.123456789Z",
        scoringUserId="teacher-1",
        submission={"startedAt": _ts(0), "submittedAt": _ts(1)},
        **{"https://tool.example/attempt": 3},
    )
    assert ok.status_code == 200 and ok.content == b""
    assert platform.gradebook(item["id"]) == {"learner-1": 120.0}
    assert platform.score_history(item["id"])[0]["https://tool.example/attempt"] == 3

    platform.score_status = 204
    assert _post_score(item["id"], token, timestamp=_ts(30)).status_code == 204


def test_ags_staff_refused_and_learners_come_from_launches(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    course_id = DEFAULT_CONTEXT_ID
    learner = platform.launch(browser, user="siswa-01", roles=["Learner"])
    assert learner.ok
    staff = platform.launch(make_browser(), user="guru-01", roles=["Instructor"])
    assert staff.ok
    endpoint = learner.claims[c.CLAIM_AGS_ENDPOINT]
    assert endpoint["lineitems"] == platform.lineitems_url(course_id)
    # the launch's line item exists, belongs to the link and is reused
    (item,) = platform.lineitems(course_id)
    assert endpoint["lineitem"] == item["id"] == staff.claims[c.CLAIM_AGS_ENDPOINT]["lineitem"]
    assert item["resourceLinkId"] == "rl-modul-1" and item["scoreMaximum"] == 100
    assert item["label"] == "Modul 1: Pedagogi"
    assert "?" not in item["id"]  # the default: only tool-created items carry a query

    assert platform.is_learner(course_id, "siswa-01")
    assert not platform.is_learner(course_id, "guru-01")
    token = _token_for(platform, tool, c.SCOPE_AGS_SCORE)
    assert _post_score(item["id"], token, userId="siswa-01").status_code == 200
    refused = _post_score(item["id"], token, userId="guru-01")
    assert refused.status_code == 400 and "learner" in refused.json()["error_description"]
    assert platform.gradebook(endpoint["lineitem"]) == {"siswa-01": 70.0}


def test_ags_moodle_style_urls_with_pylti1p3_client(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    """pylti1p3's AGS client (an independent implementation) works the peer's
    Moodle-shaped URLs: query on every URL, paging by Link headers."""
    platform.lineitem_url_query = "all"
    platform.ags_page_size = 1
    result = platform.launch(browser, user="siswa-02", roles=["Learner"])
    assert result.ok
    claim = result.claims[c.CLAIM_AGS_ENDPOINT]
    type_id = platform.tools[tool.client_id].type_id
    assert claim["lineitems"].endswith(f"/lineitems?type_id={type_id}")
    assert claim["lineitem"].endswith(f"/lineitem?type_id={type_id}")
    platform.set_members(DEFAULT_CONTEXT_ID, [{"user_id": "siswa-03"}, {"user_id": "siswa-04"}])

    ags_service = AssignmentsGradesService(_NoCacheConnector(tool.registration()), claim)
    new_item = (
        PyltiLineItem()
        .set_label("Tes Sumatif")
        .set_score_maximum(50)
        .set_tag("sumatif")
        .set_resource_id("ts-1")
    )
    created = ags_service.create_lineitem(new_item)
    assert created.get_id().endswith(f"?type_id={type_id}")
    labels = [i["label"] for i in ags_service.get_lineitems()]  # two pages of one
    assert labels == ["Modul 1: Pedagogi", "Tes Sumatif"]

    for n, user in enumerate(["siswa-02", "siswa-03", "siswa-04"]):
        grade = (
            Grade()
            .set_user_id(user)
            .set_score_given(40 + n)
            .set_score_maximum(50)
            .set_timestamp(_ts(n))
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
        )
        ags_service.put_grade(grade, created)
    ags_service.put_grade(
        Grade()
        .set_user_id("siswa-02")
        .set_score_given(1)
        .set_score_maximum(1)
        .set_timestamp(_ts(9))
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
    )  # the launch's own line item
    assert platform.gradebook(created.get_id()) == {
        "siswa-02": 40.0,
        "siswa-03": 41.0,
        "siswa-04": 42.0,
    }
    assert platform.gradebook(claim["lineitem"]) == {"siswa-02": 100.0}
    results = list(ags_service.get_grades(created))  # three pages of one
    assert [(r["userId"], r["resultScore"], r["resultMaximum"]) for r in results] == [
        ("siswa-02", 40.0, 50),
        ("siswa-03", 41.0, 50),
        ("siswa-04", 42.0, 50),
    ]
    # stripping the container's query is refused, as Moodle would
    token = _token_for(platform, tool)
    bare = _get(claim["lineitems"].split("?")[0], token)
    assert bare.status_code == 400


def test_ags_results_container(platform: TestPlatform, course: str, token: str) -> None:
    item = platform.add_lineitem(course, label="Tugas", score_maximum=20, query=True)
    for n, user in enumerate(["learner-1", "learner-2", "learner-3"]):
        fields: dict[str, Any] = {"userId": user, "timestamp": _ts(n), "scoreGiven": n + 5}
        if user == "learner-2":
            fields.update(gradingProgress="Pending", comment="Menunggu penilaian")
        assert _post_score(item["id"], token, **fields).status_code == 200

    results_url = _with_suffix(item["id"], "/results")
    resp = _get(results_url, token, c.MEDIA_RESULT_CONTAINER)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == c.MEDIA_RESULT_CONTAINER
    first, second, third = resp.json()
    assert first == {
        "id": f"{results_url}&user_id=learner-1",
        "scoreOf": item["id"],
        "userId": "learner-1",
        "resultScore": 10.0,
        "resultMaximum": 20,
    }
    assert second["resultScore"] is None and second["comment"] == "Menunggu penilaian"
    assert third["resultScore"] == 14.0

    # a result's id is itself a results query for that one user
    one = _get(first["id"], token, c.MEDIA_RESULT_CONTAINER)
    assert [r["userId"] for r in one.json()] == ["learner-1"]
    none = _get(f"{results_url}&user_id=teacher-1", token)
    assert none.status_code == 200 and none.json() == []

    url: str | None = f"{results_url}&limit=2"
    seen = []
    while url:
        page = _get(url, token, c.MEDIA_RESULT_CONTAINER)
        seen.append([r["userId"] for r in page.json()])
        link = requests.utils.parse_header_links(page.headers.get("Link", ""))
        url = next((x["url"] for x in link if x.get("rel") == "next"), None)
        if url:
            assert f"type_id={item['id'].split('type_id=')[1]}" in url
    assert seen == [["learner-1", "learner-2"], ["learner-3"]]

    assert _get(results_url, token, c.MEDIA_LINEITEM_CONTAINER).status_code == 406
    assert _get(results_url.split("?")[0], token).status_code == 400


def test_ags_scopes_and_tokens(
    platform: TestPlatform, tool: TinyTool, course: str, token: str
) -> None:
    item = platform.add_lineitem(course, label="Kuis")
    container = platform.lineitems_url(course)
    results = _with_suffix(item["id"], "/results")
    readonly = _token_for(platform, tool, c.SCOPE_AGS_LINEITEM_READONLY)
    score_only = _token_for(platform, tool, c.SCOPE_AGS_SCORE)
    result_only = _token_for(platform, tool, c.SCOPE_AGS_RESULT_READONLY)
    change = {"label": "Kuis 2", "scoreMaximum": 5}

    assert _get(container, readonly).status_code == 200
    assert _get(item["id"], readonly).status_code == 200
    forbidden = [
        _create_lineitem(platform, readonly),
        _put(item["id"], readonly, change),
        requests.delete(item["id"], headers=_headers(readonly), timeout=5),
        _get(results, readonly),
        _post_score(item["id"], readonly),
        _get(container, score_only),
        _get(results, score_only),
        _post_score(item["id"], result_only),
        _get(item["id"], result_only),
        _get(platform.url(f"/nrps/{course}/memberships"), score_only),
    ]
    for resp in forbidden:
        assert resp.status_code == 403, resp.request.method + " " + resp.url
        challenge = resp.headers["WWW-Authenticate"]
        assert 'error="insufficient_scope"' in challenge and "scope=" in challenge
    assert _post_score(item["id"], score_only).status_code == 200
    assert _get(results, result_only).status_code == 200
    assert _create_lineitem(platform, token).status_code == 201

    anonymous = _get(container, None)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == f'Bearer realm="{platform.issuer}"'
    bogus = _get(container, "at-not-issued")
    assert bogus.status_code == 401 and 'error="invalid_token"' in bogus.headers["WWW-Authenticate"]

    # expire_tokens() invalidates every token issued so far, not later ones
    assert platform.expire_tokens() == 4  # token, readonly, score_only, result_only
    expired = _post_score(item["id"], score_only, timestamp=_ts(5))
    assert expired.status_code == 401
    assert "expired" in expired.headers["WWW-Authenticate"]
    fresh = _token_for(platform, tool, c.SCOPE_AGS_SCORE)
    assert _post_score(item["id"], fresh, timestamp=_ts(5)).status_code == 200
    assert platform.expire_tokens() == 1

    statuses = [(s.kind, s.status) for s in platform.service_calls]
    assert ("scores", 401) in statuses and ("nrps", 403) in statuses
    assert all(s.authorized == (s.status < 400) for s in platform.service_calls)


def test_ags_items_of_another_tool_are_invisible(
    platform: TestPlatform, tool: TinyTool, course: str, token: str
) -> None:
    mine = _create_lineitem(platform, token).json()
    platform.register_tool(tool.base_url, client_id="other-tool", deployment_ids=["d-2"])
    theirs = _token_for(platform, tool, client_id="other-tool")
    assert _get(mine["id"], theirs).status_code == 404
    assert _post_score(mine["id"], theirs).status_code == 404
    listing = _get(platform.lineitems_url(course), theirs)
    assert listing.status_code == 200 and listing.json() == []
    shared = platform.add_lineitem(course, label="Bersama", client_id=None)
    assert [i["id"] for i in _get(platform.lineitems_url(course), theirs).json()] == [shared["id"]]
    other_type = platform.tools["other-tool"].type_id
    assert shared["id"].endswith("?type_id=0") and other_type != "0"
    assert len(platform.lineitems(course)) == 2


def test_ags_accessors_take_ids_urls_and_items(platform: TestPlatform, course: str) -> None:
    item = platform.add_lineitem(course, label="Kuis", query=False, coupled=False)
    number = item["id"].rsplit("/lineitems/", 1)[1].split("/")[0]
    for ref in (item, item["id"], number, int(number), _with_suffix(item["id"], "/scores")):
        assert platform.lineitem(ref) == item
        assert platform.gradebook(ref) == {}
    with pytest.raises(KeyError):
        platform.lineitem("4242")
    with pytest.raises(KeyError):
        platform.score_history(platform.url("/elsewhere"))


# ------------------------------------------------------------ fault injection


def test_fault_503_for_n_requests_then_recovery(
    platform: TestPlatform, course: str, token: str
) -> None:
    item = platform.add_lineitem(course, label="Kuis")
    rule = platform.fail_next("scores", 503, times=2)
    first, second = (_post_score(item["id"], token) for _ in range(2))
    assert first.status_code == second.status_code == 503
    assert first.json()["error"] == "injected_fault"
    assert platform.score_history(item["id"]) == []  # the endpoint never saw them
    assert _post_score(item["id"], token).status_code == 200
    assert rule.hits == 2 and rule.remaining == 0
    assert [(h.path.rsplit("/", 1)[1], h.status) for h in platform.faults_fired] == [
        ("scores", 503),
        ("scores", 503),
    ]
    assert len(platform.requests_from(f"/ags/{course}")) == 3


def test_fault_429_with_retry_after_and_body(
    platform: TestPlatform, course: str, token: str
) -> None:
    container = platform.lineitems_url(course)
    platform.fail_next("lineitems", 429, retry_after=7, body={"message": "pelan-pelan"})
    platform.fail_next("ags", 503, retry_after="Wed, 21 Oct 2026 07:28:00 GMT", body="sibuk")
    limited = _get(container, token)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json() == {"message": "pelan-pelan"}
    busy = _get(container, token)
    assert busy.status_code == 503 and busy.text == "sibuk"
    assert busy.headers["Retry-After"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert _get(container, token).status_code == 200


def test_fault_500_by_path_pattern_and_method(
    platform: TestPlatform, course: str, token: str
) -> None:
    item = platform.add_lineitem(course, label="Kuis")
    platform.fail_next(r"/lineitem(\?|$)", 500, method="PUT", times=3)
    assert _get(item["id"], token).status_code == 200
    assert _put(item["id"], token, {"label": "X", "scoreMaximum": 1}).status_code == 500
    platform.clear_faults()
    assert _put(item["id"], token, {"label": "X", "scoreMaximum": 1}).status_code == 200
    platform.fail_next("type_id=", 401)  # the query string is searched too
    unauthorized = _get(platform.lineitem(item)["id"], token)
    assert unauthorized.status_code == 401 and "WWW-Authenticate" in unauthorized.headers


def test_fault_delay_trips_client_timeout_yet_platform_records_the_score(
    platform: TestPlatform, course: str, token: str
) -> None:
    item = platform.add_lineitem(course, label="Kuis")
    platform.fail_next("scores", delay=0.8)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _post_score(item["id"], token, timeout=0.2)
    deadline = time.time() + 5
    while not platform.score_history(item["id"]) and time.time() < deadline:
        time.sleep(0.05)
    assert platform.gradebook(item["id"]) == {"learner-1": 70.0}
    # a blind retry of the very same score is now stale
    assert _post_score(item["id"], token).status_code == 409

    platform.fail_next("lineitem", 502, delay=0.1)
    started = time.time()
    assert _get(item["id"], token).status_code == 502
    assert time.time() - started >= 0.1


def test_fault_on_token_endpoint_and_token_request_counts(
    platform: TestPlatform, tool: TinyTool
) -> None:
    platform.fail_next("token", 503, retry_after=1)
    form = _token_form(
        _assertion(tool, platform.token_url, jti=secrets.token_hex(8)), c.SCOPE_AGS_SCORE
    )
    failed = requests.post(platform.token_url, data=form, timeout=5)
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
    _token_for(platform, tool, c.SCOPE_AGS_SCORE)
    _token_for(platform, tool, c.SCOPE_AGS_SCORE)
    _token_for(platform, tool, c.SCOPE_AGS_RESULT_READONLY, c.SCOPE_AGS_SCORE)
    requests.post(platform.token_url, data={"grant_type": "password"}, timeout=5)

    log = platform.token_requests
    assert [r.status for r in log] == [503, 200, 200, 200, 400]
    assert log[0].fault and log[0].client_id == tool.client_id
    score = frozenset([c.SCOPE_AGS_SCORE])
    both = frozenset([c.SCOPE_AGS_SCORE, c.SCOPE_AGS_RESULT_READONLY])
    assert log.tally() == {
        (tool.client_id, score): 3,
        (tool.client_id, both): 1,
        (None, frozenset()): 1,
    }
    assert log.tally(ok=True) == {(tool.client_id, score): 2, (tool.client_id, both): 1}
    assert log.count_for(tool.client_id, [c.SCOPE_AGS_SCORE]) == 3
    assert log.count_for(tool.client_id, [c.SCOPE_AGS_SCORE], ok=True) == 2
    assert log.count_for(tool.client_id) == 4 and log.count_for(ok=False) == 2


def test_faults_are_counted_exactly_under_concurrency(
    platform: TestPlatform, course: str, token: str
) -> None:
    container = platform.lineitems_url(course)
    platform.fail_next("lineitems", 503, times=5)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        code = _get(container, token).status_code
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(statuses) == [200] * 15 + [503] * 5
    assert len(platform.faults_fired) == 5


def test_fail_next_arguments_are_checked(platform: TestPlatform) -> None:
    with pytest.raises(ValueError):
        platform.fail_next("scores", None)
    with pytest.raises(ValueError):
        platform.fail_next("scores", times=0)
    with pytest.raises(re.error):
        platform.fail_next("([")
    assert platform.fail_next("jwks", 500).status == 500
    assert requests.get(platform.jwks_url, timeout=5).status_code == 500
    assert requests.get(platform.jwks_url, timeout=5).status_code == 200


# --------------------------------------------------------------------------
# LTI Course Groups Service 1.0 (lti-gs)
# --------------------------------------------------------------------------

GS_GROUPS = [
    {"id": "g1", "name": "Rombel A", "set_id": "s1", "members": ["learner-1", "teacher-1"]},
    {"id": "g2", "name": "Rombel B", "set_id": "s1", "members": ["learner-2"]},
    {"id": "g3", "name": "Proyek", "set_id": "s2", "members": ["learner-1"]},
]
GS_SETS = [{"id": "s1", "name": "Rombel"}, {"id": "s2", "name": "Proyek"}]


def test_groups_claim_only_when_the_registration_has_the_scope(
    platform: TestPlatform, tool: TinyTool, browser: requests.Session
) -> None:
    assert platform.launch(browser, roles=["Instructor"]).ok
    assert c.CLAIM_GS not in tool.launches[-1]
    platform.tools[tool.client_id].scopes.append(c.SCOPE_GS)
    assert platform.launch(browser, roles=["Instructor"]).ok
    ctx = DEFAULT_CONTEXT_ID
    assert tool.launches[-1][c.CLAIM_GS] == {
        "scope": [c.SCOPE_GS],
        "context_groups_url": platform.url(f"/groups/{ctx}/groups"),
        "context_group_sets_url": platform.url(f"/groups/{ctx}/sets"),
        "service_versions": ["1.0"],
    }


def test_groups_service_pages_filters_and_checks_tokens(
    platform: TestPlatform, tool: TinyTool, course: str
) -> None:
    platform.tools[tool.client_id].scopes.append(c.SCOPE_GS)
    platform.set_groups(course, GS_GROUPS, sets=GS_SETS)
    platform.groups_page_size = 2
    claim = platform._groups_claim(course)

    # pylti1p3, an independent client, reads every page and the user_id filter
    service = CourseGroupsService(_NoCacheConnector(tool.registration()), claim)
    groups = service.get_groups()
    assert [g["id"] for g in groups] == ["g1", "g2", "g3"]
    assert groups[0] == {"id": "g1", "name": "Rombel A", "set_id": "s1"}
    assert [g["id"] for g in service.get_groups(user_id="learner-1")] == ["g1", "g3"]

    token = _token_for(platform, tool, c.SCOPE_GS)
    first = _get(claim["context_groups_url"], token, c.MEDIA_CONTEXT_GROUPS)
    assert first.status_code == 200 and first.headers["Content-Type"] == c.MEDIA_CONTEXT_GROUPS
    assert len(first.json()["groups"]) == 2 and first.json()["id"] == claim["context_groups_url"]
    nxt = re.search(r'<([^>]+)>; rel="next"', first.headers["Link"]).group(1)
    assert [g["id"] for g in _get(nxt, token, c.MEDIA_CONTEXT_GROUPS).json()["groups"]] == ["g3"]
    sets = _get(claim["context_group_sets_url"], token, c.MEDIA_CONTEXT_GROUP_SETS)
    assert sets.headers["Content-Type"] == c.MEDIA_CONTEXT_GROUP_SETS
    assert sets.json()["sets"] == GS_SETS

    # the sets container is not a groups container; the token needs the lti-gs scope
    assert _get(claim["context_group_sets_url"], token, c.MEDIA_CONTEXT_GROUPS).status_code == 406
    nrps_only = _token_for(platform, tool, c.SCOPE_NRPS)
    refused = _get(claim["context_groups_url"], nrps_only)
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert _get(claim["context_groups_url"], None).status_code == 401
    assert ("groups", 403) in [(s.kind, s.status) for s in platform.service_calls]


def test_nrps_with_groups_true_lists_group_enrollments(
    platform: TestPlatform, tool: TinyTool, course: str
) -> None:
    platform.set_groups(course, GS_GROUPS)
    assert platform.group_sets[course] == [
        {"id": "s1", "name": "Set s1"},
        {"id": "s2", "name": "Set s2"},
    ]
    platform.nrps_page_size = 2
    token = _token_for(platform, tool, c.SCOPE_NRPS)

    def members(url: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while url:
            resp = _get(url, token)
            assert resp.status_code == 200
            out.update({m["user_id"]: m.get("group_enrollments") for m in resp.json()["members"]})
            link = re.search(r'<([^>]+)>; rel="next"', resp.headers.get("Link", ""))
            url = link.group(1) if link else ""
        return out

    with_groups = members(platform.url(f"/nrps/{course}/memberships?groups=true"))
    assert with_groups["learner-1"] == [{"group_id": "g1"}, {"group_id": "g3"}]
    assert with_groups["teacher-1"] == [{"group_id": "g1"}] and with_groups["ta-1"] == []
    assert len(with_groups) == 5  # every page kept groups=true
    assert set(members(platform.url(f"/nrps/{course}/memberships")).values()) == {None}
    platform.nrps_group_enrollments = False  # a platform that ignores groups=true
    ignored = members(platform.url(f"/nrps/{course}/memberships?groups=true"))
    assert set(ignored.values()) == {None}
