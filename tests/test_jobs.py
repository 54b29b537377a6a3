"""The job queue: one enqueue API, run through RQ (against a private redis-server) or in
the process; retries with backoff, the dead-letter list and its CLI; grade passback as
queued jobs (one job for a burst of scores), and a worker process killed in the middle
of a delivery (no score lost, sent twice, or out of order)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select

from lti_tool import jobs
from lti_tool.db import get_db, session
from lti_tool.job_worker import run_worker
from lti_tool.models import GradeOutbox
from lti_tool.server import MAX_DEFAULT_WORKERS, default_workers
from tests.conftest import build_app, served
from tests.redis_helpers import backdate_epoch, kill_tree, private_redis


# -- jobs of these tests (importable by name, as a worker imports them) ----------------
@jobs.job
def add(a: int, b: int) -> dict:
    """Proves the app context: the result names the app's queue."""
    return {"sum": a + b, "queue": current_app.config["JOBS_QUEUE"]}


@jobs.job
def fail_while(path: str) -> str:
    """Fails as long as the file exists."""
    if Path(path).exists():
        raise RuntimeError(f"the LMS said no ({Path(path).name})")
    return "done"


@pytest.fixture
def redis_server():
    yield from private_redis()


@pytest.fixture
def rq_app(tmp_path, redis_server):
    app = build_app(
        tmp_path,
        REDIS_URL=redis_server.url(5),
        REDIS_KEY_PREFIX=f"t-{uuid.uuid4().hex[:8]}:",
        JOBS_QUEUE=f"q-{uuid.uuid4().hex[:8]}",
    )
    yield app
    get_db(app).engine.dispose()


def burst(app) -> None:
    run_worker(app, burst=True, simple=True)


# -- the API -----------------------------------------------------------------------------
def test_the_backend_follows_the_configuration(rq_app):
    from flask import Flask

    assert jobs.backend_name(rq_app) == "rq"
    plain = Flask(__name__)
    for backend, redis_url, expected in [
        ("auto", None, "thread"),
        ("auto", "redis://x", "rq"),
        ("inline", "redis://x", "inline"),
        ("thread", None, "thread"),
    ]:
        plain.config.update(JOBS_BACKEND=backend, REDIS_URL=redis_url)
        assert jobs.backend_name(plain) == expected
    plain.config.update(JOBS_BACKEND="celery")
    with pytest.raises(ValueError, match="JOBS_BACKEND"):
        jobs.init_app(plain)
    plain.config.update(JOBS_BACKEND="rq", REDIS_URL=None)
    with pytest.raises(ValueError, match="needs REDIS_URL"):
        jobs.init_app(plain)


def test_only_importable_functions_and_json_arguments(rq_app):
    with rq_app.app_context():
        with pytest.raises(ValueError, match="module-level"):
            jobs.enqueue(lambda: None)
        with pytest.raises(ValueError, match="JSON"):
            jobs.enqueue(add, object(), 1)


def test_inline_jobs_retry_then_land_in_the_dead_letter_list(tmp_path):
    app = build_app(tmp_path, JOBS_BACKEND="inline")
    flag = tmp_path / "failing"
    flag.touch()
    with app.app_context():
        ok = jobs.enqueue(add, 2, 3)
        assert jobs.job_status(ok).status == "finished"
        assert jobs.job_status(ok).result == {"sum": 5, "queue": app.config["JOBS_QUEUE"]}
        bad = jobs.enqueue(fail_while, str(flag), retry=2)
        info = jobs.job_status(bad)
        assert info.status == "failed" and "the LMS said no" in info.error
        assert [j.id for j in jobs.failed_jobs()] == [bad]
        flag.unlink()
        assert jobs.requeue_failed([bad, "nope"]) == [bad]
        assert jobs.job_status(bad).status == "finished" and jobs.failed_jobs() == []
    get_db(app).engine.dispose()


def test_thread_jobs_run_in_the_background(tmp_path):
    app = build_app(tmp_path, JOBS_BACKEND="thread")
    with app.app_context():
        job_id = jobs.enqueue(add, 1, 1)
    deadline = time.monotonic() + 10
    while jobs.job_status(job_id, app=app).status != "finished":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert jobs.job_status(job_id, app=app).result["sum"] == 2
    get_db(app).engine.dispose()


def test_an_in_process_job_id_tells_whether_its_process_is_alive(tmp_path):
    """The id of a thread job names its process (pid and start time, this machine): a
    process that is gone is told from one that runs, a reused pid is not mistaken for
    it, and what cannot be told is None."""
    app = build_app(tmp_path, JOBS_BACKEND="thread")
    with app.app_context():
        jid = jobs.enqueue(add, 1, 2)
    assert jobs.local_job_alive(jid) is True  # this process
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        ticks = jobs._start_ticks(child.pid)
        assert ticks is not None
        other = f"{uuid.uuid4().hex[:16]}@{child.pid}.{ticks}.{jobs._host_tag()}"
        reused = f"{uuid.uuid4().hex[:16]}@{child.pid}.{int(ticks) - 1}.{jobs._host_tag()}"
        assert jobs.local_job_alive(other) is True
        assert jobs.local_job_alive(reused) is False  # that pid, another process
    finally:
        child.kill()
        child.wait()
    assert jobs.local_job_alive(other) is False
    elsewhere = f"{uuid.uuid4().hex[:16]}@{os.getpid()}.1.{'0' * 8}"
    for unknown in (elsewhere, uuid.uuid4().hex, "", None, "x@y.z.w"):
        assert jobs.local_job_alive(unknown) is None, unknown


def test_rq_runs_a_job_in_the_app_context(rq_app):
    with rq_app.app_context():
        job_id = jobs.enqueue(add, 20, 22, description="adding")
        assert jobs.job_status(job_id).status == "queued"
    burst(rq_app)
    with rq_app.app_context():
        info = jobs.job_status(job_id)
        assert info.status == "finished" and info.name == "tests.test_jobs.add"
        assert info.result == {"sum": 42, "queue": rq_app.config["JOBS_QUEUE"]}
        assert jobs.job_status("no-such-job") is None


def test_a_failing_job_retries_with_backoff_then_is_a_dead_letter(rq_app, tmp_path):
    flag = tmp_path / "failing"
    flag.touch()
    with rq_app.app_context():
        job_id = jobs.enqueue(fail_while, str(flag), retry=jobs.Retry(max=2, intervals=(1,)))
    burst(rq_app)  # try 1 fails: retry 1 is scheduled a second later
    with rq_app.app_context():
        assert jobs.job_status(job_id).status == "scheduled"
        assert jobs.failed_jobs() == []
    for _ in range(2):  # retries 1 and 2, each after its interval
        time.sleep(1.2)
        burst(rq_app)
    with rq_app.app_context():
        info = jobs.job_status(job_id)
        assert info.status == "failed" and "the LMS said no" in info.error
        (dead,) = jobs.failed_jobs()
        assert dead.id == job_id and dead.name == "tests.test_jobs.fail_while"

    cli = rq_app.test_cli_runner()
    listed = cli.invoke(args=["jobs", "failed"])
    assert listed.exit_code == 0
    assert job_id in listed.output and "tests.test_jobs.fail_while" in listed.output
    assert "RuntimeError: the LMS said no" in listed.output
    assert cli.invoke(args=["jobs", "retry"]).exit_code != 0  # ids or --all
    unknown = cli.invoke(args=["jobs", "retry", "no-such-job"])
    assert unknown.exit_code == 1 and "not in the failed jobs" in unknown.output
    flag.unlink()  # the cause is fixed: requeue
    again = cli.invoke(args=["jobs", "retry", job_id])
    assert again.exit_code == 0 and "1 job(s) queued again" in again.output
    burst(rq_app)
    with rq_app.app_context():
        assert jobs.job_status(job_id).status == "finished" and jobs.failed_jobs() == []
    assert "no failed jobs" in cli.invoke(args=["jobs", "failed"]).output
    status = cli.invoke(args=["jobs", "status", job_id])
    assert "finished" in status.output


def test_retry_all_requeues_every_dead_letter(rq_app, tmp_path):
    flag = tmp_path / "failing"
    flag.touch()
    with rq_app.app_context():
        ids = {jobs.enqueue(fail_while, str(flag)) for _ in range(3)}
    burst(rq_app)
    with rq_app.app_context():
        assert {j.id for j in jobs.failed_jobs()} == ids
    flag.unlink()
    out = rq_app.test_cli_runner().invoke(args=["jobs", "retry", "--all"])
    assert "3 job(s) queued again" in out.output
    burst(rq_app)
    with rq_app.app_context():
        assert {jobs.job_status(i).status for i in ids} == {"finished"}


def test_worker_and_dead_letters_need_redis(tmp_path):
    app = build_app(tmp_path, REDIS_URL=None)  # also under make test-pg
    for args in (["worker", "--burst"], ["jobs", "failed"], ["jobs", "retry", "--all"]):
        out = app.test_cli_runner().invoke(args=args)
        assert out.exit_code != 0 and "REDIS_URL is not set" in out.output
    get_db(app).engine.dispose()


def test_serve_workers_come_from_the_cores():
    assert default_workers({}, 1) == 3
    assert default_workers({}, 2) == 5
    assert default_workers({}, 64) == MAX_DEFAULT_WORKERS
    assert default_workers({}, None) == 3
    assert default_workers({"WEB_CONCURRENCY": "7"}, 64) == 7
    with pytest.raises(ValueError, match="WEB_CONCURRENCY"):
        default_workers({"WEB_CONCURRENCY": "many"}, 2)


# -- grade passback through the queue ------------------------------------------------
COURSE = "course-ppg-101"
TES_AKHIR = "a:gp-pedagogik-a/penutup/tes-akhir"


@pytest.fixture
def live_tool(tmp_path, redis_server):  # the lms fixture uses this one
    prefix = f"t-{uuid.uuid4().hex[:8]}:"
    app = build_app(
        tmp_path,
        REDIS_URL=redis_server.url(5),
        REDIS_KEY_PREFIX=prefix,
        JOBS_QUEUE=f"q-{uuid.uuid4().hex[:8]}",
        GRADES_WORKER="queue",
    )
    backdate_epoch(redis_server, prefix)
    with served(app) as tool:
        yield tool


def queued(app) -> int:
    with app.app_context():
        return jobs._backend(app).queue().count


def outbox(app) -> list[GradeOutbox]:
    with app.app_context():
        rows = list(session().scalars(select(GradeOutbox).order_by(GradeOutbox.id)))
        for r in rows:
            session().expunge(r)
        return rows


def test_scores_reach_the_lms_through_one_queued_job(live_tool, lms):
    from tests.test_passback import column, report, take_quiz

    app = live_tool.app
    ctx = take_quiz(live_tool, lms, "guru1")
    take_quiz(live_tool, lms, "guru2", right=set())
    for points in ("10", "20", "30", "40", "50"):  # a burst of commits: still one job
        report(app, ctx, "guru1", "sesi-1/tes-sumatif", points)
    assert queued(app) == 1
    burst(app)
    assert {r.state for r in outbox(app)} <= {"delivered", "superseded"}
    assert lms.gradebook(column(lms, TES_AKHIR)) == {"guru1": 100.0, "guru2": 0.0}
    sesi1 = column(lms, "a:gp-pedagogik-a/sesi-1/tes-sumatif")
    assert [s["scoreGiven"] for s in lms.score_history(sesi1, "guru1")] == [50.0]
    assert queued(app) == 0
    # a score the LMS refuses for now waits with its backoff; the job itself succeeded
    lms.fail_next("scores", 503)
    report(app, ctx, "guru2", "sesi-1/tes-sumatif", "70")
    burst(app)
    waiting = outbox(app)[-1]
    assert waiting.state == "pending" and waiting.last_status == 503
    with app.app_context():
        assert jobs.failed_jobs() == []


def test_the_worker_tick_finds_rows_left_without_a_job(live_tool, lms):
    """Rows queued while Redis was down, due for a retry, or claimed by a worker that
    died: the tick asks for a delivery job."""
    from grading import queue as grades_queue
    from lti_tool.db import utcnow
    from lti_tool.redis_client import redis_client
    from tests.test_passback import take_quiz

    app = live_tool.app
    take_quiz(live_tool, lms, "guru1")
    with app.app_context():
        jobs._backend(app).queue().empty()
        redis_client(app).delete(grades_queue._lock_key(app))
    assert queued(app) == 0 and grades_queue.due_work(app)
    grades_queue.tick(app)
    grades_queue.tick(app)  # the lock keeps it at one job
    assert queued(app) == 1
    with app.app_context():
        jobs._backend(app).queue().empty()
        redis_client(app).delete(grades_queue._lock_key(app))
        db = session()
        row = db.scalars(select(GradeOutbox)).one()
        row.state, row.claim, row.claimed_at = "sending", "dead", utcnow()
        db.commit()
    assert not grades_queue.due_work(app)  # claimed, not expired yet
    with app.app_context():
        db = session()
        db.scalars(select(GradeOutbox)).one().claimed_at = utcnow() - timedelta(minutes=6)
        db.commit()
    assert grades_queue.due_work(app)
    grades_queue.tick(app)
    assert queued(app) == 1
    burst(app)
    assert outbox(app)[0].state == "delivered"


def _worker_env(app, **extra) -> dict[str, str]:
    cfg = app.config
    return dict(
        os.environ,
        LTI_TOOL_ENV="testing",
        DATABASE_URL=cfg["DATABASE_URL"],
        INSTANCE_PATH=app.instance_path,
        SECRET_KEY=cfg["SECRET_KEY"],
        PUBLIC_BASE_URL=cfg["PUBLIC_BASE_URL"],
        REDIS_URL=cfg["REDIS_URL"],
        REDIS_KEY_PREFIX=cfg["REDIS_KEY_PREFIX"],
        JOBS_QUEUE=cfg["JOBS_QUEUE"],
        GRADES_WORKER="queue",
        **extra,
    )


def _start_worker(app, log: Path, **extra) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "lti-tool"), "worker"],
        env=_worker_env(app, **extra),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_no_score_and_keeps_their_order(
    live_tool, lms, tmp_path
):
    """`lti-tool worker` (forking) is SIGKILLed with its work horse while the LMS is
    still answering; newer scores arrive meanwhile; a new worker takes the claimed rows
    over once their claim expires. The LMS ends with every peserta's latest score, each
    accepted score exactly once, in timestamp order."""
    from tests.test_passback import column, report, take_quiz

    app = live_tool.app
    subs = ["guru1", "guru2", "guru3", "guru4"]
    ctx = None
    for i, sub in enumerate(subs):
        ctx = take_quiz(live_tool, lms, sub, right=None if i % 2 else set())
    assert queued(app) == 1
    lms.fail_next("scores", delay=4, times=len(subs))  # answered late, but processed
    log = tmp_path / "worker.log"
    settings = {"GRADES_CLAIM_SECONDS": "3", "JOBS_TICK_SECONDS": "1"}
    first = _start_worker(app, log, **settings)
    try:
        _wait(lambda: len(lms.faults_fired) == len(subs), 30, "the scores to be on their way")
        assert {r.state for r in outbox(app)} == {"sending"}
        time.sleep(0.3)
        kill_tree(first)  # the worker, its work horse and its scheduler
        first.wait(10)
    finally:
        kill_tree(first)
    assert {r.state for r in outbox(app)} == {"sending"}  # claimed by the dead worker
    report(app, ctx, "guru1", "penutup/tes-akhir", "55")  # newer scores meanwhile
    report(app, ctx, "guru2", "penutup/tes-akhir", "65")
    second = _start_worker(app, log, **settings)
    try:
        _wait(
            lambda: {r.state for r in outbox(app)} <= {"delivered", "superseded"},
            60,
            "every score to be settled",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(15)
        finally:
            kill_tree(second)

    item = column(lms, TES_AKHIR)
    assert lms.gradebook(item) == {"guru1": 55.0, "guru2": 65.0, "guru3": 0.0, "guru4": 100.0}
    rows = outbox(app)
    for sub in subs:
        history = lms.score_history(item, sub)
        stamps = [h["timestamp"] for h in history]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), (sub, history)
    sent = {h["timestamp"] for sub in subs for h in lms.score_history(item, sub)}
    for row in rows:
        stamp = row.timestamp.isoformat(timespec="microseconds")
        if row.state == "delivered":  # every delivered score is in the LMS exactly once
            assert any(s.startswith(stamp) for s in sent), (row.user_id, row.score_given)
    assert len(sent) == sum(len(lms.score_history(item, s)) for s in subs)
