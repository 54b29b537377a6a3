"""`lti-tool mail`: queue today's deadline reminders (cron or a systemd timer runs it)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("mail")
def mail_group() -> None:
    """Email: deadline reminders."""


@mail_group.command("reminders")
@click.option("--dry-run", is_flag=True, help="List the mails that are due; queue nothing.")
@with_appcontext
def reminders(dry_run: bool) -> None:
    """Queue one reminder mail per peserta with activities due in
    MAIL_REMINDER_DAYS_BEFORE days (in courses that turned reminders on). Safe to run
    every hour: nothing is ever mailed twice."""
    from lti_tool import mail
    from lti_tool.db import session
    from lti_tool.jobs import JobQueueError, backend_name
    from lti_tool.mail.reminders import enqueue_planned, plan, send_planned_now

    if not mail.enabled():
        click.echo("mail is off (MAIL_ENABLED): nothing to do")
        return
    planned = plan(session())
    for p in planned:
        items = "; ".join(f"{i.title} ({i.due:%Y-%m-%d})" for i in p.items)
        click.echo(f"{p.user_id}\t{p.email}\t{items}")
    if dry_run:
        click.echo(f"{len(planned)} reminder mail(s) due (dry run: none queued)")
        return
    if backend_name() == "thread":  # no worker: this command sends them itself
        sent, failed = send_planned_now(planned)
        for p, exc in failed:
            click.echo(f"{p.user_id}\t{p.email}\tnot sent: {exc}", err=True)
        click.echo(f"{sent} reminder mail(s) sent, {len(failed)} failed")
        if failed:
            raise SystemExit(1)
        return
    try:
        enqueue_planned(planned)
    except JobQueueError as exc:
        raise click.ClickException(f"the job queue cannot be reached: {exc}") from exc
    click.echo(f"{len(planned)} reminder mail(s) queued")
