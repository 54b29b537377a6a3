"""A pylti1p3 tool configuration backed by the platform tables.

pylti1p3 ships Django and dict/JSON stores only; this one reads registrations
through the cached Registry (see registry.py).
"""

from __future__ import annotations

from typing import Any, Protocol

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy.orm import Session

from lti_tool.lti.registry import PlatformInfo, Registry, SigningKey


class _PlatformLike(Protocol):
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None


class KidRegistration(Registration):
    """A Registration whose kid is the stored kid of the tool key (pylti1p3 would
    derive one from the public key, which would not match our JWKS)."""

    def __init__(self, kid: str | None = None) -> None:
        super().__init__()
        self._kid = kid

    def get_kid(self) -> str | None:
        return self._kid


def registration_for(platform: _PlatformLike, key: SigningKey | Any | None) -> KidRegistration:
    """The pylti1p3 view of a registration, signing with the tool's current key."""
    reg = KidRegistration(key.kid if key is not None else None)
    reg.set_issuer(platform.issuer)
    reg.set_client_id(platform.client_id)
    reg.set_auth_login_url(platform.auth_login_url)
    reg.set_auth_token_url(platform.auth_token_url)
    reg.set_key_set_url(platform.key_set_url)
    if platform.auth_audience:
        reg.set_auth_audience(platform.auth_audience)
    if key is not None:
        reg.set_tool_private_key(key.private_pem)
    return reg


class DbToolConf(ToolConfAbstract):
    """Registrations and deployments from the database; only active platforms count."""

    def __init__(self, db: Session, registry: Registry) -> None:
        super().__init__()
        self.db = db
        self.registry = registry

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _registration(self, platform: PlatformInfo | None) -> Registration | None:
        if platform is None:
            return None
        return registration_for(platform, self.registry.signing_key(self.db))

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any):
        return self._registration(self.registry.find(self.db, iss, None))

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any, **kwargs: Any):
        return self._registration(self.registry.find(self.db, iss, client_id))

    def find_deployment(self, iss: str, deployment_id: str):
        return self._deployment(self.registry.find(self.db, iss, None), deployment_id)

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str, *a, **kw):
        return self._deployment(self.registry.find(self.db, iss, client_id), deployment_id)

    @staticmethod
    def _deployment(platform: PlatformInfo | None, deployment_id: str) -> LtiDeployment | None:
        if platform is None or deployment_id not in platform.deployment_ids:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)
