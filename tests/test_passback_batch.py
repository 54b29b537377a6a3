"""A delivery's database work is per batch, not per score: the statements it runs do
not grow with the rows it delivers (the contexts, platforms and users of a batch are
read once, the delivered rows settled in one UPDATE). A course whose registration is
not active fails its rows in the same batch that delivers the others."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from grading.delivery import deliver_due
from grading.passback import enqueue
from lti_tool.db import get_db, session, utcnow
from lti_tool.lti.http import http_session
from lti_tool.lti.service_connector import forget_tokens
from lti_tool.models import Context, GradeOutbox, Membership, Platform, User
from lti_tool.services.platforms import add_platform

COURSE = "course-batch"
COLUMN = "a:batch/sesi/tes"


@pytest.fixture(autouse=True)
def _fresh_tokens():
    forget_tokens()
    yield
    forget_tokens()


def _course(app, lms, context_id: str, peserta: int, platform_id: int | None = None) -> int:
    """A course of the peer offering AGS, with `peserta` learners; returns its id."""
    lms.set_members(
        context_id, [{"user_id": f"{context_id}-{i}", "roles": ["Learner"]} for i in range(peserta)]
    )
    with app.app_context():
        db = session()
        if platform_id is None:
            platform_id = db.scalars(
                select(Platform.id).where(
                    Platform.issuer == lms.issuer, Platform.client_id == "tool-client-1"
                )
            ).one()
        ctx = Context(
            platform_id=platform_id,
            issuer=lms.issuer,
            deployment_id="deployment-1",
            context_id=context_id,
            title=context_id,
            services={
                "ags": {
                    "scope": [
                        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                    ],
                    "lineitems": lms.lineitems_url(context_id),
                }
            },
        )
        db.add(ctx)
        db.flush()
        for i in range(peserta):
            user = User(issuer=lms.issuer, sub=f"{context_id}-{i}", name=f"Guru {i}")
            db.add(user)
            db.flush()
            db.add(Membership(user_id=user.id, context_pk=ctx.id, lti_roles=[], role="peserta"))
        db.commit()
        return ctx.id


def _queue(app, ctx: int, subs: list[str], points: int) -> None:
    with app.app_context():
        db = session()
        for sub in subs:
            user_id = db.scalars(select(User.id).where(User.sub == sub)).one()
            enqueue(
                db,
                context_pk=ctx,
                user_id=user_id,
                resource_id=COLUMN,
                label="Sesi: Tes",
                score_max=Decimal(100),
                tag="TS",
                score_given=Decimal(points),
            )
        db.commit()


def _deliver_counting(app):
    """One delivery run; returns its outcome and the SQL statements it ran."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with app.app_context():
            db = session()
            key = app.extensions["lti_registry"].signing_key(db)
            out = deliver_due(db, key, http_session(), now=utcnow() + timedelta(seconds=1))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return out, statements


def _column(lms, context_id: str) -> dict:
    (item,) = [i for i in lms.lineitems(context_id) if i.get("resourceId") == COLUMN]
    return item


def test_the_statements_of_a_delivery_do_not_grow_with_its_rows(live_tool, lms):
    app = live_tool.app
    ctx = _course(app, lms, COURSE, 45)
    subs = [f"{COURSE}-{i}" for i in range(45)]
    _queue(app, ctx, subs[:1], 70)  # the column is created: statements of its own
    assert _deliver_counting(app)[0].delivered == 1
    _queue(app, ctx, subs[1:5], 80)
    few, few_sql = _deliver_counting(app)
    _queue(app, ctx, subs[5:], 90)
    many, many_sql = _deliver_counting(app)
    assert (few.delivered, few.failed, many.delivered, many.failed) == (4, 0, 40, 0)
    assert len(many_sql) == len(few_sql), (few_sql, many_sql)
    book = lms.gradebook(_column(lms, COURSE))
    assert book == {
        sub: (70.0 if i == 0 else 80.0 if i < 5 else 90.0) for i, sub in enumerate(subs)
    }
    with app.app_context():
        rows = list(session().scalars(select(GradeOutbox)))
    assert {(r.state, r.tries, r.last_status, r.claim) for r in rows} == {
        ("delivered", 1, 200, None)
    }
    assert all(r.delivered_at is not None and r.claimed_at is None for r in rows)
    assert lms.token_requests.count_for(ok=True) == 1


def test_a_course_whose_registration_is_not_active_fails_beside_a_delivered_one(live_tool, lms):
    app = live_tool.app
    with app.app_context():
        db = session()
        other = add_platform(
            db,
            name="Paused LMS",
            issuer=lms.issuer,
            client_id="paused-client",
            auth_login_url=lms.auth_url,
            auth_token_url=lms.token_url,
            key_set_url=lms.jwks_url,
            deployment_ids=["deployment-1"],
            active=False,
        )
        db.commit()
        paused_platform = other.id
    live = _course(app, lms, COURSE, 3)
    paused = _course(app, lms, "course-paused", 2, platform_id=paused_platform)
    _queue(app, live, [f"{COURSE}-{i}" for i in range(3)], 60)
    _queue(app, paused, [f"course-paused-{i}" for i in range(2)], 65)
    out, _sql = _deliver_counting(app)
    assert (out.delivered, out.failed, out.retried) == (3, 2, 0)
    assert lms.gradebook(_column(lms, COURSE)) == {f"{COURSE}-{i}": 60.0 for i in range(3)}
    assert not lms.lineitems("course-paused")
    with app.app_context():
        rows = list(session().scalars(select(GradeOutbox).where(GradeOutbox.context_pk == paused)))
    assert {(r.state, r.claim) for r in rows} == {("failed", None)}
    assert all("not active" in r.last_error for r in rows)


@pytest.mark.parametrize("with_redis", [True, False])
def test_an_access_token_is_shared_through_redis_across_processes(tmp_path, with_redis):
    """Each RQ job runs in a child process: the token it fetched is in Redis for the
    next one (the process cache is emptied between the two deliveries, as a new child
    starts with it empty). Without Redis a new process asks for a token again."""
    from contextlib import ExitStack, contextmanager

    from tests.conftest import build_app, connect_peer, served
    from tests.peer import TestPlatform
    from tests.redis_helpers import private_redis

    with ExitStack() as stack:
        settings = {"REDIS_URL": None, "JOBS_BACKEND": "inline", "GRADES_WORKER": "off"}
        if with_redis:
            server = stack.enter_context(contextmanager(private_redis)())
            settings["REDIS_URL"] = server.url(3)
        tool = stack.enter_context(served(build_app(tmp_path, **settings)))
        lms = stack.enter_context(TestPlatform())
        connect_peer(tool, lms)
        app = tool.app
        ctx = _course(app, lms, COURSE, 4)
        subs = [f"{COURSE}-{i}" for i in range(4)]
        _queue(app, ctx, subs[:2], 70)
        assert _deliver_counting(app)[0].delivered == 2
        forget_tokens()  # another process
        _queue(app, ctx, subs[2:], 80)
        assert _deliver_counting(app)[0].delivered == 2
        assert lms.token_requests.count_for(ok=True) == (1 if with_redis else 2)
        if with_redis:
            assert server.client(3).keys("*ags-token:*")
