"""HTML and script payloads in every text a user gives (titles, posts, replies, quotes,
edits, moderation reasons, file names) come out neutralised on every page that shows
them: the list, the thread, the edit form, refused forms and the record."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from plugins.forum.models import ForumPost, ForumThread
from plugins.forum.tests.helpers import Person, rows, thread_links

PAYLOADS = [
    "<script>alert('x1')</script>",
    "<img src=x onerror=alert('x2')>",
    "<svg/onload=alert('x3')>",
    '"><script>alert("x4")</script>',
    "'><img src=x onerror=alert(5)>",
    "<a href=\"javascript:alert('x6')\">klik</a>",
    '<a href="JaVaScRiPt:alert(7)">k</a>',
    '<a href="&#106;avascript:alert(8)">k</a>',
    '<a href="java\tscript:alert(9)">k</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxMCk8L3NjcmlwdD4=">k</a>',
    '<iframe src="javascript:alert(11)"></iframe>',
    '<p onmouseover="alert(12)">hover</p>',
    "<style>body{background:url(javascript:alert(13))}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(14)>",
    "<<script>script>alert(15)<</script>/script>",
    '<a href="http://ok.example" onclick="alert(16)">ok</a>',
    "</textarea><script>alert(17)</script>",
    "<!--<img src=x onerror=alert(18)>-->",
    '<form action="https://evil.example"><button>go</button></form>',
    '<base href="https://evil.example/">',
    '<object data="javascript:alert(21)"></object>',
    "<scr<script>ipt>alert(22)</scr</script>ipt>",
    "{{ 7*7 }}{% raw %}<script>alert(23)</script>",
    "\u202e<script>alert(24)</script>",
    "<blockquote cite=javascript:alert(25)>q</blockquote>",
    "<code onclick=alert(26)>c</code>",
    '<a href="mailto:guru@example.id" target="_top" rel="opener">surel</a>',
    "<div style=\"background:url('javascript:alert(28)')\">d</div>",
    '<input autofocus onfocus="alert(29)">',
    '<details open ontoggle="alert(30)">',
]
URL_ATTRS = {"href", "src", "action", "formaction", "data", "cite", "xlink:href", "background"}
FORBIDDEN_TAGS = {
    "img", "svg", "iframe", "object", "embed", "style", "math", "base", "frame",
    "frameset", "video", "audio", "source", "marquee", "mglyph",
}  # fmt: skip


class Neutral(HTMLParser):
    """Collects everything in a page that could run script or leave the tool."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []
        self.script: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in FORBIDDEN_TAGS:
            self.bad.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.bad.append(f"{tag}[{name}]")
            if name in URL_ATTRS and value:
                v = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if v.startswith(("javascript:", "data:", "vbscript:")):
                    self.bad.append(f"{tag}[{name}={value}]")
        if tag == "form" and not (a.get("action") or "").startswith("/c/"):
            self.bad.append(f"form {a.get('action')}")
        if tag == "input" and "autofocus" in a:
            self.bad.append("input autofocus")
        if tag == "a" and (a.get("href") or "").startswith(("http", "mailto")):
            rel = (a.get("rel") or "").split()
            if "nofollow" not in rel or "noopener" not in rel or a.get("target") != "_blank":
                self.bad.append(f"a without rel: {a}")
        if tag == "script":
            src = a.get("src")
            if src is not None and not src.startswith("/static/"):
                self.bad.append(f"script {src}")
            self.script = "" if src is None else None
        if tag == "link" and not (a.get("href") or "").startswith("/static/"):
            self.bad.append(f"link {a}")
        if tag == "details" and "ontoggle" in a:
            self.bad.append("details")

    def handle_data(self, data):
        if self.script is not None:
            self.script += data

    def handle_endtag(self, tag):
        if tag == "script" and self.script is not None:
            if not self.script.startswith('history.replaceState(null, "", "/c/'):
                self.bad.append(f"inline script {self.script[:40]!r}")
            self.script = None


def neutral(page: str) -> list[str]:
    checker = Neutral()
    checker.feed(page)
    checker.close()
    return checker.bad


def test_the_checker_sees_live_payloads():
    for raw in (PAYLOADS[0], PAYLOADS[1], PAYLOADS[2], PAYLOADS[5], PAYLOADS[11], PAYLOADS[18]):
        assert neutral(raw) != [], raw


def test_payloads_are_neutralised_everywhere(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    for n, payload in enumerate(PAYLOADS):
        files = None
        if n == 0:
            files = {"file": ('"><svg onload=alert(99)>.pdf', io.BytesIO(b"%PDF-1.4\n%%EOF\n"))}
        r = siti.new_thread(payload, payload + " teks", files=files)
        assert r.status_code == 200, (payload, r.status_code)
        assert neutral(r.text) == [], payload
    assert len(rows(app, ForumThread)) == len(PAYLOADS)
    for post in rows(app, ForumPost):
        assert neutral(post.html) == [], post.source  # stored sanitised, too

    budi = Person(live_tool, lms, "budi")
    first = thread_links(budi.page.text)[-1]  # the oldest thread (sorted by last activity)
    page = budi.get(first)
    for payload in PAYLOADS:
        page = budi.get(first)
        r = budi.reply(page, payload + " balasan")
        assert r.status_code == 200 and neutral(r.text) == [], payload
    quoted = rows(app, ForumPost)[-1]
    quoting = budi.get(first + f"?quote={quoted.id}")
    assert neutral(quoting.text) == []
    assert budi.reply(quoting, "kutipan", quote=str(quoted.id)).status_code == 200

    pengampu = Person(live_tool, lms, "bu-ani", "pengampu")
    aid = rows(app, ForumThread)[0].activity_id
    victim = rows(app, ForumPost)[3]
    r = pengampu.post(f"/c/{siti.ctx}/forum/{aid}/p/{victim.id}/hide", data={"reason": PAYLOADS[1]})
    assert r.status_code == 200 and neutral(r.text) == []

    # every page where the texts appear, for a peserta and for staff
    pages = {
        "list siti": siti.open().text,
        "list siti p2": siti.get(f"/c/{siti.ctx}/module/forum-uji/sesi-1/forum?page=2").text,
        "list staff": pengampu.open().text,
        "record": pengampu.get(f"/c/{siti.ctx}/forum/{aid}/record").text,
        "edit": siti.get(f"/c/{siti.ctx}/forum/{aid}/p/{rows(app, ForumPost)[0].id}/edit").text,
    }
    for url in thread_links(pages["list staff"]) + thread_links(pages["list siti p2"]):
        pages[f"thread staff {url}"] = pengampu.get(url).text
        pages[f"thread peserta {url}"] = budi.get(url).text
    siti.open()
    refused = siti.new_thread(PAYLOADS[3], PAYLOADS[16] + " " * 3 + "x" * 20_001)
    assert refused.status_code == 400
    pages["refused thread"] = refused.text
    refused_reply = budi.reply(budi.get(first), "", files=None)
    pages["refused reply"] = refused_reply.text
    for name, text in pages.items():
        assert neutral(text) == [], name
    # the payloads are shown as the characters typed, not dropped silently
    assert "&lt;script&gt;alert(&#39;x1&#39;)&lt;/script&gt;" in pages["record"]
    assert "onload=alert(99)" in pages["record"]  # the file name, as text
