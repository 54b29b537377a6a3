"""Text of forum posts: a small allow-list of HTML, plain newlines made paragraphs.

What a user types is kept as typed (to edit it again); what is shown is the
sanitised HTML made from it when it was saved. Disallowed markup is shown as text,
not run: `<script>` appears as the characters a user typed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markupsafe import Markup

TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "a"})
ATTRIBUTES = {"a": ["href"]}
PROTOCOLS = frozenset({"http", "https", "mailto"})
_BLOCK = re.compile(r"<\s*(p|ul|ol|blockquote)\b", re.I)
# Control characters other than tab and line breaks, and the invisible format
# characters that reorder or hide text (bidi overrides, zero-width joiners...).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)


def _link_attributes(attrs: dict, new: bool = False) -> dict:
    """Every link opens outside the LMS frame, passes no referrer rights, no SEO credit."""
    attrs[(None, "rel")] = "nofollow noopener"
    attrs[(None, "target")] = "_blank"
    return attrs


_cleaner = bleach.sanitizer.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    protocols=PROTOCOLS,
    strip=False,
    strip_comments=True,
    filters=[
        partial(LinkifyFilter, callbacks=[_link_attributes], skip_tags={"code"}, parse_email=False)
    ],
)


def clean_text(value: str | None, *, multiline: bool = True) -> str:
    """What a user typed without control characters (and, for one-line fields, with
    runs of white space made one space)."""
    value = _CONTROL.sub("", (value or "").replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        value = " ".join(value.split())
    return value.strip()


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + p.replace("\n", "<br>\n") + "</p>" for p in parts)


def to_html(source: str) -> str:
    """The sanitised HTML of a post. Plain text (no block tags) becomes paragraphs:
    an empty line starts a new one, a single line break stays a line break."""
    text = source.strip()
    if not _BLOCK.search(text):
        text = _paragraphs(text)
    return _cleaner.clean(text)


def plain(html: str) -> str:
    """The readable text of sanitised HTML (for excerpts and emptiness checks)."""
    text = bleach.clean(html, tags=set(), strip=True)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    text = text.replace("&#39;", "'").replace("&amp;", "&")
    return " ".join(text.split())


def excerpt(html: str, limit: int = 300) -> str:
    text = plain(html)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe(html: str) -> Markup:
    """Stored post HTML, sanitised again on the way out (cheap, and safe even if a
    row was written by something other than this plugin)."""
    return Markup(_cleaner.clean(html))  # noqa: S704 - bleach-sanitised above


def bad_file_name(name: str) -> bool:
    """A name with folders, control or invisible characters, or no name at all."""
    if not name or name in (".", "..") or len(name) > 200:
        return True
    if "/" in name or "\\" in name or re.match(r"^[A-Za-z]:", name):
        return True
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name)
