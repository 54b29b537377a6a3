"""Following an export through its status page, whatever runs the jobs: an inline job
is done at once, a thread is waited for, and with RQ (`make test-pg`, or a test's own
redis-server) a worker is run in burst mode in the test, as `lti-tool worker` would."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable

from flask import Flask

STATUS = re.compile(r'data-status="(\w+)" data-error="(\w*)"')
DOWNLOAD = re.compile(r'href="([^"]*/ekspor/\d+/unduh)"')
EXPORT_URL = re.compile(r"/c/\d+/ekspor/(\d+)$")


def run_jobs(app: Flask) -> None:
    """Let queued jobs run: a burst of an RQ worker (the other backends need nothing)."""
    from lti_tool.jobs import uses_rq

    if uses_rq(app):
        from lti_tool.job_worker import run_worker

        run_worker(app, burst=True, simple=True)


def wait_for_export(app: Flask, get_text: Callable[[], str], timeout: float = 60) -> str:
    """The status page once the export is ready or failed (`get_text` fetches it)."""
    deadline = time.monotonic() + timeout
    while True:
        text = get_text()
        found = STATUS.search(text)
        assert found, text[:500]
        if found.group(1) in ("ready", "failed"):
            return text
        assert time.monotonic() < deadline, f"export still {found.group(1)}"
        run_jobs(app)
        time.sleep(0.05)


def state_of(text: str) -> tuple[str, str]:
    """(status, error code) shown by a status page."""
    found = STATUS.search(text)
    assert found, text[:500]
    return found.group(1), found.group(2)


def download_link(text: str) -> str:
    found = DOWNLOAD.search(text)
    assert found, text[:500]
    return html.unescape(found.group(1))


def export_id_of(url: str) -> int:
    found = EXPORT_URL.search(url)
    assert found, url
    return int(found.group(1))


def fetch_export(app: Flask, browser, response):
    """After a browser posted a request for an export (`response`: the status page it
    was redirected to): wait until ready, then download it. Returns the download."""
    assert EXPORT_URL.search(response.url), (response.status_code, response.url)
    page = wait_for_export(app, lambda: browser.get(response.url).text)
    assert state_of(page)[0] == "ready", state_of(page)
    base = response.url.split("/c/")[0]
    return browser.get(base + download_link(page))
