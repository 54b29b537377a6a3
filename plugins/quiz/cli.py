"""`lti-tool questions`: import and export question banks (GIFT, Moodle XML)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lti_tool.db import session as db_session


def _module_key(db, given: str | None, bank: str) -> str:
    """The module a bank belongs to: given, or the only one that fits."""
    from lti_tool.models import CourseModule
    from plugins.quiz.models import QuizBank

    keys = sorted(set(db.scalars(select(CourseModule.key))))
    if given:
        if given not in keys:
            raise click.ClickException(f"no installed module {given!r} (have: {', '.join(keys)})")
        return given
    if len(keys) == 1:
        return keys[0]
    owners = sorted(set(db.scalars(select(QuizBank.module_key).where(QuizBank.name == bank))))
    if len(owners) == 1:
        return owners[0]
    raise click.ClickException(
        f"several modules are installed ({', '.join(keys)}): name one with --module"
    )


@click.group("questions")
def questions() -> None:
    """Question banks of the quiz activity."""


@questions.command("import")
@click.option("--bank", required=True, help="The bank's name (created if new).")
@click.option(
    "--format", "fmt", type=click.Choice(["gift", "moodle-xml"]), required=True, help="File format."
)
@click.option("--module", "module_key", default=None, help="Module key (if several are installed).")
@click.option("--replace", is_flag=True, help="Retire the bank's questions that are not in FILE.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_cmd(bank: str, fmt: str, module_key: str | None, replace: bool, file: Path) -> None:
    """Import FILE into a bank; a malformed file is refused whole, with line numbers."""
    import re

    from plugins.quiz import banks
    from plugins.quiz.questions import FormatError

    if not re.fullmatch(banks.NAME_PATTERN, bank):
        raise click.ClickException("a bank name is lower-case letters, digits, - and _")
    db = db_session()
    key = _module_key(db, module_key, bank)
    try:
        qs = banks.parse_file(fmt, file.read_bytes())
        result = banks.import_questions(db, key, bank, qs, replace=replace)
    except FormatError as exc:
        db.rollback()
        for line, text in exc.problems:
            click.echo(f"{file}:{line}: {text}" if line else f"{file}: {text}", err=True)
        raise click.ClickException("nothing was imported") from exc
    db.commit()
    click.echo(
        f"{key}/{bank}: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.retired} retired"
    )


@questions.command("export")
@click.option("--bank", required=True)
@click.option("--format", "fmt", type=click.Choice(["gift", "moodle-xml"]), required=True)
@click.option("--module", "module_key", default=None, help="Module key (if several are installed).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def export_cmd(bank: str, fmt: str, module_key: str | None, output: Path | None) -> None:
    """Write a bank as GIFT or Moodle XML (to standard output unless --output)."""
    from plugins.quiz import banks

    db = db_session()
    key = _module_key(db, module_key, bank)
    row = banks.get_bank(db, key, bank)
    if row is None:
        raise click.ClickException(f"no bank {bank!r} in module {key!r}")
    text = banks.export(db, row, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@questions.command("list")
@with_appcontext
def list_cmd() -> None:
    """Banks: module, name, questions in use, title."""
    from lti_tool.models import CourseModule
    from plugins.quiz import banks

    db = db_session()
    found = False
    for key in sorted(set(db.scalars(select(CourseModule.key)))):
        for bank, n in banks.banks_of(db, key):
            found = True
            click.echo(f"{key}\t{bank.name}\t{n}\t{bank.title}")
    if not found:
        click.echo("no question banks")
