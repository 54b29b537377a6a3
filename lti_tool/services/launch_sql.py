"""The statements of the launch hot path, built once per SQL dialect.

A launch writes five rows. Building SQLAlchemy statements per request and running
them through the ORM cost more CPU than the SQL itself, so these are prebuilt with
bind parameters and executed on the session's Connection.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from lti_tool.models import (
    ActivityLog,
    Context,
    CourseInstance,
    CourseModule,
    Membership,
    ResourceLink,
    User,
)
from lti_tool.models.launch import UsedNonce


def _insert_for(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


def _params(table, names):
    return {n: bindparam(n, type_=table.c[n].type) for n in names}


@cache
def statements(dialect: str) -> dict[str, Any]:
    ins = _insert_for(dialect)
    out: dict[str, Any] = {}

    t = UsedNonce.__table__
    stmt = ins(t).values(_params(t, ["issuer", "nonce", "expires_at"]))
    out["nonce"] = stmt.on_conflict_do_nothing(index_elements=["issuer", "nonce"]).returning(t.c.id)

    t = User.__table__
    cols = [
        "issuer",
        "sub",
        "name",
        "given_name",
        "family_name",
        "email",
        "locale",
        "person_sourcedid",
    ]
    stmt = ins(t).values(
        {
            **_params(t, cols),
            "created_at": bindparam("now", type_=t.c.created_at.type),
            "last_launch_at": bindparam("now", type_=t.c.last_launch_at.type),
        }
    )
    keep = {c: func.coalesce(stmt.excluded[c], t.c[c]) for c in cols[2:]}
    out["user"] = stmt.on_conflict_do_update(
        index_elements=["issuer", "sub"],
        set_={**keep, "last_launch_at": stmt.excluded.last_launch_at},
    ).returning(t.c.id, t.c.suspended_at)

    t = Context.__table__
    cols = ["platform_id", "issuer", "deployment_id", "context_id", "label", "title", "services"]
    stmt = ins(t).values(
        {
            **_params(t, cols),
            "created_at": bindparam("now", type_=t.c.created_at.type),
            "updated_at": bindparam("now", type_=t.c.updated_at.type),
        }
    )
    update = {
        "platform_id": stmt.excluded.platform_id,
        "label": func.coalesce(stmt.excluded.label, t.c.label),
        "title": func.coalesce(stmt.excluded.title, t.c.title),
        "updated_at": stmt.excluded.updated_at,
    }
    key = ["issuer", "deployment_id", "context_id"]
    # With AGS/NRPS claims the endpoints are replaced by the latest ones; without,
    # the known endpoints are kept.
    out["context_services"] = stmt.on_conflict_do_update(
        index_elements=key, set_={**update, "services": stmt.excluded.services}
    ).returning(t.c.id, t.c.title)
    out["context"] = stmt.on_conflict_do_update(index_elements=key, set_=update).returning(
        t.c.id, t.c.title
    )

    t = Membership.__table__
    stmt = ins(t).values(
        {
            **_params(t, ["user_id", "context_pk", "lti_roles", "role"]),
            "first_launch_at": bindparam("now", type_=t.c.first_launch_at.type),
            "last_launch_at": bindparam("now", type_=t.c.last_launch_at.type),
        }
    )
    out["membership"] = stmt.on_conflict_do_update(
        index_elements=["user_id", "context_pk"],
        set_={
            "lti_roles": stmt.excluded.lti_roles,
            "role": stmt.excluded.role,
            # a member known from the roster (NRPS) launches for the first time
            "first_launch_at": func.coalesce(t.c.first_launch_at, stmt.excluded.first_launch_at),
            "last_launch_at": stmt.excluded.last_launch_at,
        },
    )

    t = ResourceLink.__table__
    cols = ["context_pk", "resource_link_id", "title", "target", "lineitem_url"]
    stmt = ins(t).values(
        {**_params(t, cols), "created_at": bindparam("now", type_=t.c.created_at.type)}
    )
    out["resource_link"] = stmt.on_conflict_do_update(
        index_elements=["context_pk", "resource_link_id"],
        set_={
            "title": func.coalesce(stmt.excluded.title, t.c.title),
            "target": stmt.excluded.target,
            "lineitem_url": func.coalesce(stmt.excluded.lineitem_url, t.c.lineitem_url),
        },
    ).returning(t.c.id)

    t = ActivityLog.__table__
    out["log"] = insert(t).values(
        _params(t, ["at", "user_id", "context_pk", "resource_link_pk", "role", "event", "detail"])
    )

    t = CourseModule.__table__
    out["modules"] = select(t.c.key, t.c.title, t.c.mode).order_by(t.c.title)
    i = CourseInstance.__table__
    out["placed"] = (
        select(i.c.module_key, t.c.title, t.c.mode)
        .join(t, t.c.id == i.c.module_id)
        .where(i.c.context_pk == bindparam("context_pk"))
        .order_by(i.c.id)
    )
    return out


def run(db: Session, name: str, params: dict[str, Any] | None = None):
    """Execute a prebuilt statement on the session's connection (same transaction)."""
    conn = db.connection()
    return conn.execute(statements(conn.dialect.name)[name], params or {})
