"""The course roster from the LMS (LTI Names and Role Provisioning Services 2.0).

pylti1p3's NRPS service does the OAuth2 client-credentials exchange (a client
assertion signed with the tool's key) and follows the `Link: rel="next"` pages;
this module turns the members into users and memberships, so that staff see who is
on the course roster but has never opened the tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.service_connector import ToolServiceConnector
from lti_tool.lti.toolconf import registration_for
from lti_tool.models import Context, Membership, Platform, User
from lti_tool.services.roles import programme_role


class RosterError(RuntimeError):
    """The LMS roster could not be read; `code` says why."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


@dataclass(frozen=True)
class SyncResult:
    added: int
    updated: int
    skipped: int


def fetch_members(db: Session, context: Context, key: Any, http: requests.Session) -> list[dict]:
    """Every member of the LMS course (all pages)."""
    claim = (context.services or {}).get("nrps")
    if not claim or not claim.get("context_memberships_url"):
        raise RosterError("no_nrps", "the LMS did not offer NRPS for this course")
    platform = db.get(Platform, context.platform_id) if context.platform_id else None
    if platform is None:
        raise RosterError("no_platform", "the course's registration was removed")
    connector = ToolServiceConnector(registration_for(platform, key), requests_session=http)
    try:
        return list(NamesRolesProvisioningService(connector, claim).get_members())
    except (LtiException, requests.RequestException, ValueError) as exc:
        raise RosterError("lms_error", str(exc)) from exc


def sync_roster(db: Session, context: Context, members: list[dict]) -> SyncResult:
    """Upsert users and memberships from NRPS members. Nobody is removed (the roster
    of a started class is frozen; the LMS may list someone as Inactive later)."""
    added = updated = skipped = 0
    for m in members:
        role = programme_role(m.get("roles") or [])
        sub = m.get("user_id")
        if role is None or not sub or m.get("status", "Active") != "Active":
            skipped += 1
            continue
        user = db.scalars(
            select(User).where(User.issuer == context.issuer, User.sub == str(sub))
        ).first()
        if user is None:
            user = User(issuer=context.issuer, sub=str(sub))
            db.add(user)
        for field in ("name", "given_name", "family_name", "email"):
            value = m.get(field)
            if isinstance(value, str) and value:
                setattr(user, field, value[:255])
        sourcedid = m.get("lis_person_sourcedid")  # the LMS's ID number (nomor peserta)
        if isinstance(sourcedid, str) and sourcedid:
            user.person_sourcedid = sourcedid[:255]
        db.flush()
        membership = db.scalars(
            select(Membership).where(
                Membership.user_id == user.id, Membership.context_pk == context.id
            )
        ).first()
        if membership is None:
            db.add(
                Membership(
                    user_id=user.id,
                    context_pk=context.id,
                    lti_roles=m.get("roles") or [],
                    role=role,
                    first_launch_at=None,
                    last_launch_at=None,
                )
            )
            added += 1
        else:
            membership.lti_roles = m.get("roles") or membership.lti_roles
            membership.role = role
            updated += 1
    return SyncResult(added, updated, skipped)
