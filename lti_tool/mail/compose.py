"""Composing a mail: plain text with a simple HTML alternative, in the recipient's
language, with the unsubscribe link in the body and in List-Unsubscribe.

The words come from `_()` in the callers (this module only lays them out), so both
parts say the same. No images, no tracking pixels, no redirecting links.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from babel.dates import format_date
from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from lti_tool.mail import address_of
from lti_tool.mail.unsubscribe import url_for_user

#: Short names of Indonesia's time zones, as printed after a deadline.
TZ_ABBR = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def language_of(locale: str | None) -> str:
    """The user's language if the tool speaks it, else the default (Indonesian)."""
    cfg = current_app.config
    code = (locale or "").replace("_", "-").split("-")[0].lower()
    code = "id" if code == "in" else code
    return code if code in cfg["BABEL_SUPPORTED_LOCALES"] else cfg["BABEL_DEFAULT_LOCALE"]


@contextmanager
def in_language(locale: str | None) -> Iterator[str]:
    """Translate `_()` and templates into the user's language inside the block (jobs
    run outside requests; the templates' per-request catalog in `g` is reset too)."""
    lang = language_of(locale)
    kept = g.pop("_babel_t", None)
    try:
        with force_locale(lang):
            yield lang
    finally:
        g.pop("_babel_t", None)
        if kept is not None:
            g._babel_t = kept


def due_text(due: date, tz: str, lang: str) -> str:
    """`Friday, July 3, 2026, 23:59 WIB`: the end of the due day in the class time zone."""
    day = format_date(due, format="full", locale=lang)
    return f"{day}, 23:59 {TZ_ABBR.get(tz, tz)}"


@dataclass
class Section:
    """A heading and its list lines (e.g. one course and its activities due)."""

    heading: str | None
    lines: list[str] = field(default_factory=list)


@dataclass
class Letter:
    """What a mail says, already in the recipient's language."""

    subject: str
    greeting: str
    paragraphs: list[str]
    sections: list[Section] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)


def _text(letter: Letter, footer: str, unsubscribe: str) -> str:
    out = [letter.greeting, ""]
    for p in letter.paragraphs:
        out += [p, ""]
    for s in letter.sections:
        if s.heading:
            out.append(s.heading)
        out += [f"- {line}" for line in s.lines]
        out.append("")
    for p in letter.closing:
        out += [p, ""]
    out += ["-- ", footer, unsubscribe, ""]
    return "\n".join(out)


def build(user_id: int, name: str | None, email: str, letter: Letter, lang: str) -> EmailMessage:
    """The message to `email`, from MAIL_FROM, with List-Unsubscribe for `user_id`.
    Call inside `in_language(...)`."""
    cfg = current_app.config
    unsubscribe = url_for_user(user_id)
    footer = _(
        "You get this email because your course in the LMS uses Guru Pembelajar Online "
        "and turned emails on. To stop all emails from the tool, open this link:"
    )
    msg = EmailMessage()
    msg["Subject"] = letter.subject
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = formataddr((name or "", email))
    if cfg.get("MAIL_REPLY_TO"):
        msg["Reply-To"] = cfg["MAIL_REPLY_TO"]
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=address_of(cfg["MAIL_FROM"]).rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    # quoted-printable: 7-bit safe for any server, still readable as source
    msg.set_content(_text(letter, footer, unsubscribe), cte="quoted-printable")
    html = render_template(
        "mail/message.html", letter=letter, footer=footer, unsubscribe=unsubscribe, lang=lang
    )
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    msg["Content-Language"] = lang  # after the content: set_content drops Content-*
    return msg
