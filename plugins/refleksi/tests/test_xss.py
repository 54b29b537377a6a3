"""Hostile text through every field (each prompt, staff and peserta comments, the
name the LMS sends): neutralised where it is stored and in every page showing it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from plugins.refleksi import text
from plugins.refleksi.tests.helpers import (
    PENGAMPU,
    PESERTA,
    SESI2,
    comment_url,
    comments,
    ctx_of,
    entries,
    here,
    open_as,
    record_url,
    save_url,
    staff_url,
    textarea,
)

PAYLOADS = [
    "<script>alert('x1')</script>",
    "<SCRIPT SRC=https://evil.example/x1.js></SCRIPT>",
    "<img src=x onerror=alert('x2')>",
    "<svg onload=alert('x3')><circle r=1></svg>",
    "<svg><script>alert('x4')</script></svg>",
    "<a href=\"javascript:alert('x5')\">klik</a>",
    "<a href=\"JaVaScRiPt:alert('x6')\">klik</a>",
    "<a href=\"jav&#x61;script:alert('x7')\">klik</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert('x8')\">k</a>",
    "<a href=\" javascript:alert('x9')\">spasi</a>",
    "<a href=\"java\tscript:alert('x10')\">tab</a>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    "[md](javascript:alert('x11'))",
    "[md](data:text/html,<script>alert('x12')</script>)",
    "[md](jav&#x61;script:alert('x13'))",
    "[md](JAVASCRIPT:alert('x14'))",
    "<p style=\"background:url(javascript:alert('x15'))\">gaya</p>",
    '<strong style="color:red" onclick="alert(\'x16\')">tebal</strong>',
    '<iframe src="https://evil.example"></iframe>',
    "<iframe srcdoc=\"<script>alert('x17')</script>\"></iframe>",
    "&lt;script&gt;alert('x18')&lt;/script&gt;",
    "&#60;img src=x onerror=alert('x19')&#62;",
    "<img src=x onerror=alert('x20')",
    "<a href='https://ok.example/' onmouseover='alert(`x21`)'>ok",
    "<<script>script>alert('x22')<</script>/script>",
    "<scr<script>ipt>alert('x23')</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('x24')>",
    "<form action=\"javascript:alert('x25')\"><button>go</button></form>",
    "<object data=\"javascript:alert('x26')\"></object>",
    "<embed src=\"javascript:alert('x27')\">",
    "<body onload=alert('x28')>",
    "<input autofocus onfocus=alert('x29')>",
    "\"><script>alert('x30')</script>",
    "'><img src=x onerror=alert('x31')>",
    "</textarea><script>alert('x32')</script>",
    "<!--<img src=x onerror=alert('x33')>-->",
    "<a href=\"vbscript:msgbox('x34')\">vb</a>",
    "<div onmouseover=\"alert('x35')\">div</div>",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'x36\')">',
    '<base href="https://evil.example/">',
    '<a href="https://ok.example/" rel="opener" target="_top" style="x">tautan</a>',
    "<details open ontoggle=alert('x37')>",
    "<video><source onerror=alert('x38')></video>",
    "<ul><li onclick=alert('x39')>butir</ul>",
]

URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"}
#: Never in any page of the plugin (its own pages hold none of them).
NEVER = {
    "iframe", "img", "svg", "math", "style", "object", "embed", "base", "frame", "frameset",
    "video", "audio", "source", "mglyph", "mtext",
}  # fmt: skip
#: All a reflection or a comment may hold.
ALLOWED = set(text.ALLOWED_TAGS)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def _scheme(value: str) -> str:
    squeezed = re.sub(r"[\x00-\x20]+", "", value).lower()
    return squeezed.split(":", 1)[0] if ":" in squeezed else ""


def problems(page: str, whole_page: bool = True, stored: bool = False) -> list[str]:
    """What in a page (or a fragment) could run or load the attacker's code; links
    leaving the tool must carry rel="nofollow noopener" (added when shown, so not
    looked for in `stored` text)."""
    p = _Collector()
    p.feed(page)
    p.close()
    out = []
    for tag, attrs in p.tags:
        for name, value in attrs.items():
            value = value or ""
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                out.append(f"<{tag} {name}=...>")
            if name in URL_ATTRS and _scheme(value) in ("javascript", "data", "vbscript"):
                out.append(f"<{tag} {name}={value!r}>")
            if "alert(" in value or "evil.example" in value:
                out.append(f"<{tag} {name}={value!r}>")
        if tag in NEVER or (not whole_page and tag not in ALLOWED):
            out.append(f"<{tag}>")
        elif tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            if set(attrs) - {"nonce"}:  # the tool's own inline script carries the CSP nonce
                out.append(f"<script {attrs}>")
        elif tag == "link" and not (attrs.get("href") or "").startswith("/static/"):
            out.append(f"<link {attrs}>")
        elif tag == "meta" and set(attrs) - {"charset", "name", "content"}:
            out.append(f"<meta {attrs}>")
        elif tag == "form" and not (attrs.get("action") or "").startswith("/c/"):
            out.append(f"<form {attrs}>")
        elif tag == "input" and (attrs.get("type"), attrs.get("name")) != ("hidden", "csrf_token"):
            out.append(f"<input {attrs}>")
        elif (
            tag == "a"
            and not stored
            and _scheme(attrs.get("href") or "") in ("http", "https", "mailto")
            and attrs.get("rel") != "nofollow noopener"
        ):
            out.append(f"<a {attrs}> without rel")
    for body in p.scripts:
        if body.strip() and not body.strip().startswith('history.replaceState(null, "", '):
            out.append(f"<script>{body[:60]}</script>")
        if "alert" in body:
            out.append(f"<script>{body[:60]}</script>")
    if whole_page:
        for tag in ("html", "head", "body"):
            found = [a for t, a in p.tags if t == tag]
            if len(found) != 1 or found[0] not in ({}, {"lang": "id"}, {"lang": "en"}):
                out.append(f"{len(found)} <{tag}> {found}")
    return out


def test_the_checker_sees_the_attacks():
    assert problems("<img src=x onerror=alert(1)>", whole_page=False)
    assert problems('<a href="jav&#x61;script:alert(1)">x</a>', whole_page=False)
    assert problems("<p style=x>y</p>", whole_page=False)
    assert problems("<script>alert(1)</script>", whole_page=False)
    assert problems('<a href="https://x.id">x</a>', whole_page=False)  # no rel
    assert problems("<html><body><body onload=x>", whole_page=True)
    assert not problems("<p><strong>a</strong> <em>b</em></p><ul><li>c</li></ul>", whole_page=False)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_is_neutralised_when_stored_and_shown(payload):
    stored = text.clean_source(payload)
    assert problems(stored, whole_page=False, stored=True) == []
    shown = str(text.render(stored))
    assert problems(shown, whole_page=False) == []


def _fields(keys: list[str]) -> dict[str, str]:
    """Every payload, spread over the prompts, with ordinary words around them."""
    out = {}
    for i, key in enumerate(keys):
        mine = PAYLOADS[i :: len(keys)]
        out[f"p-{key}"] = (
            "Refleksi saya\n\n" + "\n\n".join(mine) + "\n\nselesai [ok](https://ok.example/x)"
        )
    return out


HOSTILE_NAME = "Siti\"><img src=x onerror=alert('nama')><script>alert('nama')</script>"


def test_hostile_text_in_every_field_and_every_page(live_tool, lms):
    keys = ["baru", "faktor", "antisipasi", "tindak-lanjut"]
    data = _fields(keys)
    siti, page = open_as(live_tool, lms, PESERTA, "siti", SESI2, name=HOSTILE_NAME)
    assert problems(page.text) == []
    action = live_tool.url(save_url(page))
    ctx = ctx_of(save_url(page))
    seen: dict[str, str] = {}

    # a refused form gives every payload back, as text inside its textarea
    refused = siti.post(action, data={**data, "p-faktor": "", "action": "submit"})
    assert refused.status_code == 400
    seen["refused form"] = refused.text
    assert textarea(refused.text, "p-baru") == data["p-baru"]
    assert entries(live_tool) == []

    draft = siti.post(action, data={**data, "action": "draft"})
    seen["peserta draft"] = draft.text
    for key in keys:  # the draft comes back as text in its textarea, never as markup
        raw = re.search(rf'name="p-{key}"[^>]*>(.*?)</textarea>', draft.text, re.S).group(1)
        assert "<" not in raw and "&lt;a href=&#34;https://ok.example/&#34;" in draft.text
    done = siti.post(action, data={**data, "action": "submit"})
    assert "Refleksi Anda sudah dikirim." in done.text
    (row,) = entries(live_tool)
    for key in keys:
        assert problems(row.answers[key], whole_page=False, stored=True) == []

    pengampu, staff_page = open_as(live_tool, lms, PENGAMPU, "pengampu-1", SESI2)
    entry_url = live_tool.url(f"/c/{ctx}/refleksi/entry/{row.id}")
    reading = pengampu.get(entry_url)
    hostile_comment = "\n\n".join(PAYLOADS[::2])
    pengampu.post(live_tool.url(comment_url(reading)), data={"comment": hostile_comment})
    mine = siti.get(here(live_tool, page))
    siti.post(live_tool.url(comment_url(mine)), data={"comment": "\n\n".join(PAYLOADS[1::2])})
    stored = [c.body for c in comments(live_tool)]
    assert len(stored) == 2
    for body in stored:
        assert problems(body, whole_page=False, stored=True) == []
    refused_comment = pengampu.post(
        live_tool.url(comment_url(reading)), data={"comment": "x" * 5001 + hostile_comment}
    )
    assert refused_comment.status_code == 400
    seen["refused comment"] = refused_comment.text

    seen["peserta page with comments"] = siti.get(here(live_tool, page)).text
    seen["staff summary"] = pengampu.get(here(live_tool, staff_page)).text
    seen["staff list"] = pengampu.get(live_tool.url(staff_url(staff_page))).text
    seen["reading view"] = pengampu.get(entry_url).text
    seen["print record"] = pengampu.get(live_tool.url(record_url(staff_page))).text
    _budi, budi_page = open_as(live_tool, lms, PESERTA, "budi", SESI2)
    seen["peer view"] = budi_page.text
    assert "Refleksi rekan peserta" in budi_page.text and "Siti" in budi_page.text

    for where, html in seen.items():
        assert problems(html) == [], where
    # the ordinary parts survive, and links carry rel="nofollow noopener"
    assert "Refleksi saya" in seen["peserta page with comments"]
    for where in ("reading view", "print record", "peer view"):
        html = seen[where]
        assert "Refleksi saya" in html and "selesai" in html, where
        assert (
            '<a href="https://ok.example/x" rel="nofollow noopener" target="_blank">ok</a>' in html
        ), where
    for where in ("staff list", "reading view", "print record", "peer view"):
        assert "Siti&#34;&gt;&lt;img src=x onerror=alert(&#39;nama&#39;)&gt;" in seen[where], where
