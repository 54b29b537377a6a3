"""`lti-tool users`: list local accounts, suspend or restore one."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lti_tool.db import session as db_session


@click.group("users")
def users_group() -> None:
    """Local accounts (people who launched the tool or came with a roster)."""


@users_group.command("list")
@click.option("--suspended", is_flag=True, help="Only suspended accounts.")
@click.option("--limit", type=int, default=200, show_default=True)
@with_appcontext
def users_list(suspended: bool, limit: int) -> None:
    """Id, issuer, LMS user id, name, email, and the suspension if any."""
    from lti_tool.services import accounts

    rows = accounts.users(db_session(), suspended_only=suspended, limit=limit)
    if not rows:
        click.echo("no suspended users" if suspended else "no users")
    for u in rows:
        line = f"{u.id}\t{u.issuer}\t{u.sub}\t{u.display_name}\t{u.email or '-'}"
        if u.suspended_at is not None:
            line += f"\tsuspended {u.suspended_at:%Y-%m-%d %H:%M} UTC"
            if u.suspended_reason:
                line += f": {u.suspended_reason}"
        click.echo(line)


@users_group.command("suspend")
@click.argument("user")
@click.option("--reason", default=None, help="Why (shown by `users list`).")
@with_appcontext
def users_suspend(user: str, reason: str | None) -> None:
    """Refuse USER's launches and end their open sessions (id, email or LMS user id)."""
    from lti_tool.services import accounts

    try:
        u = accounts.suspend(db_session(), user, reason)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {u.id} ({u.display_name}) suspended")


@users_group.command("unsuspend")
@click.argument("user")
@with_appcontext
def users_unsuspend(user: str) -> None:
    """Let USER launch the tool again."""
    from lti_tool.services import accounts

    try:
        u = accounts.unsuspend(db_session(), user)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {u.id} ({u.display_name}) restored")
