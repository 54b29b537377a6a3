"""Login records (Juknis V.E): who opened the tool in this course, in which role, when,
through which link; per person (launches, first, last), every record, and per role.

A rombel or mentor filter (and a mentor reader) keeps the peserta of those rombel and
their mentors."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from lti_tool.models import (
    ActivityLog,
    CourseInstance,
    Membership,
    ResourceLink,
    Rombel,
    RombelMember,
    User,
)
from lti_tool.reports import query as q
from lti_tool.reports.base import Column, Filters, ReportKind, Table, sliced
from lti_tool.services.roles import PRECEDENCE


def role_label(role: str | None) -> str:
    from lti_tool.web.labels import ROLE_LABELS

    return str(ROLE_LABELS.get(role, role or "—"))


class Logins(ReportKind):
    name = "logins"
    title = _l("Login records")
    description = _l(
        "Who opened the tool in this course, in which role and when: per person, every "
        "record, and per role."
    )
    dates = _l("logins between")

    def tables(self, db: Session, inst: CourseInstance, filters: Filters) -> list[Table]:
        start, end = filters.utc_range(inst.timezone)
        ctx = inst.context_pk
        when = [ActivityLog.context_pk == ctx]
        if start is not None:
            when.append(ActivityLog.at >= start)
        if end is not None:
            when.append(ActivityLog.at < end)
        allowed = filters.rombel_ids(db, inst)
        people = [Membership.context_pk == ctx]
        if allowed is not None:
            # a few rombel: their peserta and mentors, looked up first (a short list)
            rombels = sorted(allowed)
            members = set(
                db.scalars(
                    select(RombelMember.user_id).where(
                        RombelMember.instance_id == inst.id, RombelMember.rombel_id.in_(rombels)
                    )
                )
            )
            members |= set(
                db.scalars(
                    select(Rombel.mentor_id).where(
                        Rombel.id.in_(rombels), Rombel.mentor_id.is_not(None)
                    )
                )
            )
            chosen = sorted(members)
            people.append(Membership.user_id.in_(chosen))
            when.append(ActivityLog.user_id.in_(chosen))
        rank = case({r: i for i, r in enumerate(PRECEDENCE)}, value=Membership.role, else_=9)
        log = (
            select(
                ActivityLog.user_id.label("uid"),
                func.count().label("n"),
                func.min(ActivityLog.at).label("first"),
                func.max(ActivityLog.at).label("last"),
            )
            .where(*when)
            .group_by(ActivityLog.user_id)
            .subquery()
        )
        rombel_of = (
            select(Rombel.name)
            .join(RombelMember, RombelMember.rombel_id == Rombel.id)
            .where(RombelMember.instance_id == inst.id, RombelMember.user_id == Membership.user_id)
            .scalar_subquery()
        )
        per_person = (
            select(
                User.name,
                User.given_name,
                User.family_name,
                User.email,
                User.sub,
                Membership.role,
                rombel_of,
                func.coalesce(log.c.n, 0),
                log.c.first,
                log.c.last,
            )
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .outerjoin(log, log.c.uid == Membership.user_id)
            .where(*people)
            .order_by(rank, User.name, User.id)
        )

        def person_rows(offset: int, limit: int | None) -> Iterator[tuple]:
            for name, given, family, email, sub, role, rombel, n, first, last in q.stream(
                db, per_person, offset, limit
            ):
                yield (
                    q.display_name(name, given, family, email, sub),
                    role_label(role),
                    rombel or "",
                    n,
                    first,
                    last,
                )

        records = (
            select(
                ActivityLog.at,
                User.name,
                User.given_name,
                User.family_name,
                User.email,
                User.sub,
                ActivityLog.role,
                ActivityLog.event,
                ResourceLink.title,
                ActivityLog.detail,
            )
            .join(User, User.id == ActivityLog.user_id)
            .join(
                Membership,
                (Membership.user_id == ActivityLog.user_id) & (Membership.context_pk == ctx),
            )
            .outerjoin(ResourceLink, ResourceLink.id == ActivityLog.resource_link_pk)
            .where(*when, *people)
            .order_by(ActivityLog.at.desc())  # the (context, at) index: pages need no sort
        )

        def record_rows(offset: int, limit: int | None) -> Iterator[tuple]:
            for at, name, given, family, email, sub, role, event, link, detail in q.stream(
                db, records, offset, limit
            ):
                yield (
                    at,
                    q.display_name(name, given, family, email, sub),
                    role_label(role),
                    event,
                    link or "",
                    detail or "",
                )

        def role_rows() -> Iterator[tuple]:
            rows = db.execute(
                select(
                    Membership.role,
                    func.count(),
                    func.sum(case((log.c.n > 0, 1), else_=0)),
                    func.coalesce(func.sum(log.c.n), 0),
                )
                .select_from(Membership)
                .outerjoin(log, log.c.uid == Membership.user_id)
                .where(*people)
                .group_by(Membership.role)
            ).all()
            rows.sort(key=lambda r: PRECEDENCE.index(r[0]) if r[0] in PRECEDENCE else 9)
            for role, n, active, launches in rows:
                yield (role_label(role), n, int(active or 0), int(launches or 0))

        return [
            Table(
                "people",
                _("Per person"),
                [
                    Column(_("Name"), width=28),
                    Column(_("Role"), width=16),
                    Column(_("Rombel"), width=14),
                    Column(_("Launches"), "int"),
                    Column(_("First"), "datetime"),
                    Column(_("Last"), "datetime"),
                ],
                person_rows,
            ),
            Table(
                "records",
                _("Every record"),
                [
                    Column(_("When"), "datetime"),
                    Column(_("Name"), width=28),
                    Column(_("Role"), width=16),
                    Column(_("Event"), width=12),
                    Column(_("Link"), width=28),
                    Column(_("Opened"), width=40),
                ],
                record_rows,
            ),
            Table(
                "roles",
                _("Per role"),
                [
                    Column(_("Role"), width=20),
                    Column(_("People"), "int"),
                    Column(_("With launches"), "int"),
                    Column(_("Launches"), "int"),
                ],
                sliced(role_rows),
            ),
        ]
