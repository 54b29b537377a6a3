"""Tiny HTML form reader: the Python "browser" must submit auto-posting forms.

LTI relies on pages that auto-submit a form with JavaScript (the platform's
``form_post`` of the id_token, the tool's deep-linking response). A test has
no JavaScript engine, so we read the form the way a browser would and post it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin


@dataclass
class HtmlForm:
    """One ``<form>`` of a page: where it goes and the fields it would send."""

    action: str
    method: str = "POST"
    fields: dict[str, str] = field(default_factory=dict)
    form_id: str | None = None


class _FormParser(HTMLParser):
    """Collects forms and their named ``<input>``/``<textarea>`` values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._current: HtmlForm | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "form":
            self._current = HtmlForm(
                action=a.get("action", ""),
                method=(a.get("method") or "GET").upper(),
                form_id=a.get("id"),
            )
            self.forms.append(self._current)
        elif tag in ("input", "button") and self._current is not None:
            name = a.get("name")
            kind = a.get("type", "text").lower()
            if name and kind not in ("submit", "button", "image", "reset"):
                if kind in ("checkbox", "radio") and "checked" not in a:
                    return
                self._current.fields[name] = a.get("value", "")
        elif tag == "textarea" and self._current is not None:
            self._textarea = a.get("name")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea and self._current is not None:
            self._current.fields[self._textarea] = "".join(self._text)
            self._textarea = None
        elif tag == "form":
            self._current = None


def parse_forms(html: str, base_url: str | None = None) -> list[HtmlForm]:
    """Return every form of ``html``; actions are made absolute against ``base_url``."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    if base_url:
        for form in parser.forms:
            form.action = urljoin(base_url, form.action) if form.action else base_url
    return parser.forms


def find_form(html: str, base_url: str | None = None, *, field_name: str | None = None) -> HtmlForm:
    """Return the first form (holding ``field_name`` if given); ``LookupError`` if none."""
    for form in parse_forms(html, base_url):
        if field_name is None or field_name in form.fields:
            return form
    wanted = f" with a field {field_name!r}" if field_name else ""
    raise LookupError(f"no <form>{wanted} in the page")
