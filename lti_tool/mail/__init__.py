"""Email for regions that rely on it: deadline reminders and feedback notices.

Nothing is sent unless the server's administrator turned mail on (MAIL_ENABLED, with
an SMTP server and a From address) AND the course's pengampu turned each kind on
(`course_mail_settings`), to people with an email address who did not opt out.
Mails are composed and sent by jobs (`lti_tool.jobs`), never in a web request; every
mail carries a signed link that turns the tool's emails off without a login.
"""

from __future__ import annotations

from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import parseaddr

from flask import Flask, current_app

#: Reminders further ahead than this many days are refused at start-up.
MAX_DAYS_BEFORE = 30


def reminder_days(raw: str | None) -> tuple[int, ...]:
    """MAIL_REMINDER_DAYS_BEFORE ("2,0") as whole days, largest first; ValueError
    naming the setting when it is not a comma-separated list of 0..30."""
    try:
        days = {int(part) for part in (raw or "").split(",") if part.strip()}
    except ValueError:
        days = set()
        bad = True
    else:
        bad = not days or min(days) < 0 or max(days) > MAX_DAYS_BEFORE
    if bad:
        raise ValueError(
            "MAIL_REMINDER_DAYS_BEFORE must list whole days from 0 to "
            f"{MAX_DAYS_BEFORE}, separated by commas (e.g. 2,0), got {raw!r}"
        )
    return tuple(sorted(days, reverse=True))


def address_of(value: str | None) -> str | None:
    """The bare address of a setting like `Name <user@host>` or `user@host`, or None
    when it is not an email address."""
    _name, addr = parseaddr(value or "")
    if "@" not in addr:
        return None
    try:
        Address(addr_spec=addr)
    except (HeaderParseError, ValueError, IndexError):
        return None
    return addr


def _address(name: str, value: str | None) -> None:
    if address_of(value) is None:
        raise ValueError(f"{name} must be an email address, got {value!r}")


def check_settings(config) -> None:
    """Refuse contradictory or incomplete mail settings at start-up (ValueError)."""
    reminder_days(config.get("MAIL_REMINDER_DAYS_BEFORE"))
    hour = config.get("MAIL_REMINDER_HOUR")
    if not isinstance(hour, int) or not 0 <= hour <= 23:
        raise ValueError(f"MAIL_REMINDER_HOUR must be an hour from 0 to 23, got {hour!r}")
    if config.get("SMTP_SSL") and config.get("SMTP_STARTTLS"):
        raise ValueError("set SMTP_SSL or SMTP_STARTTLS, not both")
    if not config.get("MAIL_ENABLED"):
        return
    if not config.get("SMTP_HOST"):
        raise ValueError("MAIL_ENABLED needs SMTP_HOST")
    _address("MAIL_FROM", config.get("MAIL_FROM"))
    if config.get("MAIL_REPLY_TO"):
        _address("MAIL_REPLY_TO", config.get("MAIL_REPLY_TO"))
    if bool(config.get("SMTP_USERNAME")) != bool(config.get("SMTP_PASSWORD")):
        raise ValueError("SMTP_USERNAME and SMTP_PASSWORD go together")


def enabled(app: Flask | None = None) -> bool:
    """Whether the server may send mail at all (MAIL_ENABLED)."""
    return bool((app or current_app).config.get("MAIL_ENABLED"))


def init_app(app: Flask) -> None:
    check_settings(app.config)
