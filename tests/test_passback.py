"""Scores reach the LMS gradebook through AGS, against the platform peer and its
failure modes: 503 for a while, 429 with Retry-After, an expired token (401), a stale
timestamp (409), a score refused for a non-learner (400), a worker killed mid-delivery.
After recovery every peserta's latest score is in the LMS and no older value
overwrote a newer one; one token per platform and scope set."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from grading.delivery import CLAIM_TIMEOUT, deliver_due
from grading.report import report_score
from lti_tool.db import session, utcnow
from lti_tool.lti.http import http_session
from lti_tool.lti.service_connector import forget_tokens
from lti_tool.models import Activity, Context, GradeOutbox, User
from plugins.quiz.tests.helpers import attempt_id, ctx_of, form_for, load_attempt, open_quiz, start
from tests.conftest import add_member, launch_as, make_browser

COURSE = "course-ppg-101"  # the peer's default context
TES_AKHIR = "a:gp-pedagogik-a/penutup/tes-akhir"
SESI_1 = "a:gp-pedagogik-a/sesi-1/tes-sumatif"


@pytest.fixture(autouse=True)
def _fresh_tokens():
    forget_tokens()  # the token cache is per process: each test counts its own
    yield
    forget_tokens()


def deliver(app, *, later: float = 0.0):
    """Run the worker once, `later` seconds from now (for retries that wait)."""
    with app.app_context():
        db = session()
        key = app.extensions["lti_registry"].signing_key(db)
        return deliver_due(db, key, http_session(), now=utcnow() + timedelta(seconds=later))


def take_quiz(live_tool, lms, sub: str, right: set[int] | None = None) -> int:
    """A peserta launches and submits the Tes Akhir; returns the context id."""
    with make_browser() as browser:
        page = open_quiz(live_tool, lms, browser, sub=sub)
        begun = start(live_tool, browser, page.text)
        aid, ctx = attempt_id(begun.url), ctx_of(begun.url)
        attempt = load_attempt(live_tool.app, aid)
        done = browser.post(
            live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/submit"), data=form_for(attempt, right)
        )
        assert done.ok
    return ctx


def column(lms, resource_id: str) -> dict:
    (item,) = [i for i in lms.lineitems(COURSE) if i.get("resourceId") == resource_id]
    return item


def outbox(app) -> list[GradeOutbox]:
    with app.app_context():
        rows = list(session().scalars(select(GradeOutbox).order_by(GradeOutbox.id)))
        for r in rows:
            session().expunge(r)
        return rows


def report(app, ctx: int, sub: str, ref: str, points: str) -> None:
    """A score for an activity, as a plugin reports it."""
    with app.app_context():
        db = session()
        block, key = ref.split("/")[-2:]
        activity = next(
            a
            for a in db.scalars(select(Activity).where(Activity.key == key))
            if a.block.key == block
        )
        user = db.scalars(select(User).where(User.sub == sub)).one()
        report_score(
            db,
            context_pk=ctx,
            activity=activity,
            user_id=user.id,
            score=Decimal(points),
            max_score=Decimal(100),
            source="test",
        )
        db.commit()


def test_a_quiz_score_reaches_the_deep_linked_column(live_tool, lms):
    app = live_tool.app
    # the column deep linking made in the LMS (Moodle creates it from the lineItem)
    lms.add_lineitem(COURSE, label="Penutup: Tes Akhir", resource_id=TES_AKHIR, tag="TA")
    take_quiz(live_tool, lms, "guru1")
    (row,) = outbox(app)
    assert row.state == "pending" and row.score_given == "100.00"
    out = deliver(app)
    assert (out.delivered, out.failed) == (1, 0)
    item = column(lms, TES_AKHIR)  # the deep-linked column, not a new one
    assert lms.gradebook(item) == {"guru1": 100.0}
    (sent,) = lms.score_history(item, "guru1")
    assert sent["activityProgress"] == "Completed" and sent["gradingProgress"] == "FullyGraded"
    assert sent["scoreGiven"] == 100.0 and sent["scoreMaximum"] == 100.0
    assert outbox(app)[0].state == "delivered"


def test_columns_are_created_when_missing_and_the_final_score_follows(live_tool, lms):
    app = live_tool.app
    ctx = take_quiz(live_tool, lms, "guru1")  # TA 100
    for n in range(1, 5):
        report(app, ctx, "guru1", f"sesi-{n}/tes-sumatif", "80")
        report(app, ctx, "guru1", f"sesi-{n}/penilaian-diri", "90")
    out = deliver(app)
    assert out.failed == 0 and out.delivered >= 9
    assert lms.gradebook(column(lms, TES_AKHIR)) == {"guru1": 100.0}
    assert lms.gradebook(column(lms, SESI_1)) == {"guru1": 80.0}
    na = column(lms, "f:gp-pedagogik-a")
    assert na["label"] == "Nilai Akhir (NA)" and na["scoreMaximum"] == 100
    assert lms.gradebook(na) == {"guru1": 89.0}  # 9 + 40 + 40
    # staff never get scores; one token for the platform and scope set
    assert lms.token_requests.count_for(ok=True) == 1


def test_faults_then_recovery_keep_the_latest_value(live_tool, lms):
    app = live_tool.app
    ctx = take_quiz(live_tool, lms, "guru1", right=set())  # 0
    lms.fail_next("scores", 503, times=2)
    out = deliver(app)
    assert out.retried == 1 and out.delivered == 0
    (row,) = outbox(app)
    assert row.state == "pending" and row.last_status == 503 and row.tries == 1
    # a newer score arrives while the older one waits: it supersedes it
    report(app, ctx, "guru1", "penutup/tes-akhir", "75")
    rows = outbox(app)
    assert [r.state for r in rows] == ["superseded", "pending"]
    assert deliver(app, later=3).retried == 1  # the second 503
    lms.fail_next("scores", 429, retry_after=7)
    out = deliver(app, later=10)
    assert out.retried == 1
    waiting = outbox(app)[-1]
    assert 6 <= (waiting.next_try_at - utcnow()).total_seconds() <= 18  # Retry-After honoured
    lms.expire_tokens()  # the LMS forgets our token: refreshed once, then delivered
    out = deliver(app, later=30)
    assert out.delivered == 1
    item = column(lms, TES_AKHIR)
    assert lms.gradebook(item) == {"guru1": 75.0}
    assert [s["scoreGiven"] for s in lms.score_history(item, "guru1")] == [75.0]  # 0 never sent
    assert lms.token_requests.count_for(ok=True) == 2  # the first, and one refresh


def test_a_refused_score_is_kept_with_the_lms_answer_and_can_be_resent(live_tool, lms):
    app = live_tool.app
    ctx = take_quiz(live_tool, lms, "guru1")
    # a peserta in the tool's roster whom the LMS does not know as a learner: 400
    with app.app_context():
        db = session()
        add_member(db, lms.issuer, ctx, "stranger")
        db.commit()
    report(app, ctx, "stranger", "penutup/tes-akhir", "60")
    out = deliver(app)
    assert (out.delivered, out.failed) == (1, 1)
    failed = [r for r in outbox(app) if r.state == "failed"]
    assert len(failed) == 1 and failed[0].last_status == 400 and failed[0].last_error
    # the status page shows it, with the LMS's answer
    with make_browser() as staff:
        launch_as(live_tool, lms, staff, ["Instructor"], "pengampu1", "/course/gp-pedagogik-a")
        page = staff.get(live_tool.url(f"/c/{ctx}/module/gp-pedagogik-a/nilai/lms"))
        assert page.status_code == 200 and "400" in page.text and "stranger" in page.text
        staff.post(live_tool.url(f"/c/{ctx}/module/gp-pedagogik-a/nilai/lms/retry"))
    assert [r.state for r in outbox(app) if r.user_id == failed[0].user_id] == ["pending"]


def test_a_stale_timestamp_means_the_lms_already_has_it(live_tool, lms):
    """The answer to a delivery was lost (timeout) but the LMS took the score: the retry
    gets 409 for the same timestamp, and the score counts as delivered."""
    app = live_tool.app
    take_quiz(live_tool, lms, "guru1")
    lms.fail_next("scores", delay=3)  # answered after our timeout, but processed
    app.config["HTTP_TIMEOUT"] = 0.5
    app.extensions.pop("lti_http", None)
    try:
        assert deliver(app).retried == 1
    finally:
        app.config["HTTP_TIMEOUT"] = 10
        app.extensions.pop("lti_http", None)
    import time

    time.sleep(3)
    out = deliver(app, later=60)
    assert out.delivered == 1 and outbox(app)[0].state == "delivered"
    assert lms.gradebook(column(lms, TES_AKHIR)) == {"guru1": 100.0}


def test_a_worker_killed_mid_delivery_loses_nothing(live_tool, lms):
    app = live_tool.app
    take_quiz(live_tool, lms, "guru1")
    with app.app_context():  # a worker claimed the row and died before settling it
        db = session()
        row = db.scalars(select(GradeOutbox)).one()
        row.state, row.claimed_at, row.claim = "sending", utcnow(), "dead-worker"
        db.commit()
    assert deliver(app).delivered == 0  # still claimed: not sent twice meanwhile
    out = deliver(app, later=CLAIM_TIMEOUT.total_seconds() + 1)
    assert out.delivered == 1
    assert lms.gradebook(column(lms, TES_AKHIR)) == {"guru1": 100.0}


def test_many_peserta_one_token(live_tool, lms):
    app = live_tool.app
    ctx = None
    for i in range(12):
        ctx = take_quiz(live_tool, lms, f"guru{i}", right=None if i % 2 else set())
    with app.app_context():
        assert session().get(Context, ctx) is not None
    out = deliver(app)
    assert out.delivered == 12 and out.failed == 0
    book = lms.gradebook(column(lms, TES_AKHIR))
    assert book == {f"guru{i}": (100.0 if i % 2 else 0.0) for i in range(12)}
    assert lms.token_requests.count_for(ok=True) == 1


def test_a_real_worker_process_killed_mid_delivery(live_tool, lms):
    """`lti-tool grades sync` in its own process, killed (SIGKILL) while the LMS is
    still answering: the row stays claimed, is taken again later, and the LMS ends up
    with the score exactly once."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    app = live_tool.app
    take_quiz(live_tool, lms, "guru1")
    lms.fail_next("scores", delay=5)
    env = dict(
        os.environ,
        LTI_TOOL_ENV="testing",
        DATABASE_URL=app.config["DATABASE_URL"],
        INSTANCE_PATH=app.instance_path,
        SECRET_KEY=app.config["SECRET_KEY"],
        PUBLIC_BASE_URL=app.config["PUBLIC_BASE_URL"],
    )
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "lti-tool"), "grades", "sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and outbox(app)[0].state != "sending":
            time.sleep(0.05)
        assert outbox(app)[0].state == "sending"
        time.sleep(0.5)  # the score request is on its way
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    row = outbox(app)[0]
    assert row.state == "sending", (
        row.state,
        row.last_status,
        row.last_error,
    )  # claimed by a dead process
    time.sleep(5)  # the LMS finishes the request it was given
    out = deliver(app, later=CLAIM_TIMEOUT.total_seconds() + 1)
    assert out.delivered == 1 and outbox(app)[0].state == "delivered"
    item = column(lms, TES_AKHIR)
    assert lms.gradebook(item) == {"guru1": 100.0}
    assert len(lms.score_history(item, "guru1")) == 1  # once, not twice
