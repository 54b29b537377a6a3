"""On PostgreSQL, delivery workers claim outbox rows with FOR UPDATE SKIP LOCKED: a
claim in progress never makes another wait, two claimers never get the same row, and
together they get every row. Each test uses a database of its own, dropped after."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from grading.delivery import claim_batch
from lti_tool.db import get_db, utcnow
from lti_tool.models import Context, GradeOutbox, User
from tests.conftest import build_app

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROWS = 120


@pytest.fixture
def pg_app(tmp_path):
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL at {ADMIN_URL}")
    name = f"lti_skip_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    app = None
    try:
        app = build_app(tmp_path, DATABASE_URL=f"{base}/{name}")
        yield app
    finally:
        if app is not None:
            get_db(app).engine.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def due_rows(pg_app) -> set[int]:
    """ROWS pending outbox rows, due now."""
    with get_db(pg_app).sessionmaker() as db:
        ctx = Context(issuer="https://lms", deployment_id="d", context_id="c", title="C")
        db.add(ctx)
        db.flush()
        users = [User(issuer="https://lms", sub=f"u{i}", name=f"u{i}") for i in range(ROWS)]
        db.add_all(users)
        db.flush()
        now = utcnow()
        rows = [
            GradeOutbox(
                context_pk=ctx.id,
                user_id=u.id,
                resource_id="a:m/b/x",
                label="X",
                score_max="100",
                score_given="50",
                activity_progress="Completed",
                grading_progress="FullyGraded",
                timestamp=now,
                state="pending",
                next_try_at=now - timedelta(seconds=1),
            )
            for u in users
        ]
        db.add_all(rows)
        db.commit()
        return {r.id for r in rows}


def claimed(db, token: str) -> set[int]:
    return set(db.scalars(select(GradeOutbox.id).where(GradeOutbox.claim == token)))


def test_the_claim_locks_with_skip_locked(pg_app, due_rows):
    seen: list[str] = []
    engine = get_db(pg_app).engine

    def remember(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        with get_db(pg_app).sessionmaker() as db:
            token = claim_batch(db, utcnow(), limit=10)
            db.commit()
            assert len(claimed(db, token)) == 10
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert any("FOR UPDATE SKIP LOCKED" in s for s in seen)


def test_a_claim_in_progress_does_not_block_another(pg_app, due_rows):
    make = get_db(pg_app).sessionmaker
    with make() as first, make() as second:
        now = utcnow()
        held = claim_batch(first, now, limit=50)  # its transaction stays open: rows locked
        second.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")
        other = claim_batch(second, now, limit=50)  # would wait (and time out) without SKIP
        second.commit()
        first.commit()
        a, b = claimed(first, held), claimed(second, other)
        assert len(a) == len(b) == 50 and not a & b
        assert a | b == set(sorted(due_rows)[:100])  # the oldest rows, each claimed once


def test_two_concurrent_claimers_share_every_row_exactly_once(pg_app, due_rows):
    make = get_db(pg_app).sessionmaker
    start = threading.Barrier(2)
    got: dict[int, list[set[int]]] = {0: [], 1: []}
    errors: list[BaseException] = []

    def claimer(n: int) -> None:
        try:
            with make() as db:
                start.wait(10)
                while True:
                    token = claim_batch(db, utcnow(), limit=7)
                    db.commit()
                    if token is None:
                        return
                    got[n].append(claimed(db, token))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    mine = [set().union(*batches) for batches in got.values()]
    assert got[0] and got[1]  # both took part
    assert not mine[0] & mine[1]
    assert mine[0] | mine[1] == due_rows
    assert sum(len(b) for batches in got.values() for b in batches) == ROWS
    with make() as db:
        states = dict(
            db.execute(select(GradeOutbox.state, func.count()).group_by(GradeOutbox.state)).all()
        )
    assert states == {"sending": ROWS}
