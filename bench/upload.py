"""Upload benchmark: one large file (50 MB by default) through the tool's upload route
under gunicorn; prints the throughput and how much the server process's memory grew.

Uploads are streamed: werkzeug spools the request body to a temporary file, and the
storage copies it in 64 KiB chunks to its own temporary file before renaming it into
place. So the worker's memory should hardly grow with the file's size (goal: under
20 MB of growth for 50 MB). The route is the pengampu's material upload (`materi`),
or a peserta's task upload (`--target tugas`) when that plugin is installed.

    .venv/bin/python bench/upload.py [--mb 50] [--runs 3] [--target materi|tugas]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quiz_burst import make_app, start_gunicorn, stop, tool_env, wait_up  # noqa: E402

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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        port = 20000 + secrets.randbelow(20000)
        env = tool_env(Path(tmp) / "instance", f"sqlite:///{tmp}/tool.db", port)
        env["MATERI_MAX_UPLOAD"] = str((args.mb + 1) * 1024 * 1024)
        env["MAX_CONTENT_LENGTH"] = str((args.mb + 2) * 1024 * 1024)
        app = make_app(env)
        _ctx, path, page, cookie, token = prepare(app, args.target)
        proc = start_gunicorn(env, port, 1, Path(tmp) / "gunicorn.log", profile=False)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_up(base + "/", proc)
            http = requests.Session()
            http.cookies.set(app.config["SESSION_COOKIE_NAME"], cookie, domain="127.0.0.1")
            assert http.get(base + page).status_code == 200  # warm: the page and its queries
            body = b"%PDF-1.7\n" + os.urandom(args.mb * 1024 * 1024 - 9)  # sniffed as PDF
            (pid,) = worker_pids(proc.pid)
            print(f"upload of {args.mb} MB to {args.target} ({path}), 1 sync worker, SQLite")
            growths = []
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
                ok = resp.status_code in (302, 303) and "error" not in resp.headers.get(
                    "Location", ""
                )
                print(
                    f"run {run}: HTTP {resp.status_code} {'ok' if ok else 'FAILED'}, "
                    f"{elapsed * 1000:.0f} ms, {args.mb / elapsed:.0f} MB/s, worker RSS "
                    f"{before / 1024:.1f} -> peak {sampler.peak[pid] / 1024:.1f} MB "
                    f"(+{growth:.1f} MB)"
                )
                if not ok:
                    print("   ", resp.headers.get("Location"), resp.text[:200])
            stored = list((Path(tmp) / "instance" / "uploads").rglob("*.pdf"))
            print(f"stored files: {len(stored)}, sizes ok: "
                  f"{all(f.stat().st_size == len(body) for f in stored)}")  # fmt: skip
            worst = max(growths)
            verdict = "PASS" if worst < GOAL_MB else "FAIL"
            print(f"upload: worst memory growth {worst:.1f} MB (goal < {GOAL_MB:.0f} MB) {verdict}")
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
