"""Question and feedback text as safe HTML, whatever format the bank gave it in."""

from __future__ import annotations

import bleach
from markupsafe import Markup, escape

TAGS = [
    "p", "br", "b", "strong", "i", "em", "u", "s", "sub", "sup", "code", "pre", "span",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "blockquote", "img",
    "h3", "h4", "a",
]  # fmt: skip
ATTRIBUTES = {"a": ["href", "title"], "img": ["src", "alt", "width", "height"]}


def as_html(text: str, fmt: str = "html") -> Markup:
    """HTML kept to a safe subset (no scripts, styles, handlers); other formats escaped
    with their line breaks kept."""
    if fmt == "html":
        return Markup(  # noqa: S704 - cleaned by bleach
            bleach.clean(
                text, tags=TAGS, attributes=ATTRIBUTES, protocols=["http", "https"], strip=True
            )
        )
    return Markup("<br>").join(escape(line) for line in text.split("\n"))
