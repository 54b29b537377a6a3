"""What every benchmark shares: the engines it runs on, the machine's state, the server
processes it measures, and how figures are printed.

Engines: `--database-url` / `--redis-url` (or BENCH_DATABASE_URL / BENCH_REDIS_URL).
Without them a benchmark runs on SQLite (a fresh file in a temporary folder) with no
Redis. A PostgreSQL URL naming a database (`.../bench`) gives a database the benchmark
owns: it is dropped and created empty before the run and again after it, so its name
must start with "bench" (a benchmark never wipes a database it was not made for); a
URL without a database (`postgresql+psycopg://postgres@127.0.0.1:5432`) gets a fresh
database `bench_<name>_<pid>_<hex>`, dropped at the end. With a Redis URL, the tool's
keys get a prefix and job queue of the run's own (`bench:<name>:<pid>:`), deleted at
the end: other users of the same Redis database are left alone.

Figures: `Report.figure(...)` prints one line per figure, `<bench> <figure>: <value>
(goal ...) PASS|MISS`, and `Report.finish()` the machine-readable JSON line last (the
figures, goals, verdicts, engines, load average, commit, date).

    .venv/bin/python bench/common.py createdb|dropdb URL   # for `make bench-pg`
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: Rate limits stay on (their cost is part of every figure) but out of reach.
UNLIMITED = {
    "RATELIMIT_LOGIN": "1000000/minute",
    "RATELIMIT_LAUNCH": "1000000/minute",
    "RATELIMIT_UPLOAD": "1000000/minute",
}


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or None,
        help="PostgreSQL server or bench* database (default: SQLite in a temporary folder; "
        "env BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL") or None,
        help="Redis for nonces, rate limits and jobs (default: none; env BENCH_REDIS_URL)",
    )


def describe(database_url: str | None, redis_url: str | None) -> str:
    """The engines in a few words, before they are opened (versions come later)."""
    pg = bool(database_url) and database_url.startswith("postgresql")
    return ("PostgreSQL" if pg else "SQLite (WAL)") + (" + Redis" if redis_url else "")


# -- PostgreSQL ------------------------------------------------------------------------------


def _libpq(url: str, database: str) -> str:
    """A libpq URL of `database` on the server of a SQLAlchemy URL."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/" + database, query=""))


def database_of(url: str) -> str:
    return urlsplit(url).path.strip("/")


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def pg_admin(url: str, *statements: str) -> str:
    """Run statements on the server's maintenance database; returns its version."""
    import psycopg

    with psycopg.connect(_libpq(url, "postgres"), autocommit=True, connect_timeout=10) as conn:
        for sql in statements:
            conn.execute(sql)
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def recreate_database(url: str) -> str:
    """Drop and create the (bench*) database the URL names; returns the server version."""
    name = database_of(url)
    if not name.startswith("bench"):
        raise SystemExit(
            f"refusing to wipe database {name!r}: a benchmark drops and recreates the database "
            "it is given, so its name must start with 'bench' (or give a server URL without a "
            "database to get a temporary one)"
        )
    return pg_admin(
        url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )


def drop_database(url: str) -> None:
    pg_admin(url, f'DROP DATABASE IF EXISTS "{database_of(url)}" WITH (FORCE)')


# -- the engines of one run --------------------------------------------------------------------


class Engines:
    """The database and Redis of one benchmark run (a context manager)."""

    def __init__(self, name: str, database_url: str | None, redis_url: str | None, tmp: Path):
        self.name = name
        self.given_database = database_url
        self.redis_url = redis_url
        self.tmp = tmp
        self.database_url = ""
        self.database_label = ""
        self.redis_label = ""
        self._temporary_database: str | None = None
        self._owned_database: str | None = None
        self.prefix = f"bench:{name}:{os.getpid()}:"
        self.queue = f"bench-{name}-{os.getpid()}"

    @property
    def postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def kind(self) -> str:
        """sqlite, postgresql, sqlite+redis or postgresql+redis (for the JSON line)."""
        return ("postgresql" if self.postgres else "sqlite") + ("+redis" if self.redis_url else "")

    @property
    def label(self) -> str:
        return self.database_label + (f" + {self.redis_label}" if self.redis_url else "")

    def __enter__(self) -> Engines:
        given = self.given_database
        if not given or given.startswith("sqlite"):
            self.database_url = f"sqlite:///{self.tmp / 'tool.db'}"
            import sqlite3

            self.database_label = f"SQLite {sqlite3.sqlite_version} (WAL)"
        elif given.startswith("postgresql"):
            if database_of(given):
                version = recreate_database(given)
                self.database_url = given
                self._owned_database = given
            else:
                name = f"bench_{self.name}_{os.getpid()}_{secrets.token_hex(3)}"
                self.database_url = with_database(given, name)
                version = pg_admin(given, f'CREATE DATABASE "{name}"')
                self._temporary_database = self.database_url
            self.database_label = f"PostgreSQL {version}"
        else:
            raise SystemExit(f"--database-url must be a sqlite or postgresql URL, got {given!r}")
        if self.redis_url:
            client = self.redis()
            info = client.info("server")
            self.redis_label = f"Redis {info['redis_version']}"
            # A brand-new prefix never saw a nonce: its restart epoch may start in the
            # past, so launches signed in the server's first second are not refused.
            client.set(f"{self.prefix}nonce-epoch", f"{info['run_id']} {time.time() - 10:.3f}")
        return self

    def redis(self):
        from redis import Redis

        return Redis.from_url(self.redis_url, socket_connect_timeout=5)

    def settings(self) -> dict[str, str]:
        """The environment variables that put the tool on these engines."""
        out = {"DATABASE_URL": self.database_url}
        if self.redis_url:
            out.update(
                REDIS_URL=self.redis_url, REDIS_KEY_PREFIX=self.prefix, JOBS_QUEUE=self.queue
            )
        return out

    def __exit__(self, *exc: object) -> None:
        if self.redis_url:
            with contextlib.suppress(Exception):
                client = self.redis()
                patterns = (
                    f"{self.prefix}*",
                    f"LIMITS:LIMITER/{self.prefix}*",
                    f"rq:*{self.queue}*",
                )
                for pattern in patterns:
                    keys = list(client.scan_iter(match=pattern, count=1000))
                    for i in range(0, len(keys), 1000):
                        client.delete(*keys[i : i + 1000])
                client.srem("rq:queues", f"rq:queue:{self.queue}")
                for pattern, field in (("rq:job:*", "origin"), ("rq:worker:*", "queues")):
                    for key in client.scan_iter(match=pattern, count=1000):  # ours
                        if client.type(key) != b"hash":
                            continue
                        if client.hget(key, field) == self.queue.encode():
                            client.delete(key)
                            client.srem("rq:workers", key)
                            if pattern == "rq:job:*":  # and its results
                                client.delete(key.replace(b"rq:job:", b"rq:results:", 1))
        if self._temporary_database:
            drop_database(self._temporary_database)
        if self._owned_database:  # empty again for whatever runs next on it
            recreate_database(self._owned_database)


def tool_env(engines: Engines, instance: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment the tool's processes (and this one's app) are built from."""
    env = dict(
        os.environ,
        LTI_TOOL_ENV="production",
        INSTANCE_PATH=str(instance),
        SECRET_KEY=secrets.token_urlsafe(32),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        HOST="127.0.0.1",
        PORT=str(port),
        DEMO="0",
        **UNLIMITED,
    )
    for name in ("DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX", "JOBS_QUEUE", "JOBS_BACKEND"):
        env.pop(name, None)
    env.update(engines.settings())
    env.update(extra)
    return env


# -- processes -----------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def rss_kb(pid: int) -> int:
    """Resident set size of one process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (a gunicorn master and its workers)."""
    return sum(rss_kb(p) for p in [pid, *descendants(pid)]) / 1024


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """`lti-tool worker`: runs the RQ jobs (grade passback) when REDIS_URL is set."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BIN / "lti-tool"), "worker"], env=env, cwd=ROOT, stdout=out, stderr=out
        )


def stop(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    """SIGTERM (a warm shutdown), then SIGKILL to it and whatever it started."""
    if proc is None or proc.poll() is not None:
        return
    below = descendants(proc.pid)
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pid in below:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def lti_tool(env: dict[str, str], *args: str) -> str:
    """Run an `lti-tool` command (setup, not timed); its output."""
    done = subprocess.run(
        [str(BIN / "lti-tool"), *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"lti-tool {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


# -- the machine and the figures --------------------------------------------------------------


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def commit() -> str:
    """The checkout's commit (short), with '+changes' when the tree differs from it."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (sha or "unknown") + ("+changes" if dirty else "")


class Report:
    """The figures of one benchmark run: a line each as they come, the JSON line last."""

    def __init__(self, bench: str, engines: str, **info: Any) -> None:
        self.bench = bench
        self.engines = engines
        self.info = info
        self.figures: list[dict[str, Any]] = []
        self.load_before = load_average()
        self.started = datetime.now(UTC)
        print(
            f"{bench}: {engines}; {os.cpu_count()} CPUs, load average "
            f"{' '.join(f'{x:.2f}' for x in self.load_before)} (1/5/15 min) at the start",
            flush=True,
        )

    def figure(
        self,
        name: str,
        value: float | int | None,
        unit: str,
        goal: str | None = None,
        ok: bool | None = None,
        **extra: Any,
    ) -> str:
        """One figure; `goal` in words (e.g. "< 40 ms") and whether it was met (None:
        no goal, reported for information)."""
        shown = "n/a" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")
        verdict = "" if ok is None else (" PASS" if ok else " MISS")
        goal_text = f" (goal {goal})" if goal else ""
        line = f"{self.bench} {name}: {shown}{' ' + unit if unit else ''}{goal_text}{verdict}"
        print(line, flush=True)
        self.figures.append(
            {"name": name, "value": value, "unit": unit, "goal": goal, "ok": ok, **extra}
        )
        return line

    @property
    def passed(self) -> bool:
        return all(f["ok"] is not False for f in self.figures)

    def finish(self, **extra: Any) -> dict[str, Any]:
        load_after = load_average()
        print(
            f"{self.bench}: load average {' '.join(f'{x:.2f}' for x in load_after)} at the end; "
            f"{'all goals met' if self.passed else 'goals missed'}",
            flush=True,
        )
        out = {
            "bench": self.bench,
            "engines": self.engines,
            "date": self.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": commit(),
            "cpus": os.cpu_count(),
            "load_average_start": self.load_before,
            "load_average_end": load_after,
            "passed": self.passed,
            "figures": self.figures,
            **self.info,
            **extra,
        }
        print(json.dumps(out), flush=True)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description="create or drop the database `make bench-pg` uses")
    ap.add_argument("action", choices=["createdb", "dropdb"])
    ap.add_argument("url", help="a PostgreSQL URL naming a bench* database")
    args = ap.parse_args()
    if args.action == "createdb":
        print(f"{database_of(args.url)}: created (PostgreSQL {recreate_database(args.url)})")
    else:
        drop_database(args.url)
        print(f"{database_of(args.url)}: dropped")


if __name__ == "__main__":
    main()
