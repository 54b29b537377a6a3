"""A pylti1p3 tool configuration backed by the platform tables.

pylti1p3 ships Django and dict/JSON stores only; this one reads `platform` and
`platform_deployment` through the current SQLAlchemy session.
"""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Platform, ToolKey
from lti_tool.models.platform import STATUS_ACTIVE
from lti_tool.services.keys import current_signing_key


class KidRegistration(Registration):
    """A Registration whose kid is the stored kid of the tool key (pylti1p3 would
    derive one from the public key, which would not match our JWKS)."""

    def __init__(self, kid: str | None = None) -> None:
        super().__init__()
        self._kid = kid

    def get_kid(self) -> str | None:
        return self._kid


def registration_for(platform: Platform, key: ToolKey | None) -> KidRegistration:
    """The pylti1p3 view of a platform row, signing with the tool's current key."""
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

    def __init__(self, db: Session) -> None:
        super().__init__()
        self.db = db

    def active_platforms(self, iss: str) -> list[Platform]:
        return list(
            self.db.scalars(
                select(Platform).where(Platform.issuer == iss, Platform.status == STATUS_ACTIVE)
            )
        )

    def platform(self, iss: str, client_id: str | None) -> Platform | None:
        platforms = self.active_platforms(iss)
        if client_id is None:
            return platforms[0] if len(platforms) == 1 else None
        return next((p for p in platforms if p.client_id == client_id), None)

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _registration(self, platform: Platform | None) -> Registration | None:
        if platform is None:
            return None
        return registration_for(platform, current_signing_key(self.db))

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any):
        return self._registration(self.platform(iss, None))

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any, **kwargs: Any):
        return self._registration(self.platform(iss, client_id))

    def find_deployment(self, iss: str, deployment_id: str):
        platform = self.platform(iss, None)
        return self._deployment(platform, deployment_id)

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str, *a, **kw):
        return self._deployment(self.platform(iss, client_id), deployment_id)

    @staticmethod
    def _deployment(platform: Platform | None, deployment_id: str) -> LtiDeployment | None:
        if platform is None or deployment_id not in platform.deployment_ids:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)
