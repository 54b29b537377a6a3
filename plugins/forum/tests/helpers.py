"""Driving the forum through real launches: open it, read its forms, post."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from lti_tool.db import get_db
from tests.conftest import launch_as, make_browser

CLASS_FORUM = "/course/forum-uji/sesi-1/forum"
ROMBEL_FORUM = "/course/forum-uji/pendampingan/mentoring"
ROLES = {
    "peserta": ["Learner"],
    "mentor": ["Mentor"],
    "pengampu": ["Instructor"],
    "admin": ["Administrator"],
}


class Person:
    """A browser of one user, launched into the forum in a role."""

    def __init__(self, live_tool, lms, sub: str, role: str = "peserta", target=CLASS_FORUM):
        self.live_tool, self.lms, self.sub, self.role = live_tool, lms, sub, role
        self.browser = make_browser()
        self.page = self.open(target)
        self.ctx = int(re.search(r"/c/(\d+)/", self.page.text).group(1))

    def open(self, target=CLASS_FORUM):
        page = launch_as(
            self.live_tool,
            self.lms,
            self.browser,
            ROLES[self.role],
            self.sub,
            target,
            name=self.sub.title(),
        )
        assert page.status_code == 200, page.text
        self.page = page
        return page

    def url(self, path: str) -> str:
        return self.live_tool.url(path)

    def get(self, path: str, **kw):
        return self.browser.get(self.url(path) if path.startswith("/") else path, **kw)

    def post(self, path: str, data=None, **kw):
        return self.browser.post(self.url(path) if path.startswith("/") else path, data=data, **kw)

    # -- forms of the last page --------------------------------------------------------

    def action(self, text: str, what: str) -> str:
        found = re.search(rf'action="(/c/\d+/forum/\d+/{what})"', text)
        assert found, f"no {what} form"
        return html.unescape(found.group(1))

    def key(self, text: str) -> str:
        return re.search(r'name="submit_key" value="([0-9a-f]{32})"', text).group(1)

    def new_thread(self, title: str, body: str, page=None, files=None, **extra):
        text = (page or self.page).text
        data = {"title": title, "body": body, "submit_key": self.key(text), **extra}
        return self.post(self.action(text, "threads"), data=data, files=files)

    def reply(self, thread_page, body: str, files=None, **extra):
        text = thread_page.text
        data = {"body": body, "submit_key": self.key(text), **extra}
        return self.post(self.action(text, r"t/\d+/reply"), data=data, files=files)


def thread_links(text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/c/\d+/forum/\d+/t/\d+)"', text)]


def rows(app, model, *where):
    with get_db(app).sessionmaker() as db:
        return list(db.scalars(select(model).where(*where).order_by(model.id)))
