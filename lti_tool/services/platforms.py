"""Manual platform registration, activation and removal."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Deployment, Platform
from lti_tool.models.platform import STATUS_ACTIVE, STATUS_PENDING


class PlatformError(ValueError):
    """A registration that cannot be stored as asked."""


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PlatformError(f"{name} must be an http(s) URL, got {url!r}")


def add_platform(
    db: Session,
    *,
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployment_ids: list[str],
    auth_audience: str | None = None,
    active: bool = True,
    auto_deployments: bool = False,
) -> Platform:
    for field, url in (
        ("auth login URL", auth_login_url),
        ("auth token URL", auth_token_url),
        ("key set URL", key_set_url),
    ):
        _check_url(field, url)
    if not issuer or not client_id:
        raise PlatformError("issuer and client id are required")
    exists = db.scalars(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).first()
    if exists is not None:
        raise PlatformError(f"{issuer} {client_id} is already registered (id {exists.id})")
    platform = Platform(
        name=name,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        key_set_url=key_set_url,
        auth_audience=auth_audience,
        status=STATUS_ACTIVE if active else STATUS_PENDING,
        auto_deployments=auto_deployments,
    )
    if not deployment_ids and not auto_deployments:
        raise PlatformError("give at least one deployment id, or allow --auto-deployments")
    for dep in dict.fromkeys(deployment_ids):
        platform.deployments.append(Deployment(deployment_id=dep))
    db.add(platform)
    db.commit()
    return platform


def add_deployment(db: Session, platform_id: int, deployment_id: str) -> None:
    platform = db.get(Platform, platform_id)
    if platform is None:
        raise PlatformError(f"no platform {platform_id}")
    if deployment_id not in platform.deployment_ids:
        platform.deployments.append(Deployment(deployment_id=deployment_id))
    db.commit()


def activate(db: Session, platform_id: int | None) -> int:
    """Activate one registration, or all pending ones when `platform_id` is None."""
    if platform_id is not None:
        one = db.get(Platform, platform_id)
        if one is None:
            raise PlatformError(f"no platform {platform_id}")
        rows = [one]
    else:
        rows = list(db.scalars(select(Platform).where(Platform.status == STATUS_PENDING)))
    for row in rows:
        row.status = STATUS_ACTIVE
    db.commit()
    return len(rows)


def remove(db: Session, platform_id: int) -> None:
    platform = db.get(Platform, platform_id)
    if platform is None:
        raise PlatformError(f"no platform {platform_id}")
    db.delete(platform)
    db.commit()
