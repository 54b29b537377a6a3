"""Upload benchmark: one large file (50 MB by default) through the tool's upload route
under gunicorn; prints the throughput and how much the server process's memory grew.

Uploads are streamed: werkzeug spools the request body to a temporary file, and the
storage copies it in 64 KiB chunks to its own temporary file before renaming it into
place. So the worker's memory should hardly grow with the file's size (goal: under
20 MB of growth for 50 MB). The route is the pengampu's material upload (`materi`),
or a peserta's task upload (`--target tugas`) when that plugin is installed.

    .venv/bin/python bench/upload.py [--mb 50] [--runs 3] [--target materi|tugas]
        [--database-url URL] [--redis-url URL]

With STORAGE_URL (and S3_ENDPOINT_URL, AWS_* credentials) in the environment, the files
go to that storage instead, e.g. S3-compatible object storage.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import Engines, Report, add_engine_args, describe, stop, tool_env  # noqa: E402
from launch import free_port  # noqa: E402
from quiz_burst import make_app, start_gunicorn, wait_up  # noqa: E402

from lti_tool.db import get_db  # noqa: E402

TEMPLATE = "gp-informatika-smp"
GOAL_MB = 20.0


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker_pids(master: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{master}/task").iterdir():
        children = (task / "children").read_text().split()
        out += [int(c) for c in children]
    return out


class Sampler(threading.Thread):
    """The highest RSS of the given processes, sampled every few milliseconds."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak, self.done = pids, dict.fromkeys(pids, 0), threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_kb(pid))
            time.sleep(0.003)


def prepare(app, target: str) -> tuple[int, str, str, str, str]:
    """(context id, upload path, page path, cookie value, csrf token)."""
    import flask
    from flask_wtf.csrf import generate_csrf

    from course_templates.loader import TEMPLATE_DIR, install, load_template
    from lti_tool.db import session
    from lti_tool.migrate import upgrade
    from lti_tool.models import Context, Membership, User
    from lti_tool.services.instances import instance_for

    upgrade(app)
    role = "pengampu" if target == "materi" else "peserta"
    with app.app_context():
        db = session()
        registry = app.extensions["lti_activities"]
        source = TEMPLATE_DIR / f"{TEMPLATE}.yaml"
        install(db, load_template(source, registry), registry, source=source,
                instance_path=app.instance_path)  # fmt: skip
        ctx = Context(issuer="https://lms.bench", deployment_id="d", context_id="c", title="K")
        user = User(issuer="https://lms.bench", sub="u1", name="Bench")
        db.add_all([ctx, user])
        db.flush()
        db.add(Membership(user_id=user.id, context_pk=ctx.id, lti_roles=[], role=role))
        inst, _ = instance_for(db, ctx.id, TEMPLATE)
        activity = next(a for b in inst.module.blocks for a in b.activities if a.type == target)
        block = activity.block
        db.commit()
        ctx_id, uid, aid = ctx.id, user.id, activity.id
        page = f"/c/{ctx_id}/module/{TEMPLATE}/{block.key}/{activity.key}"
    with app.test_request_context("/"):
        s = flask.session
        s.permanent = True
        s.update(uid=uid, name="Bench", courses={str(ctx_id): [role, "K"]})
        token = generate_csrf()
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(s))
    return ctx_id, f"/c/{ctx_id}/{target}/{aid}/upload", page, cookie, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target", choices=["materi", "tugas"], default="materi")
    add_engine_args(parser)
    args = parser.parse_args()
    report = Report("upload", describe(args.database_url, args.redis_url))
    with (
        tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp,
        Engines("upload", args.database_url, args.redis_url, Path(tmp)) as engines,
    ):
        report.engines = engines.label
        port = free_port()
        env = tool_env(engines, Path(tmp) / "instance", port)
        env["MATERI_MAX_UPLOAD"] = str((args.mb + 1) * 1024 * 1024)
        env["MAX_CONTENT_LENGTH"] = str((args.mb + 2) * 1024 * 1024)
        app = make_app(env)
        _ctx, path, page, cookie, token = prepare(app, args.target)
        get_db(app).engine.dispose()
        proc = start_gunicorn(env, port, 1, Path(tmp) / "gunicorn.log", profile=False)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_up(base + "/", proc)
            http = requests.Session()
            http.cookies.set(app.config["SESSION_COOKIE_NAME"], cookie, domain="127.0.0.1")
            assert http.get(base + page).status_code == 200  # warm: the page and its queries
            body = b"%PDF-1.7\n" + os.urandom(args.mb * 1024 * 1024 - 9)  # sniffed as PDF
            (pid,) = worker_pids(proc.pid)
            where = env.get("STORAGE_URL") or "a local folder"
            print(f"upload of {args.mb} MB to {args.target} ({path}), 1 sync worker, "
                  f"{engines.label}, files in {where}")  # fmt: skip
            growths, seconds, failed = [], [], 0
            for run in range(1, args.runs + 1):
                before = rss_kb(pid)
                sampler = Sampler([pid])
                sampler.start()
                started = time.perf_counter()
                resp = http.post(
                    base + path,
                    data={"csrf_token": token, "title": f"Bench {run}"},
                    files={"file": (f"bench-{run}.pdf", body, "application/pdf")},
                    allow_redirects=False,
                )
                elapsed = time.perf_counter() - started
                time.sleep(0.05)
                sampler.done.set()
                sampler.join()
                growth = (sampler.peak[pid] - before) / 1024
                growths.append(growth)
                seconds.append(elapsed)
                ok = resp.status_code in (302, 303) and "error" not in resp.headers.get(
                    "Location", ""
                )
                failed += not ok
                print(
                    f"run {run}: HTTP {resp.status_code} {'ok' if ok else 'FAILED'}, "
                    f"{elapsed * 1000:.0f} ms, {args.mb / elapsed:.0f} MB/s, worker RSS "
                    f"{before / 1024:.1f} -> peak {sampler.peak[pid] / 1024:.1f} MB "
                    f"(+{growth:.1f} MB)"
                )
                if not ok:
                    print("   ", resp.headers.get("Location"), resp.text[:200])
            from lti_tool.storage import storage_for

            stored = [e for e in storage_for(args.target, app).entries() if not e.temporary]
            sizes_ok = len(stored) == args.runs and all(e.size == len(body) for e in stored)
            print(f"stored files: {len(stored)}, sizes ok: {sizes_ok}")
        finally:
            stop(proc)
            get_db(app).engine.dispose()
        worst = max(growths)
        report.figure("throughput", args.mb / statistics.median(seconds), "MB/s")
        report.figure(
            "worst memory growth", worst, "MB", f"< {GOAL_MB:.0f} MB for {args.mb} MB",
            worst < GOAL_MB,
        )  # fmt: skip
        report.figure(
            "files stored intact", len(stored) if sizes_ok else 0, f"of {args.runs}",
            f"{args.runs}", sizes_ok and not failed,
        )  # fmt: skip
        report.finish(mb=args.mb, runs=args.runs, target=args.target, storage=where)


if __name__ == "__main__":
    main()
