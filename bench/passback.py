"""Passback benchmark: 10,000 scores delivered to a local LMS (the test peer's AGS 2.0
gradebook, each score answered after a simulated network latency); prints scores/s,
the time taken, and how many access tokens were requested.

Goal (issue 7/9): under 30 s, and one token per platform and scope set. The tool runs
on a real port (the peer fetches its key set to check the token requests' signed
client assertions); the outbox is filled as plugins fill it, then delivered by the
same code as the worker thread.

    .venv/bin/python bench/passback.py [--scores 10000] [--latency-ms 50] [--parallel 32]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
        conn.recv()  # the delivery is over
        in_lms = sum(
            sum(1 for v in lms.gradebook(item).values() if v is not None)
            for item in lms.lineitems(course)
        )
        conn.send({"tokens": lms.token_requests.count_for(ok=True), "in_lms": in_lms})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scores", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallel", type=int, default=32)
    args = parser.parse_args()

    from werkzeug.serving import make_server

    from grading.delivery import deliver_due
    from grading.passback import enqueue
    from lti_tool.db import session
    from lti_tool.lti.http import http_session
    from lti_tool.models import Context, GradeOutbox, Membership, User
    from lti_tool.services.platforms import add_platform
    from tests.conftest import build_app

    peserta = max(args.scores // ACTIVITIES, 1)
    with tempfile.TemporaryDirectory(prefix="bench-passback-") as tmp:
        app = build_app(Path(tmp))
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
                User(issuer=lms.issuer, sub=f"guru-{i}", name=f"Guru {i}") for i in range(peserta)
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
            db.commit()
        print(
            f"passback: {n} scores ({ACTIVITIES} columns x {peserta} peserta), "
            f"LMS latency {args.latency_ms:.0f} ms (its own process), "
            f"{args.parallel} in parallel, SQLite"
        )
        started = time.perf_counter()
        delivered = failed = 0
        with app.app_context():
            db = session()
            key = app.extensions["lti_registry"].signing_key(db)
            while True:
                out = deliver_due(db, key, http_session(), parallel=args.parallel)
                delivered += out.delivered
                failed += out.failed
                if not (out.delivered or out.failed or out.retried):
                    break
            elapsed = time.perf_counter() - started
            left = db.query(GradeOutbox).filter(GradeOutbox.state != "delivered").count()
        parent.send("done")
        figures = parent.recv()
        tokens, in_lms = figures["tokens"], figures["in_lms"]
        peer.terminate()
        print(
            f"delivered {delivered}, failed {failed}, not delivered {left}, "
            f"in the LMS gradebook {in_lms}"
        )
        print(f"{elapsed:.1f} s, {delivered / elapsed:.0f} scores/s, token requests {tokens}")
        ok = elapsed < GOAL_SECONDS and tokens == 1 and in_lms == n and failed == 0
        print(
            f"passback: {elapsed:.1f} s for {n} scores (goal < {GOAL_SECONDS:.0f} s), "
            f"{tokens} token request(s) (goal 1) {'PASS' if ok else 'FAIL'}"
        )
        server.shutdown()


if __name__ == "__main__":
    main()
