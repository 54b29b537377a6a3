"""PostgreSQL restarted during a quiz burst, against a private PostgreSQL cluster (never
the machine's shared server): peserta threads autosave and submit their attempts while
the server is stopped (fast shutdown) and started again.

- Every answer the tool acknowledged (a 2xx autosave, a submit's redirect to the
  review) is in the database exactly: each one is read back before its attempt's next
  request, and every attempt holds its last acknowledged answers at the end.
- A request during the outage fails with the error page (5xx, HTML: the quiz page's
  autosave script retries on anything that is not JSON) and never answers 2xx.
- After the restart, saves succeed again without restarting the app, also when the
  server restarted while nobody used the tool: the engine's pool drops its dead
  connections (pool_pre_ping) instead of handing them out.
"""

from __future__ import annotations

import glob
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from lti_tool.db import get_db
from tests.conftest import build_app, served

pytestmark = pytest.mark.slow

TEMPLATE = "gp-pedagogik-a"
QUIZ = ("penutup", "tes-akhir")
PESERTA = 30
THREADS = 6


# -- a private PostgreSQL cluster ---------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """initdb + pg_ctl in a temporary folder, on a free port of 127.0.0.1 (as the
    `postgres` OS user when the tests run as root: the server refuses root)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pgfault-"))
        self.data = self.dir / "data"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root without a postgres OS user to run PostgreSQL")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}\n{tail}")

    def initdb(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, 9)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    bindir = _pg_bin()
    if bindir is None or not (bindir / "initdb").exists():
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    server = PrivatePostgres(bindir)
    try:
        server.initdb()
        server.start()
        engine = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql('CREATE DATABASE "quiz"')
        engine.dispose()
        yield server
    finally:
        server.remove()


# -- the class and its attempts -------------------------------------------------------------


@dataclass
class Seat:
    """One peserta's attempt, as their browser sees it."""

    attempt_id: int
    cookie: str
    csrf: str
    slots: list
    path: str
    acked: dict | None = None  # the answers of the last acknowledged request
    finished: bool = False


def _session_cookie(app, uid: int, ctx: int) -> tuple[str, str]:
    """The signed session cookie a peserta's launch leaves, and its form CSRF token."""
    import flask
    from flask_wtf.csrf import generate_csrf

    with app.test_request_context("/"):
        s = flask.session
        s.permanent = True
        s.update(uid=uid, name=f"Guru {uid}", courses={str(ctx): ["peserta", "Kelas"]})
        token = generate_csrf()
        value = app.session_interface.get_signing_serializer(app).dumps(dict(s))
    return value, token


def _class_with_attempts(app, n: int) -> list[Seat]:
    from course_templates.loader import installed_files_dir
    from lti_tool.db import session, utcnow
    from lti_tool.models import Context, Membership, User
    from lti_tool.services.instances import instance_for
    from plugins.quiz import attempts

    with app.app_context():
        db = session()
        ctx = Context(issuer="https://lms.fault", deployment_id="d1", context_id="k1", title="K")
        db.add(ctx)
        db.flush()
        users = [User(issuer="https://lms.fault", sub=f"guru-{i}", name=f"G{i}") for i in range(n)]
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
        started = [attempts.start(db, ctx.id, inst, activity, u.id, utcnow(), files) for u in users]
        db.commit()
        rows = [(a.id, a.user_id, a.slots) for a in started]
        ctx_id = ctx.id
    seats = []
    for attempt_id, uid, slots in rows:
        cookie, csrf = _session_cookie(app, uid, ctx_id)
        seats.append(
            Seat(attempt_id, cookie, csrf, slots, f"/c/{ctx_id}/quiz/attempt/{attempt_id}")
        )
    return seats


def _payload(seat: Seat, rng: random.Random) -> tuple[dict, dict]:
    """A form answering some questions (each fully right or left empty: no partial
    credit) and the answers it stores."""
    from plugins.quiz import attempts
    from plugins.quiz.models import QuizAttempt
    from plugins.quiz.tests.helpers import form_for

    shape = QuizAttempt(slots=seat.slots)
    answered = {f"s{n}" for n in range(len(seat.slots)) if rng.random() < 0.7}
    form = {k: v for k, v in form_for(shape).items() if k.split("-")[0] in answered}
    items = [(k, v) for k, vs in form.items() for v in (vs if isinstance(vs, list) else [vs])]
    return form, attempts.read_answers(shape, MultiDict(items))


# -- the burst --------------------------------------------------------------------------------


@dataclass
class Outcome:
    sent: float
    done: float
    kind: str
    status: int  # 0: no answer
    content_type: str = ""
    acked: bool = False
    page: str = ""  # the body of a failure


@dataclass
class Burst:
    base: str
    cookie_name: str
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


def _stored(engine, attempt_id: int) -> tuple[dict, str]:
    """(answers, state) of an attempt, read by a connection of the test's own, waiting
    out the outage."""
    from plugins.quiz.models import QuizAttempt

    deadline = time.monotonic() + 60
    while True:
        try:
            with engine.connect() as conn:
                row = conn.execute(
                    select(QuizAttempt.answers, QuizAttempt.state).where(
                        QuizAttempt.id == attempt_id
                    )
                ).one()
            return dict(row.answers or {}), row.state
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _send(burst: Burst, seat: Seat, form: dict, submit: bool) -> Outcome:
    url = f"{burst.base}{seat.path}/{'submit' if submit else 'save'}"
    headers = {"Cookie": f"{burst.cookie_name}={seat.cookie}"}
    if not submit:
        headers["X-Requested-With"] = "fetch"  # as the page's autosave script posts
    sent = time.monotonic()
    try:
        r = requests.post(
            url,
            data={**form, "csrf_token": seat.csrf},
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )
    except requests.RequestException:
        return Outcome(sent, time.monotonic(), "submit" if submit else "save", 0)
    out = Outcome(
        sent,
        time.monotonic(),
        "submit" if submit else "save",
        r.status_code,
        r.headers.get("Content-Type", ""),
    )
    if submit:
        where = r.headers.get("Location", "")
        # a retry of a submit that went through but whose answer was lost is told
        # the attempt is finished: acknowledged too (its answers are checked)
        out.acked = r.status_code == 302 and ("submitted=1" in where or "error=finished" in where)
    else:
        out.acked = 200 <= r.status_code < 300
    if not out.acked:
        out.page = r.text[:3000]
    return out


def _peserta(burst: Burst, seats: list[Seat], engine, seed: int) -> None:
    """One browser per seat, in turn: save a few times, sometimes submit; every request
    is repeated until acknowledged (as the page's script does), then read back."""
    rng = random.Random(seed)
    while not burst.stop.is_set():
        live = [s for s in seats if not s.finished]
        if not live:
            return
        seat = rng.choice(live)
        submit = rng.random() < 0.08
        form, answers = _payload(seat, rng)
        first = time.monotonic()
        while True:
            out = _send(burst, seat, form, submit)
            burst.note(out)
            if out.acked:
                break
            if 200 <= out.status < 400:
                burst.problem(
                    f"attempt {seat.attempt_id}: {out.kind} answered {out.status} without storing"
                )
                return
            if time.monotonic() - first > 30:  # longer than any outage here
                burst.problem(
                    f"attempt {seat.attempt_id}: {out.kind} still failing: "
                    f"{out.status} {out.page[:300]}"
                )
                return
            time.sleep(0.05)
        seat.acked, seat.finished = answers, submit
        stored, state = _stored(engine, seat.attempt_id)
        if stored != answers or (state == "finished") != submit:
            burst.problem(
                f"attempt {seat.attempt_id}: acknowledged {answers} ({out.kind}), "
                f"stored {stored} ({state})"
            )


def test_postgres_restart_during_a_quiz_burst(tmp_path, postgres):
    # errors handled as in production (the error page), not propagated as in tests
    app = build_app(tmp_path, DATABASE_URL=postgres.url("quiz"), PROPAGATE_EXCEPTIONS=False)
    seats = _class_with_attempts(app, PESERTA)
    # the burst's peserta, and a few kept out of it for the idle restart below (on a
    # slow machine the burst may finish every attempt it is given)
    busy, kept = seats[:-THREADS], seats[-THREADS:]
    engine = create_engine(postgres.url("quiz"), pool_pre_ping=True)  # the test's own reads
    try:
        with served(app) as tool:
            burst = Burst(tool.base_url, app.config["SESSION_COOKIE_NAME"])
            threads = [
                threading.Thread(
                    target=_peserta, args=(burst, busy[i::THREADS], engine, i), daemon=True
                )
                for i in range(THREADS)
            ]
            for t in threads:
                t.start()
            time.sleep(1.5)
            before = sum(1 for o in burst.outcomes if o.acked)
            down = time.monotonic()
            postgres.stop("fast")
            time.sleep(1.0)  # the outage
            postgres.start()
            up = time.monotonic()
            time.sleep(2.0)
            burst.stop.set()
            for t in threads:
                t.join(timeout=60)
            assert not any(t.is_alive() for t in threads)
            # A restart while nobody is using the tool: the pool still holds the
            # connections of before; the next requests must not be handed dead ones.
            idle = [s for s in kept if not s.finished]
            assert idle
            rng = random.Random(99)
            forms = [_payload(s, rng) for s in idle]

            def save_all() -> list[Outcome]:  # at once: several pooled connections
                with ThreadPoolExecutor(len(idle)) as pool:
                    return list(
                        pool.map(
                            lambda i: _send(burst, idle[i], forms[i][0], False), range(len(idle))
                        )
                    )

            first = save_all()
            postgres.stop("fast")
            postgres.start()
            again = save_all()

        outcomes = burst.outcomes
        assert not burst.problems, burst.problems[:5]
        assert before >= 10, f"only {before} acknowledged requests before the restart"
        failed = [o for o in outcomes if not o.acked]
        assert failed, "no request met the outage: the test did not test it"
        # the outage is answered by the error page, never by a 2xx or a refusal
        for o in failed:
            assert o.status >= 500 and o.content_type.startswith("text/html"), o
            assert 'class="card error" role="alert"' in o.page, o.page[:500]
        assert all(o.sent < up for o in failed), [o for o in failed if o.sent >= up][:3]
        assert all(o.done >= down for o in failed)
        # saves succeed again after the restart, without restarting the app
        after = [o for o in outcomes if o.sent >= up]
        assert sum(o.acked for o in after) >= 10, f"{len(after)} requests after the restart"
        assert all(o.acked for o in first), first
        assert all(o.acked for o in again), [(o.status, o.page[:300]) for o in again if not o.acked]
        for seat, (_form, answers) in zip(idle, forms, strict=True):
            seat.acked = answers
        # and every attempt holds its last acknowledged answers
        for seat in seats:
            answers, state = _stored(engine, seat.attempt_id)
            expected = seat.acked if seat.acked is not None else {}
            assert answers == expected, (seat.attempt_id, answers, expected)
            assert (state == "finished") == seat.finished, (seat.attempt_id, state)
    finally:
        engine.dispose()
        get_db(app).engine.dispose()
