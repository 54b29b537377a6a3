"""An independent LTI 1.3 *platform* (a stand-in LMS) served over real HTTP.

Our tool must be tested against something that behaves like Moodle or Canvas
on the wire, not against its own code: this platform signs id_tokens with
RS256 and a published JWKS, runs the OIDC third-party-initiated login with a
real browser-like ``requests.Session``, verifies deep-linking responses and
token-endpoint client assertions against the tool's JWKS fetched over HTTP,
implements LTI Dynamic Registration, serves NRPS 2.0 rosters and an AGS 2.0
gradebook (line items, scores, results; see :mod:`tests.peer.ags`), and can
make any endpoint fail on purpose (:meth:`TestPlatform.fail_next`). It follows
LTI Core 1.3, the 1EdTech Security Framework 1.0, Deep Linking 2.0, NRPS 2.0,
AGS 2.0 and LTI-DR 1.0, and imports nothing from ``lti_tool``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import http.cookiejar
import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import jwt
import requests
from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import ags
from . import constants as c
from . import storage as platform_storage
from .ags import AgsError, FaultHit, FaultRule, GradebookEntry, LineItem
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
    #: the platform's number for this tool (Moodle's ``type_id``), put in AGS URLs
    type_id: str = ""

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
    #: the assertion's ``iss`` (the tool's client_id), even for a refused request
    client_id: str | None = None
    #: the ``scope`` form field, split
    requested_scopes: list[str] = field(default_factory=list)
    #: answered by an injected fault (see ``TestPlatform.fail_next``)
    fault: bool = False


class TokenRequestLog(list[TokenRequestRecord]):
    """Every ``/token`` call in order, with counts per client and scope set."""

    def tally(self, *, ok: bool | None = None) -> Counter[tuple[str | None, frozenset[str]]]:
        """``{(client_id, frozenset(requested scopes)): number of requests}``
        (only the granted or only the refused ones with ``ok``)."""
        return Counter(
            (r.client_id, frozenset(r.requested_scopes))
            for r in list(self)
            if ok is None or r.ok == ok
        )

    def count_for(
        self,
        client_id: str | None = None,
        scopes: Iterable[str] | None = None,
        *,
        ok: bool | None = None,
    ) -> int:
        """How many token requests came from ``client_id`` (any if ``None``) for
        exactly the scope set ``scopes`` (any if ``None``), optionally only the
        granted (``ok=True``) or refused (``ok=False``) ones."""
        wanted = frozenset(scopes) if scopes is not None else None
        return sum(
            1
            for r in list(self)
            if (client_id is None or r.client_id == client_id)
            and (wanted is None or frozenset(r.requested_scopes) == wanted)
            and (ok is None or r.ok == ok)
        )


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
    """A call to the AGS/NRPS endpoints.

    ``authorized`` is true once the bearer token was valid and held a scope
    the endpoint accepts; ``kind`` is ``lineitems``/``lineitem``/``scores``/
    ``results``/``nrps``; ``status`` the HTTP answer and ``error`` why it
    was refused.
    """

    service: str
    method: str
    path: str
    authorized: bool
    token: AccessToken | None
    status: int = 0
    kind: str = ""
    query: str = ""
    error: str | None = None


class PeerError(Exception):
    """A request the platform refuses; carries the HTTP status and OAuth error code."""

    def __init__(
        self,
        description: str,
        *,
        error: str = "invalid_request",
        status: int = 400,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(description)
        self.description = description
        self.error = error
        self.status = status
        self.headers = dict(headers or {})


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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
    (launch_presentation return_url), ``/lms/course/<id>`` (a course page with the
    tool in an iframe, see :meth:`course_page`), NRPS 2.0 under ``/nrps`` and AGS 2.0
    under ``/ags``: ``/ags/<context>/lineitems`` (GET/POST),
    ``.../lineitems/<n>/lineitem`` (GET/PUT/DELETE), ``.../lineitem/scores``
    (POST) and ``.../lineitem/results`` (GET).

    ``lineitem_url_query`` says which line item URLs carry a query string
    (``?type_id=<tool's number>``, as Moodle's do), so a tool must put
    ``/scores`` and ``/results`` before the query and repeat it:
    ``"created"`` (default) for items the tool POSTs (and
    :meth:`add_lineitem`), ``"all"`` (default when ``moodle_style``) for
    those and the launch's ``lineitems``/``lineitem`` URLs too, ``"none"``
    for plain URLs (Canvas-like). ``ags_page_size`` pages line item and
    result containers even when the tool sends no ``limit``.
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
        lineitem_url_query: str | None = None,
        ags_page_size: int | None = None,
    ) -> None:
        if lineitem_url_query not in (None, "created", "all", "none"):
            raise ValueError("lineitem_url_query must be 'created', 'all' or 'none'")
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
        self.token_requests: TokenRequestLog = TokenRequestLog()
        self.access_tokens: dict[str, AccessToken] = {}
        self.registrations: list[RegistrationRecord] = []
        self.registration_errors: list[dict[str, Any]] = []
        self.service_calls: list[ServiceCall] = []
        #: NRPS rosters by context id (see set_members), served this many per page.
        self.memberships: dict[str, list[dict[str, Any]]] = {}
        self.nrps_page_size = 50
        self._init_groups()  # LTI Course Groups Service, see its section
        self.returns: list[dict[str, str]] = []
        #: course pages embedding the tool in an iframe (see course_page), by id
        self._course_pages: dict[str, dict[str, Any]] = {}
        #: ``verify`` of the peer's own calls to the tool (its JWKS): a CA bundle path
        #: when the tool is served over HTTPS with a test certificate
        self.tool_tls_verify: bool | str = True

        # AGS 2.0
        self.lineitem_url_query: str = lineitem_url_query or ("all" if moodle_style else "created")
        self.ags_page_size = ags_page_size
        #: make a line item for every launched resource link (its ``lineitem`` claim)
        self.auto_lineitems = True
        #: scoreMaximum of the line items made for launched resource links
        self.default_score_maximum: float = 100
        #: HTTP status of an accepted score (the spec allows 200, 201, 202 or 204)
        self.score_status = 200
        #: compare score timestamps to the whole second, as Moodle does (``strtotime``)
        self.whole_second_timestamps = moodle_style
        self._lineitems: dict[str, LineItem] = {}
        self._gradebook: dict[str, dict[str, GradebookEntry]] = {}  # item id -> user -> entry
        self._score_log: dict[str, list[dict[str, Any]]] = {}  # item id -> accepted scores
        self._lineitem_ids = itertools.count(1)
        self._contexts: set[str] = set()
        self._resource_links: dict[str, dict[str, str]] = {}  # context -> link id -> title
        self._launch_roles: dict[str, dict[str, set[str]]] = {}  # context -> sub -> roles

        # fault injection
        self.faults: list[FaultRule] = []
        self.faults_fired: list[FaultHit] = []
        self._stopping = threading.Event()

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
        self._stopping.clear()
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
        self._stopping.set()  # cut injected delays short
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
            type_id=str(n),
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
        storage_target: str | None = None,
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
        :func:`expand_role`) or full URIs. ``storage_target`` adds
        ``lti_storage_target`` to the login (the frame of the LTI platform storage,
        ``_parent`` or a frame name; served by :meth:`course_page` pages).
        ``context=None``/``resource_link=None`` omit those claims;
        ``deep_linking_settings`` entries override the defaults (``None``
        removes one). ``tamper`` is a :mod:`tests.peer.forgeries` hook.
        Never raises for a refused launch: inspect the returned result.
        """
        tool, params, pending = self._prepare_launch(
            user=user,
            roles=roles,
            message_type=message_type,
            target_link_uri=target_link_uri,
            context=context,
            resource_link=resource_link,
            locale=locale,
            custom=custom,
            deep_linking_settings=deep_linking_settings,
            tamper=tamper,
            client_id=client_id,
            deployment_id=deployment_id,
            document_target=document_target,
            extra_claims=extra_claims,
            login_hint=login_hint,
            storage_target=storage_target,
        )
        result = pending.result

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

    def _prepare_launch(
        self,
        *,
        user: Mapping[str, Any] | str | None,
        roles: Iterable[str],
        message_type: str,
        target_link_uri: str | None,
        context: Mapping[str, Any] | None,
        resource_link: Mapping[str, Any] | None,
        locale: str,
        custom: Mapping[str, Any] | None,
        deep_linking_settings: Mapping[str, Any] | None,
        tamper: Tamper | None,
        client_id: str | None,
        deployment_id: str | None,
        document_target: str,
        extra_claims: Mapping[str, Any] | None,
        login_hint: str | None,
        storage_target: str | None = None,
    ) -> tuple[ToolRegistration, dict[str, str], _PendingLaunch]:
        """Record a pending launch (what ``/auth`` will sign) and give the login
        initiation parameters; see :meth:`launch` for the arguments."""
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
        if storage_target:
            params["lti_storage_target"] = storage_target
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
        return tool, params, pending

    def course_page(
        self, *, title: str = "Modul", forge_storage_replies: bool = False, **launch: Any
    ) -> str:
        """The URL of an LMS course page that embeds the tool in an iframe, as Moodle
        and Canvas do. Each view of the page starts a new launch inside the iframe: its
        ``src`` is the tool's login initiation (GET), so a real browser runs the whole
        OIDC flow (tool login, ``/auth``, the auto-posted id_token) in the frame.
        ``launch`` takes the arguments of :meth:`launch` about the message (user,
        roles, target_link_uri, locale, message_type, deep_linking_settings...).
        With ``storage_target`` the page is also the LTI platform storage, and
        ``forge_storage_replies`` adds a hostile frame forging its replies (see
        :mod:`tests.peer.storage`)."""
        defaults: dict[str, Any] = {
            "user": None,
            "roles": ("Learner",),
            "message_type": c.MESSAGE_RESOURCE_LINK,
            "target_link_uri": None,
            "context": _DEFAULT,
            "resource_link": _DEFAULT,
            "locale": "id-ID",
            "custom": None,
            "deep_linking_settings": None,
            "tamper": None,
            "client_id": None,
            "deployment_id": None,
            "document_target": "iframe",
            "extra_claims": None,
            "login_hint": None,
            "storage_target": None,
        }
        unknown = set(launch) - set(defaults)
        if unknown:
            raise TypeError(f"course_page() got unknown launch arguments {sorted(unknown)}")
        page_id = secrets.token_urlsafe(8)
        with self._lock:
            self._course_pages[page_id] = {
                "title": title,
                "launch": {**defaults, **launch},
                "forge": forge_storage_replies,
            }
        return self.url(f"/lms/course/{page_id}")

    def _view_course_page(self, page_id: str) -> Response | tuple[str, int]:
        with self._lock:
            spec = self._course_pages.get(page_id)
        if spec is None:
            return "no such course page", 404
        tool, params, _pending = self._prepare_launch(**spec["launch"])
        src = add_query_params(tool.login_url, params)
        title = html.escape(spec["title"])
        head, frames, waits = platform_storage.page_parts(
            storage_target=spec["launch"]["storage_target"],
            tool_origin=_origin(tool.login_url),
            peer_origin=self.base_url,
            forger_origin=self.forger_origin if spec["forge"] else None,
        )
        if waits:  # the tool's frame starts once the storage and hostile frames are in
            head += (
                f"<script>var peerWaiting = {waits};\n"
                "function peerFrameLoaded() { peerWaiting -= 1; if (peerWaiting === 0) {"
                " var t = document.getElementById('lti-tool'); t.src = t.dataset.src; } }"
                "</script>\n"
            )
        src_attr = "data-src" if waits else "src"
        page = (
            '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n"
            "<style>html,body{margin:0;height:100%}body{display:flex;flex-direction:column;"
            "font:14px sans-serif}header{padding:8px 12px;background:#263238;color:#fff}"
            f"iframe{{flex:1;width:100%;border:0}}</style>\n{head}</head>\n"
            f"<body><header>{html.escape(self.platform_name)} · {title}</header>\n"
            f"{frames}"
            f'<iframe id="lti-tool" name="lti-tool" title="{title}" '
            f'{src_attr}="{html.escape(src)}"></iframe>\n</body></html>\n'
        )
        return Response(page, mimetype="text/html")

    @property
    def forger_origin(self) -> str:
        """Another origin of this server (``localhost`` for ``127.0.0.1``): the hostile
        frame of a course page with ``forge_storage_replies``."""
        return f"http://localhost:{self.port}"

    def _view_storage_js(self) -> Response:
        return Response(platform_storage.PLATFORM_STORAGE_JS, mimetype="text/javascript")

    def _view_storage_frame(self) -> Response:
        page = platform_storage.storage_frame_page(
            request.args.get("tool_origin", ""), request.args.get("frame", "")
        )
        return Response(page, mimetype="text/html")

    def _view_forger(self) -> Response:
        page = platform_storage.forger_page(request.args.get("peer", self.base_url))
        return Response(page, mimetype="text/html")

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

    # ------------------------------------------------------------------- AGS

    def lineitems_url(self, context_id: str, tool: ToolRegistration | None = None) -> str:
        """The line items container URL a launch advertises (``?type_id=`` in "all" mode)."""
        url = self.url(f"/ags/{quote(context_id, safe='')}/lineitems")
        tool = tool or (self._default_tool() if self.tools else None)
        if self.lineitem_url_query == "all" and tool is not None:
            url += f"?type_id={tool.type_id}"
        return url

    def add_lineitem(
        self,
        context_id: str,
        *,
        label: str,
        score_maximum: float = 100,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        start_date_time: str | None = None,
        end_date_time: str | None = None,
        client_id: str | None = _DEFAULT,
        query: bool | None = None,
        coupled: bool | None = None,
    ) -> dict[str, Any]:
        """Make a gradebook column as an instructor would; returns its AGS JSON.

        The item belongs to ``client_id`` (default: the default tool; ``None``
        lets every tool see it). ``query`` puts ``?type_id=<owner's number>``
        (``0`` for an unowned item) in its URL (default: unless
        ``lineitem_url_query`` is ``"none"``). An item with a
        ``resource_link_id`` is by default *coupled*: it is the one launches
        of that link name in their ``lineitem`` claim, and it cannot be deleted.
        """
        if client_id is _DEFAULT:
            client_id = self._default_tool().client_id if self.tools else None
        tool = self.tools.get(client_id) if client_id else None
        if query is None:
            query = self.lineitem_url_query != "none"
        item = self._new_lineitem(
            context_id,
            label=label,
            score_maximum=score_maximum,
            client_id=client_id,
            query=f"type_id={tool.type_id if tool else 0}" if query else "",
            resource_id=resource_id,
            tag=tag,
            resource_link_id=resource_link_id,
            start_date_time=start_date_time,
            end_date_time=end_date_time,
            coupled=resource_link_id is not None if coupled is None else coupled,
        )
        if resource_link_id is not None:
            with self._lock:
                self._resource_links.setdefault(context_id, {}).setdefault(resource_link_id, label)
        return item.to_json(self.base_url)

    def lineitems(self, context_id: str) -> list[dict[str, Any]]:
        """Every line item of a context (any tool's), as AGS JSON, oldest first."""
        with self._lock:
            items = [i for i in self._lineitems.values() if i.context_id == context_id]
        return [i.to_json(self.base_url) for i in items]

    def lineitem(self, lineitem: Any) -> dict[str, Any]:
        """One line item's AGS JSON, by id, URL (query and suffix allowed) or JSON."""
        return self._find_lineitem(lineitem).to_json(self.base_url)

    def gradebook(self, lineitem: Any) -> dict[str, float | None]:
        """``{user_id: resultScore}`` of a line item: the value on the item's scale
        set by the last FullyGraded score, ``None`` when another score cleared it."""
        item = self._find_lineitem(lineitem)
        with self._lock:
            return {u: e.result_score for u, e in self._gradebook.get(item.item_id, {}).items()}

    def result(self, lineitem: Any, user_id: str) -> GradebookEntry | None:
        """A copy of a user's gradebook entry (value, comment, progress, history)."""
        item = self._find_lineitem(lineitem)
        with self._lock:
            entry = self._gradebook.get(item.item_id, {}).get(user_id)
            if entry is None:
                return None
            return dataclasses.replace(entry, history=[dict(h) for h in entry.history])

    def score_history(self, lineitem: Any, user_id: str | None = None) -> list[dict[str, Any]]:
        """The score bodies the platform accepted for a line item (one user's, or
        everyone's), in the order they arrived; refused scores are not in it."""
        item = self._find_lineitem(lineitem)
        with self._lock:
            log = list(self._score_log.get(item.item_id, []))
        return [dict(h) for h in log if user_id is None or h.get("userId") == user_id]

    def is_learner(self, context_id: str, user_id: str) -> bool:
        """Whether scores may be posted for the user: a Learner (or a Learner
        sub-role) in the context's NRPS roster or in any launch the platform made."""
        with self._lock:
            roles = set(self._launch_roles.get(context_id, {}).get(user_id, set()))
            for member in self.memberships.get(context_id, []):
                if member["user_id"] == user_id:
                    roles.update(member["roles"])
        learner_sub = c.ROLE_LEARNER.replace("#Learner", "/Learner#")
        return any(r == c.ROLE_LEARNER or r.startswith(learner_sub) for r in roles)

    # --------------------------------------------------------- fault injection

    def fail_next(
        self,
        target: str,
        status: int | None = _DEFAULT,
        *,
        times: int = 1,
        retry_after: int | float | str | None = None,
        body: Any = None,
        delay: float | None = None,
        method: str | None = None,
    ) -> FaultRule:
        """Make the next ``times`` matching requests fail (thread-safe).

        ``target`` is a kind (``token``, ``jwks``, ``nrps``, ``ags`` and its
        parts ``lineitems``, ``lineitem``, ``scores``, ``results``) or else a
        regular expression searched in the path plus query. ``status`` is the
        answer (default 503; with only a ``delay`` the request is answered
        normally after sleeping, to trip a client timeout; the platform then
        still processes it, as a real one would). ``retry_after`` sets the
        ``Retry-After`` header (seconds or an HTTP date), ``body`` the answer
        (dict/list as JSON, str/bytes as text; default a JSON error),
        ``method`` limits the rule to one HTTP method. Rules are tried in
        the order they were added; a matched request is logged in
        ``requests_log`` and ``faults_fired`` (and a faulted ``/token`` call
        in ``token_requests``), and is not seen by the endpoint.
        """
        if status is _DEFAULT:
            status = None if delay is not None else 503
        if status is None and not delay:
            raise ValueError("a fault needs a status, a delay, or both")
        if times < 1:
            raise ValueError("times must be >= 1")
        if target not in ags.FAULT_KINDS:
            re.compile(target)
        rule = FaultRule(
            target=target,
            status=status,
            remaining=times,
            retry_after=retry_after,
            body=body,
            delay=delay,
            method=method,
        )
        with self._lock:
            self.faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        """Drop every pending fault rule."""
        with self._lock:
            self.faults.clear()

    def expire_tokens(self) -> int:
        """Make every access token issued so far invalid (401 on its next use);
        tokens issued afterwards work. Returns how many were still live."""
        now = time.time()
        with self._lock:
            live = [t for t in self.access_tokens.values() if t.expires_at > now]
            for token in live:
                token.expires_at = now - 1
        return len(live)

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

        app.before_request(self._inject_fault)

        @app.errorhandler(PeerError)
        @app.errorhandler(AgsError)
        def _peer_error(exc: PeerError | AgsError) -> tuple[Response, int]:
            resp = jsonify(error=exc.error, error_description=exc.description)
            for name, value in exc.headers.items():
                resp.headers[name] = value
            return resp, exc.status

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
            "/lms/course/<page_id>", "course_page", self._view_course_page, methods=["GET"]
        )
        app.add_url_rule("/lms/platform_storage.js", "storage_js", self._view_storage_js)
        app.add_url_rule("/lms/storage-frame", "storage_frame", self._view_storage_frame)
        app.add_url_rule("/lms/forger", "forger", self._view_forger)
        ags_routes: list[tuple[str, str, Callable[..., Response], list[str]]] = [
            ("/ags/<context_id>/lineitems", "lineitems", self._ags_lineitems, ["GET", "POST"]),
            (
                "/ags/<context_id>/lineitems/<item_id>/lineitem",
                "lineitem",
                self._ags_lineitem,
                ["GET", "PUT", "DELETE"],
            ),
            (
                "/ags/<context_id>/lineitems/<item_id>/lineitem/scores",
                "scores",
                self._ags_scores,
                ["POST"],
            ),
            (
                "/ags/<context_id>/lineitems/<item_id>/lineitem/results",
                "results",
                self._ags_results,
                ["GET"],
            ),
            (
                "/ags/<context_id>/lineitems/<path:rest>",
                "unknown",
                self._ags_unknown,
                ["GET", "POST", "PUT", "DELETE", "PATCH"],
            ),
        ]
        for rule, kind, handler, methods in ags_routes:
            app.add_url_rule(
                rule,
                f"ags_{kind}",
                self._service_view("ags", kind, handler),
                methods=methods,
            )
        app.add_url_rule(
            "/nrps/<context_id>/memberships",
            "nrps",
            self._view_nrps,
            methods=["GET"],
        )
        self._add_groups_routes(app)
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
            self._note_launch(pending, ctx)
            ags_scopes = [s for s in c.AGS_SCOPES if s in pending.tool.scopes]
            if ags_scopes:
                endpoint: dict[str, Any] = {
                    "scope": ags_scopes,
                    "lineitems": self.lineitems_url(ctx, pending.tool),
                }
                if pending.resource_link is not None and self.auto_lineitems:
                    item = self._coupled_lineitem(ctx, pending.resource_link, pending.tool)
                    endpoint["lineitem"] = item.url(self.base_url)
                claims[c.CLAIM_AGS_ENDPOINT] = endpoint
            if c.SCOPE_NRPS in pending.tool.scopes:
                claims[c.CLAIM_NRPS] = {
                    "context_memberships_url": self.url(f"/nrps/{ctx}/memberships"),
                    "service_versions": ["2.0"],
                }
            if c.SCOPE_GS in pending.tool.scopes:
                claims[c.CLAIM_GS] = self._groups_claim(ctx)
        if pending.dl_settings is not None:
            claims[c.CLAIM_DL_SETTINGS] = dict(pending.dl_settings)
        claims.update(pending.extra_claims)
        return claims

    def _note_launch(self, pending: _PendingLaunch, ctx: str) -> None:
        """Remember the context, resource link and the user's roles (who is a learner)."""
        sub = pending.user.get("sub")
        with self._lock:
            self._contexts.add(ctx)
            if pending.resource_link is not None:
                links = self._resource_links.setdefault(ctx, {})
                title = pending.resource_link.get("title")
                links[str(pending.resource_link.get("id"))] = str(title or "")
            if sub is not None:
                roles = self._launch_roles.setdefault(ctx, {}).setdefault(str(sub), set())
                roles.update(pending.roles)

    def _coupled_lineitem(
        self, ctx: str, resource_link: Mapping[str, Any], tool: ToolRegistration
    ) -> LineItem:
        """The resource link's own line item (the ``lineitem`` claim), made on first launch."""
        link_id = str(resource_link.get("id"))
        with self._lock:
            for item in self._lineitems.values():
                if (
                    item.coupled
                    and item.context_id == ctx
                    and item.resource_link_id == link_id
                    and item.client_id in (None, tool.client_id)
                ):
                    return item
            return self._new_lineitem(
                ctx,
                label=str(resource_link.get("title") or link_id),
                score_maximum=self.default_score_maximum,
                client_id=tool.client_id,
                query=f"type_id={tool.type_id}" if self.lineitem_url_query == "all" else "",
                resource_link_id=link_id,
                coupled=True,
            )

    def _new_lineitem(self, context_id: str, **fields: Any) -> LineItem:
        with self._lock:
            item = LineItem(item_id=str(next(self._lineitem_ids)), context_id=context_id, **fields)
            self._lineitems[item.item_id] = item
            self._gradebook[item.item_id] = {}
            self._score_log[item.item_id] = []
            self._contexts.add(context_id)
        return item

    def _find_lineitem(self, ref: Any) -> LineItem:
        item_id = ags.parse_lineitem_ref(ref)
        with self._lock:
            item = self._lineitems.get(item_id) if item_id is not None else None
        if item is None:
            raise KeyError(f"no line item {ref!r}")
        return item

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
                    tool.jwks_url,
                    headers={"User-Agent": PEER_USER_AGENT},
                    timeout=10,
                    verify=self.tool_tls_verify,
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
        record = self._token_record(form)
        try:
            granted, tool = self._check_token_request(form, record)
        except PeerError as exc:
            record.status, record.error, record.error_description = (
                exc.status,
                exc.error,
                exc.description,
            )
            iss = record.assertion_claims.get("iss")
            record.client_id = iss if isinstance(iss, str) else record.client_id
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
        record.client_id = tool.client_id
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

    @staticmethod
    def _token_record(form: dict[str, str]) -> TokenRequestRecord:
        """A record of a ``/token`` call, with the client_id read from the
        (unverified) assertion so that refused and faulted calls are counted too."""
        record = TokenRequestRecord(
            form=form,
            headers=dict(request.headers),
            ok=False,
            status=400,
            requested_scopes=form.get("scope", "").split(),
        )
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            iss = decode_unverified(form.get("client_assertion", ""))[1].get("iss")
            record.client_id = iss if isinstance(iss, str) else None
        if record.client_id is None and form.get("client_id"):
            record.client_id = form["client_id"]
        return record

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

    def _service_view(
        self, service: str, kind: str, handler: Callable[..., Response]
    ) -> Callable[..., Response]:
        """A Flask view running ``handler(call, **url_args)`` and logging the call."""

        def view(**kwargs: Any) -> Response:
            call = ServiceCall(
                service,
                request.method,
                request.path,
                False,
                None,
                kind=kind,
                query=request.query_string.decode("latin-1"),
            )
            try:
                resp = handler(call, **kwargs)
                call.status = resp.status_code
                return resp
            except (PeerError, AgsError) as exc:
                call.status, call.error = exc.status, exc.description
                raise
            finally:
                with self._lock:
                    self.service_calls.append(call)

        view.__name__ = f"view_{service}_{kind}"
        return view

    def _authorize(self, call: ServiceCall, accepted: Iterable[str]) -> AccessToken:
        """The request's bearer token if it is live and holds one of ``accepted``.

        RFC 6750: no token -> 401 with a bare challenge; an unknown, expired
        or expire_tokens()-ed token -> 401 ``invalid_token``; a token without
        the scope -> 403 ``insufficient_scope``.
        """
        accepted = list(accepted)
        realm = f'Bearer realm="{self.issuer}"'
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise PeerError(
                "a bearer access token is required",
                error="invalid_token",
                status=401,
                headers={"WWW-Authenticate": realm},
            )
        with self._lock:
            token = self.access_tokens.get(value.strip())
        call.token = token
        if token is None or token.expires_at <= time.time():
            why = "unknown" if token is None else "expired"
            raise PeerError(
                f"the access token is {why}",
                error="invalid_token",
                status=401,
                headers={
                    "WWW-Authenticate": f'{realm}, error="invalid_token", '
                    f'error_description="the access token is {why}"'
                },
            )
        if not any(s in token.scopes for s in accepted):
            raise PeerError(
                f"the access token has none of the scopes {accepted}",
                error="insufficient_scope",
                status=403,
                headers={
                    "WWW-Authenticate": f'{realm}, error="insufficient_scope", '
                    f'scope="{" ".join(accepted)}"'
                },
            )
        call.authorized = True
        return token

    def _inject_fault(self) -> Response | None:
        """``before_request``: answer (or delay) a request a fault rule matches."""
        method, path = request.method, request.path
        query = request.query_string.decode("latin-1")
        with self._lock:
            rule = next((r for r in self.faults if r.matches(method, path, query)), None)
            if rule is None:
                return None
            rule.remaining -= 1
            rule.hits += 1
            self.faults_fired.append(FaultHit(rule, method, path, rule.status, time.time()))
        if rule.delay:
            self._stopping.wait(rule.delay)
        if rule.status is None:
            return None
        if path == "/token":
            record = self._token_record({k: request.form.get(k, "") for k in request.form})
            record.status, record.fault = rule.status, True
            record.error, record.error_description = "injected_fault", "injected by fail_next"
            with self._lock:
                self.token_requests.append(record)
        if rule.body is None:
            resp = jsonify(
                error="injected_fault",
                error_description=f"HTTP {rule.status} injected by fail_next({rule.target!r})",
            )
        elif isinstance(rule.body, dict | list):
            resp = jsonify(rule.body)
        else:
            resp = Response(rule.body, mimetype="text/plain")
        resp.status_code = rule.status
        if rule.retry_after is not None:
            resp.headers["Retry-After"] = str(rule.retry_after)
        if rule.status == 401:
            resp.headers["WWW-Authenticate"] = (
                f'Bearer realm="{self.issuer}", error="invalid_token"'
            )
        return resp

    # -------------------------------------------------------------- AGS views

    def _ags_context(self, context_id: str) -> None:
        with self._lock:
            known = context_id in self._contexts
        if not known:
            raise AgsError(
                f"context {context_id!r} is not known to the platform",
                status=404,
                error="not_found",
            )

    def _ags_item(self, context_id: str, item_id: str, token: AccessToken) -> LineItem:
        """The line item, if it is in the context and the token's tool may see it."""
        with self._lock:
            item = self._lineitems.get(item_id)
        visible = item is not None and item.client_id in (None, token.client_id)
        if item is None or not visible or item.context_id != context_id:
            raise AgsError(
                f"line item {item_id!r} does not exist in context {context_id!r}",
                status=404,
                error="not_found",
            )
        self._check_query(item.query, "line item")
        return item

    @staticmethod
    def _check_query(query: str, what: str) -> None:
        """The URL's query string (Moodle's ``type_id``) must be repeated as given."""
        for key, value in parse_qsl(query):
            got = request.args.get(key)
            if got != value:
                raise AgsError(
                    f"the {what} URL carries the query {key}={value} but the request has "
                    f"{key}={got!r}: keep the URL's query string (put /scores or /results "
                    "before it)"
                )

    @staticmethod
    def _require_accept(media: str) -> None:
        accept = request.headers.get("Accept")
        if not ags.accepts(accept, media):
            raise AgsError(
                f"Accept {accept!r} does not allow {media}", status=406, error="not_acceptable"
            )

    @staticmethod
    def _require_content_type(media: str) -> Any:
        """The JSON body of a request whose Content-Type must be ``media``."""
        got = ags.media_type(request.headers.get("Content-Type"))
        if got != media:
            raise AgsError(
                f"Content-Type must be {media}, got {got or 'none'!r}",
                status=415,
                error="unsupported_media_type",
            )
        try:
            return json.loads(request.get_data(cache=True) or b"")
        except ValueError as exc:
            raise AgsError(f"the body is not JSON: {exc}") from exc

    def _check_link(self, context_id: str, link_id: str | None) -> None:
        if link_id is None:
            return
        with self._lock:
            known = link_id in self._resource_links.get(context_id, {})
        if not known:
            raise AgsError(f"resourceLinkId {link_id!r} is not a resource link of {context_id!r}")

    def _paged(self, resp: Response, offset: int, limit: int | None, total: int) -> Response:
        """Add RFC 8288 ``Link`` headers (first, prev, next) for a paged container."""
        if limit is None:
            return resp
        keep = [(k, v) for k, v in request.args.items(multi=True) if k not in ("from", "limit")]

        def page(start: int) -> str:
            args = [*keep, ("limit", str(limit)), ("from", str(start))]
            return f"{request.base_url}?{urlencode(args)}"

        links = [f'<{page(0)}>; rel="first"']
        if offset > 0:
            links.append(f'<{page(max(0, offset - limit))}>; rel="prev"')
        if offset + limit < total:
            links.append(f'<{page(offset + limit)}>; rel="next"')
        resp.headers["Link"] = ", ".join(links)
        return resp

    def _ags_lineitems(self, call: ServiceCall, context_id: str) -> Response:
        """AGS 2.0 section 3.2: list (filters, paging) or create line items."""
        post = request.method == "POST"
        scopes = [c.SCOPE_AGS_LINEITEM]
        if not post:
            scopes.append(c.SCOPE_AGS_LINEITEM_READONLY)
        token = self._authorize(call, scopes)
        self._ags_context(context_id)
        tool = self.tools.get(token.client_id)
        if self.lineitem_url_query == "all" and tool is not None:
            self._check_query(f"type_id={tool.type_id}", "line items container")
        if post:
            return self._create_lineitem(context_id, token)
        self._require_accept(c.MEDIA_LINEITEM_CONTAINER)
        with self._lock:
            items = [
                i
                for i in self._lineitems.values()
                if i.context_id == context_id and i.client_id in (None, token.client_id)
            ]
        for param in ("resource_link_id", "resource_id", "tag"):  # attribute names too
            wanted = request.args.get(param)
            if wanted is not None:
                items = [i for i in items if getattr(i, param) == wanted]
        offset, limit = ags.page_bounds(request.args, self.ags_page_size)
        page = items[offset:] if limit is None else items[offset : offset + limit]
        resp = Response(
            json.dumps([i.to_json(self.base_url) for i in page]),
            content_type=c.MEDIA_LINEITEM_CONTAINER,
        )
        return self._paged(resp, offset, limit, len(items))

    def _create_lineitem(self, context_id: str, token: AccessToken) -> Response:
        body = self._require_content_type(c.MEDIA_LINEITEM)
        fields = ags.check_lineitem_body(body)
        self._check_link(context_id, fields["resource_link_id"])
        tool = self.tools.get(token.client_id)
        with_query = tool is not None and self.lineitem_url_query != "none"
        item = self._new_lineitem(
            context_id,
            client_id=token.client_id,
            query=f"type_id={tool.type_id}" if with_query and tool else "",
            **fields,
        )
        resp = Response(
            json.dumps(item.to_json(self.base_url)), status=201, content_type=c.MEDIA_LINEITEM
        )
        resp.headers["Location"] = item.url(self.base_url)
        return resp

    def _ags_lineitem(self, call: ServiceCall, context_id: str, item_id: str) -> Response:
        """AGS 2.0 section 3.2: read, update (full replacement) or delete one line item."""
        scopes = [c.SCOPE_AGS_LINEITEM]
        if request.method == "GET":
            scopes.append(c.SCOPE_AGS_LINEITEM_READONLY)
        token = self._authorize(call, scopes)
        self._ags_context(context_id)
        item = self._ags_item(context_id, item_id, token)
        if request.method == "GET":
            self._require_accept(c.MEDIA_LINEITEM)
            return Response(json.dumps(item.to_json(self.base_url)), content_type=c.MEDIA_LINEITEM)
        if request.method == "DELETE":
            if item.coupled:
                raise AgsError(
                    "this line item belongs to a resource link; it cannot be deleted",
                    status=403,
                    error="forbidden",
                )
            with self._lock:
                self._lineitems.pop(item.item_id, None)
                self._gradebook.pop(item.item_id, None)
            return Response(status=204)
        body = self._require_content_type(c.MEDIA_LINEITEM)
        fields = ags.check_lineitem_body(body, for_update=True)
        if body.get("id") is not None and ags.parse_lineitem_ref(body["id"]) != item.item_id:
            raise AgsError(f"id {body['id']!r} is not this line item's URL")
        if item.coupled:
            if fields["resource_link_id"] not in (None, item.resource_link_id):
                raise AgsError("the resourceLinkId of a resource link's line item cannot change")
            fields["resource_link_id"] = item.resource_link_id
        self._check_link(context_id, fields["resource_link_id"])
        with self._lock:
            for name, value in fields.items():
                setattr(item, name, value)
        return Response(json.dumps(item.to_json(self.base_url)), content_type=c.MEDIA_LINEITEM)

    def _ags_scores(self, call: ServiceCall, context_id: str, item_id: str) -> Response:
        """AGS 2.0 section 3.4: accept a score for a learner, newer than the last one."""
        token = self._authorize(call, [c.SCOPE_AGS_SCORE])
        self._ags_context(context_id)
        item = self._ags_item(context_id, item_id, token)
        body = self._require_content_type(c.MEDIA_SCORE)
        when = ags.check_score_body(body)
        user_id = body["userId"]
        if not self.is_learner(context_id, user_id):
            raise AgsError(
                f"user {user_id!r} is not a learner of context {context_id!r}; "
                "only learners can be graded"
            )
        with self._lock:
            if item.item_id not in self._lineitems:
                raise AgsError(f"line item {item_id!r} was deleted", status=404, error="not_found")
            book = self._gradebook.setdefault(item.item_id, {})
            entry = book.get(user_id)
            if entry is not None and entry.when is not None and not self._newer(when, entry.when):
                raise AgsError(
                    f"score timestamp {body['timestamp']} is not later than {entry.timestamp}, "
                    f"the last one accepted for user {user_id!r} on line item {item_id!r}",
                    status=409,
                    error="conflict",
                )
            if entry is None:
                entry = book[user_id] = GradebookEntry(user_id)
            accepted = json.loads(json.dumps(body))
            entry.history.append(accepted)
            self._score_log.setdefault(item.item_id, []).append(accepted)
            entry.result_score = ags.scaled_score(body, item.score_maximum)
            entry.comment = body.get("comment")
            entry.activity_progress = body["activityProgress"]
            entry.grading_progress = body["gradingProgress"]
            entry.timestamp, entry.when = body["timestamp"], when
        return Response(status=self.score_status)

    def _newer(self, when: datetime, last: datetime) -> bool:
        if self.whole_second_timestamps:  # Moodle keeps strtotime(), whole seconds
            return int(when.timestamp()) > int(last.timestamp())
        return when > last

    def _ags_results(self, call: ServiceCall, context_id: str, item_id: str) -> Response:
        """AGS 2.0 section 3.3: the results of a line item (``user_id`` filter, paging)."""
        token = self._authorize(call, [c.SCOPE_AGS_RESULT_READONLY])
        self._ags_context(context_id)
        item = self._ags_item(context_id, item_id, token)
        self._require_accept(c.MEDIA_RESULT_CONTAINER)
        with self._lock:
            entries = list(self._gradebook.get(item.item_id, {}).values())
        wanted = request.args.get("user_id")
        if wanted is not None:
            entries = [e for e in entries if e.user_id == wanted]
        offset, limit = ags.page_bounds(request.args, self.ags_page_size)
        page = entries[offset:] if limit is None else entries[offset : offset + limit]
        results_url = item.url(self.base_url, "/results")
        sep = "&" if "?" in results_url else "?"
        body = []
        for entry in page:
            result: dict[str, Any] = {
                "id": f"{results_url}{sep}{urlencode({'user_id': entry.user_id})}",
                "scoreOf": item.url(self.base_url),
                "userId": entry.user_id,
                "resultScore": entry.result_score,
                "resultMaximum": item.score_maximum,
            }
            if entry.comment is not None:
                result["comment"] = entry.comment
            body.append(result)
        resp = Response(json.dumps(body), content_type=c.MEDIA_RESULT_CONTAINER)
        return self._paged(resp, offset, limit, len(entries))

    def _ags_unknown(self, call: ServiceCall, context_id: str, rest: str) -> Response:
        """Any other path under a line items container: 405 on a known shape, else 404."""
        self._authorize(call, c.AGS_SCOPES)
        allowed = {"lineitem": "GET, PUT, DELETE", "scores": "POST", "results": "GET"}
        for kind in ags.request_kinds(request.path) & set(allowed):
            raise AgsError(
                f"{request.method} is not allowed on {request.path}",
                status=405,
                error="method_not_allowed",
                headers={"Allow": allowed[kind]},
            )
        raise AgsError(f"no AGS resource at {request.path}", status=404, error="not_found")

    # ------------------------------------------------------------------ NRPS

    def set_members(self, context_id: str, members: list[dict[str, Any]]) -> None:
        """The course roster NRPS serves: dicts with user_id, name, email, roles
        (short names are expanded), status (default Active). Learners in it may
        be graded through AGS."""
        with self._lock:
            self._contexts.add(context_id)
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

    def _view_nrps(self, context_id: str) -> Response:
        """The ``nrps`` view (kept as a method: some tests swap it out and back)."""
        return self._service_view("nrps", "nrps", self._nrps)(context_id=context_id)

    def _nrps(self, call: ServiceCall, context_id: str) -> Response:
        """NRPS 2.0 membership container, paged (`limit`, Link rel="next")."""
        self._authorize(call, [c.SCOPE_NRPS])
        with self._lock:
            members = list(self.memberships.get(context_id, []))
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", self.nrps_page_size))
        page = members[offset : offset + limit]
        body = {
            "id": request.url,
            "context": {"id": context_id},
            "members": [
                self._with_group_enrollments(
                    context_id, {k: v for k, v in m.items() if v is not None}
                )
                for m in page
            ],
        }
        resp = jsonify(body)
        resp.headers["Content-Type"] = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        if offset + limit < len(members):
            nxt = self.url(f"/nrps/{context_id}/memberships?offset={offset + limit}&limit={limit}")
            if request.args.get("groups"):  # LTI-GS: keep asking for group_enrollments
                nxt += f"&groups={quote(request.args['groups'])}"
            resp.headers["Link"] = f'<{nxt}>; rel="next"'
        return resp

    # ============================================ LTI Course Groups Service 1.0
    #
    # 1EdTech LTI Course Groups Service (lti-gs): the claim
    # ``.../lti-gs/claim/groupsservice`` (scope, context_groups_url,
    # context_group_sets_url, service_versions) in launches when the tool's
    # registration has the scope ``.../lti-gs/scope/contextgroup.readonly``; GET
    # ``/groups/<context>/groups`` (Accept contextgroupcontainer+json, body
    # ``{"id", "groups": [{"id", "name", "set_id"?}]}``, filter ``user_id``) and GET
    # ``/groups/<context>/sets`` (contextgroupsetcontainer+json, ``{"id", "sets"}``),
    # paged with ``limit``/``from`` and ``Link: rel="next"`` as Moodle's contextgroups
    # service does. NRPS asked with ``groups=true`` adds ``group_enrollments``
    # (``[{"group_id"}]``) to each member. Faults: ``fail_next(r"^/groups/")``.

    def _init_groups(self) -> None:
        #: groups by context id (see set_groups); sets by context id
        self.groups: dict[str, list[dict[str, Any]]] = {}
        self.group_sets: dict[str, list[dict[str, Any]]] = {}
        self._group_members: dict[str, dict[str, list[str]]] = {}  # ctx -> group -> users
        #: groups and sets served this many per page
        self.groups_page_size = 50
        #: whether NRPS honours ``groups=true`` (False: a platform that ignores it)
        self.nrps_group_enrollments = True

    def set_groups(
        self,
        context_id: str,
        groups: list[dict[str, Any]],
        sets: list[dict[str, Any]] | None = None,
    ) -> None:
        """The course's groups: dicts with id, name, optional set_id and members (NRPS
        user ids). ``sets`` (id, name) default to one per set_id used, named "Set <id>"."""
        if sets is None:
            used = dict.fromkeys(str(g["set_id"]) for g in groups if g.get("set_id") is not None)
            sets = [{"id": sid, "name": f"Set {sid}"} for sid in used]
        with self._lock:
            self._contexts.add(context_id)
            self.groups[context_id] = [
                {
                    k: v
                    for k, v in (
                        ("id", str(g["id"])),
                        ("name", g["name"]),
                        ("set_id", None if g.get("set_id") is None else str(g["set_id"])),
                        ("tag", g.get("tag")),
                    )
                    if v is not None
                }
                for g in groups
            ]
            self.group_sets[context_id] = [{"id": str(s["id"]), "name": s["name"]} for s in sets]
            self._group_members[context_id] = {
                str(g["id"]): [str(u) for u in g.get("members", [])] for g in groups
            }

    def _groups_claim(self, ctx: str) -> dict[str, Any]:
        return {
            "scope": [c.SCOPE_GS],
            "context_groups_url": self.url(f"/groups/{ctx}/groups"),
            "context_group_sets_url": self.url(f"/groups/{ctx}/sets"),
            "service_versions": ["1.0"],
        }

    def _add_groups_routes(self, app: Flask) -> None:
        app.add_url_rule(
            "/groups/<context_id>/groups",
            "gs_groups",
            self._service_view("groups", "groups", self._gs_groups),
            methods=["GET"],
        )
        app.add_url_rule(
            "/groups/<context_id>/sets",
            "gs_sets",
            self._service_view("groups", "sets", self._gs_sets),
            methods=["GET"],
        )

    def _with_group_enrollments(self, context_id: str, member: dict[str, Any]) -> dict[str, Any]:
        """An NRPS member, with ``group_enrollments`` when the tool asked ``groups=true``."""
        if request.args.get("groups") != "true" or not self.nrps_group_enrollments:
            return member
        with self._lock:
            by_group = dict(self._group_members.get(context_id, {}))
        member["group_enrollments"] = [
            {"group_id": gid} for gid, users in by_group.items() if member["user_id"] in users
        ]
        return member

    def _gs_container(self, items: list[dict[str, Any]], key: str, media: str) -> Response:
        limit = int(request.args.get("limit", self.groups_page_size))
        offset = int(request.args.get("from", 0))
        if limit < 1 or offset < 0:
            raise AgsError("limit must be >= 1 and from >= 0")
        resp = jsonify({"id": request.url, key: items[offset : offset + limit]})
        resp.headers["Content-Type"] = media
        if offset + limit < len(items):
            keep = [(k, v) for k, v in request.args.items(multi=True) if k not in ("from", "limit")]
            args = [*keep, ("limit", str(limit)), ("from", str(offset + limit))]
            resp.headers["Link"] = f'<{request.base_url}?{urlencode(args)}>; rel="next"'
        return resp

    def _gs_groups(self, call: ServiceCall, context_id: str) -> Response:
        self._authorize(call, [c.SCOPE_GS])
        self._require_accept(c.MEDIA_CONTEXT_GROUPS)
        with self._lock:
            groups = [dict(g) for g in self.groups.get(context_id, [])]
            members = dict(self._group_members.get(context_id, {}))
        user_id = request.args.get("user_id")
        if user_id is not None:
            groups = [g for g in groups if user_id in members.get(g["id"], [])]
        return self._gs_container(groups, "groups", c.MEDIA_CONTEXT_GROUPS)

    def _gs_sets(self, call: ServiceCall, context_id: str) -> Response:
        self._authorize(call, [c.SCOPE_GS])
        self._require_accept(c.MEDIA_CONTEXT_GROUP_SETS)
        with self._lock:
            sets = [dict(s) for s in self.group_sets.get(context_id, [])]
        return self._gs_container(sets, "sets", c.MEDIA_CONTEXT_GROUP_SETS)

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
            type_id=str(n),
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
