"""Ready-made ``tamper`` hooks that turn a good launch into a bad one.

A tool is only as safe as the launches it refuses. Each factory here returns
a callable ``tamper(forgery)`` for :meth:`TestPlatform.launch`; the
:class:`Forgery` it receives holds everything the platform is about to sign
and post, and may be changed freely. :data:`REFUSAL_CASES` maps a readable
name to a factory so a tool's tests can parametrize over all of them::

    @pytest.mark.parametrize("case", sorted(REFUSAL_CASES))
    def test_refused(platform, browser, case):
        result = platform.launch(browser, tamper=REFUSAL_CASES[case]())
        assert result.launch_response.status_code in (400, 401, 403)

Two refusal cases are not token forgeries and live on the platform instead:
a replayed launch (:meth:`TestPlatform.replay_launch`) and, when the tool
should refuse a deployment it does not know, ``launch(deployment_id=...)``
(which also puts the unknown id in the login request), besides
:func:`unknown_deployment` here (which changes only the id_token).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import constants as c
from .keys import SigningKey, encode_jws

if TYPE_CHECKING:
    from .platform import TestPlatform, ToolRegistration


@dataclass
class Forgery:
    """What the platform's ``/auth`` endpoint is about to sign and post.

    ``claims`` and ``headers`` are the id_token's payload and JOSE header;
    ``signing_key`` (key object, PEM, :class:`SigningKey`, an HMAC secret, or
    ``None`` for ``alg: none``) and ``algorithm`` say how it is signed.
    ``form`` holds the fields the browser will POST to ``action`` (the tool's
    redirect_uri): ``state`` always, and ``id_token`` only if the tamper sets
    it, in which case that exact string is posted instead of signing.
    If the tamper changes ``algorithm`` but not ``headers["alg"]``, the header
    follows the new algorithm; set ``headers["alg"]`` yourself to forge a
    header/algorithm mismatch.
    """

    claims: dict[str, Any]
    headers: dict[str, Any]
    signing_key: Any
    algorithm: str
    form: dict[str, str]
    action: str
    platform: TestPlatform
    tool: ToolRegistration
    auth_params: dict[str, str] = field(default_factory=dict)


Tamper = Callable[[Forgery], None]


def combine(*tampers: Tamper) -> Tamper:
    """Apply several tampers in order (e.g. a foreign key *and* a fresh kid)."""

    def apply(forgery: Forgery) -> None:
        for tamper in tampers:
            tamper(forgery)

    return apply


def set_claims(**claims: Any) -> Tamper:
    """Overwrite top-level claims; use ``claim_overrides`` for URI-named ones."""
    return claim_overrides(claims)


def claim_overrides(claims: dict[str, Any]) -> Tamper:
    """Overwrite (or add) claims by full name, e.g. a role list or a context."""

    def apply(forgery: Forgery) -> None:
        forgery.claims.update(claims)

    return apply


def remove_claims(*names: str) -> Tamper:
    """Drop claims by full name (missing ones are ignored)."""

    def apply(forgery: Forgery) -> None:
        for name in names:
            forgery.claims.pop(name, None)

    return apply


def expired(seconds_ago: int = 600) -> Tamper:
    """An id_token whose ``exp`` lies ``seconds_ago`` in the past."""

    def apply(forgery: Forgery) -> None:
        now = int(time.time())
        forgery.claims["iat"] = now - seconds_ago - 300
        forgery.claims["exp"] = now - seconds_ago

    return apply


def issued_in_future(seconds_ahead: int = 3600) -> Tamper:
    """An id_token whose ``iat`` is far in the future (clock-skew abuse)."""

    def apply(forgery: Forgery) -> None:
        now = int(time.time())
        forgery.claims["iat"] = now + seconds_ahead
        forgery.claims["exp"] = now + seconds_ahead + 300

    return apply


def wrong_aud(aud: str = "some-other-client") -> Tamper:
    """``aud`` (and ``azp``) name a client that is not the tool."""

    def apply(forgery: Forgery) -> None:
        forgery.claims["aud"] = aud
        forgery.claims["azp"] = aud

    return apply


def multiple_aud_without_azp(other: str = "some-other-client") -> Tamper:
    """Several audiences but no ``azp``: LTI 1.3 5.1.2 says the tool must refuse."""

    def apply(forgery: Forgery) -> None:
        forgery.claims["aud"] = [forgery.tool.client_id, other]
        forgery.claims.pop("azp", None)

    return apply


def multiple_aud_wrong_azp(other: str = "some-other-client") -> Tamper:
    """Several audiences with ``azp`` naming another client."""

    def apply(forgery: Forgery) -> None:
        forgery.claims["aud"] = [forgery.tool.client_id, other]
        forgery.claims["azp"] = other

    return apply


def unknown_iss(iss: str = "https://lms.unknown.example") -> Tamper:
    """The token claims to come from a platform the tool never registered."""
    return set_claims(iss=iss)


def unknown_deployment(deployment_id: str = "deployment-nobody-knows") -> Tamper:
    """The id_token names a deployment the tool does not have."""
    return claim_overrides({c.CLAIM_DEPLOYMENT_ID: deployment_id})


def forged_nonce(nonce: str | None = None) -> Tamper:
    """A nonce the tool never issued in its authentication request."""

    def apply(forgery: Forgery) -> None:
        forgery.claims["nonce"] = nonce or f"forged-{secrets.token_hex(8)}"

    return apply


def missing_nonce() -> Tamper:
    """No nonce at all (required by OIDC Core for the implicit flow)."""
    return remove_claims("nonce")


def state_mismatch(state: str | None = None) -> Tamper:
    """The form posts a ``state`` other than the one the tool set."""

    def apply(forgery: Forgery) -> None:
        forgery.form["state"] = state or f"state-forged-{secrets.token_hex(8)}"

    return apply


def target_link_uri_mismatch(uri: str | None = None) -> Tamper:
    """The id_token's target_link_uri differs from the one in the login request."""

    def apply(forgery: Forgery) -> None:
        default = forgery.tool.tool_base_url.rstrip("/") + "/somewhere-else"
        forgery.claims[c.CLAIM_TARGET_LINK_URI] = uri or default

    return apply


def missing_message_type() -> Tamper:
    """No ``message_type`` claim."""
    return remove_claims(c.CLAIM_MESSAGE_TYPE)


def wrong_message_type(message_type: str = "LtiSomethingElseRequest") -> Tamper:
    """A message type the tool does not handle."""
    return claim_overrides({c.CLAIM_MESSAGE_TYPE: message_type})


def wrong_version(version: str = "1.1.0") -> Tamper:
    """An LTI version other than 1.3.0."""
    return claim_overrides({c.CLAIM_VERSION: version})


def missing_resource_link() -> Tamper:
    """A resource-link launch without its required resource_link claim."""
    return remove_claims(c.CLAIM_RESOURCE_LINK)


def foreign_key(keep_kid: bool = True) -> Tamper:
    """Signed by a key that is not in the platform's JWKS.

    With ``keep_kid`` the header still names the platform's current kid, so
    only the signature check can catch it; otherwise the foreign key's own
    (unpublished) kid is used.
    """

    def apply(forgery: Forgery) -> None:
        key = SigningKey.generate(kid="foreign-" + secrets.token_hex(4))
        forgery.signing_key = key.private_key
        forgery.algorithm = "RS256"
        if not keep_kid:
            forgery.headers["kid"] = key.kid

    return apply


def unknown_kid(kid: str | None = None) -> Tamper:
    """Signed with the real key, but the header names a kid not in the JWKS."""

    def apply(forgery: Forgery) -> None:
        forgery.headers["kid"] = kid or f"kid-unknown-{secrets.token_hex(4)}"

    return apply


def missing_kid() -> Tamper:
    """No ``kid`` in the header (LTI Security 6.3 requires one)."""

    def apply(forgery: Forgery) -> None:
        forgery.headers.pop("kid", None)

    return apply


def alg_none() -> Tamper:
    """``alg: none`` with an empty signature (RFC 7518 3.6 unsecured JWS)."""

    def apply(forgery: Forgery) -> None:
        forgery.algorithm = "none"
        forgery.signing_key = None

    return apply


def alg_hs256_with_public_key() -> Tamper:
    """HS256 keyed with the platform's public key PEM: algorithm confusion."""

    def apply(forgery: Forgery) -> None:
        forgery.algorithm = "HS256"
        forgery.signing_key = forgery.platform.current_key.public_pem

    return apply


def bad_signature() -> Tamper:
    """A correctly signed token whose last signature byte is then flipped."""

    def apply(forgery: Forgery) -> None:
        token = encode_jws(forgery.claims, forgery.headers, forgery.signing_key, forgery.algorithm)
        head, body, sig = token.split(".")
        flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
        forgery.form["id_token"] = f"{head}.{body}.{flipped}"

    return apply


REFUSAL_CASES: dict[str, Callable[[], Tamper]] = {
    "expired": expired,
    "wrong_aud": wrong_aud,
    "multiple_aud_without_azp": multiple_aud_without_azp,
    "unknown_iss": unknown_iss,
    "unknown_deployment": unknown_deployment,
    "forged_nonce": forged_nonce,
    "state_mismatch": state_mismatch,
    "target_link_uri_mismatch": target_link_uri_mismatch,
    "missing_message_type": missing_message_type,
    "wrong_version": wrong_version,
    "foreign_key": foreign_key,
    "alg_none": alg_none,
    "alg_hs256": alg_hs256_with_public_key,
    "unknown_kid": unknown_kid,
}
"""Name -> tamper factory for every forged-token refusal case a tool must handle."""
