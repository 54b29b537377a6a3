"""Launch benchmark: N complete LTI launches (login + launch + first page).

Starts the tool under gunicorn (2 sync workers, a fresh instance folder, SQLite in WAL
mode or the engines of --database-url / --redis-url), plays the platform itself
(RS256-signed id_tokens, JWKS served on 127.0.0.1), drives N launches at C concurrent
clients and prints launches/s, p50/p95 latency of a whole launch, and the server's CPU
ms per launch (utime + stime of the gunicorn master and workers, read from /proc).

The same driver runs against bench/baseline_app.py, the bare pylti1p3 Flask tool of
issue 2 (in-memory registration, key set cached, one-line page), so the ratio is
measured on this machine, side by side (`--target all`, the default; `--rounds R`
alternates R runs of each and takes the medians). Two pylti1p3 tools are run:

  baseline        the goal's reference (issue 2): the platform's key set cached.
  baseline-fetch  the same with pylti1p3's defaults, as its Flask example runs: the key
                  set fetched at every launch. An extra figure, without a goal.

Goals (issues 2 and 9): p95 under 40 ms at 4 concurrent; server CPU per launch at most
0.7x the bare tool's (key set cached).

    .venv/bin/python bench/launch.py [-n 2000] [-c 4]
        [--target all|both|ours|baseline|baseline-fetch] [--rounds 1] [--profile]
        [--database-url URL] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.server
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from common import Engines, Report, add_engine_args, describe, tool_env  # noqa: E402

BIN = Path(sys.executable).parent
GOAL_P95_MS = 40.0
GOAL_RATIO = 0.7  # server CPU per launch, ours / the bare pylti1p3 tool's
BASELINES = ("baseline", "baseline-fetch")
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CLIENT_ID = "bench-client"
DEPLOYMENT = "bench-deployment"
KID = "bench-platform-key"
GUNICORN_EXTRA = os.environ.get("BENCH_GUNICORN_ARGS", "").split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Platform:
    """The benchmark's LMS: a key, a JWKS server, and id_token signing."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
        body = json.dumps({"keys": [jwk]}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def id_token(self, nonce: str, target: str, user: int, course: int) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": f"user-{user}",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": f"Guru Peserta {user}",
            "email": f"guru{user}@example.sch.id",
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": DEPLOYMENT,
            CLAIM + "target_link_uri": target,
            CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            CLAIM + "context": {"id": f"course-{course}", "title": f"Kelas {course}"},
            CLAIM + "resource_link": {"id": f"link-{course}", "title": "Modul"},
            CLAIM + "launch_presentation": {"locale": "id-ID", "document_target": "iframe"},
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})


def one_launch(base: str, platform: Platform, i: int) -> float:
    """Login, launch, first page: the three requests a browser makes. Returns seconds."""
    s = requests.Session()
    target = base + "/lti/launch"
    t0 = time.perf_counter()
    r = s.get(
        base + "/lti/login",
        params={
            "iss": platform.issuer,
            "login_hint": f"user-{i % 200}",
            "target_link_uri": target,
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT,
        },
        allow_redirects=False,
    )
    assert r.status_code == 302, (r.status_code, r.text[:300])
    q = parse_qs(urlsplit(r.headers["Location"]).query)
    token = platform.id_token(q["nonce"][0], target, i % 200, i % 10)
    r = s.post(
        q["redirect_uri"][0],
        data={"id_token": token, "state": q["state"][0]},
        allow_redirects=False,
    )
    if r.status_code in (302, 303):
        r = s.get(
            base + r.headers["Location"]
            if r.headers["Location"].startswith("/")
            else r.headers["Location"]
        )
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return time.perf_counter() - t0


def cpu_times(pids: list[int]) -> tuple[float, float]:
    """(user, system) CPU seconds of the processes."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        user += int(fields[11])
        system += int(fields[12])
    return user / tick, system / tick


def cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_times(pids))


def server_pids(master: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    )
    return [master, *(int(p) for p in out.stdout.split())]


def wait_up(url: str, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:  # refused, or accepted before a worker is up
            time.sleep(0.05)
    raise SystemExit("server did not start")


def start_ours(
    tmp: Path, port: int, platform: Platform, profile: bool, engines: Engines
) -> subprocess.Popen:
    env = tool_env(engines, tmp / "instance", port)
    tool = str(BIN / "lti-tool")
    subprocess.run([tool, "init", "--no-demo"], env=env, check=True, capture_output=True)
    subprocess.run(
        [
            tool,
            "platforms",
            "add",
            "--name",
            "bench",
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
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    if profile:
        env["BENCH_PROFILE_DIR"] = str(ROOT / "bench" / "profiles")
    cmd = [
        str(BIN / "gunicorn"),
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *GUNICORN_EXTRA,
    ]
    if profile:
        cmd += ["-c", str(ROOT / "bench" / "profile_conf.py")]
    cmd.append("lti_tool.wsgi:app")
    return subprocess.Popen(cmd, env=env, cwd=ROOT)


def start_baseline(
    tmp: Path, port: int, platform: Platform, cache_keyset: bool
) -> subprocess.Popen:
    base = f"http://127.0.0.1:{port}"
    key_path = tmp / "tool_key.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    conf = {
        platform.issuer: [
            {
                "default": True,
                "client_id": CLIENT_ID,
                "auth_login_url": platform.issuer + "/auth",
                "auth_token_url": platform.issuer + "/token",
                "key_set_url": platform.issuer + "/jwks",
                "deployment_ids": [DEPLOYMENT],
            }
        ]
    }
    env = dict(
        os.environ,
        BASELINE_TOOL_CONF=json.dumps(conf),
        BASELINE_PRIVATE_KEY=str(key_path),
        BASELINE_KEYSET_CACHE="1" if cache_keyset else "0",
    )
    del base
    # BASELINE_BIN: a virtualenv's bin/ to run the baseline with another pylti1p3.
    gunicorn = Path(os.environ.get("BASELINE_BIN") or BIN) / "gunicorn"
    return subprocess.Popen(
        [
            str(gunicorn),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "baseline_app:app",
        ],
        env=env,
        cwd=ROOT / "bench",
    )


@dataclass
class Run:
    target: str
    n: int
    wall: float
    user: float
    system: float
    latencies: list[float]
    engines: str | None = None

    @property
    def cpu_ms(self) -> float:
        return (self.user + self.system) * 1000 / self.n

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)] * 1000


def measure(target: str, args: argparse.Namespace, platform: Platform) -> Run:
    """One server (ours on fresh engines, or the baseline), warmed up, then N launches."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmpdir, contextlib.ExitStack() as stack:
        tmp = Path(tmpdir)
        if target == "ours":
            engines = stack.enter_context(Engines("launch", args.database_url, args.redis_url, tmp))
            proc = start_ours(tmp, port, platform, args.profile, engines)
            label = engines.label
        else:
            label = None
            proc = start_baseline(tmp, port, platform, target == "baseline")
        try:
            wait_up(base + "/healthz", proc)  # any answer will do (the baseline's is a 404)
            with ThreadPoolExecutor(args.c) as pool:
                list(pool.map(lambda i: one_launch(base, platform, i), range(args.warmup)))
                pids = server_pids(proc.pid)
                (user0, sys0), t0 = cpu_times(pids), time.perf_counter()
                latencies = list(
                    pool.map(
                        lambda i: one_launch(base, platform, i),
                        range(args.warmup, args.warmup + args.n),
                    )
                )
                wall = time.perf_counter() - t0
                user1, sys1 = cpu_times(pids)
        finally:
            proc.terminate()
            proc.wait(timeout=120)  # with --profile, the workers write their profiles
    run = Run(target, args.n, wall, user1 - user0, sys1 - sys0, latencies, label)
    print(
        f"  {target:15s} {args.n / wall:6.1f} launches/s  p50 {run.p(50):5.1f} ms  "
        f"p95 {run.p(95):5.1f} ms  server CPU {run.cpu_ms:.2f} ms/launch "
        f"(user {run.user * 1000 / args.n:.2f}, system {run.system * 1000 / args.n:.2f})  "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    return run


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", type=int, default=2000, help="measured launches")
    ap.add_argument("-c", type=int, default=4, help="concurrent clients")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument(
        "--target",
        choices=["all", "both", "ours", *BASELINES],
        default="all",
        help="all: both references and ours; both: the goal's reference and ours",
    )
    ap.add_argument("--rounds", type=int, default=1, help="alternating runs of each target")
    ap.add_argument("--profile", action="store_true", help="pyinstrument in each worker")
    add_engine_args(ap)
    args = ap.parse_args()

    platform = Platform()
    targets = {
        "all": [*BASELINES, "ours"],
        "both": ["baseline", "ours"],
    }.get(args.target, [args.target])
    ours = "ours" in targets
    report = Report(
        "launch",
        describe(args.database_url, args.redis_url) if ours else "bare pylti1p3 (no database)",
    )
    print(
        f"launch: {args.n} launches at {args.c} concurrent (+{args.warmup} warm-up) per run, "
        f"gunicorn -w 2 ({' '.join(GUNICORN_EXTRA) or 'sync'}), targets {', '.join(targets)}, "
        f"{args.rounds} round(s)",
        flush=True,
    )
    runs: dict[str, list[Run]] = {t: [] for t in targets}
    for _ in range(args.rounds):
        for target in targets:
            runs[target].append(measure(target, args, platform))
    if args.profile:
        print("pyinstrument profiles of each worker: bench/profiles/")
    if ours:
        report.engines = runs["ours"][0].engines

    def median(target: str, value) -> float:
        return statistics.median(value(r) for r in runs[target])

    for target in targets:
        name = "" if target == "ours" else f"{target} "
        report.figure(f"{name}launches/s", median(target, lambda r: r.n / r.wall), "/s")
        report.figure(f"{name}p50", median(target, lambda r: r.p(50)), "ms")
        p95 = median(target, lambda r: r.p(95))
        if target == "ours":
            report.figure("p95", p95, "ms", f"< {GOAL_P95_MS:g} ms at {args.c} concurrent",
                          p95 < GOAL_P95_MS)  # fmt: skip
        else:
            report.figure(f"{target} p95", p95, "ms")
        report.figure(f"{name}server CPU per launch", median(target, lambda r: r.cpu_ms), "ms")
    if "ours" in targets and "baseline" in targets:
        ratio = median("ours", lambda r: r.cpu_ms) / median("baseline", lambda r: r.cpu_ms)
        report.figure("CPU ratio to bare pylti1p3", ratio, "x", f"<= {GOAL_RATIO:g}x",
                      ratio <= GOAL_RATIO)  # fmt: skip
    if "ours" in targets and "baseline-fetch" in targets:
        fetching = median("baseline-fetch", lambda r: r.cpu_ms)
        report.figure("CPU ratio to pylti1p3 fetching the key set at each launch",
                      median("ours", lambda r: r.cpu_ms) / fetching, "x")  # fmt: skip
    report.finish(
        launches=args.n,
        concurrency=args.c,
        rounds=args.rounds,
        runs={
            t: [{**dataclasses.asdict(r), "latencies": None} for r in rs] for t, rs in runs.items()
        },
    )


if __name__ == "__main__":
    main()
