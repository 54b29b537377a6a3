"""`lti-tool reports export`: a class report as a file, for scheduled exports (cron).

The file appears whole or not at all: it is written next to the output under a
temporary name and renamed into place. An unknown kind, course, module, rombel or a
bad date is refused with exit code 2 and writes nothing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from lti_tool.db import session as db_session


@click.group("reports")
def reports_group() -> None:
    """Class reports (rekap) as CSV or XLSX files."""


def _refuse(message: str) -> None:
    raise click.UsageError(message)


@reports_group.command("export")
@click.argument("kind")
@click.option("--context", "context_id", type=int, required=True, help="Course id (as in URLs).")
@click.option("--module", "module_key", default=None, help="Needed when the course has several.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--rombel", default=None, help="Only this rombel (id).")
@click.option("--mentor", default=None, help="Only the rombel of this mentor (user id).")
@click.option("--from", "date_from", default=None, help="From this day (YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Up to this day (YYYY-MM-DD).")
@click.option("--locale", type=click.Choice(["id", "en"]), default="id", show_default=True)
@with_appcontext
def export(
    kind: str,
    context_id: int,
    module_key: str | None,
    fmt: str,
    output: Path,
    rombel: str | None,
    mentor: str | None,
    date_from: str | None,
    date_to: str | None,
    locale: str,
) -> None:
    """Write report KIND (logins, completion, grades, plpg, smiley, evaluation,
    attendance, prepost, mentor_reports) of a course's module to OUTPUT."""
    from lti_tool.i18n import use_locale
    from lti_tool.models import Context, CourseInstance
    from lti_tool.reports import writers
    from lti_tool.reports.base import FilterError, kinds, parse_filters

    use_locale(locale)
    db = db_session()
    available = kinds(current_app)
    report = available.get(kind)
    if report is None:
        _refuse(f"unknown report kind {kind!r}; one of: {', '.join(available)}")
    if db.get(Context, context_id) is None:
        _refuse(f"no course with id {context_id}")
    instances = {
        i.module_key: i
        for i in db.scalars(select(CourseInstance).where(CourseInstance.context_pk == context_id))
    }
    if module_key is None:
        if len(instances) != 1:
            keys = ", ".join(sorted(instances)) or "none"
            _refuse(f"course {context_id} has modules {keys}: choose one with --module")
        module_key = next(iter(instances))
    inst = instances.get(module_key)
    if inst is None:
        _refuse(f"course {context_id} has no module {module_key!r}")
    if not report.applies(db, inst):
        _refuse(f"module {module_key} has nothing for the report {kind!r}")
    args = {
        "rombel": rombel or "",
        "mentor": mentor or "",
        "from": date_from or "",
        "to": date_to or "",
    }
    try:
        filters = parse_filters(db, inst, args)
    except FilterError as exc:
        _refuse(" ".join(str(m) for m in exc.messages))
    tables = report.tables(db, inst, filters)
    folder = output.resolve().parent
    if not folder.is_dir():
        _refuse(f"no folder {folder}")
    handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            if fmt == "csv":
                for piece in writers.csv_chunks(
                    tables, timezone=inst.timezone, indonesian=locale == "id"
                ):
                    out.write(piece)
            else:
                writers.write_xlsx(
                    tables, out, timezone=inst.timezone, tmpdir=tempfile.gettempdir()
                )
        os.replace(partial, output)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {output}")
