"""Quiz burst benchmark: N peserta submit a 20-question Tes Akhir attempt within a window.

The goal (issue): 1,000 peserta submitting within 60 s, on this machine with PostgreSQL,
p95 under 150 ms and zero errors; the SQLite figure is reported too. Speed goals live
here, in a benchmark that prints its figures, never in the unit tests.

Setup, not timed: a fresh database (SQLite file in a temporary instance folder, or a
fresh PostgreSQL database that is dropped afterwards), migrated; the shipped template
gp-informatika-smp installed; one course with N peserta; one attempt in progress per
peserta at penutup/tes-akhir (20 questions from the bank `tes-akhir`); each peserta's
signed session cookie (as a launch leaves it, with a CSRF token) and fully-right form.

Then the tool is served by gunicorn (2 sync workers as in bench/launch.py;
BENCH_GUNICORN_ARGS adds arguments, e.g. "--threads 4"), warmed up (a few pages and
`--warmup` extra submits, not counted), and the N submits arrive over `--window`
seconds (Poisson arrivals, i.e. uniform random times in the window, or evenly spaced),
sent by `--concurrency` client threads; `--window 0` sends them as fast as the clients
allow (burst capacity). A submit counts as an error unless it answers 302 to the
attempt's review. Afterwards the database must hold every attempt finished at 100 %
and every activity_score at full marks; each mismatch is an error too.

    .venv/bin/python bench/quiz_burst.py [--users 1000] [--window 60]
        [--arrivals poisson|even] [--concurrency 64] [--workers 2]
        [--database-url URL] [--redis-url URL]

Engines: SQLite by default; `--database-url` / `--redis-url` (or BENCH_DATABASE_URL /
BENCH_REDIS_URL) run it on PostgreSQL and Redis (bench/common.py says how the database is
made and dropped); with Redis, `lti-tool worker` runs beside gunicorn for the jobs the
submits queue (grade passback). One summary line per figure with its goal and
PASS/MISS, the JSON line last. Exit status is non-zero only on a crash, not on a missed
goal.
"""

from __future__ import annotations

import argparse
import math
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import requests

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
from launch import cpu_times, free_port, server_pids  # noqa: E402

BIN = Path(sys.executable).parent
GUNICORN_EXTRA = os.environ.get("BENCH_GUNICORN_ARGS", "").split()
TEMPLATE = "gp-informatika-smp"
QUIZ = ("penutup", "tes-akhir")
GOAL_P95_MS = 150.0


# -- setup (not timed) -------------------------------------------------------------------


@dataclass
class Peserta:
    user_id: int
    attempt_id: int
    cookie: str
    form: dict
    review_path: str


@dataclass
class Course:
    context_pk: int
    activity_id: int
    max_score: int
    questions: int
    cookie_name: str
    people: list[Peserta] = field(default_factory=list)


def make_app(env: dict[str, str]):
    from lti_tool.app import create_app
    from lti_tool.config import load_config

    return create_app(load_config(None, env))


def session_cookie(app, uid: int, name: str, ctx: int, title: str) -> tuple[str, str]:
    """(signed session cookie as a peserta's launch leaves it, the form's CSRF token)."""
    import flask
    from flask_wtf.csrf import generate_csrf

    # A request context of its own: generate_csrf caches the token on `g`.
    with app.test_request_context("/"):
        s = flask.session
        s.permanent = True
        s["uid"] = uid
        s["name"] = name
        s["courses"] = {str(ctx): ["peserta", title]}
        token = generate_csrf()
        value = app.session_interface.get_signing_serializer(app).dumps(dict(s))
    return value, token


def prepare(app, n: int) -> Course:
    """Migrate, install the template, and give n peserta an attempt in progress."""
    from course_templates.loader import TEMPLATE_DIR, install, installed_files_dir, load_template
    from lti_tool.db import session, utcnow
    from lti_tool.migrate import upgrade
    from lti_tool.models import Context, Membership, User
    from lti_tool.services.instances import instance_for
    from plugins.quiz import attempts
    from plugins.quiz.tests.helpers import form_for

    upgrade(app)
    title = "Kelas Tes Akhir"
    with app.app_context():
        db = session()
        registry = app.extensions["lti_activities"]
        source = TEMPLATE_DIR / f"{TEMPLATE}.yaml"
        spec = load_template(source, registry)
        install(db, spec, registry, source=source, instance_path=app.instance_path)
        ctx = Context(
            issuer="https://lms.bench", deployment_id="d1", context_id="tes-akhir", title=title
        )
        db.add(ctx)
        db.flush()
        users = [
            User(issuer="https://lms.bench", sub=f"guru-{i}", name=f"Guru {i}") for i in range(n)
        ]
        db.add_all(users)
        db.flush()
        db.add_all(
            Membership(user_id=u.id, context_pk=ctx.id, lti_roles=[], role="peserta") for u in users
        )
        inst, _ = instance_for(db, ctx.id, TEMPLATE)
        activity = next(
            a
            for b in inst.module.blocks
            if b.key == QUIZ[0]
            for a in b.activities
            if a.key == QUIZ[1]
        )
        files = installed_files_dir(app.instance_path, inst.module.key, inst.module.version)
        now = utcnow()
        started = [(u, attempts.start(db, ctx.id, inst, activity, u.id, now, files)) for u in users]
        db.commit()
        course = Course(
            context_pk=ctx.id,
            activity_id=activity.id,
            max_score=activity.max_score,
            questions=len(started[0][1].slots),
            cookie_name=app.config["SESSION_COOKIE_NAME"],
        )
        ctx_id = ctx.id
    for u, a in started:
        cookie, token = session_cookie(app, u.id, u.name, ctx_id, title)
        course.people.append(
            Peserta(
                user_id=u.id,
                attempt_id=a.id,
                cookie=cookie,
                form={**form_for(a), "csrf_token": token},
                review_path=f"/c/{ctx_id}/quiz/attempt/{a.id}",
            )
        )
    return course


def verify(app, course: Course) -> tuple[int, int, int, list[str]]:
    """(attempts finished at 100 %, scores at full marks, completions graded, problems)."""
    from sqlalchemy import select

    from lti_tool.db import session
    from lti_tool.models import ActivityCompletion, ActivityScore
    from plugins.quiz.models import QuizAttempt

    full = str(Decimal(course.max_score).quantize(Decimal("0.01")))
    with app.app_context():
        db = session()
        atts = {
            a.user_id: a
            for a in db.scalars(
                select(QuizAttempt).where(
                    QuizAttempt.context_pk == course.context_pk,
                    QuizAttempt.activity_id == course.activity_id,
                )
            )
        }
        scores = {
            s.user_id: s
            for s in db.scalars(
                select(ActivityScore).where(
                    ActivityScore.context_pk == course.context_pk,
                    ActivityScore.activity_id == course.activity_id,
                )
            )
        }
        done = {
            c.user_id: c
            for c in db.scalars(
                select(ActivityCompletion).where(
                    ActivityCompletion.context_pk == course.context_pk,
                    ActivityCompletion.activity_id == course.activity_id,
                )
            )
        }
    problems = []
    n_att = n_score = n_done = 0
    for p in course.people:
        a, s, c = atts.get(p.user_id), scores.get(p.user_id), done.get(p.user_id)
        if a is not None and a.state == "finished" and a.percent == "100.00":
            n_att += 1
        else:
            state = None if a is None else (a.state, a.finished_by, a.percent)
            problems.append(f"user {p.user_id}: attempt {state}")
        if s is not None and s.score == full:
            n_score += 1
        else:
            problems.append(f"user {p.user_id}: activity_score {None if s is None else s.score}")
        if c is not None and c.state == "graded" and c.completed_at is not None:
            n_done += 1
        else:
            problems.append(f"user {p.user_id}: completion {None if c is None else c.state}")
    return n_att, n_score, n_done, problems


# -- the server ---------------------------------------------------------------------------


def start_gunicorn(env: dict[str, str], port: int, workers: int, log: Path, profile: bool):
    cmd = [
        str(BIN / "gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *GUNICORN_EXTRA,
    ]
    if profile:
        env = dict(env, BENCH_PROFILE_DIR=str(ROOT / "bench" / "profiles"))
        cmd += ["-c", str(ROOT / "bench" / "profile_conf.py")]
    cmd.append("lti_tool.wsgi:app")
    with log.open("ab") as out:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=out)


def wait_up(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    """Until the server answers: the master's socket accepts before a worker has loaded
    the app, so a slow first answer is waited for too."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer")


# -- the load -----------------------------------------------------------------------------


@dataclass
class Result:
    scheduled: float  # perf_counter when it was due
    sent: float
    done: float
    error: str | None


_local = threading.local()


def client() -> requests.Session:
    """One requests.Session per thread that never keeps a cookie: each request carries
    its peserta's session cookie explicitly."""
    s = getattr(_local, "session", None)
    if s is None:
        s = _local.session = requests.Session()
        s.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return s


def submit(base: str, course: Course, p: Peserta) -> str | None:
    """POST the attempt's form; None when it is accepted (302 to its review)."""
    try:
        r = client().post(
            f"{base}{p.review_path}/submit",
            data=p.form,
            headers={"Cookie": f"{course.cookie_name}={p.cookie}"},
            allow_redirects=False,
            timeout=60,
        )
    except requests.RequestException as exc:
        return type(exc).__name__
    if r.status_code != 302:
        return f"HTTP {r.status_code}"
    where = r.headers.get("Location", "")
    if where.startswith(base):
        where = where[len(base) :]
    if where != f"{p.review_path}?submitted=1":
        return f"302 to {where.split('?', 1)[-1] if '?' in where else where}"
    return None


def run_load(
    base: str, course: Course, people: list[Peserta], offsets: list[float], concurrency: int
) -> list[Result]:
    """Send people[i]'s submit at offsets[i] seconds (a job waits for a free thread)."""
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    for job in zip(people, offsets, strict=True):
        jobs.put(job)
    for _ in range(concurrency):
        jobs.put(None)
    results: list[Result] = []
    lock = threading.Lock()
    t0 = time.perf_counter() + 0.2

    def work() -> None:
        mine = []
        while (job := jobs.get()) is not None:
            p, offset = job
            due = t0 + offset
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            error = submit(base, course, p)
            mine.append(Result(due, sent, time.perf_counter(), error))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def warm_up(base: str, course: Course, people: list[Peserta], workers: int) -> None:
    """Pages and submits not counted, so every worker has its connections, templates
    and compiled statements ready."""
    s = requests.Session()
    for _ in range(4 * workers):
        s.get(base + "/", timeout=30)
        s.get(base + "/healthz", timeout=30)
    for p in people[: 2 * workers]:
        client().get(
            base + p.review_path, headers={"Cookie": f"{course.cookie_name}={p.cookie}"}, timeout=30
        )
    if people:
        run_load(base, course, people, [0.0] * len(people), min(len(people), 4))


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_values[max(math.ceil(p / 100 * len(sorted_values)) - 1, 0)]


def arrivals(n: int, window: float, how: str, seed: int) -> list[float]:
    if window <= 0:
        return [0.0] * n
    if how == "even":
        return [i * window / n for i in range(n)]
    # A Poisson process conditioned on n arrivals in the window: uniform random times.
    rng = random.Random(seed)
    return sorted(rng.uniform(0, window) for _ in range(n))


# -- one database -------------------------------------------------------------------------


def bench_one(args: argparse.Namespace) -> None:
    """Run the benchmark on the engines of the arguments; print its figures."""
    from lti_tool.db import get_db

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    report = Report("quiz_burst", describe(args.database_url, args.redis_url))
    proc = worker = app = None
    with (
        tempfile.TemporaryDirectory(prefix="quiz_burst_") as tmpdir,
        Engines("quiz_burst", args.database_url, args.redis_url, Path(tmpdir)) as engines,
    ):
        tmp = Path(tmpdir)
        report.engines = engines.label
        log = tmp / "gunicorn.log"
        try:
            env = tool_env(engines, tmp / "instance", port)
            app = make_app(env)
            t = time.perf_counter()
            course = prepare(app, args.users + args.warmup)
            get_db(app).engine.dispose()
            setup_s = time.perf_counter() - t
            warm, measured = course.people[: args.warmup], course.people[args.warmup :]

            if args.redis_url:
                worker = start_worker(env, tmp / "worker.log")
            proc = start_gunicorn(env, port, args.workers, log, args.profile)
            wait_up(base + "/healthz", proc)
            warm_up(base, course, warm, args.workers)
            pids = server_pids(proc.pid)
            load = os.getloadavg()[0]
            cpu0 = sum(cpu_times(pids))
            offsets = arrivals(len(measured), args.window, args.arrivals, args.seed)
            results = run_load(base, course, measured, offsets, args.concurrency)
            cpu = sum(cpu_times(pids)) - cpu0
            stop(proc)
            n_att, n_score, n_done, problems = verify(app, course)
            get_db(app).engine.dispose()
        except BaseException:
            if log.exists():
                sys.stderr.write(log.read_text()[-4000:])
            raise
        finally:
            stop(proc)
            stop(worker)
            if app is not None:
                get_db(app).engine.dispose()
        server_log = log.read_text() if log.exists() else ""

    n = len(results)
    service = sorted((r.done - r.sent) * 1000 for r in results)
    waited = sorted((r.done - r.scheduled) * 1000 for r in results)
    lag = max(r.sent - r.scheduled for r in results) * 1000
    span = max(r.done for r in results) - min(r.sent for r in results)
    errors = Counter(r.error for r in results if r.error)
    n_errors = sum(errors.values())
    all_errors = n_errors + len(problems)
    p95 = percentile(service, 95)
    threads = " ".join(GUNICORN_EXTRA) or "sync"
    window = f"{args.window:g} s ({args.arrivals} arrivals)" if args.window > 0 else "0 (burst)"

    print(f"server       gunicorn -w {args.workers} ({threads}); setup {setup_s:.1f} s (not timed)")
    print(f"users        {n} submits of {course.questions} questions (+{args.warmup} warm-up)")
    print(f"window       {window}, concurrency {args.concurrency} client threads")
    print(f"rate         {n / span:.1f} req/s achieved ({n} in {span:.1f} s)")
    print(
        f"latency      p50 {percentile(service, 50):.1f}  p95 {p95:.1f}  "
        f"p99 {percentile(service, 99):.1f}  max {service[-1]:.1f} ms"
    )
    if args.window > 0:
        print(
            f"  from due   p95 {percentile(waited, 95):.1f}  max {waited[-1]:.1f} ms "
            f"(client lag max {lag:.1f} ms)"
        )
    print(
        f"server CPU   {cpu * 1000 / n:.2f} ms per submit (gunicorn master + workers); "
        f"{os.cpu_count()} CPUs, load average {load:.2f} before the run"
    )
    print(f"errors       {n_errors}" + (f"  {dict(errors.most_common(5))}" if errors else ""))
    print(
        f"verified     {n_att}/{len(course.people)} attempts finished at 100.00, "
        f"{n_score} activity_score at {course.max_score}, {n_done} completions graded "
        f"(incl. warm-up); {len(problems)} mismatches"
    )
    for line in problems[:5]:
        print(f"  {line}")
    if (errors or problems) and server_log.strip():
        print("server log (last lines):")
        print("\n".join(server_log.strip().splitlines()[-25:]))
    report.figure("submits/s", n / span, "/s")
    report.figure("p50", percentile(service, 50), "ms")
    if args.window > 0:
        in_window = span <= args.window + 5
        report.figure(
            "submits", n, f"in {span:.1f} s", f"{args.users} within {args.window:g} s",
            in_window and n == args.users,
        )  # fmt: skip
        report.figure("p95", p95, "ms", f"< {GOAL_P95_MS:g} ms", p95 < GOAL_P95_MS)
    else:  # queueing behind the clients decides the latency: no goal for a burst
        report.figure("p95", p95, "ms", None, None, note="burst: the p95 goal is for a window")
    report.figure("errors", all_errors, "", "0", all_errors == 0, mismatches=len(problems))
    report.figure("server CPU per submit", cpu * 1000 / n, "ms")
    report.finish(
        users=n,
        questions=course.questions,
        window_s=args.window,
        concurrency=args.concurrency,
        workers=args.workers,
        load_average_before_run=round(load, 2),
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--users", type=int, default=1000, help="measured submits (one per peserta)")
    ap.add_argument("--window", type=float, default=60, help="seconds; 0: as fast as possible")
    ap.add_argument("--arrivals", choices=["poisson", "even"], default="poisson")
    ap.add_argument("--concurrency", type=int, default=64, help="client threads")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument("--warmup", type=int, default=20, help="extra submits, not counted")
    ap.add_argument("--seed", type=int, default=1, help="of the Poisson arrival times")
    ap.add_argument("--profile", action="store_true", help="pyinstrument in each worker")
    add_engine_args(ap)
    args = ap.parse_args()
    if args.users < 1:
        ap.error("--users must be at least 1")
    bench_one(args)


if __name__ == "__main__":
    main()
