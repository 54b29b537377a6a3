"""Soak benchmark: mixed traffic against the tool under gunicorn for `--minutes` (10 by
default) at a steady rate; no request may fail and the server's memory must stay flat.

Setup, not timed: a fresh instance folder and database (`lti-tool init`), the benchmark's
own platform registered (it signs the id_tokens itself, as bench/launch.py does), the
server started the production way (`lti-tool serve --workers W --threads T`: gunicorn,
gthread workers, access log), `lti-tool worker` beside it when Redis is used, and one
course (gp-informatika-smp) opened by its pengampu, with `--peserta` peserta and a few
mentors launched into it.

Then `--clients` virtual users share one pacer that hands out request slots evenly at
`--rate` requests per second. Each user takes an identity for a session (a launch: the
OIDC login, the id_token POST and the landing page; peserta 80 %, mentor 10 %,
pengampu 10 %; `--staff-share` changes the 20 % of staff) and does a few things as it:

  peserta   module and course pages, learning-material pages, a quiz (start, the
            attempt page, two autosaves as the page's script posts them, submit, the
            review), a task upload (a small PDF, or a replacement of one sent before),
            the forum (a new thread or a reply, then the thread page);
  mentor    module page, forum (page, reply), class overview;
  pengampu  class overview, scores, the grade recap and completion reports, quiz
            results, task grading list.

Any 5xx, transport error or unexpected status (every request has the status it must
answer) is an error: the goal is none. A request the server never saw, because it closed
the kept-alive connection just as the request went out on it ("Connection aborted"), is
sent once more on a new connection, as a browser does; how many were is reported.

Every `--sample-seconds` the total RSS of the gunicorn master and its workers is read
from /proc (and the job worker's, with Redis). After the warm-up (`--warmup-minutes`,
default 1) memory must be flat: a least-squares slope under 0.5 MB per minute, and
growth from the first sample after the warm-up to the last under 10 %. The slope over
the second half is printed too (memory that fills caches flattens; a leak does not).

Each server process's RssAnon, RssFile and PSS are sampled too and printed with their
slopes after the warm-up (which process grows, and whether it is its own memory).
`--tracemalloc DIR` runs the server with bench/tracemalloc_conf.py's gunicorn hooks
(through bench/tracemalloc_serve.py): tracemalloc snapshots in the first
`--tracemalloc-workers` workers (0: none) and, in every worker, a line of memory
figures (RSS, glibc's arenas, SQLite's allocations, gc objects) every
`--tracemalloc-every` seconds; bench/tracemalloc_diff.py DIR compares them.
`--server-env NAME=VALUE` sets a variable for the server only (MALLOC_ARENA_MAX=2).

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 30] [--workers 3] [--threads 4]
        [--clients 16] [--peserta 300] [--database-url URL] [--redis-url URL]
        [--tracemalloc DIR [--tracemalloc-workers 1] [--tracemalloc-every 60]]
        [--server-env NAME=VALUE]
"""

from __future__ import annotations

import argparse
import html
import math
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from common import (  # noqa: E402
    BIN,
    Engines,
    Report,
    add_engine_args,
    descendants,
    describe,
    lti_tool,
    rss_kb,
    start_worker,
    stop,
    tool_env,
    tree_rss_mb,
)
from launch import (  # noqa: E402
    CLAIM,
    CLIENT_ID,
    DEPLOYMENT,
    KID,
    Platform,
    cpu_seconds,
    free_port,
)
from quiz_burst import wait_up  # noqa: E402

MODULE = "gp-informatika-smp"
SESI = ("sesi-1", "sesi-2", "sesi-3", "sesi-4")
QUIZZES = (*((s, "tes-sumatif", 2) for s in SESI), ("penutup", "tes-akhir", 1))
ROLES = {
    "peserta": "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    "mentor": "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor",
    "pengampu": "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
}
GOAL_SLOPE = 0.5  # MB per minute after the warm-up
GOAL_GROWTH = 0.10  # end over start after the warm-up
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HREF = re.compile(r'href="(/c/\d+/module/[^"#?]+/[^"#?]+/[^"#?]+)"')


# -- the platform's side -----------------------------------------------------------------------


def id_token(platform: Platform, nonce: str, target: str, sub: str, role: str) -> str:
    now = int(time.time())
    claims = {
        "iss": platform.issuer,
        "aud": CLIENT_ID,
        "sub": sub,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "name": sub.replace("-", " ").title(),
        "email": f"{sub}@example.sch.id",
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": DEPLOYMENT,
        CLAIM + "target_link_uri": target,
        CLAIM + "roles": [ROLES[role]],
        CLAIM + "context": {"id": "soak-course", "title": "Kelas Soak"},
        CLAIM + "resource_link": {"id": "soak-link", "title": "Modul"},
        CLAIM + "launch_presentation": {"locale": "id-ID", "document_target": "iframe"},
    }
    return jwt.encode(claims, platform.key, algorithm="RS256", headers={"kid": KID})


# -- what was measured -------------------------------------------------------------------------


@dataclass
class Hit:
    kind: str
    at: float
    seconds: float
    status: int  # 0: no answer (transport error)
    ok: bool
    url: str
    detail: str = ""


class UnexpectedError(Exception):
    """A request answered otherwise than it must: the scenario stops there."""


def _alert(page: str) -> str:
    """What an error page says (its alert, else its title), for the error list."""
    found = re.search(r'role="alert"[^>]*>(.*?)</(?:p|div|section)>', page, re.S) or re.search(
        r"<title>(.*?)</title>", page, re.S
    )
    text = re.sub(r"<[^>]+>", " ", found.group(1)) if found else page[:200]
    return " ".join(html.unescape(text).split())[:300]


class Pacer:
    """Request slots evenly spaced at `rate` per second, shared by every client."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            slot = max(self.next, now)
            self.next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


@dataclass
class Run:
    base: str
    platform: Platform
    pacer: Pacer
    end: float
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    free_peserta: list[str] = field(default_factory=list)
    quiz_used: Counter = field(default_factory=Counter)
    resent: Counter = field(default_factory=Counter)  # requests sent again (see Client)
    ctx: int = 0
    staff_pages: list[tuple[str, str]] = field(default_factory=list)
    staff_share: float = 0.2  # of the sessions: half mentor, half pengampu

    def record(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)

    def take_peserta(self) -> str | None:
        with self.lock:
            if not self.free_peserta:
                return None
            return self.free_peserta.pop(random.randrange(len(self.free_peserta)))

    def give_back(self, sub: str) -> None:
        with self.lock:
            self.free_peserta.append(sub)


class Client:
    """One browser: a session cookie, the latest CSRF token of the tool's pages."""

    def __init__(self, run: Run, paced: bool = True) -> None:
        self.run = run
        self.paced = paced
        self.http = requests.Session()
        self.csrf = ""

    def request(
        self, kind: str, method: str, url: str, expect: tuple[int, ...] = (200,), **kw
    ) -> requests.Response:
        if self.paced:
            self.run.pacer.wait()
        url = url if url.startswith("http") else self.run.base + url
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                r = self.http.request(method, url, allow_redirects=False, timeout=60, **kw)
                break
            except requests.ConnectionError as exc:
                # The server closed a kept-alive connection as the request went out on it
                # (it never saw the request): a browser sends it again on a new one.
                if attempt == 1 and "Connection aborted" in str(exc):
                    with self.run.lock:
                        self.run.resent[kind] += 1
                    continue
                self.fail(kind, url, started, exc)
            except requests.RequestException as exc:
                self.fail(kind, url, started, exc)
        seconds = time.perf_counter() - started
        ok = r.status_code in expect
        if ok and r.status_code in (302, 303):
            where = r.headers.get("Location", "")
            ok = "error=" not in where  # a refusal sent back to its page
        detail = "" if ok else f"{r.headers.get('Location', '')} {_alert(r.text)}".strip()
        self.run.record(Hit(kind, time.time(), seconds, r.status_code, ok, url, detail))
        if not ok:
            raise UnexpectedError(f"{kind}: HTTP {r.status_code} {url}")
        if "text/html" in r.headers.get("Content-Type", ""):
            found = _CSRF.search(r.text)
            if found:
                self.csrf = html.unescape(found.group(1))
        return r

    def fail(self, kind: str, url: str, started: float, exc: Exception) -> NoReturn:
        seconds = time.perf_counter() - started
        detail = f"{type(exc).__name__}: {exc}"[:300]
        self.run.record(Hit(kind, time.time(), seconds, 0, False, url, detail))
        raise UnexpectedError(f"{kind}: {type(exc).__name__}") from exc

    def get(self, kind: str, url: str, **kw) -> requests.Response:
        return self.request(kind, "GET", url, **kw)

    def post(self, kind: str, url: str, data: dict, **kw) -> requests.Response:
        kw.setdefault("expect", (302, 303))
        return self.request(kind, "POST", url, data={"csrf_token": self.csrf, **data}, **kw)

    def follow(self, kind: str, r: requests.Response) -> requests.Response:
        return self.get(kind, urljoin(self.run.base + "/", r.headers["Location"]))

    def launch(self, sub: str, role: str) -> requests.Response:
        """The OIDC login, then the id_token POST, whose answer is the module page."""
        self.http.cookies.clear()
        target = f"{self.run.base}/course/{MODULE}"
        r = self.get(
            "lti_login",
            "/lti/login",
            params={
                "iss": self.run.platform.issuer,
                "login_hint": sub,
                "target_link_uri": target,
                "client_id": CLIENT_ID,
                "lti_deployment_id": DEPLOYMENT,
            },
            expect=(302,),
        )
        q = parse_qs(urlsplit(r.headers["Location"]).query)
        token = id_token(self.run.platform, q["nonce"][0], target, sub, role)
        # The launch answers with the first page itself (or, for some, a redirect to it).
        page = self.request(
            "lti_launch",
            "POST",
            q["redirect_uri"][0],
            expect=(200, 302, 303),
            data={"id_token": token, "state": q["state"][0]},
        )
        if page.status_code != 200:
            page = self.follow("module_page", page)
        if not self.run.ctx:
            self.run.ctx = int(re.search(r"/c/(\d+)/", page.text).group(1))
        return page


# -- what each role does -------------------------------------------------------------------------


def module_url(run: Run) -> str:
    return f"/c/{run.ctx}/module/{MODULE}"


def activity_url(run: Run, block: str, activity: str) -> str:
    return f"{module_url(run)}/{block}/{activity}"


def answers_of(page: str, share: float) -> dict[str, str | list[str]]:
    """A form answering about `share` of the attempt page's questions (at random)."""
    choices: dict[str, list[str]] = defaultdict(list)
    kinds: dict[str, str] = {}
    for kind, name, value in re.findall(
        r'<input type="(radio|checkbox|text)"[^>]*?name="(s\d+)"(?:[^>]*?value="([^"]*)")?', page
    ):
        kinds[name] = kind
        choices[name].append(html.unescape(value))
    for name, options in re.findall(
        r'<select id="[^"]+" name="(s\d+-\d+)">(.*?)</select>', page, re.S
    ):
        kinds[name] = "select"
        choices[name] = re.findall(r'<option value="(\d+)"', options)
    form: dict[str, str | list[str]] = {}
    for name, kind in kinds.items():
        if random.random() > share or not choices[name]:
            continue
        if kind == "text":
            form[name] = random.choice(["42", "3,5", "algoritma", "biner"])
        elif kind == "checkbox":
            form[name] = random.sample(choices[name], random.randint(1, len(choices[name])))
        else:
            form[name] = random.choice(choices[name])
    return form


def quiz(c: Client, sub: str) -> None:
    run = c.run
    with run.lock:
        left = [q for q in QUIZZES if run.quiz_used[(sub, q[1], q[0])] < q[2]]
        if not left:
            return
        block, key, _n = random.choice(left)
        run.quiz_used[(sub, key, block)] += 1
    page = c.get("quiz_page", activity_url(run, block, key))
    start = re.search(r'action="(/c/\d+/quiz/\d+/start)"', page.text)
    if start is None:
        raise UnexpectedError(f"quiz_page without a start form: {page.url}")
    attempt = c.follow("quiz_attempt", c.post("quiz_start", start.group(1), {}))
    save = re.search(r'data-save-url="([^"]+)"', attempt.text).group(1)
    submit = re.search(r'<form class="quiz-attempt" method="post" action="([^"]+)"', attempt.text)
    fetch = {"X-Requested-With": "fetch"}
    for share in (0.5, 0.9):
        c.post("quiz_autosave", save, answers_of(attempt.text, share), expect=(200,), headers=fetch)
    c.follow("quiz_review", c.post("quiz_submit", submit.group(1), answers_of(attempt.text, 1)))


def pdf(kb: int) -> bytes:
    return b"%PDF-1.7\n" + os.urandom(kb * 1024 - 9)


def tugas(c: Client, sub: str) -> None:
    run = c.run
    page = c.get("tugas_page", activity_url(run, random.choice(SESI), "unggah-tugas"))
    replace = re.findall(r'action="(/c/\d+/tugas/file/\d+/replace)"', page.text)
    files = {"file": (f"tugas-{sub}.pdf", pdf(random.randint(20, 200)), "application/pdf")}
    if replace:
        r = c.request(
            "tugas_replace",
            "POST",
            random.choice(replace),
            expect=(302, 303),
            data={"csrf_token": c.csrf},
            files=files,
        )
    else:
        upload = re.search(r'action="(/c/\d+/tugas/\d+/upload)"', page.text)
        if upload is None:
            raise UnexpectedError(f"tugas_page without an upload form: {page.url}")
        r = c.request(
            "tugas_upload",
            "POST",
            upload.group(1),
            expect=(302, 303),
            data={"csrf_token": c.csrf},
            files=files,
        )
    c.follow("tugas_page", r)


def forum(c: Client, sub: str) -> None:
    run = c.run
    page = c.get("forum_page", activity_url(run, random.choice(SESI), "forum"))
    threads = re.findall(r'href="(/c/\d+/forum/\d+/t/\d+)[^"]*"', page.text)
    words = " ".join(
        random.choices(
            [
                "guru",
                "siswa",
                "algoritma",
                "kelas",
                "biner",
                "graf",
                "praktik",
                "refleksi",
                "media",
                "asesmen",
            ],
            k=40,
        )
    )
    body = f"Pengalaman {sub} {secrets.token_hex(4)}: {words}."
    if threads and random.random() < 0.7:
        thread = c.get("forum_thread", random.choice(threads))
        action = re.search(r'action="(/c/\d+/forum/\d+/t/\d+/reply)"', thread.text)
        if action is None:
            raise UnexpectedError(f"forum_thread without a reply form: {thread.url}")
        r = c.post(
            "forum_reply", action.group(1), {"body": body, "submit_key": secrets.token_hex(16)}
        )
    else:
        action = re.search(r'action="(/c/\d+/forum/\d+/threads)"', page.text)
        if action is None:
            raise UnexpectedError(f"forum_page without a new-thread form: {page.url}")
        r = c.post(
            "forum_thread_new",
            action.group(1),
            {
                "title": f"Diskusi {sub} {secrets.token_hex(3)}",
                "body": body,
                "submit_key": secrets.token_hex(16),
            },
        )
    c.follow("forum_thread", r)


def browse(c: Client, sub: str) -> None:
    run = c.run
    page = c.get("module_page", module_url(run))
    links = _HREF.findall(page.text)
    for link in random.sample(links, min(2, len(links))):
        c.get("activity_page", link)


def course_home(c: Client, sub: str) -> None:
    c.get("course_home", f"/c/{c.run.ctx}/")


def staff_page(c: Client, sub: str) -> None:
    kind, url = random.choice(c.run.staff_pages)
    c.get(kind, url)


def overview(c: Client, sub: str) -> None:
    c.get("staff_overview", f"{module_url(c.run)}/kelas")


PESERTA_ACTIONS = ((browse, 35), (quiz, 25), (tugas, 12), (forum, 12), (course_home, 6))
MENTOR_ACTIONS = ((browse, 40), (forum, 30), (overview, 30))
PENGAMPU_ACTIONS = ((staff_page, 80), (browse, 20))


def pick(actions):
    return random.choices([a for a, _ in actions], weights=[w for _, w in actions])[0]


def user_loop(run: Run, mentors: list[str], pengampu: str) -> None:
    """Sessions until the end: an identity, a launch, 3 to 8 things done as it."""
    c = Client(run)
    while time.monotonic() < run.end:
        roll = random.random()
        sub = None
        if roll >= run.staff_share:
            sub, role, actions = run.take_peserta(), "peserta", PESERTA_ACTIONS
            if sub is None:
                time.sleep(0.05)
                continue
        elif roll < run.staff_share / 2:
            sub, role, actions = random.choice(mentors), "mentor", MENTOR_ACTIONS
        else:
            sub, role, actions = pengampu, "pengampu", PENGAMPU_ACTIONS
        try:
            c.launch(sub, role)
            for _ in range(random.randint(3, 8)):
                if time.monotonic() >= run.end:
                    break
                pick(actions)(c, sub)
        except UnexpectedError:
            pass  # recorded; a new session starts
        finally:
            if role == "peserta":
                run.give_back(sub)


# -- the server and its memory --------------------------------------------------------------------


def start_server(
    env: dict[str, str], workers: int, threads: int, log: Path, traced: bool = False
) -> subprocess.Popen:
    """`lti-tool serve`: gunicorn in the CLI's own process (it is the master); with
    `traced`, run through bench/tracemalloc_serve.py with bench/tracemalloc_conf.py's
    hooks (the BENCH_TRACEMALLOC_* variables are in `env`)."""
    cmd = [str(BIN / "lti-tool")]
    if traced:
        here = ROOT / "bench"
        cmd = [
            sys.executable,
            str(here / "tracemalloc_serve.py"),
            str(here / "tracemalloc_conf.py"),
        ]
    with log.open("ab") as out:
        return subprocess.Popen(
            [*cmd, "serve", "--workers", str(workers), "--threads", str(threads)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=out,
        )


@dataclass
class Sample:
    t: float  # seconds since the traffic started
    rss_mb: float
    worker_mb: float | None
    requests: int
    errors: int
    # pid -> (RssAnon, RssFile, Pss) in MB, of the master and each of its workers
    processes: dict[int, tuple[float, float, float]] = field(default_factory=dict)


def process_memory(pid: int) -> tuple[float, float, float] | None:
    """(RssAnon, RssFile, Pss) of a process in MB; None when it is gone. RSS counts the
    pages a worker shares with the master (copy-on-write) in each of them, PSS splits them."""
    out = {}
    try:
        for name in ("status", "smaps_rollup"):
            with open(f"/proc/{pid}/{name}") as f:
                for line in f:
                    key, _, rest = line.partition(":")
                    if key in ("RssAnon", "RssFile", "Pss"):
                        out[key] = int(rest.split()[0]) / 1024
    except OSError:
        return None
    return out.get("RssAnon", 0.0), out.get("RssFile", 0.0), out.get("Pss", 0.0)


class Sampler(threading.Thread):
    def __init__(self, run: Run, master: int, worker: int | None, every: float) -> None:
        super().__init__(daemon=True)
        self.run_, self.master, self.worker, self.every = run, master, worker, every
        self.samples: list[Sample] = []
        self.stopped = threading.Event()
        self.t0 = time.monotonic()

    def take(self) -> Sample:
        with self.run_.lock:
            n = len(self.run_.hits)
            errors = sum(1 for h in self.run_.hits if not h.ok)
        worker = rss_kb(self.worker) / 1024 if self.worker else None
        s = Sample(time.monotonic() - self.t0, tree_rss_mb(self.master), worker, n, errors)
        for pid in [self.master, *descendants(self.master)]:
            mem = process_memory(pid)
            if mem is not None:
                s.processes[pid] = mem
        self.samples.append(s)
        extra = f", job worker {worker:.1f} MB" if worker is not None else ""
        print(
            f"  {s.t:6.0f} s  requests {n:6d}  errors {errors}  server RSS {s.rss_mb:7.1f} MB"
            f"{extra}  load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        return s

    def run(self) -> None:
        self.take()
        while not self.stopped.wait(self.every):
            self.take()


def slope_per_minute(samples: list[Sample], value=lambda s: s.rss_mb) -> float:
    """Least-squares slope of RSS (or `value`) over time, MB per minute."""
    if len(samples) < 2:
        return 0.0
    xs = [s.t / 60 for s in samples]
    ys = [value(s) for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def print_processes(after: list[Sample], master: int) -> None:
    """Each server process's memory after the warm-up -> at the end, and its slope."""
    pids = [p for p in after[-1].processes if all(p in s.processes for s in after)]
    if not pids:
        return
    print("per process after the warm-up -> end (slope MB/min): RssAnon, RssFile, Pss")
    for pid in pids:
        cells = []
        for i, name in enumerate(("anon", "file", "pss")):
            a, b = after[0].processes[pid][i], after[-1].processes[pid][i]
            slope = slope_per_minute(after, lambda s, i=i, pid=pid: s.processes[pid][i])
            cells.append(f"{name} {a:6.1f} -> {b:6.1f} ({slope:+.2f})")
        role = "master" if pid == master else "worker"
        print(f"  {role} {pid:7d}  " + "  ".join(cells))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


# -- setup ----------------------------------------------------------------------------------------


def setup_course(run: Run, peserta: list[str], mentors: list[str], pengampu: str) -> None:
    """The pengampu opens the course; every peserta and mentor launches once (unpaced,
    not counted: `run.hits` is cleared afterwards); the staff pages are found."""
    from concurrent.futures import ThreadPoolExecutor

    staff = Client(run, paced=False)
    staff.launch(pengampu, "pengampu")
    # A quiz's question bank is imported from the template at its first attempt: done
    # here, once per quiz, so the soak measures the steady state.
    first_peserta = Client(run, paced=False)
    first_peserta.launch("peserta-setup", "peserta")
    for block, key, _n in QUIZZES:
        page = first_peserta.get("setup", activity_url(run, block, key))
        start = re.search(r'action="(/c/\d+/quiz/\d+/start)"', page.text)
        first_peserta.post("setup", start.group(1), {})

    def first(args: tuple[str, str]) -> None:
        Client(run, paced=False).launch(*args)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(first, [(m, "mentor") for m in mentors] + [(p, "peserta") for p in peserta]))
    # The pengampu's pages: each must answer 200 (a 4xx means the page is not there for
    # this course and is left out, said below; a 5xx is an error and stays in).
    quiz_page = staff.get("setup", activity_url(run, "sesi-1", "tes-sumatif")).text
    tugas_page = staff.get("setup", activity_url(run, "sesi-1", "unggah-tugas")).text
    candidates = [
        ("staff_overview", f"{module_url(run)}/kelas"),
        ("staff_scores", f"{module_url(run)}/nilai"),
        ("staff_rekap", f"{module_url(run)}/rekap"),
        ("staff_report_grades", f"{module_url(run)}/rekap/grades"),
        ("staff_report_completion", f"{module_url(run)}/rekap/completion"),
        ("staff_reports", f"{module_url(run)}/laporan"),
    ]
    results = re.search(r'href="(/c/\d+/quiz/\d+/results)"', quiz_page)
    if results:
        candidates.append(("staff_quiz_results", results.group(1)))
    grading = re.search(r'href="(/c/\d+/tugas/\d+/grading)"', tugas_page)
    if grading:
        candidates.append(("staff_tugas_grading", grading.group(1)))
    for kind, url in candidates:
        r = staff.http.get(run.base + url, allow_redirects=False, timeout=120)
        if r.status_code == 200:
            run.staff_pages.append((kind, url))
        elif r.status_code >= 500:
            run.staff_pages.append((kind, url))
            print(f"  {kind} {url}: HTTP {r.status_code} at setup (kept: an error)")
        else:
            print(f"  {kind} {url}: HTTP {r.status_code} for the pengampu, left out")
    bad = [h for h in run.hits if not h.ok]
    if bad:
        raise SystemExit(
            f"setup failed: {bad[0].kind} {bad[0].status} {bad[0].url} {bad[0].detail}"
        )
    run.hits.clear()


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 10)))
    ap.add_argument("--warmup-minutes", type=float, default=1.0)
    ap.add_argument("--rate", type=float, default=30.0, help="requests per second")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    ap.add_argument("--threads", type=int, default=4, help="threads per worker")
    ap.add_argument("--clients", type=int, default=16, help="virtual users")
    ap.add_argument("--peserta", type=int, default=300)
    ap.add_argument("--mentors", type=int, default=6)
    ap.add_argument("--sample-seconds", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--staff-share",
        type=float,
        default=0.2,
        help="share of the sessions that are mentor or pengampu ones, half each (0: peserta only)",
    )
    ap.add_argument("--server-log", help="keep the server's log (access log included) here")
    ap.add_argument(
        "--tracemalloc",
        metavar="DIR",
        help="tracemalloc in the first --tracemalloc-workers workers: a snapshot and a line of "
        "memory figures every --tracemalloc-every seconds into DIR (bench/tracemalloc_conf.py; "
        "compare with bench/tracemalloc_diff.py)",
    )
    ap.add_argument("--tracemalloc-workers", type=int, default=1)
    ap.add_argument("--tracemalloc-every", type=float, default=60.0, help="seconds")
    ap.add_argument("--tracemalloc-frames", type=int, default=12)
    ap.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the server (e.g. MALLOC_ARENA_MAX=2); repeatable",
    )
    add_engine_args(ap)
    args = ap.parse_args()
    random.seed(args.seed)
    warmup = min(args.warmup_minutes, args.minutes / 2)

    report = Report("soak", describe(args.database_url, args.redis_url))
    platform = Platform()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = worker = None
    with (
        tempfile.TemporaryDirectory(prefix="bench-soak-") as tmpdir,
        Engines("soak", args.database_url, args.redis_url, Path(tmpdir)) as engines,
    ):
        tmp = Path(tmpdir)
        report.engines = engines.label
        env = tool_env(engines, tmp / "instance", port, WEB_CONCURRENCY=str(args.workers))
        server_env = dict(env, **dict(v.split("=", 1) for v in args.server_env))
        if args.tracemalloc:
            server_env.update(
                BENCH_TRACEMALLOC_DIR=str(Path(args.tracemalloc).resolve()),
                BENCH_TRACEMALLOC_WORKERS=str(args.tracemalloc_workers),
                BENCH_TRACEMALLOC_EVERY=str(args.tracemalloc_every),
                BENCH_TRACEMALLOC_FRAMES=str(args.tracemalloc_frames),
            )
        lti_tool(env, "init", "--no-demo")
        lti_tool(
            env,
            "platforms",
            "add",
            "--name",
            "soak",
            "--issuer",
            platform.issuer,
            "--client-id",
            CLIENT_ID,
            "--auth-login-url",
            platform.issuer + "/auth",
            "--auth-token-url",
            platform.issuer + "/token",
            "--key-set-url",
            platform.issuer + "/jwks",
            "--deployment-id",
            DEPLOYMENT,
        )
        log = tmp / "server.log"
        try:
            if args.redis_url:
                worker = start_worker(env, tmp / "worker.log")
            proc = start_server(
                server_env, args.workers, args.threads, log, traced=bool(args.tracemalloc)
            )
            wait_up(base + "/healthz", proc)
            run = Run(base, platform, Pacer(args.rate), end=0.0)
            peserta = [f"peserta-{i:04d}" for i in range(args.peserta)]
            mentors = [f"mentor-{i}" for i in range(args.mentors)]
            t = time.perf_counter()
            setup_course(run, peserta, mentors, "pengampu-1")
            run.free_peserta = list(peserta)
            run.staff_share = args.staff_share
            print(
                f"soak: setup {time.perf_counter() - t:.0f} s (course {run.ctx}: "
                f"{args.peserta} peserta, {args.mentors} mentors, 1 pengampu launched); "
                f"{args.minutes:g} min at {args.rate:g} req/s from {args.clients} virtual users, "
                f"`lti-tool serve --workers {args.workers} --threads {args.threads}`"
                + (", `lti-tool worker`" if worker else ""),
                flush=True,
            )
            run.end = time.monotonic() + args.minutes * 60
            sampler = Sampler(run, proc.pid, worker.pid if worker else None, args.sample_seconds)
            sampler.start()
            server = [proc.pid, *descendants(proc.pid)]
            cpu0 = cpu_seconds(server)
            users = [
                threading.Thread(target=user_loop, args=(run, mentors, "pengampu-1"), daemon=True)
                for _ in range(args.clients)
            ]
            for u in users:
                u.start()
            for u in users:
                u.join()
            server_cpu = cpu_seconds(server) - cpu0
            sampler.stopped.set()
            sampler.join()
            sampler.take()
            if proc.poll() is not None:
                raise SystemExit(f"the server died during the soak ({proc.returncode})")
        finally:
            stop(proc, timeout=90 if args.tracemalloc else 15)  # the last snapshots
            stop(worker)
        server_log = log.read_text(errors="replace") if log.exists() else ""
        if args.server_log:
            Path(args.server_log).write_text(server_log)

    hits = run.hits
    errors = [h for h in hits if not h.ok]
    duration = args.minutes * 60
    print(f"requests {len(hits)} in {duration:.0f} s ({len(hits) / duration:.1f}/s)")
    print(f"{'kind':26s} {'count':>6s} {'errors':>6s} {'p50 ms':>8s} {'p95 ms':>8s}")
    by_kind: dict[str, list[Hit]] = defaultdict(list)
    for h in hits:
        by_kind[h.kind].append(h)
    kinds = {}
    for kind in sorted(by_kind):
        group = by_kind[kind]
        ms = [h.seconds * 1000 for h in group]
        bad = sum(1 for h in group if not h.ok)
        kinds[kind] = {
            "count": len(group),
            "errors": bad,
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
        }
        k = kinds[kind]
        print(f"{kind:26s} {len(group):6d} {bad:6d} {k['p50_ms']:8.1f} {k['p95_ms']:8.1f}")
    if errors:
        print("errors (first of each kind):")
        for (kind, status), count in Counter((h.kind, h.status) for h in errors).most_common(10):
            first = next(h for h in errors if h.kind == kind and h.status == status)
            print(f"  {count} x {kind} HTTP {status}: {first.url} {first.detail[:160]}")
        marks = ("Traceback", "Error", "[CRITICAL]", "[ERROR]", "WORKER TIMEOUT", "exited")
        tail = [line for line in server_log.splitlines() if any(m in line for m in marks)]
        if tail:
            print("server log (error lines, last 15):")
            print("\n".join(tail[-15:]))

    samples = sampler.samples
    after = [s for s in samples if s.t >= warmup * 60] or samples[-1:]
    start_mb, end_mb = after[0].rss_mb, after[-1].rss_mb
    slope = slope_per_minute(after)
    growth = (end_mb - start_mb) / start_mb if start_mb else 0.0
    print(
        f"server RSS (master + {args.workers} workers): {samples[0].rss_mb:.1f} MB at the start, "
        f"{start_mb:.1f} MB after the {warmup:g}-minute warm-up, {end_mb:.1f} MB at the end; "
        f"{len(after)} samples after the warm-up"
    )
    print_processes(after, proc.pid)
    all_p = [h.seconds * 1000 for h in hits]
    report.figure("requests", len(hits), f"in {duration:.0f} s")
    report.figure("achieved rate", len(hits) / duration, "req/s", None, None, target=args.rate)
    report.figure("p50 (all requests)", percentile(all_p, 50), "ms")
    report.figure("p95 (all requests)", percentile(all_p, 95), "ms")
    report.figure(
        "server CPU",
        server_cpu * 100 / duration,
        "% of one core",
        None,
        None,
        ms_per_request=round(server_cpu * 1000 / max(len(hits), 1), 2),
    )
    report.figure("errors", len(errors), "", "0", not errors)
    resent = sum(run.resent.values())
    report.figure(
        "requests sent again on a new connection", resent, "", None, None, kinds=dict(run.resent)
    )
    report.figure("RSS after warm-up", start_mb, "MB")
    report.figure("RSS at the end", end_mb, "MB")
    report.figure("RSS slope", slope, "MB/min", f"< {GOAL_SLOPE:g} MB/min", slope < GOAL_SLOPE)
    report.figure(
        "RSS growth", growth * 100, "%", f"< {GOAL_GROWTH * 100:g} %", growth < GOAL_GROWTH
    )
    late = [s for s in after if s.t >= (warmup * 60 + duration) / 2]
    report.figure("RSS slope over the second half", slope_per_minute(late), "MB/min")
    flat = slope < GOAL_SLOPE and growth < GOAL_GROWTH
    print(f"soak memory: {'flat' if flat else 'NOT flat'}")
    if samples[-1].worker_mb is not None:
        report.figure("job worker RSS at the end", samples[-1].worker_mb, "MB")
    report.finish(
        minutes=args.minutes,
        warmup_minutes=warmup,
        rate=args.rate,
        workers=args.workers,
        threads=args.threads,
        clients=args.clients,
        peserta=args.peserta,
        memory_flat=flat,
        staff_share=args.staff_share,
        server_env=args.server_env,
        tracemalloc_workers=args.tracemalloc_workers if args.tracemalloc else 0,
        kinds=kinds,
        samples=[[round(s.t), round(s.rss_mb, 1), s.requests, s.errors] for s in samples],
        processes={
            pid: [
                [round(s.t), *(round(v, 1) for v in s.processes[pid])]
                for s in samples
                if pid in s.processes
            ]
            for pid in samples[-1].processes
        },
    )


if __name__ == "__main__":
    main()
