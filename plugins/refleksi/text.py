"""Reflection text: what a peserta types, how it is kept and how it is shown.

A peserta types plain text in a `<textarea>` with a light markup (what the optional
toolbar writes): `**bold**`, `*italic*`, lines starting with `- ` (a bulleted list)
or `1. ` (a numbered list), `[text](https://...)` links and bare http(s) addresses;
a blank line starts a new paragraph. The same small subset written as HTML is
accepted too.

Everything passes bleach twice: what is stored is the typed text cleaned to the
allow-list (`clean_source`), and what is shown is the markup turned into HTML and
cleaned again (`render`): p, br, strong, em, ul, ol, li and a with an http, https
or mailto address, which always gets rel="nofollow noopener" (and opens in a new tab,
as the tool runs inside the LMS's iframe). Nothing else survives: no script, style,
event handler, iframe, image, svg or javascript:/data: link.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import Filter
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "a"})
ALLOWED_ATTRIBUTES = {"a": ["href"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
REL = "nofollow noopener"


class _LinkRel(Filter):
    """Every remaining link gets rel="nofollow noopener" and opens in a new tab."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                attrs = dict(token.get("data") or {})
                if (None, "href") in attrs:
                    attrs[(None, "rel")] = REL
                    attrs[(None, "target")] = "_blank"
                token["data"] = attrs
            yield token


_source_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)
_html_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_LinkRel],
)


def normalise(typed: str | None) -> str:
    """Form text with Windows line ends and surrounding blank space removed."""
    return (typed or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def clean_source(typed: str | None) -> str:
    """What is stored: the typed text (markup and all) cleaned to the allow-list."""
    return _source_cleaner.clean(normalise(typed)).strip()


def for_editing(source: str | None) -> str:
    """The stored text as it goes back into a textarea (the template escapes it)."""
    return html.unescape(source or "")


def safe_url(url: str) -> str | None:
    """The address if its scheme is http, https or mailto, else None."""
    url = html.unescape(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ALLOWED_PROTOCOLS:
        return None
    if parts.scheme.lower() in ("http", "https") and not parts.netloc:
        return None
    return url


_MD_LINK = re.compile(r"\[([^\]\n]{1,500})\]\(([^)\s]{1,2000})\)")
_BARE_URL = re.compile(r"(?<![\w\"'=/>])https?://[^\s<>\"'()\[\]]+", re.I)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_BLOCK_HTML = re.compile(r"^\s*<(p|ul|ol)\b", re.I)


def _link(url: str, text: str) -> str:
    return f'<a href="{escape(url)}">{text}</a>'


def _inline(text: str) -> str:
    """Links, bold and italic in one line of (already cleaned) text."""
    kept: list[str] = []

    def keep(fragment: str) -> str:
        kept.append(fragment)
        return f"\x00{len(kept) - 1}\x00"

    def md_link(m: re.Match) -> str:
        url = safe_url(m.group(2))
        if url is None:
            return m.group(0)  # shown as typed (as text), never as a link
        return keep(_link(url, m.group(1)))

    def bare(m: re.Match) -> str:
        raw = m.group(0)
        trail = ""
        while raw and raw[-1] in ".,;:!?":
            raw, trail = raw[:-1], raw[-1] + trail
        url = safe_url(raw)
        return (keep(_link(url, raw)) if url else raw) + trail

    text = _MD_LINK.sub(md_link, text)
    text = _BARE_URL.sub(bare, text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)


def _blocks(lines: list[str]) -> list[str]:
    """One block of lines (no blank line inside): paragraphs with line breaks, and
    runs of "- " or "1. " lines as lists."""
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    kind = ""
    for line in [*lines, ""]:  # the empty line at the end closes what is open
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        this = "ul" if bullet else "ol" if numbered else ""
        if items and this != kind:
            out.append(
                f"<{kind}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{kind}>"
            )
            items = []
        if para and (this or not line):
            out.append("<p>" + "<br>\n".join(_inline(p) for p in para) + "</p>")
            para = []
        if this:
            kind = this
            items.append((bullet or numbered).group(1))
        elif line:
            para.append(line.strip())
    return out


def to_html(source: str) -> str:
    """The light markup of a stored text turned into HTML (not yet cleaned)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", source.replace("\x00", "")):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if _BLOCK_HTML.match(lines[0]):
            out.append(_inline("\n".join(lines)))
        else:
            out += _blocks(lines)
    return "\n".join(out)


def render(source: str | None) -> Markup:
    """The stored text as safe HTML for any page (cleaned by bleach once more)."""
    if not source:
        return Markup("")
    return Markup(_html_cleaner.clean(to_html(source)))  # noqa: S704 - cleaned by bleach


def plain(source: str | None) -> str:
    """The words only: no markup, no tags (for counting)."""
    if not source:
        return ""
    shown = _html_cleaner.clean(to_html(source))
    return html.unescape(bleach.clean(shown.replace("<", " <"), tags=set(), strip=True))


def word_count(source: str | None) -> int:
    """Words of a text: runs of non-space characters holding a letter or digit."""
    return sum(1 for token in plain(source).split() if any(c.isalnum() for c in token))
