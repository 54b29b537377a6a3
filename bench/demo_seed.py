"""Demo-seed benchmark: how long `lti-tool demo seed --participants N` takes to fill a
class (the data the reports benchmark reads); prints each stage, rows, rows/s, the
wall and CPU time, and the database size.

By default a fresh SQLite database in a temporary folder; with --database-url (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/seedtest, an empty database you own) it
migrates that database and seeds it.

    .venv/bin/python bench/demo_seed.py [--participants 100000] [--module gp-informatika-smp]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", "-n", type=int, default=100_000)
    parser.add_argument("--module", default="gp-informatika-smp")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", action="store_true", help="Keep the SQLite file.")
    args = parser.parse_args()

    from course_templates.loader import install, load_template, shipped_templates
    from lti_tool import create_app
    from lti_tool.config import TestingConfig
    from lti_tool.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="seed-bench-"))
    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    settings.update(
        DATABASE_URL=args.database_url or f"sqlite:///{folder / 'tool.db'}",
        INSTANCE_PATH=str(folder / "instance"),
        SECRET_KEY="bench",
    )
    app = create_app(settings)
    upgrade(app)
    with app.app_context():
        from sqlalchemy import select

        from lti_tool.db import session
        from lti_tool.models import CourseModule

        db = session()
        registry = app.extensions["lti_activities"]
        have = set(db.scalars(select(CourseModule.key)))
        for path in shipped_templates():
            spec = load_template(path, registry)
            if spec.id == args.module and spec.id not in have:
                install(db, spec, registry, source=path, instance_path=app.instance_path)
        db.commit()

    print(f"database: {app.config['DATABASE_URL']}")
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    result = app.test_cli_runner().invoke(
        args=[
            *("demo", "seed", "-n", str(args.participants)),
            *("--module", args.module, "--seed", str(args.seed)),
        ]
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(result.output, end="")
    if result.exit_code != 0:
        raise SystemExit(f"seeding failed: {result.exception!r}")
    lines = result.output.strip().splitlines()
    rows = int(lines[-2].split()[0].replace(",", ""))
    used = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    print(
        f"{args.participants:,} peserta: {rows:,} rows in {wall:.1f} s wall "
        f"({rows / wall:,.0f} rows/s), {used:.1f} s CPU in this process"
    )
    if (folder / "tool.db").exists():
        size = sum(p.stat().st_size for p in folder.glob("tool.db*"))
        print(f"SQLite file: {size / 1e6:,.0f} MB" + (f" in {folder}" if args.keep else ""))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
