"""Launch validation: pylti1p3's MessageLaunch plus the checks it skips.

pylti1p3 (and its fork) decode the id_token with `verify_aud` off, take `aud[0]` as
the client id, accept any `alg` its key lookup matches, never compare
`target_link_uri`, and treat nonces as reusable. Here every check the 1EdTech
Security Framework asks for is done, in this order, before anything is written:

 1. the JWT has three parts and decodes (pylti1p3);
 2. the header: alg RS256 only, a kid, no jwk/jku/x5u/x5c key hints;
 3. state: signed by us, not expired, and bound to this browser by its cookie (or,
    when the browser refuses the cookie, by the platform's storage: platform_storage);
 4. registration: iss known and active; aud contains our client_id and no audience
    the tool does not trust (a client id of another of our registrations of that
    issuer is trusted), and with several audiences azp is present, is ours and is
    among them; the same registration the login was started for;
 5. signature with the platform's key for that kid (refetched once if unknown),
    plus exp and iat (not in the future, not older than LTI_MAX_TOKEN_AGE);
 6. nonce equals the one bound to the state and was never accepted before;
 7. target_link_uri equals the one the login was started for;
 8. deployment id registered for this client;
 9. message type, LTI version and the claims each message type requires (pylti1p3),
    with the submission review claims checked more strictly than pylti1p3 does.

Accepted message types: LtiResourceLinkRequest, LtiDeepLinkingRequest and
LtiSubmissionReviewRequest (LTI Submission Review / AGS 2.0: a staff member opens a
peserta's work from the gradebook). A review launch needs, besides the common
claims, `for_user` with a non-empty `user_id` (the reviewed peserta's `sub`) and the
AGS endpoint claim with the reviewed `lineitem` URL; `resource_link` is optional
(a line item need not belong to a resource link).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
from pylti1p3.exception import LtiException
from sqlalchemy.orm import Session

from lti_tool.lti import platform_storage
from lti_tool.lti.errors import LtiError
from lti_tool.lti.keyset import KeySetCache
from lti_tool.lti.registry import PlatformInfo, Registry
from lti_tool.lti.state import (
    STATE_COOKIE_PREFIX,
    LoginState,
    StateError,
    cookie_name,
    cookie_value,
    read_state,
)
from lti_tool.lti.stores import DbNonceStore, NonceStore
from lti_tool.lti.toolconf import DbToolConf, registration_for

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SUBMISSION_REVIEW = "LtiSubmissionReviewRequest"
_FORBIDDEN_HEADERS = ("jwk", "jku", "x5u", "x5c")


@dataclass
class ValidatorSettings:
    secret: str
    state_ttl: int
    leeway: int
    max_token_age: int


class _NoSession:
    """pylti1p3 wants session and cookie services; our state and nonces are ours."""


class ToolMessageLaunch(FlaskMessageLaunch):
    """One launch being validated. After `validate()`, `platform`, `state` and
    `claims` hold what was accepted, and the used nonce is added to the session."""

    def __init__(
        self,
        db: Session,
        *,
        registry: Registry,
        keysets: KeySetCache,
        http: requests.Session,
        settings: ValidatorSettings,
        cookies: dict[str, str],
        form: dict[str, str],
        nonces: NonceStore | None = None,
    ) -> None:
        request = FlaskRequest(cookies=cookies, session={}, request_data=form)
        super().__init__(
            request,
            DbToolConf(db, registry),
            session_service=_NoSession(),  # type: ignore[arg-type]
            cookie_service=_NoSession(),  # type: ignore[arg-type]
            requests_session=http,
        )
        # pylti1p3 re-runs validate() from its getters unless told not to.
        self.set_auto_validation(False)
        self.db = db
        self.registry = registry
        self.keysets = keysets
        self.settings = settings
        self.cookies = cookies
        self.form = form
        self.nonces: NonceStore = nonces or DbNonceStore()
        self.platform: PlatformInfo | None = None
        self.state: LoginState | None = None
        self.client_id: str | None = None
        self.cookies_missing = False
        self.bound_by_storage = False  # by the platform's storage instead of a cookie
        self.new_deployment: str | None = None

    # -- the whole check -------------------------------------------------------------
    def validate(self) -> ToolMessageLaunch:
        if not self.form.get("id_token") or not self.form.get("state"):
            raise LtiError("missing_params", "id_token and state are required")
        try:
            self.validate_jwt_format()
        except LtiException as exc:
            raise LtiError("bad_token", str(exc)) from exc
        self._check_header()
        self.state = self._check_state()
        self.platform = self._check_registration()
        claims = self._check_signature()
        if self.cookies_missing and platform_storage.storage_target(self.state.login_params):
            # No cookie, but the login kept the state in the platform's storage: the
            # browser reads it back and posts this token again. Asked before the nonce
            # is spent, so that the second post can use it.
            if claims.get("nonce") != self.state.nonce:
                raise LtiError("bad_nonce", "nonce does not match the login")
            raise platform_storage.PlatformStorageCheckError()
        self._check_nonce(claims)
        self._check_target(claims)
        self._check_deployment(claims)
        self._check_review_claims(claims)  # first: pylti1p3 would trip on a wrong type
        try:
            self.validate_message()
        except LtiException as exc:
            raise LtiError("bad_message", str(exc)) from exc
        if not claims.get("sub") and self.is_resource_launch():
            raise LtiError("bad_message", "anonymous launches are not supported")
        if self.cookies_missing:
            # A valid launch of ours, but the browser sent none of our state cookies:
            # third-party cookies are blocked in this iframe. Refused (the state is
            # not bound to this browser); the page offers a top-level window.
            raise LtiError("cookies_blocked", "no state cookie was sent")
        self._validated = True
        return self

    @property
    def claims(self) -> dict[str, Any]:
        return self._jwt["body"]

    def unverified_claims(self) -> dict[str, Any]:
        """The decoded body, before or after validation (to word error pages)."""
        return self._jwt.get("body") or {}

    # -- steps -----------------------------------------------------------------------
    def _check_header(self) -> None:
        header = self._jwt.get("header", {})
        if header.get("alg") != "RS256":
            raise LtiError("bad_alg", f"alg {header.get('alg')!r} refused; only RS256")
        for name in _FORBIDDEN_HEADERS:
            if name in header:
                raise LtiError("bad_alg", f"header {name!r} refused: keys come from the key set")
        if not header.get("kid"):
            raise LtiError("bad_signature", "the JWT header has no kid")

    def _check_state(self) -> LoginState:
        value = self.form["state"]
        try:
            state = read_state(self.settings.secret, value, self.settings.state_ttl)
        except StateError as exc:
            raise LtiError("state_mismatch", str(exc)) from exc
        if self.cookies.get(cookie_name(value)) != cookie_value(value):
            if any(k.startswith(STATE_COOKIE_PREFIX) for k in self.cookies):
                raise LtiError("state_mismatch", "the state cookie of this browser does not match")
            self.cookies_missing = True  # decided after the other checks
        if self.cookies_missing and platform_storage.has_proof(self.form):
            # The values the browser read back from the platform's storage (the view
            # accepts them only from the tool's own page).
            if not platform_storage.proof_matches(
                self.settings.secret, value, state.nonce, self.form
            ):
                raise LtiError("state_mismatch", "the platform's storage does not hold this login")
            self.cookies_missing, self.bound_by_storage = False, True
        return state

    def _check_registration(self) -> PlatformInfo:
        body = self._jwt["body"]
        iss = body.get("iss")
        if not iss or not isinstance(iss, str):
            raise LtiError("bad_message", "iss is missing")
        aud = body.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not audiences:
            raise LtiError("bad_audience", "aud is missing")
        azp = body.get("azp")
        if len(audiences) > 1 and not azp:
            raise LtiError("bad_audience", "several audiences and no azp")
        if azp is not None and azp not in audiences:
            raise LtiError("bad_audience", "azp is not one of the audiences")
        client_id = azp if azp is not None else audiences[0]
        known = self.registry.platforms(self.db, iss)
        platform = next((p for p in known if p.client_id == client_id), None)
        if platform is None:
            if known:
                raise LtiError("bad_audience", f"aud {audiences!r} is not a registered client")
            raise LtiError("unknown_platform", f"issuer {iss!r} is not registered")
        untrusted = sorted({str(a) for a in audiences} - {p.client_id for p in known})
        if untrusted:
            raise LtiError("bad_audience", f"aud names audiences not trusted: {untrusted!r}")
        if not platform.is_active:
            raise LtiError("platform_pending", f"{iss} {client_id} is not active")
        if self.state is not None and self.state.platform_id != platform.id:
            raise LtiError("state_mismatch", "the login was started for another registration")
        self.client_id = client_id
        self._registration = registration_for(platform, self.registry.signing_key(self.db))
        return platform

    def _check_signature(self) -> dict[str, Any]:
        assert self.platform is not None and self.client_id is not None
        kid = self._jwt["header"]["kid"]
        key = self.keysets.get_key(self.platform.key_set_url, kid, self._requests_session)
        try:
            claims = jwt.decode(
                self.form["id_token"],
                key.key,
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=self.platform.issuer,
                leeway=self.settings.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError) as exc:
            raise LtiError("expired", str(exc)) from exc
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError) as exc:
            raise LtiError("bad_audience", str(exc)) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LtiError("bad_message", str(exc)) from exc
        except jwt.InvalidTokenError as exc:
            raise LtiError("bad_signature", str(exc)) from exc
        if time.time() - float(claims["iat"]) > self.settings.max_token_age + self.settings.leeway:
            raise LtiError("expired", "iat is too old")
        return claims

    def _check_nonce(self, claims: dict[str, Any]) -> None:
        assert self.state is not None and self.platform is not None
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or nonce != self.state.nonce:
            raise LtiError("bad_nonce", "nonce does not match the login")
        # Recorded as used (in the database: in the launch's transaction, rolled back if
        # the launch is refused later; in Redis: at once), kept as long as the state
        # carrying it could be presented. See lti_tool/lti/stores.py.
        keep = self.settings.state_ttl + self.settings.leeway
        fresh = self.nonces.use(
            self.db, self.platform.issuer, nonce, ttl=keep, issued_at=float(claims["iat"])
        )
        if not fresh:
            raise LtiError("bad_nonce", "nonce already used")

    def _check_target(self, claims: dict[str, Any]) -> None:
        assert self.state is not None
        target = claims.get(CLAIM + "target_link_uri")
        if target != self.state.target_link_uri:
            raise LtiError("target_mismatch", f"{target!r} != {self.state.target_link_uri!r}")

    def _check_review_claims(self, claims: dict[str, Any]) -> None:
        """pylti1p3 only asks that `for_user` contain a `user_id` key and the AGS claim a
        `lineitem` key: `for_user` must be an object, both values non-empty."""
        if claims.get(CLAIM + "message_type") != SUBMISSION_REVIEW:
            return
        for_user = claims.get(CLAIM + "for_user")
        if not isinstance(for_user, dict):
            raise LtiError("bad_message", "for_user must be an object")
        user_id = for_user.get("user_id")
        # A string by the spec; Moodle sends its numeric user id as a JSON number.
        if isinstance(user_id, bool) or not isinstance(user_id, str | int) or not str(user_id):
            raise LtiError("bad_message", "for_user.user_id must be a non-empty string")
        ags = claims.get(AGS_ENDPOINT)
        lineitem = ags.get("lineitem") if isinstance(ags, dict) else None
        if not isinstance(lineitem, str) or not lineitem:
            raise LtiError("bad_message", "the AGS claim must name the reviewed lineitem")

    def _check_deployment(self, claims: dict[str, Any]) -> None:
        assert self.platform is not None
        deployment_id = claims.get(CLAIM + "deployment_id")
        if not deployment_id:
            raise LtiError("bad_message", "deployment_id is missing")
        if deployment_id not in self.platform.deployment_ids:
            if not self.platform.auto_deployments:
                raise LtiError(
                    "unknown_deployment", f"deployment {deployment_id!r} is not registered"
                )
            self.new_deployment = str(deployment_id)
