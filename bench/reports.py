"""Reports benchmark: the grade recap, the pre/post analysis and a full XLSX export of a
class of 100,000 peserta, each timed in a fresh process with its peak memory.

Setup, not timed: a temporary instance folder, `lti-tool init` (migrations, shipped
templates), then `lti-tool demo seed --participants N` (a finished class: scores of
every graded activity, UKG and TA, rombel, logins...; its context id is the last line).

Then each measurement runs in a child process of its own (`--measure`), which builds the
app, opens the class, records its memory (the baseline: the app's code and the class's
template), and times:

  grades    every row of the grade recap through the streaming `rows()` (all peserta,
            components, NA, pass, predikat, UKG);
  prepost   the pre/post analysis of the class: the pairs (UKG, TA) of every peserta and
            the paired t-test (`lti_tool.analysis.prepost`);
  xlsx      the grade recap written as an XLSX file (both of its sheets), as a download
            or `lti-tool reports export grades --format xlsx` does;
  csv       (extra) the same as CSV.

Each line gives the wall-clock time and the child's CPU time (user + system: on a
machine busy with other work the wall clock grows, the CPU time much less). Memory is
the child's peak resident set size (`getrusage(RUSAGE_SELF).ru_maxrss`): the
whole process, Python and the app included, which is what a server worker or a cron
export needs; the baseline before the measurement is printed beside it.

    .venv/bin/python bench/reports.py [--participants 100000] [--database-url URL]
    .venv/bin/python bench/reports.py --instance DIR --context ID   # a class seeded before

`--database-url` measures on PostgreSQL too: a server URL without a database
(postgresql+psycopg://postgres@127.0.0.1:5432) gets a fresh database, dropped at the
end; a URL naming a database uses it as it is (the seeded class stays). Goal (issue 8):
each measurement under 3 s with a peak under 150 MB. Exit status is non-zero only on a
crash, not on a missed goal.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOAL_SECONDS = 3.0
GOAL_MB = 150.0
MEASUREMENTS = ("grades", "prepost", "xlsx", "csv")


def cpu_seconds() -> float:
    """This process's CPU time (user + system): a figure that other processes on the
    machine disturb less than the wall clock."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- in the child process ---------------------------------------------------------------


def measure(what: str, context_id: int) -> dict:
    """Time one measurement in this (fresh) process; the app is built first."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from lti_tool import create_app
    from lti_tool.db import session

    app = create_app()
    with app.app_context(), app.test_request_context():
        from lti_tool.i18n import use_locale
        from lti_tool.models import CourseInstance
        from lti_tool.reports.base import Filters, kinds

        use_locale("id")
        db = session()
        inst = db.scalars(
            select(CourseInstance).where(CourseInstance.context_pk == context_id)
        ).one()
        _ = [a for b in inst.module.blocks for a in b.activities]  # the template, loaded
        grades = kinds(app)["grades"]
        baseline = peak_mb()
        cpu = cpu_seconds()
        began = time.perf_counter()
        if what == "grades":
            count = sum(1 for _row in grades.rows(db, inst, Filters()))
        elif what == "prepost":
            from lti_tool.analysis import prepost

            pairs = prepost.pairs(db, inst, prepost.peserta_ids(db, inst))
            result = prepost.paired_test(pairs)
            count = result.n
        else:
            from lti_tool.reports import writers

            tables = grades.tables(db, inst, Filters())
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"grades.{what}"
                with path.open("wb") as out:
                    if what == "xlsx":
                        writers.write_xlsx(
                            tables, out, timezone=inst.timezone, tmpdir=tempfile.gettempdir()
                        )
                    else:
                        for piece in writers.csv_chunks(
                            tables, timezone=inst.timezone, indonesian=True
                        ):
                            out.write(piece)
                count = path.stat().st_size
        seconds = time.perf_counter() - began
        cpu = cpu_seconds() - cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": peak_mb(),
        "baseline_mb": baseline,
        "count": count,
    }


# -- the driver -------------------------------------------------------------------------------


def tool(env: dict, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "lti-tool"), *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"lti-tool {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def child(env: dict, what: str, context_id: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", what, "--context", str(context_id)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"measurement {what} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pg_database(url: str) -> tuple[str, str | None]:
    """(database URL, name to drop afterwards or None): a fresh database on a server URL."""
    parts = urlsplit(url)
    if parts.path.strip("/"):
        return url, None
    import psycopg

    name = f"bench_reports_{os.getpid()}_{secrets.token_hex(3)}"
    admin = url.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rstrip("/") + "/" + name, name


def drop_pg(url: str, name: str) -> None:
    import psycopg

    admin = url.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure_all(label: str, env: dict, context_id: int) -> list[str]:
    lines = []
    for what in MEASUREMENTS:
        r = child(env, what, context_id)
        ok = r["seconds"] < GOAL_SECONDS and r["peak_mb"] < GOAL_MB
        extra = f"{r['count']:,} bytes" if what in ("xlsx", "csv") else f"{r['count']:,}"
        line = (
            f"{label} {what:8s} {r['seconds']:6.2f} s (CPU {r['cpu']:5.2f} s)  "
            f"peak {r['peak_mb']:6.1f} MB "
            f"(baseline {r['baseline_mb']:.1f} MB, +{r['peak_mb'] - r['baseline_mb']:.1f})"
            f"  [{extra}]  {'PASS' if ok else 'MISS'}"
        )
        print(line, flush=True)
        lines.append(line)
    return lines


def run_one(label: str, database_url: str | None, participants: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench_reports_") as tmp:
        env = dict(os.environ, INSTANCE_PATH=str(Path(tmp) / "instance"), LTI_TOOL_ENV="production")
        env.pop("DATABASE_URL", None)
        drop = None
        if database_url:
            env["DATABASE_URL"], drop = pg_database(database_url)
        try:
            tool(env, "init", "--no-demo")
            began = time.perf_counter()
            out = tool(env, "demo", "seed", "--participants", str(participants))
            context_id = int(out.strip().splitlines()[-1])
            if database_url:  # statistics, as autovacuum gathers them after a bulk load
                import psycopg

                plain = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
                with psycopg.connect(plain, autocommit=True) as conn:
                    conn.execute("ANALYZE")
            print(
                f"{label}: seeded {participants:,} peserta in {time.perf_counter() - began:.0f} s "
                f"(context {context_id})",
                flush=True,
            )
            return measure_all(label, env, context_id)
        finally:
            if drop:
                drop_pg(database_url, drop)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--participants", type=int, default=100_000)
    ap.add_argument("--database-url", default=None, help="PostgreSQL too (see the docstring)")
    ap.add_argument("--instance", default=None, help="measure a class seeded before here")
    ap.add_argument("--context", type=int, help="its context id (with --instance)")
    ap.add_argument("--measure", choices=MEASUREMENTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.context)))
        return
    print(
        f"goal: each under {GOAL_SECONDS:.0f} s, peak memory (RSS of the whole process) "
        f"under {GOAL_MB:.0f} MB",
        flush=True,
    )
    if args.instance:
        env = dict(os.environ, INSTANCE_PATH=args.instance, LTI_TOOL_ENV="production")
        label = "postgresql" if env.get("DATABASE_URL", "").startswith("postgresql") else "sqlite"
        measure_all(label, env, args.context)
        return
    lines = run_one("sqlite", None, args.participants)
    if args.database_url:
        lines += run_one("postgresql", args.database_url, args.participants)
    print("\n".join(["", "summary:", *lines]))


if __name__ == "__main__":
    main()
