"""Who may have a certificate, and issuing, revoking and re-issuing them.

Eligible means passed: the final score (`services.scores.finals`) is complete (not
pending) and at or above the template's pass mark. Nothing is written for anyone else.
Issuing is idempotent: a peserta's valid certificate is returned as it is, with the
snapshot taken at its first issue. After a revoke, only staff make a new one
(`reissue`), so a revoked certificate never comes back by itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grading.formulas import PENDING, Result
from lti_tool.certificates import identity, numbers
from lti_tool.db import utcnow
from lti_tool.models import Certificate, CourseInstance, User
from lti_tool.services import roster, schedule, scores

SNAPSHOT_VERSION = 1
#: The component printed as "the score of the competency group" (domain.md section 4).
TA = "TA"


class CertificateError(Exception):
    """A refusal with a code the web layer words for the user."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Template:
    """What the issuing unit prints on every certificate (the CERT_* settings)."""

    ministry: str
    unit_name: str
    unit_address: str
    signatory_title: str
    signatory_name: str
    signatory_id: str
    city: str
    logo_path: str | None
    prefix: str

    SETTINGS: ClassVar[dict[str, str]] = {
        "ministry": "CERT_MINISTRY_NAME",
        "unit_name": "CERT_UNIT_NAME",
        "unit_address": "CERT_UNIT_ADDRESS",
        "signatory_title": "CERT_SIGNATORY_TITLE",
        "signatory_name": "CERT_SIGNATORY_NAME",
        "signatory_id": "CERT_SIGNATORY_ID",
        "city": "CERT_CITY",
    }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Template:
        text = {field: str(config.get(name) or "").strip() for field, name in cls.SETTINGS.items()}
        prefix = str(config.get("CERT_NUMBER_PREFIX") or "STTPP").strip().upper()
        return cls(**text, logo_path=config.get("CERT_LOGO_PATH") or None, prefix=prefix)

    def placeholders(self) -> list[str]:
        """The settings still left at a bracketed placeholder (or empty), and a prefix
        certificate numbers cannot use."""
        names = [
            name
            for field, name in self.SETTINGS.items()
            if not getattr(self, field) or getattr(self, field).startswith("[")
        ]
        if not numbers.valid_prefix(self.prefix):
            names.append("CERT_NUMBER_PREFIX")
        return names


@dataclass(frozen=True)
class Standing:
    """Whether one peserta may have a certificate now, and if not, why."""

    result: Result
    eligible: bool
    # None when eligible; else "pending", "below_pass_mark" or "no_pass_mark".
    reason: str | None
    pending: tuple[str, ...] = ()  # labels of the components still without a score


def standings(db: Session, inst: CourseInstance, user_ids: list[int]) -> dict[int, Standing]:
    rule = scores.rule_of(inst)
    out = {}
    for uid, result in scores.finals(db, inst, user_ids).items():
        if result.value is PENDING:
            waiting = tuple(c.label for c in rule.components if result.components[c.key] is PENDING)
            out[uid] = Standing(result, False, "pending", waiting)
        elif rule.pass_mark is None:
            out[uid] = Standing(result, False, "no_pass_mark")
        elif result.passed:
            out[uid] = Standing(result, True, None)
        else:
            out[uid] = Standing(result, False, "below_pass_mark")
    return out


def certificates(
    db: Session, inst: CourseInstance, user_ids: Iterable[int] | None = None
) -> dict[int, list[Certificate]]:
    """Each user's certificates in this class, the newest first."""
    query = select(Certificate).where(Certificate.instance_id == inst.id)
    if user_ids is not None:
        query = query.where(Certificate.user_id.in_(list(user_ids)))
    out: dict[int, list[Certificate]] = {}
    for cert in db.scalars(query.order_by(Certificate.issued_at.desc(), Certificate.id.desc())):
        out.setdefault(cert.user_id, []).append(cert)
    return out


def active(db: Session, inst: CourseInstance, user_id: int) -> Certificate | None:
    return db.scalars(
        select(Certificate).where(
            Certificate.instance_id == inst.id,
            Certificate.user_id == user_id,
            Certificate.active.is_(True),
        )
    ).first()


def lookup(db: Session, number: str) -> Certificate | None:
    """The certificate with this number (call with a number `numbers.is_valid` accepts)."""
    return db.scalars(select(Certificate).where(Certificate.number == number)).first()


def period_of(inst: CourseInstance) -> tuple[date | None, date | None]:
    """First and last day of the class from its start date and the module's weeks."""
    if inst.start_date is None or not inst.module.blocks:
        return None, None
    last = max(
        schedule.block_span(inst.start_date, b.week, b.weeks).last for b in inst.module.blocks
    )
    return inst.start_date, last


def jp_of(inst: CourseInstance) -> int | None:
    """The module's lesson hours (JP): the template's total, else the blocks' sum."""
    total = (inst.module.definition or {}).get("jp_total")
    if total is None:
        total = sum(b.jp or 0 for b in inst.module.blocks)
    return int(total) or None


def _text(value: Decimal) -> str:
    return str(value)


def snapshot(
    db: Session,
    inst: CourseInstance,
    user: User,
    standing: Standing,
    template: Template,
    number: str,
    issued_on: date,
) -> dict[str, Any]:
    """Exactly what the certificate shows, fixed at issue (JSON-ready)."""
    rule = scores.rule_of(inst)
    result = standing.result
    start, end = period_of(inst)
    shown = []
    for c in rule.components:
        value = result.components.get(c.key)
        if c.key == TA and isinstance(value, Decimal):
            shown.append({"key": c.key, "label": c.label, "value": _text(value)})
    return {
        "v": SNAPSHOT_VERSION,
        "number": number,
        "ministry": template.ministry,
        "unit": template.unit_name,
        "unit_address": template.unit_address,
        "name": identity.name_of(user),
        "nomor_peserta": identity.nomor_peserta_of(db, user, inst.context_pk),
        "institution": identity.institution_of(db, user, inst.context_pk),
        "activity": inst.module.title,
        "period_start": start.isoformat() if start else None,
        "period_end": end.isoformat() if end else None,
        "jp": jp_of(inst),
        "score_name": rule.name,
        "score_label": rule.label,
        "score": _text(result.value),
        "predikat": result.predikat,
        "components": shown,
        "passed": True,
        "city": template.city,
        "issued_on": issued_on.isoformat(),
        "signatory_title": template.signatory_title,
        "signatory_name": template.signatory_name,
        "signatory_id": template.signatory_id,
    }


def _is_peserta(db: Session, inst: CourseInstance, user_id: int) -> bool:
    return user_id in {p.id for p in roster.peserta(db, inst)}


def _create(
    db: Session,
    inst: CourseInstance,
    user_id: int,
    standing: Standing,
    template: Template,
    by: int | None,
    now: datetime,
) -> Certificate:
    """Insert a valid certificate (its id gives the sequence of its number)."""
    user = db.get(User, user_id)
    cert = Certificate(
        number=f"pending-{secrets.token_hex(16)}",
        instance_id=inst.id,
        user_id=user_id,
        active=True,
        issued_at=now,
        issued_by=by,
        snapshot={},
    )
    with db.begin_nested():  # a concurrent first issue fails here, alone
        db.add(cert)
        db.flush()
    issued_on = schedule.today_in(inst.timezone, now)
    cert.number = numbers.make(template.prefix, issued_on.year, cert.id)
    cert.snapshot = snapshot(db, inst, user, standing, template, cert.number, issued_on)
    db.flush()
    return cert


def issue(
    db: Session,
    inst: CourseInstance,
    user_id: int,
    *,
    template: Template,
    by: int | None,
    standing: Standing | None = None,
    now: datetime | None = None,
) -> Certificate:
    """The peserta's valid certificate, issued now if they passed and have none.

    Refused ("revoked") when their certificate was revoked: only staff re-issue.
    """
    existing = active(db, inst, user_id)
    if existing is not None:
        return existing
    if not numbers.valid_prefix(template.prefix):
        raise CertificateError("bad_prefix")
    if not _is_peserta(db, inst, user_id):
        raise CertificateError("not_a_peserta")
    if certificates(db, inst, [user_id]):
        raise CertificateError("revoked")
    standing = standing or standings(db, inst, [user_id])[user_id]
    if not standing.eligible:
        raise CertificateError("not_eligible")
    try:
        return _create(db, inst, user_id, standing, template, by, now or utcnow())
    except IntegrityError:
        existing = active(db, inst, user_id)
        if existing is None:
            raise
        return existing


def issue_all(
    db: Session, inst: CourseInstance, user_ids: list[int], *, template: Template, by: int | None
) -> list[Certificate]:
    """Issue to every eligible peserta among `user_ids` who has never had a certificate;
    returns those issued now."""
    have = certificates(db, inst, user_ids)
    todo = [uid for uid in user_ids if uid not in have]
    if not todo:
        return []
    now = utcnow()
    issued = []
    for uid, standing in standings(db, inst, todo).items():
        if standing.eligible:
            issued.append(
                issue(db, inst, uid, template=template, by=by, standing=standing, now=now)
            )
    return issued


def _reason(text: str) -> str:
    reason = " ".join((text or "").split())
    if not reason:
        raise CertificateError("reason")
    return reason[:500]


def revoke(
    db: Session, cert: Certificate, *, by: int | None, reason: str, now: datetime | None = None
) -> None:
    """Mark a certificate as no longer valid (the verification page says so)."""
    why = _reason(reason)
    if cert.revoked_at is not None:
        raise CertificateError("already_revoked")
    cert.active = None
    cert.revoked_at = now or utcnow()
    cert.revoked_by = by
    cert.revoked_reason = why
    db.flush()


def reissue(
    db: Session,
    inst: CourseInstance,
    user_id: int,
    *,
    template: Template,
    by: int | None,
    reason: str,
) -> Certificate:
    """Revoke the valid certificate (if any) and issue a new number with today's scores,
    e.g. after a score correction. Refused unless the peserta passes now."""
    why = _reason(reason)
    if not numbers.valid_prefix(template.prefix):
        raise CertificateError("bad_prefix")
    if not _is_peserta(db, inst, user_id):
        raise CertificateError("not_a_peserta")
    standing = standings(db, inst, [user_id])[user_id]
    if not standing.eligible:
        raise CertificateError("not_eligible")
    now = utcnow()
    old = active(db, inst, user_id)
    if old is not None:
        revoke(db, old, by=by, reason=why, now=now)
    new = _create(db, inst, user_id, standing, template, by, now)
    if old is not None:
        old.replaced_by_id = new.id
    else:  # the latest revoked one is replaced by this one
        previous = [c for c in certificates(db, inst, [user_id]).get(user_id, []) if c is not new]
        if previous and previous[0].replaced_by_id is None:
            previous[0].replaced_by_id = new.id
    db.flush()
    return new
