"""In-process snapshots of platform registrations and the signing key.

Every launch needs its registration three times (login, launch, deployment check);
reading it from the database each time cost more CPU than the RSA signature check.
Snapshots are kept for LTI_REGISTRY_CACHE_SECONDS (default 10 s) and dropped at
once in the process that changes a registration; other workers see a change
within that time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.cache import TTLCache
from lti_tool.models import Platform, ToolKey
from lti_tool.models.platform import STATUS_ACTIVE


@dataclass(frozen=True)
class PlatformInfo:
    """An immutable copy of a `platform` row and its deployment ids."""

    id: int
    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None
    status: str
    deployment_ids: frozenset[str]
    auto_deployments: bool = False

    @property
    def is_active(self) -> bool:
        return self.status == STATUS_ACTIVE

    @classmethod
    def of(cls, p: Platform) -> PlatformInfo:
        return cls(
            id=p.id,
            name=p.name,
            issuer=p.issuer,
            client_id=p.client_id,
            auth_login_url=p.auth_login_url,
            auth_token_url=p.auth_token_url,
            key_set_url=p.key_set_url,
            auth_audience=p.auth_audience,
            status=p.status,
            deployment_ids=frozenset(p.deployment_ids),
            auto_deployments=p.auto_deployments,
        )


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str


class Registry:
    """Cached view of registrations by issuer, and of the current signing key."""

    def __init__(self, ttl: float) -> None:
        self._cache = TTLCache(ttl)

    def invalidate(self) -> None:
        self._cache.invalidate()

    def platforms(self, db: Session, issuer: str) -> tuple[PlatformInfo, ...]:
        """All registrations (any status) of an issuer."""

        def load() -> tuple[PlatformInfo, ...]:
            rows = db.scalars(select(Platform).where(Platform.issuer == issuer)).all()
            return tuple(PlatformInfo.of(p) for p in rows)

        return self._cache.get(("issuer", issuer), load)

    def active(self, db: Session, issuer: str) -> list[PlatformInfo]:
        return [p for p in self.platforms(db, issuer) if p.is_active]

    def find(self, db: Session, issuer: str, client_id: str | None) -> PlatformInfo | None:
        """The active registration for (issuer, client_id); without a client_id, the
        issuer's only active registration."""
        active = self.active(db, issuer)
        if client_id is None:
            return active[0] if len(active) == 1 else None
        return next((p for p in active if p.client_id == client_id), None)

    def signing_key(self, db: Session) -> SigningKey | None:
        def load() -> SigningKey | None:
            row = db.scalars(
                select(ToolKey)
                .where(ToolKey.retire_at.is_(None))
                .order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
                .limit(1)
            ).first()
            return SigningKey(row.kid, row.private_pem) if row is not None else None

        return self._cache.get("signing_key", load)
