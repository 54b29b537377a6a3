"""An independent LTI 1.3 *platform* (a stand-in LMS) served over real HTTP.

Our tool must be tested against something that behaves like Moodle or Canvas
on the wire, not against its own code: this platform signs id_tokens with
RS256 and a published JWKS, runs the OIDC third-party-initiated login with a
real browser-like ``requests.Session``, verifies deep-linking responses and
token-endpoint client assertions against the tool's JWKS fetched over HTTP,
and implements LTI Dynamic Registration. It follows LTI Core 1.3, the 1EdTech
Security Framework 1.0, Deep Linking 2.0 and LTI-DR 1.0, and imports nothing
from ``lti_tool``.
"""

from __future__ import annotations

import contextlib
import html
import http.cookiejar
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import jwt
import requests
from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import constants as c
from .forgeries import Forgery, Tamper
from .forms import find_form, parse_forms
from .keys import SigningKey, decode_unverified, encode_jws, public_key_from_jwk

PEER_USER_AGENT = "lti-test-peer/1.0 (+tests/peer)"
_REDIRECT_CODES = (301, 302, 303, 307, 308)
_URL_IN_PAGE = re.compile(r"https?://[^\s\"'<>]+")
_DEFAULT: Any = object()  # "not given": lets ``context=None`` mean "omit the claim"

DEFAULT_USER: dict[str, str] = {
    "sub": "user-siti-01",
    "given_name": "Siti",
    "family_name": "Rahayu",
    "name": "Siti Rahayu",
    "email": "siti.rahayu@guru.example.id",
}
DEFAULT_CONTEXT: dict[str, Any] = {
    "id": "course-ppg-101",
    "label": "PPG-101",
    "title": "Pendidikan Profesi Guru Daring",
    "type": [c.CONTEXT_TYPE_COURSE_OFFERING],
}
DEFAULT_RESOURCE_LINK: dict[str, Any] = {
    "id": "rl-modul-1",
    "title": "Modul 1: Pedagogi",
}
PLATFORM_VARIABLES = [
    "ResourceLink.id",
    "ResourceLink.title",
    "Context.id",
    "Context.title",
    "Context.label",
    "CourseSection.sourcedId",
    "Person.name.full",
    "Person.name.given",
    "Person.name.family",
    "Person.email.primary",
    "Person.sourcedId",
    "User.id",
    "Membership.role",
]


# --------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------


@dataclass
class ToolRegistration:
    """What the platform knows of one tool, as an LMS admin would enter it."""

    client_id: str
    deployment_ids: list[str]
    login_url: str
    redirect_uris: list[str]
    jwks_url: str
    target_link_uri: str
    tool_base_url: str
    deep_linking_url: str | None = None
    scopes: list[str] = field(default_factory=lambda: list(c.SERVICE_SCOPES))
    source: str = "manual"
    metadata: dict[str, Any] | None = None

    @property
    def deployment_id(self) -> str:
        """The first (default) deployment."""
        return self.deployment_ids[0]


@dataclass
class RequestRecord:
    """One HTTP request the platform received (from the tool or the browser)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    time: float

    @property
    def user_agent(self) -> str | None:
        return self.headers.get("User-Agent")

    @property
    def form(self) -> dict[str, str]:
        """The body parsed as a url-encoded form (empty if it is not one)."""
        if "application/x-www-form-urlencoded" not in self.headers.get("Content-Type", ""):
            return {}
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


@dataclass
class LaunchResult:
    """Every step of one OIDC launch, for tests to inspect.

    ``responses`` is every HTTP response the browser got, in order.
    ``auth_error`` is set when the platform's ``/auth`` refused the tool's
    authentication request (400), ``error`` when the flow stopped early for
    another reason (e.g. the tool never redirected to ``/auth``).
    """

    client_id: str
    deployment_id: str
    login_url: str
    login_params: dict[str, str]
    login_hint: str
    lti_message_hint: str
    target_link_uri: str
    message_type: str
    login_response: requests.Response | None = None
    auth_request_url: str | None = None
    auth_params: dict[str, str] = field(default_factory=dict)
    auth_response: requests.Response | None = None
    launch_response: requests.Response | None = None
    final_response: requests.Response | None = None
    responses: list[requests.Response] = field(default_factory=list)
    id_token: str | None = None
    id_token_header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    state: str | None = None
    nonce: str | None = None
    form_action: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    auth_error: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the tool's final answer was a 2xx page."""
        return self.final_response is not None and self.final_response.ok

    @property
    def deep_linking_settings(self) -> dict[str, Any] | None:
        return self.claims.get(c.CLAIM_DL_SETTINGS)


@dataclass
class DeepLinkRequestRecord:
    """A deep-linking request the platform issued, to match the response against."""

    client_id: str
    deployment_id: str
    settings: dict[str, Any]
    issued_at: float


@dataclass
class DeepLinkReturn:
    """A deep-linking response POSTed to ``/deep_link_return``.

    ``claims``/``items`` are the verified payload and content items when
    ``ok``; otherwise ``error`` says why it was refused (and ``claims`` holds
    the unverified payload, if it could be decoded, for diagnosis).
    """

    ok: bool
    jwt: str | None
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    request: DeepLinkRequestRecord | None = None

    @property
    def msg(self) -> str | None:
        return self.claims.get(c.CLAIM_DL_MSG)

    @property
    def log(self) -> str | None:
        return self.claims.get(c.CLAIM_DL_LOG)

    @property
    def errormsg(self) -> str | None:
        return self.claims.get(c.CLAIM_DL_ERRORMSG)

    @property
    def errorlog(self) -> str | None:
        return self.claims.get(c.CLAIM_DL_ERRORLOG)


@dataclass
class AccessToken:
    """An access token issued by ``/token``."""

    token: str
    client_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class TokenRequestRecord:
    """One call to ``/token`` and how it ended."""

    form: dict[str, str]
    headers: dict[str, str]
    ok: bool
    status: int
    error: str | None = None
    error_description: str | None = None
    assertion_header: dict[str, Any] = field(default_factory=dict)
    assertion_claims: dict[str, Any] = field(default_factory=dict)
    granted_scopes: list[str] = field(default_factory=list)
    access_token: str | None = None


@dataclass
class RegistrationRecord:
    """One successful dynamic registration."""

    token: str
    request_json: dict[str, Any]
    headers: dict[str, str]
    raw_body: bytes
    response_json: dict[str, Any]
    client_id: str
    deployment_id: str
    tool: ToolRegistration


@dataclass
class ServiceCall:
    """A call to the AGS/NRPS stand-in endpoints."""

    service: str
    method: str
    path: str
    authorized: bool
    token: AccessToken | None


class PeerError(Exception):
    """A request the platform refuses; carries the HTTP status and OAuth error code."""

    def __init__(self, description: str, *, error: str = "invalid_request", status: int = 400):
        super().__init__(description)
        self.description = description
        self.error = error
        self.status = status


@dataclass
class _PendingLaunch:
    """State the platform keeps between the login initiation and ``/auth``."""

    tool: ToolRegistration
    client_id: str
    deployment_id: str
    login_hint: str
    lti_message_hint: str
    target_link_uri: str
    message_type: str
    user: dict[str, Any]
    roles: list[str]
    context: dict[str, Any] | None
    resource_link: dict[str, Any] | None
    locale: str
    custom: dict[str, Any] | None
    dl_settings: dict[str, Any] | None
    document_target: str
    extra_claims: dict[str, Any]
    tamper: Tamper | None
    result: LaunchResult
    tamper_exception: BaseException | None = None
    detached: bool = False  # set once launch() has its auth answer; later /auth calls
    # (a test replaying the authentication request by hand) must not rewrite the result


class _QuietHandler(WSGIRequestHandler):
    """Keep per-request access lines out of the test output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def expand_role(role: str) -> str:
    """Expand a short role name to its LIS v2 URI (full URIs pass through).

    ``Learner``/``Instructor``/``Mentor``/``ContentDeveloper``/``Administrator``
    (and the other principal roles) become ``.../membership#Name``;
    ``TeachingAssistant`` becomes the LIS sub-role
    ``.../membership/Instructor#TeachingAssistant``; ``Principal#Sub`` is any
    other sub-role; ``institution:Name`` and ``system:Name`` give
    ``.../institution/person#Name`` and ``.../system/person#Name``.
    """
    base = "http://purl.imsglobal.org/vocab/lis/v2/"
    if "://" in role:
        return role
    if role in c.MEMBERSHIP_ROLES:
        return f"{base}membership#{role}"
    if role == "TeachingAssistant":
        return c.ROLE_TEACHING_ASSISTANT
    if role == "InstitutionAdministrator":
        return c.ROLE_INSTITUTION_ADMINISTRATOR
    for prefix in ("institution", "system"):
        if role.startswith(prefix + ":"):
            return f"{base}{prefix}/person#{role.split(':', 1)[1]}"
    if "#" in role:
        principal, sub = role.split("#", 1)
        if principal in c.MEMBERSHIP_ROLES:
            return f"{base}membership/{principal}#{sub}"
    raise ValueError(f"unknown LTI role short name: {role!r}")


class LoopbackCookieJar(requests.cookies.RequestsCookieJar):
    """Keep ``Secure`` cookies usable on http://127.0.0.1 and localhost, as browsers do.

    Chrome and Firefox treat loopback origins as secure contexts, so a tool
    that marks its state cookie ``Secure`` (needed for ``SameSite=None`` in
    an LMS iframe) still works on http://127.0.0.1; Python's cookie jar would
    store such a cookie but never send it back over http.
    """

    _LOOPBACK = ("127.0.0.1", "localhost", "localhost.local", "::1", "[::1]")

    def set_cookie(self, cookie: http.cookiejar.Cookie, *args: Any, **kwargs: Any) -> Any:
        if cookie.secure and cookie.domain.lstrip(".") in self._LOOPBACK:
            cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


def make_browser() -> requests.Session:
    """A ``requests.Session`` that keeps cookies like a browser on loopback URLs."""
    session = requests.Session()
    session.cookies = LoopbackCookieJar()
    session.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) lti-test-peer-browser"
    return session


def add_query_params(url: str, params: Mapping[str, str]) -> str:
    """Add ``params`` to ``url`` keeping its existing query (and fragment) intact."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def is_registration_close_page(page: str) -> bool:
    """Whether a tool's page ends DR the spec's way (postMessage ``org.imsglobal.lti.close``)."""
    return "org.imsglobal.lti.close" in page


def moodle_trailing_space_key(config: dict[str, Any]) -> None:
    """``openid_config_hook`` reproducing Moodle 3.10/3.11's typo'd configuration key.

    Those releases published the platform configuration under
    ``"https://purl.imsglobal.org/spec/lti-platform-configuration "`` (note
    the trailing space). Use with ``TestPlatform(openid_config_hook=...)``.
    """
    if c.PLATFORM_CONFIGURATION in config:
        config[c.PLATFORM_CONFIGURATION + " "] = config.pop(c.PLATFORM_CONFIGURATION)


def _same_endpoint(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def _aud_list(aud: Any) -> list[str]:
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return aud
    return []


def _is_abs_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --------------------------------------------------------------------------
# the platform
# --------------------------------------------------------------------------


class TestPlatform:
    """A stand-in LMS on ``http://127.0.0.1:<port>`` speaking LTI 1.3 to a tool.

    Use as a context manager (or ``start()``/``stop()``). Endpoints:
    ``/jwks``, ``/auth`` (GET/POST), ``/token``, ``/deep_link_return``,
    ``/.well-known/openid-configuration``, ``/register``, ``/return``
    (launch_presentation return_url) and AGS/NRPS stand-ins under ``/ags``
    and ``/nrps`` (501 once the bearer token checks out).
    """

    __test__ = False  # not a pytest test class despite its name

    def __init__(
        self,
        issuer: str | None = None,
        *,
        moodle_style: bool = False,
        product_family_code: str = "peer-lms",
        platform_name: str = "Peer LMS (test)",
        platform_version: str = "1.0",
        id_token_lifetime: int = 300,
        token_expires_in: int = 3600,
        jwks_cache_control: str | None = None,
        openid_config_hook: Callable[[dict[str, Any]], None] | None = None,
        leeway: int = 5,
    ) -> None:
        self._issuer = issuer
        self.moodle_style = moodle_style
        self.product_family_code = "moodle" if moodle_style else product_family_code
        self.platform_name = platform_name
        self.platform_version = "4.1.2 (Build: 20230313)" if moodle_style else platform_version
        self.platform_guid = f"peer-{secrets.token_hex(8)}"
        self.id_token_lifetime = id_token_lifetime
        self.token_expires_in = token_expires_in
        self.jwks_cache_control = jwks_cache_control
        self.openid_config_hook = openid_config_hook
        self.leeway = leeway

        self.keys: list[SigningKey] = [SigningKey.generate()]
        self.current_key: SigningKey = self.keys[0]
        self.jwks_fetch_count = 0
        self.tool_jwks_fetches: list[str] = []

        self.tools: dict[str, ToolRegistration] = {}
        self.requests_log: list[RequestRecord] = []
        self.auth_errors: list[str] = []
        self.deep_link_requests: dict[str, DeepLinkRequestRecord] = {}
        self.deep_link_responses: list[DeepLinkReturn] = []
        self.deep_link_errors: list[DeepLinkReturn] = []
        self.token_requests: list[TokenRequestRecord] = []
        self.access_tokens: dict[str, AccessToken] = {}
        self.registrations: list[RegistrationRecord] = []
        self.registration_errors: list[dict[str, Any]] = []
        self.service_calls: list[ServiceCall] = []
        #: NRPS rosters by context id (see set_members), served this many per page.
        self.memberships: dict[str, list[dict[str, Any]]] = {}
        self.nrps_page_size = 50
        self.returns: list[dict[str, str]] = []

        self._registration_tokens: dict[str, bool] = {}  # token -> used
        self._used_jtis: dict[str, float] = {}
        self._pending: dict[str, _PendingLaunch] = {}
        self._counter = itertools.count(1)
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # ---------------------------------------------------------------- server

    def start(self) -> TestPlatform:
        """Serve on a free port of 127.0.0.1 in a daemon thread."""
        if self._server is not None:
            return self
        self._server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler
        )
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05),
            name=f"lti-peer-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is None:
            return
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> TestPlatform:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("TestPlatform is not started")
        return self._server.server_port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        """The ``iss`` of every id_token: the base URL unless configured."""
        return self._issuer or self.base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def jwks_url(self) -> str:
        return self.url("/jwks")

    @property
    def auth_url(self) -> str:
        return self.url("/auth")

    @property
    def token_url(self) -> str:
        return self.url("/token")

    @property
    def deep_link_return_url(self) -> str:
        return self.url("/deep_link_return")

    @property
    def openid_configuration_url(self) -> str:
        return self.url("/.well-known/openid-configuration")

    @property
    def registration_url(self) -> str:
        return self.url("/register")

    @property
    def return_url(self) -> str:
        return self.url("/return")

    def tool_config(self, tool: ToolRegistration | None = None) -> dict[str, Any]:
        """The platform details a tool admin would copy into the tool (pylti1p3 shape)."""
        tool = tool or self._default_tool()
        return {
            "issuer": self.issuer,
            "client_id": tool.client_id,
            "deployment_ids": list(tool.deployment_ids),
            "auth_login_url": self.auth_url,
            "auth_token_url": self.token_url,
            "key_set_url": self.jwks_url,
        }

    # ------------------------------------------------------------------ keys

    def jwks(self) -> dict[str, Any]:
        """The public key set as ``/jwks`` serves it."""
        return {"keys": [k.public_jwk for k in self.keys]}

    def rotate_key(self, drop_old: bool = False) -> SigningKey:
        """Make a new signing key (new kid); keep old ones published unless ``drop_old``."""
        key = SigningKey.generate()
        with self._lock:
            self.keys = [key] if drop_old else [*self.keys, key]
            self.current_key = key
        return key

    def sign(
        self,
        claims: dict[str, Any],
        *,
        headers: dict[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:
        """Sign arbitrary claims as this platform would (RS256, current kid)."""
        key = key or self.current_key
        hdr = {"alg": "RS256", "typ": "JWT", "kid": key.kid, **(headers or {})}
        return encode_jws(claims, hdr, key.private_key, "RS256")

    # ---------------------------------------------------------- registration

    def register_tool(
        self,
        tool_base_url: str,
        *,
        client_id: str | None = None,
        deployment_ids: Iterable[str] | None = None,
        login_url: str | None = None,
        redirect_uris: Iterable[str] | None = None,
        jwks_url: str | None = None,
        target_link_uri: str | None = None,
        deep_linking_url: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> ToolRegistration:
        """Record a tool the way an LMS admin enters it by hand.

        Defaults: login ``<tool>/lti/login``, redirect ``[<tool>/lti/launch]``,
        JWKS ``<tool>/lti/jwks``, target_link_uri the launch URL, a random
        client_id and one deployment. The most recently registered tool is
        the default for :meth:`launch`.
        """
        base = tool_base_url.rstrip("/")
        launch_url = f"{base}/lti/launch"
        n = next(self._counter)
        tool = ToolRegistration(
            client_id=client_id or f"client-{n}-{secrets.token_hex(4)}",
            deployment_ids=list(deployment_ids or [f"deployment-{n}"]),
            login_url=login_url or f"{base}/lti/login",
            redirect_uris=list(redirect_uris or [launch_url]),
            jwks_url=jwks_url or f"{base}/lti/jwks",
            target_link_uri=target_link_uri or launch_url,
            tool_base_url=base,
            deep_linking_url=deep_linking_url,
            scopes=list(c.SERVICE_SCOPES if scopes is None else scopes),
        )
        with self._lock:
            self.tools.pop(tool.client_id, None)
            self.tools[tool.client_id] = tool
        return tool

    def _default_tool(self) -> ToolRegistration:
        if not self.tools:
            raise RuntimeError("no tool registered: call register_tool() first")
        return list(self.tools.values())[-1]

    # ---------------------------------------------------------------- launch

    def launch(
        self,
        browser: requests.Session,
        *,
        user: Mapping[str, Any] | str | None = None,
        roles: Iterable[str] = ("Learner",),
        message_type: str = c.MESSAGE_RESOURCE_LINK,
        target_link_uri: str | None = None,
        context: Mapping[str, Any] | None = _DEFAULT,
        resource_link: Mapping[str, Any] | None = _DEFAULT,
        locale: str = "id-ID",
        custom: Mapping[str, Any] | None = None,
        deep_linking_settings: Mapping[str, Any] | None = None,
        tamper: Tamper | None = None,
        client_id: str | None = None,
        deployment_id: str | None = None,
        login_method: str = "GET",
        follow: bool = True,
        document_target: str = "iframe",
        extra_claims: Mapping[str, Any] | None = None,
        login_hint: str | None = None,
    ) -> LaunchResult:
        """Run a full OIDC launch with ``browser`` playing the user's browser.

        (a) login initiation to the tool (GET, or POST form with
        ``login_method="POST"``); (b) the tool's redirect is followed by hand
        to ``/auth``; (c) ``/auth`` checks the authentication request and
        answers the auto-submitting form_post page; (d) that form is POSTed to
        the tool's redirect_uri and, with ``follow``, redirects inside the tool
        are followed to the first page. ``client_id`` picks a registered tool
        (an unregistered id is sent with the default tool's URLs);
        ``deployment_id`` may name a deployment the tool does not know.
        ``user`` is a bare ``sub`` string, a mapping with ``sub`` used as is
        (leave out name/email for a privacy-minded launch; ``{"sub": None}``
        is anonymous) or a mapping without ``sub`` merged into
        :data:`DEFAULT_USER`. ``roles`` takes short names (see
        :func:`expand_role`) or full URIs.
        ``context=None``/``resource_link=None`` omit those claims;
        ``deep_linking_settings`` entries override the defaults (``None``
        removes one). ``tamper`` is a :mod:`tests.peer.forgeries` hook.
        Never raises for a refused launch: inspect the returned result.
        """
        tool = self.tools.get(client_id) if client_id else self._default_tool()
        if tool is None:
            tool = self._default_tool()
        cid = client_id or tool.client_id
        dep = deployment_id or tool.deployment_id
        is_dl = message_type == c.MESSAGE_DEEP_LINKING
        if target_link_uri is None:
            target_link_uri = (tool.deep_linking_url if is_dl else None) or tool.target_link_uri

        if isinstance(user, str):
            user_claims: dict[str, Any] = {"sub": user}
        elif user is None:
            user_claims = dict(DEFAULT_USER)
        else:
            user_claims = {**DEFAULT_USER, **user} if "sub" not in user else dict(user)
        hint = login_hint or str(user_claims.get("sub", "anonymous"))
        message_hint = f"msg-{secrets.token_urlsafe(12)}"

        dl_settings = None
        if is_dl:
            dl_settings = {
                "deep_link_return_url": self.deep_link_return_url,
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
                "auto_create": False,
                "title": "Tambah aktivitas",
                "data": f"dl-{secrets.token_urlsafe(16)}",
            }
            for key, value in (deep_linking_settings or {}).items():
                if value is None:
                    dl_settings.pop(key, None)
                else:
                    dl_settings[key] = value

        params = {
            "iss": self.issuer,
            "login_hint": hint,
            "target_link_uri": target_link_uri,
            "lti_message_hint": message_hint,
            "client_id": cid,
            "lti_deployment_id": dep,
        }
        result = LaunchResult(
            client_id=cid,
            deployment_id=dep,
            login_url=tool.login_url,
            login_params=params,
            login_hint=hint,
            lti_message_hint=message_hint,
            target_link_uri=target_link_uri,
            message_type=message_type,
        )
        pending = _PendingLaunch(
            tool=tool,
            client_id=cid,
            deployment_id=dep,
            login_hint=hint,
            lti_message_hint=message_hint,
            target_link_uri=target_link_uri,
            message_type=message_type,
            user=user_claims,
            roles=[expand_role(r) for r in roles],
            context=dict(DEFAULT_CONTEXT)
            if context is _DEFAULT
            else (dict(context) if context is not None else None),
            resource_link=(
                None
                if is_dl
                else dict(DEFAULT_RESOURCE_LINK)
                if resource_link is _DEFAULT
                else (dict(resource_link) if resource_link is not None else None)
            ),
            locale=locale,
            custom=dict(custom) if custom is not None else None,
            dl_settings=dl_settings,
            document_target=document_target,
            extra_claims=dict(extra_claims or {}),
            tamper=tamper,
            result=result,
        )
        with self._lock:
            self._pending[message_hint] = pending

        # (a) third-party initiated login
        if login_method.upper() == "POST":
            resp = browser.post(tool.login_url, data=params, allow_redirects=False)
        else:
            resp = browser.get(tool.login_url, params=params, allow_redirects=False)
        result.login_response = resp
        result.responses.append(resp)

        # (b) follow the tool to our auth endpoint (redirect, or a form/JS page with a form)
        auth_resp = None
        for _hop in range(6):
            next_url, method, data = self._next_hop(resp)
            if next_url is None:
                result.error = (
                    f"tool did not send the browser to {self.auth_url} "
                    f"(last answer: HTTP {resp.status_code})"
                )
                return result
            if _same_endpoint(next_url, self.auth_url):
                result.auth_request_url = next_url
                if method == "POST":
                    auth_resp = browser.post(next_url, data=data, allow_redirects=False)
                else:
                    auth_resp = browser.get(next_url, allow_redirects=False)
                break
            if method == "POST":
                resp = browser.post(next_url, data=data, allow_redirects=False)
            else:
                resp = browser.get(next_url, allow_redirects=False)
            result.responses.append(resp)
        if auth_resp is None:
            result.error = "too many hops before reaching the platform's auth endpoint"
            return result
        pending.detached = True
        result.auth_response = auth_resp
        result.responses.append(auth_resp)
        if pending.tamper_exception is not None:
            raise RuntimeError("the tamper hook failed") from pending.tamper_exception
        if auth_resp.status_code != 200:
            result.auth_error = result.auth_error or auth_resp.text
            return result

        # (c)/(d) the auto-submitting form_post page -> the tool's redirect_uri
        form = find_form(auth_resp.text, auth_resp.url)
        result.form_action = form.action
        result.form = dict(form.fields)
        launch_resp = browser.post(
            form.action,
            data=form.fields,
            # a cross-origin form post: browsers send only the origin as Referer
            headers={"Origin": self.base_url, "Referer": self.base_url + "/"},
            allow_redirects=False,
        )
        result.launch_response = launch_resp
        result.responses.append(launch_resp)
        result.final_response = (
            self._follow_within(browser, launch_resp, result) if follow else launch_resp
        )
        return result

    def replay_launch(
        self, browser: requests.Session, result: LaunchResult, *, follow: bool = False
    ) -> requests.Response:
        """POST the very same id_token and state to the tool again (a replay attack)."""
        if not result.form_action:
            raise ValueError("that launch never reached the form_post step")
        resp = browser.post(
            result.form_action,
            data=result.form,
            headers={"Origin": self.base_url},
            allow_redirects=False,
        )
        return self._follow_within(browser, resp, None) if follow else resp

    def _next_hop(self, resp: requests.Response) -> tuple[str | None, str, dict[str, str] | None]:
        """Where a browser goes next from a login-step page (redirect or auto form)."""
        location = resp.headers.get("Location")
        if resp.status_code in _REDIRECT_CODES and location:
            return urljoin(resp.url, location), "GET", None
        ctype = resp.headers.get("Content-Type", "")
        if resp.status_code == 200 and "html" in ctype:
            for form in parse_forms(resp.text, resp.url):
                if _same_endpoint(form.action, self.auth_url):
                    if form.method == "POST":
                        return form.action, "POST", form.fields
                    return add_query_params(form.action, form.fields), "GET", None
            # a JavaScript or meta-refresh redirect naming the auth endpoint
            for match in _URL_IN_PAGE.finditer(resp.text):
                candidate = match.group(0).replace(
                    "&amp;", "&"
                )  # html.unescape would eat "&lti_..."
                if _same_endpoint(candidate, self.auth_url):
                    return candidate, "GET", None
        return None, "GET", None

    def _follow_within(
        self,
        browser: requests.Session,
        resp: requests.Response,
        result: LaunchResult | None,
    ) -> requests.Response:
        """Follow redirects while they stay on the tool's origin."""
        origin = urlsplit(resp.url).netloc
        for _ in range(10):
            location = resp.headers.get("Location")
            if resp.status_code not in _REDIRECT_CODES or not location:
                break
            nxt = urljoin(resp.url, location)
            if urlsplit(nxt).netloc != origin:
                break
            resp = browser.get(nxt, allow_redirects=False)
            if result is not None:
                result.responses.append(resp)
        return resp

    # ------------------------------------------------------------ deep link

    def submit_deep_link_form(
        self, browser: requests.Session, page: requests.Response | str, base_url: str | None = None
    ) -> requests.Response:
        """POST the tool's auto-submit deep-linking form as a browser would.

        ``page`` is the tool's response (or its HTML); the form holding the
        ``JWT`` field is posted to its ``action`` (normally
        :attr:`deep_link_return_url`), whatever that is.
        """
        if isinstance(page, requests.Response):
            base_url = base_url or page.url
            page = page.text
        form = find_form(page, base_url, field_name="JWT")
        if form.method == "GET":
            return browser.get(add_query_params(form.action, form.fields), allow_redirects=False)
        return browser.post(form.action, data=form.fields, allow_redirects=False)

    # --------------------------------------------------- dynamic registration

    def new_registration_token(self) -> str:
        """A fresh single-use bearer token for ``POST /register``."""
        token = f"regtok-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._registration_tokens[token] = False
        return token

    def registration_initiation_url(self, tool_url: str, token: str | None = None) -> str:
        """The tool's DR initiation URL with ``openid_configuration`` and ``registration_token``.

        Existing query parameters of ``tool_url`` are kept, as Moodle and
        Canvas do. A new token is minted unless one is given.
        """
        return add_query_params(
            tool_url,
            {
                "openid_configuration": self.openid_configuration_url,
                "registration_token": token or self.new_registration_token(),
            },
        )

    def start_dynamic_registration(
        self, browser: requests.Session, tool_url: str, token: str | None = None
    ) -> requests.Response:
        """Open the tool's registration page in the browser, as the LMS's iframe would."""
        return browser.get(self.registration_initiation_url(tool_url, token))

    def openid_configuration(self) -> dict[str, Any]:
        """The platform's OpenID configuration (LTI-DR 1.0 section 3.4)."""
        scopes = ["openid", *c.SERVICE_SCOPES]
        config: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": self.auth_url,
            "registration_endpoint": self.registration_url,
            "jwks_uri": self.jwks_url,
            "token_endpoint": self.token_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "scopes_supported": scopes,
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": [
                "iss",
                "aud",
                "sub",
                "name",
                "given_name",
                "family_name",
                "email",
                "locale",
            ],
            "subject_types_supported": ["public", "pairwise"],
        }
        if self.moodle_style:
            # Moodle 3.10-4.1 (mod/lti/openid-configuration.php): plain-string
            # message list (with "LtiResourceLink", not "...Request"),
            # placements beside it, no authorization_server.
            config[c.PLATFORM_CONFIGURATION] = {
                "product_family_code": "moodle",
                "version": self.platform_version,
                "messages_supported": ["LtiResourceLink", "LtiDeepLinkingRequest"],
                "placements": ["AddContentMenu"],
                "variables": list(PLATFORM_VARIABLES),
            }
        else:
            config["authorization_server"] = self.token_url
            config[c.PLATFORM_CONFIGURATION] = {
                "product_family_code": self.product_family_code,
                "version": self.platform_version,
                "messages_supported": [
                    {"type": c.MESSAGE_RESOURCE_LINK},
                    {"type": c.MESSAGE_DEEP_LINKING},
                ],
                "variables": list(PLATFORM_VARIABLES),
            }
        if self.openid_config_hook is not None:
            self.openid_config_hook(config)
        return config

    # ------------------------------------------------------------- requests

    def requests_from(self, path_prefix: str) -> list[RequestRecord]:
        """Logged requests whose path starts with ``path_prefix`` (e.g. ``/token``)."""
        with self._lock:
            return [r for r in self.requests_log if r.path.startswith(path_prefix)]

    # ============================================================ WSGI app

    def _build_app(self) -> Flask:
        app = Flask(f"lti_test_peer_{id(self)}")
        app.config["TESTING"] = True

        @app.before_request
        def _log_request() -> None:
            record = RequestRecord(
                method=request.method,
                path=request.path,
                query=dict(request.args),
                headers=dict(request.headers),
                body=request.get_data(cache=True),
                time=time.time(),
            )
            with self._lock:
                self.requests_log.append(record)

        @app.errorhandler(PeerError)
        def _peer_error(exc: PeerError) -> tuple[Response, int]:
            return jsonify(error=exc.error, error_description=exc.description), exc.status

        app.add_url_rule("/jwks", "jwks", self._view_jwks, methods=["GET"])
        app.add_url_rule("/auth", "auth", self._view_auth, methods=["GET", "POST"])
        app.add_url_rule("/token", "token", self._view_token, methods=["POST"])
        app.add_url_rule(
            "/deep_link_return",
            "deep_link_return",
            self._view_deep_link_return,
            methods=["POST"],
        )
        app.add_url_rule(
            "/.well-known/openid-configuration",
            "openid_configuration",
            lambda: jsonify(self.openid_configuration()),
            methods=["GET"],
        )
        app.add_url_rule("/register", "register", self._view_register, methods=["POST"])
        app.add_url_rule("/return", "return", self._view_return, methods=["GET"])
        app.add_url_rule(
            "/ags/<context_id>/lineitems",
            "ags_lineitems",
            lambda context_id: self._view_service("ags"),
            methods=["GET", "POST"],
        )
        app.add_url_rule(
            "/ags/<context_id>/lineitems/<path:rest>",
            "ags_lineitem",
            lambda context_id, rest: self._view_service("ags"),
            methods=["GET", "POST", "PUT", "DELETE"],
        )
        app.add_url_rule(
            "/nrps/<context_id>/memberships",
            "nrps",
            self._view_nrps,
            methods=["GET"],
        )
        return app

    # ----------------------------------------------------------------- /jwks

    def _view_jwks(self) -> Response:
        with self._lock:
            self.jwks_fetch_count += 1
            body = self.jwks()
        resp = jsonify(body)
        if self.jwks_cache_control:
            resp.headers["Cache-Control"] = self.jwks_cache_control
        return resp

    # ----------------------------------------------------------------- /auth

    def _auth_fail(self, pending: _PendingLaunch | None, reason: str) -> tuple[Response, int]:
        with self._lock:
            self.auth_errors.append(reason)
        if pending is not None and not pending.detached:
            pending.result.auth_error = reason
        body = jsonify(error="invalid_request", error_description=reason)
        return body, 400

    def _view_auth(self) -> Response | tuple[Response, int]:
        """OIDC authentication request (Security Framework 1.0, 5.1.1.2)."""
        params = request.args if request.method == "GET" else request.form
        p = {k: params.get(k, "") for k in params}
        with self._lock:
            pending = self._pending.get(p.get("lti_message_hint", ""))
        if pending is not None and not pending.detached:
            pending.result.auth_params = dict(p)

        if "openid" not in p.get("scope", "").split():
            return self._auth_fail(pending, "scope must be 'openid'")
        if p.get("response_type") != "id_token":
            return self._auth_fail(pending, "response_type must be 'id_token'")
        if p.get("response_mode") != "form_post":
            return self._auth_fail(pending, "response_mode must be 'form_post'")
        if p.get("prompt") != "none":
            return self._auth_fail(pending, "prompt must be 'none'")
        client_id = p.get("client_id", "")
        tool = self.tools.get(client_id)
        if tool is None:
            return self._auth_fail(pending, f"unknown client_id {client_id!r}")
        redirect_uri = p.get("redirect_uri", "")
        if redirect_uri not in tool.redirect_uris:
            return self._auth_fail(
                pending, f"redirect_uri {redirect_uri!r} is not registered for this tool"
            )
        if not p.get("nonce"):
            return self._auth_fail(pending, "nonce is required")
        if not p.get("state"):
            return self._auth_fail(pending, "state is required")
        if pending is None:
            return self._auth_fail(None, "lti_message_hint is missing or unknown")
        if p.get("login_hint") != pending.login_hint:
            return self._auth_fail(pending, "login_hint differs from the one sent")
        if client_id != pending.client_id:
            return self._auth_fail(pending, "client_id differs from the one sent")

        claims = self._build_claims(pending, p["nonce"])
        headers = {"alg": "RS256", "typ": "JWT", "kid": self.current_key.kid}
        forgery = Forgery(
            claims=claims,
            headers=headers,
            signing_key=self.current_key.private_key,
            algorithm="RS256",
            form={"state": p["state"]},
            action=redirect_uri,
            platform=self,
            tool=tool,
            auth_params=dict(p),
        )
        if pending.tamper is not None:
            try:
                pending.tamper(forgery)
            except Exception as exc:  # reported to the test by launch()
                pending.tamper_exception = exc
                return jsonify(error="server_error", error_description=repr(exc)), 500
            if forgery.headers.get("alg") == "RS256" and forgery.algorithm != "RS256":
                forgery.headers["alg"] = forgery.algorithm
        form = dict(forgery.form)
        if "id_token" not in form:
            form = {
                "id_token": encode_jws(
                    forgery.claims, forgery.headers, forgery.signing_key, forgery.algorithm
                ),
                **form,
            }

        settings = forgery.claims.get(c.CLAIM_DL_SETTINGS)
        if isinstance(settings, dict):
            record = DeepLinkRequestRecord(
                client_id=pending.client_id,
                deployment_id=str(forgery.claims.get(c.CLAIM_DEPLOYMENT_ID)),
                settings=dict(settings),
                issued_at=time.time(),
            )
            with self._lock:
                self.deep_link_requests[json.dumps(settings.get("data"))] = record

        if not pending.detached:
            res = pending.result
            res.id_token = form.get("id_token")
            res.id_token_header = dict(forgery.headers)
            res.claims = forgery.claims
            res.state = p["state"]
            res.nonce = p["nonce"]
        return Response(self._form_post_page(forgery.action, form), mimetype="text/html")

    def _build_claims(self, pending: _PendingLaunch, nonce: str) -> dict[str, Any]:
        """The id_token payload (LTI Core 1.3 section 5 plus AGS/NRPS/DL claims)."""
        now = int(time.time())
        cid = pending.client_id
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": cid,
            "azp": cid,
            "sub": pending.user.get("sub"),
            "exp": now + self.id_token_lifetime,
            "iat": now,
            "nonce": nonce,
        }
        for name in ("name", "given_name", "family_name", "email", "picture"):
            if pending.user.get(name) is not None:
                claims[name] = pending.user[name]
        if claims["sub"] is None:
            del claims["sub"]  # anonymous launch (LTI Core 5.3.6)
        claims["locale"] = pending.locale
        claims[c.CLAIM_MESSAGE_TYPE] = pending.message_type
        claims[c.CLAIM_VERSION] = c.LTI_VERSION
        claims[c.CLAIM_DEPLOYMENT_ID] = pending.deployment_id
        claims[c.CLAIM_TARGET_LINK_URI] = pending.target_link_uri
        claims[c.CLAIM_ROLES] = list(pending.roles)
        if pending.context is not None:
            claims[c.CLAIM_CONTEXT] = dict(pending.context)
        if pending.resource_link is not None:
            claims[c.CLAIM_RESOURCE_LINK] = dict(pending.resource_link)
        claims[c.CLAIM_LAUNCH_PRESENTATION] = {
            "document_target": pending.document_target,
            "locale": pending.locale,
            "return_url": self.return_url,
        }
        claims[c.CLAIM_TOOL_PLATFORM] = {
            "guid": self.platform_guid,
            "name": self.platform_name,
            "version": self.platform_version,
            "product_family_code": self.product_family_code,
            "url": self.base_url,
        }
        if pending.custom is not None:
            claims[c.CLAIM_CUSTOM] = dict(pending.custom)
        if pending.context is not None:
            ctx = str(pending.context.get("id"))
            ags_scopes = [s for s in c.AGS_SCOPES if s in pending.tool.scopes]
            if ags_scopes:
                endpoint: dict[str, Any] = {
                    "scope": ags_scopes,
                    "lineitems": self.url(f"/ags/{ctx}/lineitems"),
                }
                if pending.resource_link is not None:
                    rl = str(pending.resource_link.get("id"))
                    endpoint["lineitem"] = self.url(f"/ags/{ctx}/lineitems/{rl}/lineitem")
                claims[c.CLAIM_AGS_ENDPOINT] = endpoint
            if c.SCOPE_NRPS in pending.tool.scopes:
                claims[c.CLAIM_NRPS] = {
                    "context_memberships_url": self.url(f"/nrps/{ctx}/memberships"),
                    "service_versions": ["2.0"],
                }
        if pending.dl_settings is not None:
            claims[c.CLAIM_DL_SETTINGS] = dict(pending.dl_settings)
        claims.update(pending.extra_claims)
        return claims

    @staticmethod
    def _form_post_page(action: str, fields: Mapping[str, str]) -> str:
        """The auto-submitting page of the OAuth 2.0 form_post response mode."""
        inputs = "\n".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in fields.items()
        )
        return (
            "<!DOCTYPE html>\n<html><head><title>Launching&hellip;</title></head>\n"
            '<body onload="document.forms[0].submit()">\n'
            f'<form id="lti-form-post" method="post" action="{html.escape(action)}">\n'
            f'{inputs}\n<noscript><button type="submit">Continue</button></noscript>\n'
            "</form>\n</body></html>\n"
        )

    # ------------------------------------------------------ tool JWT checks

    def _fetch_tool_jwks(self, tool: ToolRegistration) -> dict[str, Any]:
        with self._lock:
            self.tool_jwks_fetches.append(tool.jwks_url)
        try:
            with requests.Session() as session:
                resp = session.get(
                    tool.jwks_url, headers={"User-Agent": PEER_USER_AGENT}, timeout=10
                )
            resp.raise_for_status()
            body = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise PeerError(f"cannot fetch the tool's JWKS: {exc}", error="invalid_client") from exc
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise PeerError("the tool's JWKS is not a key set", error="invalid_client")
        return body

    def _verify_tool_jwt(
        self, token: str, *, error: str
    ) -> tuple[ToolRegistration, dict[str, Any], dict[str, Any]]:
        """Check a JWT the tool signed: RS256, kid in its JWKS, exp/iat (not aud)."""
        try:
            header, unverified = decode_unverified(token)
        except (ValueError, TypeError) as exc:
            raise PeerError(f"not a compact JWS: {exc}", error=error) from exc
        if header.get("alg") != "RS256":
            raise PeerError(f"alg must be RS256, got {header.get('alg')!r}", error=error)
        kid = header.get("kid")
        if not kid:
            raise PeerError("the JWT header has no kid", error=error)
        iss = unverified.get("iss")
        tool = self.tools.get(iss) if isinstance(iss, str) else None
        if tool is None:
            raise PeerError(f"iss {iss!r} is not a registered client_id", error=error)
        jwks = self._fetch_tool_jwks(tool)
        jwk = next((k for k in jwks["keys"] if isinstance(k, dict) and k.get("kid") == kid), None)
        if jwk is None:
            raise PeerError(f"kid {kid!r} is not in the tool's JWKS", error=error)
        try:
            claims = jwt.decode(
                token,
                public_key_from_jwk(jwk),
                algorithms=["RS256"],
                options={"require": ["exp", "iat"], "verify_aud": False},
                leeway=self.leeway,
            )
        except (jwt.InvalidTokenError, ValueError) as exc:
            raise PeerError(f"JWT rejected: {exc}", error=error) from exc
        return tool, header, claims

    # -------------------------------------------------------- /deep_link_return

    def _view_deep_link_return(self) -> Response | tuple[Response, int]:
        """Deep Linking 2.0 section 4.2: verify the LtiDeepLinkingResponse."""
        token = request.form.get("JWT", "")
        record = DeepLinkReturn(ok=False, jwt=token or None)
        try:
            if not token:
                raise PeerError("the form has no JWT field")
            with contextlib.suppress(ValueError, TypeError):
                record.header, record.claims = decode_unverified(token)
            tool, header, claims = self._verify_tool_jwt(token, error="invalid_request")
            record.header, record.claims = header, claims
            record.request = self._check_deep_link_claims(tool, claims)
        except PeerError as exc:
            record.error = exc.description
            with self._lock:
                self.deep_link_errors.append(record)
            page = f"<html><body><h1>Deep linking refused</h1><p>{html.escape(exc.description)}"
            return Response(page + "</p></body></html>", status=400, mimetype="text/html")
        record.ok = True
        record.items = list(claims.get(c.CLAIM_DL_CONTENT_ITEMS) or [])
        with self._lock:
            self.deep_link_responses.append(record)
        titles = "".join(
            f"<li>{html.escape(str(i.get('title', i.get('type'))))}</li>" for i in record.items
        )
        page = f"<html><body><h1>Content added</h1><ul>{titles}</ul></body></html>"
        return Response(page, mimetype="text/html")

    def _check_deep_link_claims(
        self, tool: ToolRegistration, claims: dict[str, Any]
    ) -> DeepLinkRequestRecord:
        if self.issuer not in _aud_list(claims.get("aud")):
            raise PeerError(f"aud {claims.get('aud')!r} does not name the platform {self.issuer}")
        if not claims.get("nonce"):
            raise PeerError("nonce is required")
        if claims.get(c.CLAIM_MESSAGE_TYPE) != c.MESSAGE_DEEP_LINKING_RESPONSE:
            raise PeerError(f"message_type must be {c.MESSAGE_DEEP_LINKING_RESPONSE}")
        if claims.get(c.CLAIM_VERSION) != c.LTI_VERSION:
            raise PeerError(f"version must be {c.LTI_VERSION}")
        data = claims.get(c.CLAIM_DL_DATA)
        with self._lock:
            req = self.deep_link_requests.get(json.dumps(data))
        if req is None or req.client_id != tool.client_id:
            raise PeerError(f"data claim {data!r} does not echo the request's data")
        if claims.get(c.CLAIM_DEPLOYMENT_ID) != req.deployment_id:
            raise PeerError(
                f"deployment_id {claims.get(c.CLAIM_DEPLOYMENT_ID)!r} "
                f"does not match the request's {req.deployment_id!r}"
            )
        items = claims.get(c.CLAIM_DL_CONTENT_ITEMS, [])
        if not isinstance(items, list):
            raise PeerError("content_items must be a list")
        accept = req.settings.get("accept_types") or []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                raise PeerError("every content item must be an object with a type")
            if accept and item["type"] not in accept:
                raise PeerError(f"content item type {item['type']!r} was not accepted")
        if len(items) > 1 and req.settings.get("accept_multiple") in (False, "false"):
            raise PeerError("several content items but accept_multiple is false")
        return req

    # ----------------------------------------------------------------- /token

    def _view_token(self) -> tuple[Response, int] | Response:
        """OAuth 2.0 client_credentials with a JWT client assertion (RFC 7523, LTI Sec 4.1)."""
        form = {k: request.form.get(k, "") for k in request.form}
        record = TokenRequestRecord(form=form, headers=dict(request.headers), ok=False, status=400)
        try:
            granted, tool = self._check_token_request(form, record)
        except PeerError as exc:
            record.status, record.error, record.error_description = (
                exc.status,
                exc.error,
                exc.description,
            )
            with self._lock:
                self.token_requests.append(record)
            resp = jsonify(error=exc.error, error_description=exc.description)
            resp.headers["Cache-Control"] = "no-store"
            return resp, exc.status
        token = AccessToken(
            token=f"at-{secrets.token_urlsafe(24)}",
            client_id=tool.client_id,
            scopes=granted,
            expires_at=time.time() + self.token_expires_in,
        )
        record.ok, record.status = True, 200
        record.granted_scopes, record.access_token = granted, token.token
        with self._lock:
            self.access_tokens[token.token] = token
            self.token_requests.append(record)
        resp = jsonify(
            access_token=token.token,
            token_type="Bearer",
            expires_in=self.token_expires_in,
            scope=" ".join(granted),
        )
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Pragma"] = "no-cache"
        return resp

    def _check_token_request(
        self, form: dict[str, str], record: TokenRequestRecord
    ) -> tuple[list[str], ToolRegistration]:
        if form.get("grant_type") != "client_credentials":
            raise PeerError(
                f"grant_type {form.get('grant_type')!r} is not supported",
                error="unsupported_grant_type",
            )
        if form.get("client_assertion_type") != c.CLIENT_ASSERTION_TYPE:
            raise PeerError(
                f"client_assertion_type must be {c.CLIENT_ASSERTION_TYPE}", error="invalid_client"
            )
        assertion = form.get("client_assertion", "")
        if not assertion:
            raise PeerError("client_assertion is required", error="invalid_client")
        with contextlib.suppress(ValueError, TypeError):
            record.assertion_header, record.assertion_claims = decode_unverified(assertion)
        tool, header, claims = self._verify_tool_jwt(assertion, error="invalid_client")
        record.assertion_header, record.assertion_claims = header, claims
        if claims.get("sub") != tool.client_id or claims.get("iss") != tool.client_id:
            raise PeerError("iss and sub must both be the client_id", error="invalid_client")
        auds = _aud_list(claims.get("aud"))
        if not ({self.token_url, self.issuer} & set(auds)):
            raise PeerError(
                f"aud {claims.get('aud')!r} names neither {self.token_url} nor {self.issuer}",
                error="invalid_client",
            )
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise PeerError("jti is required", error="invalid_client")
        now = time.time()
        with self._lock:
            self._used_jtis = {j: e for j, e in self._used_jtis.items() if e + 600 > now}
            if jti in self._used_jtis:
                raise PeerError(f"jti {jti!r} was already used", error="invalid_grant")
            self._used_jtis[jti] = float(claims["exp"])
        requested = form["scope"].split() if form.get("scope") else list(tool.scopes)
        granted = [s for s in dict.fromkeys(requested) if s in tool.scopes]
        if not granted:
            raise PeerError(
                f"none of the requested scopes {requested!r} is allowed", error="invalid_scope"
            )
        return granted, tool

    # --------------------------------------------------------------- services

    def _view_service(self, service: str) -> tuple[Response, int]:
        """AGS/NRPS stand-ins: check the bearer token, then answer 501."""
        auth = request.headers.get("Authorization", "")
        token = None
        if auth.startswith("Bearer "):
            with self._lock:
                token = self.access_tokens.get(auth[len("Bearer ") :].strip())
        needed = c.AGS_SCOPES if service == "ags" else [c.SCOPE_NRPS]
        authorized = (
            token is not None
            and token.expires_at > time.time()
            and any(s in token.scopes for s in needed)
        )
        with self._lock:
            self.service_calls.append(
                ServiceCall(service, request.method, request.path, authorized, token)
            )
        if not authorized:
            resp = jsonify(error="invalid_token")
            resp.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return resp, 401
        return jsonify(error="not_implemented", service=service), 501

    def set_members(self, context_id: str, members: list[dict[str, Any]]) -> None:
        """The course roster NRPS serves: dicts with user_id, name, email, roles
        (short names are expanded), status (default Active)."""
        with self._lock:
            self.memberships[context_id] = [
                {
                    "status": m.get("status", "Active"),
                    "user_id": m["user_id"],
                    "name": m.get("name"),
                    "given_name": m.get("given_name"),
                    "family_name": m.get("family_name"),
                    "email": m.get("email"),
                    "lis_person_sourcedid": m.get("lis_person_sourcedid"),
                    "roles": [expand_role(r) for r in m.get("roles", ["Learner"])],
                }
                for m in members
            ]

    def _view_nrps(self, context_id: str) -> tuple[Response, int] | Response:
        """NRPS 2.0 membership container, paged (`limit`, Link rel="next")."""
        denied = self._view_service("nrps")
        if denied[1] != 501:
            return denied
        with self._lock:
            members = list(self.memberships.get(context_id, []))
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", self.nrps_page_size))
        page = members[offset : offset + limit]
        body = {
            "id": request.url,
            "context": {"id": context_id},
            "members": [{k: v for k, v in m.items() if v is not None} for m in page],
        }
        resp = jsonify(body)
        resp.headers["Content-Type"] = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        if offset + limit < len(members):
            nxt = self.url(f"/nrps/{context_id}/memberships?offset={offset + limit}&limit={limit}")
            resp.headers["Link"] = f'<{nxt}>; rel="next"'
        return resp

    # ------------------------------------------------------------------ /return

    def _view_return(self) -> Response:
        with self._lock:
            self.returns.append(dict(request.args))
        return Response("<html><body>Kembali ke LMS</body></html>", mimetype="text/html")

    # --------------------------------------------------------------- /register

    def _view_register(self) -> tuple[Response, int] | Response:
        """LTI-DR 1.0 section 3.5: the tool's registration request."""
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else ""
        body = request.get_json(silent=True)
        try:
            with self._lock:
                if not token or token not in self._registration_tokens:
                    raise PeerError(
                        "a valid registration token is required (Authorization: Bearer)",
                        error="invalid_token",
                        status=401,
                    )
                if self._registration_tokens[token]:
                    raise PeerError(
                        "this registration token was already used",
                        error="invalid_token",
                        status=401,
                    )
            if not isinstance(body, dict):
                raise PeerError("the body must be a JSON object", error="invalid_client_metadata")
            tool_conf, granted = self._check_client_metadata(body)
            with self._lock:
                if self._registration_tokens.get(token):
                    raise PeerError(
                        "this registration token was already used",
                        error="invalid_token",
                        status=401,
                    )
                self._registration_tokens[token] = True
        except PeerError as exc:
            with self._lock:
                self.registration_errors.append(
                    {
                        "error": exc.error,
                        "error_description": exc.description,
                        "status": exc.status,
                        "request_json": body,
                        "headers": dict(request.headers),
                    }
                )
            return jsonify(error=exc.error, error_description=exc.description), exc.status

        n = next(self._counter)
        client_id = f"dr-client-{n}-{secrets.token_hex(4)}"
        deployment_id = f"dr-deployment-{n}"
        target = tool_conf["target_link_uri"]
        dl_url = next(
            (
                m.get("target_link_uri")
                for m in tool_conf.get("messages", [])
                if m.get("type") == c.MESSAGE_DEEP_LINKING and m.get("target_link_uri")
            ),
            None,
        )
        parts = urlsplit(target)
        tool = ToolRegistration(
            client_id=client_id,
            deployment_ids=[deployment_id],
            login_url=body["initiate_login_uri"],
            redirect_uris=list(body["redirect_uris"]),
            jwks_url=body["jwks_uri"],
            target_link_uri=target,
            tool_base_url=f"{parts.scheme}://{parts.netloc}",
            deep_linking_url=dl_url,
            scopes=granted,
            source="dynamic",
            metadata=body,
        )
        response = json.loads(json.dumps(body))
        response["client_id"] = client_id
        response["scope"] = " ".join(granted)
        response[c.TOOL_CONFIGURATION]["deployment_id"] = deployment_id
        with self._lock:
            self.tools[client_id] = tool
            self.registrations.append(
                RegistrationRecord(
                    token=token,
                    request_json=body,
                    headers=dict(request.headers),
                    raw_body=request.get_data(cache=True),
                    response_json=response,
                    client_id=client_id,
                    deployment_id=deployment_id,
                    tool=tool,
                )
            )
        return jsonify(response), 200

    def _check_client_metadata(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Validate the registration request (LTI-DR 1.0 section 3.5.1, OIDC DCR)."""

        def bad(msg: str, error: str = "invalid_client_metadata") -> PeerError:
            return PeerError(msg, error=error)

        if body.get("application_type") != "web":
            raise bad("application_type must be 'web'")
        response_types = body.get("response_types")
        if not isinstance(response_types, list) or "id_token" not in response_types:
            raise bad("response_types must contain 'id_token'")
        grants = body.get("grant_types")
        if not isinstance(grants, list) or not {"implicit", "client_credentials"} <= set(grants):
            raise bad("grant_types must include 'implicit' and 'client_credentials'")
        if not _is_abs_url(body.get("initiate_login_uri")):
            raise bad("initiate_login_uri must be an absolute URL")
        redirects = body.get("redirect_uris")
        if (
            not isinstance(redirects, list)
            or not redirects
            or not all(_is_abs_url(u) for u in redirects)
        ):
            raise bad(
                "redirect_uris must be a non-empty list of absolute URLs",
                error="invalid_redirect_uri",
            )
        if not _is_abs_url(body.get("jwks_uri")):
            raise bad("jwks_uri must be an absolute URL")
        if body.get("token_endpoint_auth_method") != "private_key_jwt":
            raise bad("token_endpoint_auth_method must be 'private_key_jwt'")
        scope = body.get("scope", "")
        if not isinstance(scope, str):
            raise bad("scope must be a space-separated string")
        if "client_name" in body and not isinstance(body["client_name"], str):
            raise bad("client_name must be a string")
        conf = body.get(c.TOOL_CONFIGURATION)
        if not isinstance(conf, dict):
            raise bad(f"{c.TOOL_CONFIGURATION} object is required")
        domain = conf.get("domain")
        if not isinstance(domain, str) or not domain:
            raise bad("lti-tool-configuration.domain is required")
        target = conf.get("target_link_uri")
        if not _is_abs_url(target):
            raise bad("lti-tool-configuration.target_link_uri must be an absolute URL")
        parts = urlsplit(target)
        if domain.lower() not in {parts.netloc.lower(), (parts.hostname or "").lower()}:
            raise bad(f"domain {domain!r} does not match target_link_uri host {parts.netloc!r}")
        claims = conf.get("claims", [])
        if not isinstance(claims, list) or not all(isinstance(x, str) for x in claims):
            raise bad("lti-tool-configuration.claims must be a list of strings")
        messages = conf.get("messages", [])
        if not isinstance(messages, list) or not all(
            isinstance(m, dict) and isinstance(m.get("type"), str) for m in messages
        ):
            raise bad("lti-tool-configuration.messages must be a list of objects with a type")
        for m in messages:
            if "target_link_uri" in m and not _is_abs_url(m["target_link_uri"]):
                raise bad(f"message {m['type']} has an invalid target_link_uri")
        granted = [s for s in dict.fromkeys(scope.split()) if s in c.SERVICE_SCOPES]
        return conf, granted
