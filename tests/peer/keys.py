"""RSA keys and a hand-rolled JWS encoder for the test platform.

We sign by hand (not only with ``jwt.encode``) because forged launches need
things PyJWT rightly refuses to produce: ``alg: none`` tokens whose header
still names a kid, and HS256 tokens keyed with an RSA public key PEM (the
classic algorithm-confusion attack).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE (RFC 7515 section 2) requires."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url`, tolerant of missing padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SigningKey:
    """An RSA key pair and the ``kid`` under which its public half is published."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str | None = None, bits: int = 2048) -> SigningKey:
        """Make a fresh key; the kid is random so rotations never collide."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        return cls(kid=kid or f"peer-{secrets.token_hex(6)}", private_key=key)

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    @property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public JWK exactly as a JWKS publishes it (RFC 7517)."""
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {
            "kty": "RSA",
            "n": jwk["n"],
            "e": jwk["e"],
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
        }


def _to_private_key(key: Any) -> Any:
    """Accept a SigningKey, a cryptography key object or PEM text/bytes."""
    if isinstance(key, SigningKey):
        return key.private_key
    if isinstance(key, str):
        key = key.encode()
    if isinstance(key, bytes):
        return serialization.load_pem_private_key(key, password=None)
    return key


def encode_jws(claims: dict[str, Any], headers: dict[str, Any], key: Any, algorithm: str) -> str:
    """Sign ``claims`` as a compact JWS with exactly ``headers`` as the JOSE header.

    ``algorithm`` picks how the signature is computed; the header's ``alg`` is
    written as given in ``headers`` so tests can forge a mismatch on purpose.
    ``none`` gives an empty signature; ``HS*`` uses ``key`` (bytes/str, e.g. a
    public key PEM) as the HMAC secret; anything else goes through PyJWT's
    algorithm implementation with a private key.
    """
    header_b64 = b64url(json.dumps(headers, separators=(",", ":")).encode())
    payload_b64 = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    if algorithm.lower() == "none":
        signature = b""
    elif algorithm in _HMAC_HASHES:
        secret = key.public_pem if isinstance(key, SigningKey) else key
        if isinstance(secret, str):
            secret = secret.encode()
        signature = hmac.new(secret, signing_input, _HMAC_HASHES[algorithm]).digest()
    else:
        alg = jwt.get_algorithm_by_name(algorithm)
        signature = alg.sign(signing_input, _to_private_key(key))
    return f"{header_b64}.{payload_b64}.{b64url(signature)}"


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (header, claims) of a compact JWS without checking anything."""
    header_b64, payload_b64, _sig = token.split(".")
    return json.loads(b64url_decode(header_b64)), json.loads(b64url_decode(payload_b64))


def public_key_from_jwk(jwk: dict[str, Any]) -> Any:
    """Turn an RSA public JWK (from a tool's JWKS) into a key object."""
    return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
