"""Passback benchmark: 10,000 scores delivered to a local LMS (the test peer's AGS 2.0
gradebook, each score answered after a simulated network latency); prints scores/s,
the time taken, and how many access tokens were requested.

Goal (issue 7/9): under 30 s, and one token per platform and scope set. The tool runs
on a real port (the peer fetches its key set to check the token requests' signed
client assertions); the outbox is filled as plugins fill it.

    .venv/bin/python bench/passback.py [--scores 10000] [--latency-ms 50]
        [--database-url URL] [--redis-url URL]

With --redis-url the scores take the production path of a scaled-out tool: the commit
that queued them asks for a delivery job in Redis, `lti-tool worker` (started and
listening before the clock starts) runs it, and the clock stops when the outbox holds
no pending row. Without Redis the outbox is delivered in this process by the code of
the server's passback thread (`PassbackWorker.run_once`, one batch of 500 at a time, 32
posts in parallel), called until no row is pending.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from common import (  # noqa: E402
    Engines,
    Report,
    add_engine_args,
    describe,
    start_worker,
    stop,
    tool_env,
)

GOAL_SECONDS = 30.0
ACTIVITIES = 10


def run_peer(conn, base: str, course: str, peserta: int, latency: float, scores: int) -> None:
    """The LMS in a process of its own (as a real one would be): set up, report its
    URLs, serve until asked for its figures."""
    from tests.peer import TestPlatform

    with TestPlatform() as lms:
        lms.register_tool(base, client_id="bench", deployment_ids=["d1"])
        lms.set_members(
            course, [{"user_id": f"guru-{i}", "roles": ["Learner"]} for i in range(peserta)]
        )
        if latency:
            lms.fail_next("scores", delay=latency, times=scores * 2)
        conn.send(
            {
                "issuer": lms.issuer,
                "auth_url": lms.auth_url,
                "token_url": lms.token_url,
                "jwks_url": lms.jwks_url,
                "lineitems": lms.lineitems_url(course),
            }
        )
        cpu = time.process_time()  # the peer's CPU from here on is the delivery's
        conn.recv()  # the delivery is over
        cpu = time.process_time() - cpu
        in_lms = sum(
            sum(1 for v in lms.gradebook(item).values() if v is not None)
            for item in lms.lineitems(course)
        )
        conn.send({"tokens": lms.token_requests.count_for(ok=True), "in_lms": in_lms, "cpu": cpu})


def process_cpu(pid: int) -> float:
    """CPU seconds of a process and of its children that ended (RQ's job processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def wait_for_worker(engines: Engines, proc, seconds: float = 60) -> None:
    """Until `lti-tool worker` listens on the run's queue (its start-up is not timed)."""
    client = engines.redis()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"lti-tool worker exited with {proc.returncode}")
        if client.scard(f"rq:workers:{engines.queue}"):
            return
        time.sleep(0.1)
    raise SystemExit("lti-tool worker did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scores", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    add_engine_args(parser)
    args = parser.parse_args()

    from sqlalchemy import func, select
    from werkzeug.serving import make_server

    from grading.passback import enqueue
    from grading.worker import PassbackWorker
    from lti_tool.db import get_db, session
    from lti_tool.models import Context, GradeOutbox, Membership, User
    from lti_tool.services.platforms import add_platform
    from tests.conftest import build_app

    peserta = max(args.scores // ACTIVITIES, 1)
    report = Report("passback", describe(args.database_url, args.redis_url))
    worker = None
    with (
        tempfile.TemporaryDirectory(prefix="bench-passback-") as tmp,
        Engines("passback", args.database_url, args.redis_url, Path(tmp)) as engines,
    ):
        report.engines = engines.label
        settings = engines.settings()
        if args.redis_url:  # deliveries are RQ jobs, run by `lti-tool worker`
            settings.update(GRADES_WORKER="auto", JOBS_BACKEND="auto")
        app = build_app(Path(tmp), **settings)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        app.config["PUBLIC_BASE_URL"] = base
        threading.Thread(target=server.serve_forever, daemon=True).start()
        course = "bench-course"
        parent, child = multiprocessing.Pipe()
        peer = multiprocessing.get_context("spawn").Process(
            target=run_peer,
            args=(child, base, course, peserta, args.latency_ms / 1000, args.scores),
            daemon=True,
        )
        peer.start()
        lms = SimpleNamespace(**parent.recv())
        try:
            if args.redis_url:
                port = server.server_port
                env = tool_env(engines, Path(tmp) / "instance", port, SECRET_KEY="test-secret")
                worker = start_worker(env, Path(tmp) / "worker.log")
                wait_for_worker(engines, worker)
            with app.app_context():
                db = session()
                platform = add_platform(
                    db,
                    name="Bench LMS",
                    issuer=lms.issuer,
                    client_id="bench",
                    auth_login_url=lms.auth_url,
                    auth_token_url=lms.token_url,
                    key_set_url=lms.jwks_url,
                    deployment_ids=["d1"],
                )
                ctx = Context(
                    platform_id=platform.id,
                    issuer=lms.issuer,
                    deployment_id="d1",
                    context_id=course,
                    title="Bench",
                    services={
                        "ags": {
                            "scope": [
                                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                            ],
                            "lineitems": lms.lineitems,
                        }
                    },
                )
                db.add(ctx)
                db.flush()
                users = [
                    User(issuer=lms.issuer, sub=f"guru-{i}", name=f"Guru {i}")
                    for i in range(peserta)
                ]
                db.add_all(users)
                db.flush()
                db.add_all(
                    Membership(user_id=u.id, context_pk=ctx.id, lti_roles=[], role="peserta")
                    for u in users
                )
                n = 0
                for a in range(ACTIVITIES):
                    for u in users:
                        if n == args.scores:
                            break
                        enqueue(
                            db,
                            context_pk=ctx.id,
                            user_id=u.id,
                            resource_id=f"a:bench/sesi/{a}",
                            label=f"Tes {a}",
                            score_max=Decimal(100),
                            tag="TS",
                            score_given=Decimal(50 + (u.id + a) % 50),
                        )
                        n += 1
                how = (
                    "RQ jobs run by `lti-tool worker`"
                    if args.redis_url
                    else "the passback thread's code (32 in parallel)"
                )
                print(
                    f"passback: {n} scores ({ACTIVITIES} columns x {peserta} peserta), "
                    f"LMS latency {args.latency_ms:.0f} ms (its own process), delivered by {how}, "
                    f"{engines.label}",
                    flush=True,
                )
                started = time.perf_counter()
                cpu0 = process_cpu(worker.pid) if worker else time.process_time()
                db.commit()  # with Redis, this commit asks for the delivery job
                pending = (
                    select(func.count())
                    .select_from(GradeOutbox)
                    .where(GradeOutbox.state.in_(("pending", "sending")))
                )
                if args.redis_url:
                    left = n
                    deadline = started + max(GOAL_SECONDS * 10, 120)
                    while left and time.perf_counter() < deadline and worker.poll() is None:
                        time.sleep(0.1)
                        left = db.scalar(pending)
                        db.rollback()
                else:  # what the passback thread of a web process runs, batch after batch
                    thread = PassbackWorker(app)
                    while True:
                        thread.run_once()
                        left = db.scalar(pending)
                        db.rollback()
                        if not left:
                            break
                elapsed = time.perf_counter() - started
                counts = dict(
                    db.execute(
                        select(GradeOutbox.state, func.count()).group_by(GradeOutbox.state)
                    ).all()
                )
                delivered, failed = counts.get("delivered", 0), counts.get("failed", 0)
                left = db.query(GradeOutbox).filter(GradeOutbox.state != "delivered").count()
            tool_cpu = (process_cpu(worker.pid) if worker else time.process_time()) - cpu0
            parent.send("done")
            figures = parent.recv()
        finally:
            stop(worker)
            peer.terminate()
            server.shutdown()
            get_db(app).engine.dispose()
        tokens, in_lms = figures["tokens"], figures["in_lms"]
        print(
            f"delivered {delivered}, failed {failed}, not delivered {left}, "
            f"in the LMS gradebook {in_lms}"
        )
        where = "lti-tool worker and its job processes" if worker else "this process"
        print(
            f"CPU during the delivery: tool {tool_cpu:.1f} s ({where}), LMS peer "
            f"{figures['cpu']:.1f} s; {os.cpu_count()} CPUs"
        )
        report.figure("scores/s", delivered / elapsed, "/s")
        report.figure(
            f"time for {n} scores", elapsed, "s", f"< {GOAL_SECONDS:.0f} s",
            elapsed < GOAL_SECONDS and left == 0,
        )  # fmt: skip
        report.figure("in the LMS gradebook", in_lms, f"of {n}", f"{n}", in_lms == n and not failed)
        report.figure("token requests", tokens, "", "1 per platform and scope set", tokens == 1)
        report.figure("tool CPU per score", tool_cpu * 1000 / n, "ms")
        report.figure("LMS peer CPU per score", figures["cpu"] * 1000 / n, "ms")
        report.finish(scores=n, latency_ms=args.latency_ms)


if __name__ == "__main__":
    main()
