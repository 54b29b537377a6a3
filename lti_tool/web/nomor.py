"""Participant numbers in pages: grouped as the guideline prints them, with their parts.

`{{ number|nomor_peserta }}` gives `16 22 04 156 1 0025` whose title reads
"2016 · Bali · Kab. Badung · Bahasa Indonesia · Kemdikbud · #25";
`{{ number|nomor_peserta(parts=True) }}` writes the parts out under it (for phones,
where a title cannot be seen). A value that is not a participant number (an email)
is shown as it is; a broken number is marked, with what is wrong in its title.
"""

from __future__ import annotations

import re

from flask import Flask
from markupsafe import Markup, escape

from lti_tool.reference import nomor_peserta
from lti_tool.reference.nomor_peserta import NomorPeserta, NomorPesertaError

#: Text that someone meant as a participant number: digits in groups, nothing else.
_LOOKS_LIKE = re.compile(r"^[\d\s.-]{10,}$")


def render(value: str | None, parts: bool = False) -> Markup:
    """The HTML of a participant number (see the module docstring)."""
    text = (value or "").strip()
    if not text:
        return Markup("")
    try:
        n = nomor_peserta.parse(text)
    except NomorPesertaError as exc:
        if not _LOOKS_LIKE.match(text):
            return escape(text)
        return Markup('<span class="nomor error" title="{}">{} ⚠</span>').format(exc.message, text)
    if parts:
        return Markup(
            '<span class="nomor">{}</span><br><small class="muted nomor-parts">{}</small>'
        ).format(n.grouped, n.summary)
    return Markup('<abbr class="nomor" title="{}">{}</abbr>').format(n.summary, n.grouped)


def parts_of(value: str | None) -> NomorPeserta | None:
    """The parsed number for templates that lay the parts out themselves."""
    return nomor_peserta.try_parse(value)


def numbers_in(context_pk: int, user_ids=None) -> dict[int, str]:
    """user id -> participant number in a course (biodata first, else the LMS's ID
    number), for pages that list peserta."""
    from lti_tool.db import session as db_session
    from lti_tool.services.biodata import nomors_in

    return nomors_in(db_session(), context_pk, user_ids)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["nomor_peserta"] = render
    app.jinja_env.globals.update(nomor_parts=parts_of, nomor_numbers=numbers_in)
