"""A large task file in real Chromium, inside the LMS iframe, over a connection that
drops: after the first piece, the next one is cut off half-way (the server's socket is
shut down, as when a phone loses its signal) and the browser is then offline for two
seconds. The page retries, asks where the upload stands and continues from there:
every byte range reaches the server once, the progress bar reaches 100%, and the
stored file is the original, byte for byte."""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import re
import socket
import threading
import time

import pytest
from sqlalchemy import select

from lti_tool.db import get_db
from tests.e2e import harness

pytestmark = pytest.mark.e2e

MODULE = "/course/gp-pedagogik-a"
SIZE = 6 * 1024 * 1024 + 12345
CUT_AFTER = 300_000  # bytes of the second piece that arrive before the cut
CHUNK = 1024 * 1024  # UPLOAD_CHUNK_BYTES
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
RANGE = re.compile(r"upload (\S+): bytes (\d+)-(\d+) of (\d+)( \(connection cut\))?")
ASKED = re.compile(r"upload (\S+): offset asked, (\d+) of (\d+)")
# Kept across the page change in the frame's sessionStorage: the highest value the
# progress bar showed, its percentage text, and every status message shown.
WATCH_PROGRESS = """
new MutationObserver(function () {
  var bar = document.querySelector('.upload-progress progress');
  var pct = document.querySelector('.upload-progress strong');
  var msg = document.querySelector('.upload-progress [role=status] span');
  if (bar && +bar.value >= +(sessionStorage.getItem('e2e-max') || -1)) {
    sessionStorage.setItem('e2e-max', String(bar.value));
    sessionStorage.setItem('e2e-text', pct ? pct.textContent : '');
  }
  var seen = JSON.parse(sessionStorage.getItem('e2e-msgs') || '[]');
  if (msg && seen.indexOf(msg.textContent) < 0) {
    seen.push(msg.textContent);
    sessionStorage.setItem('e2e-msgs', JSON.stringify(seen));
  }
}).observe(document.body, {subtree: true, childList: true, attributes: true,
                            characterData: true});
"""


class _Log(logging.Handler):
    """The upload log lines of the server (it runs in this process)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class _CutStream(io.RawIOBase):
    """A request body that shuts the connection down after `after` bytes."""

    def __init__(self, raw, sock, after: int, cut: threading.Event) -> None:
        self.raw, self.sock, self.left, self.cut = raw, sock, after, cut

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.left <= 0:
            self.sock.shutdown(socket.SHUT_RDWR)
            self.cut.set()
            raise ConnectionResetError("the test cut the connection")
        view = memoryview(b)[: self.left]
        n = self.raw.readinto(view) or 0
        self.left -= n
        return n


class _CutSecondPiece:
    """WSGI middleware: the second PATCH of an upload loses its connection mid-way."""

    def __init__(self, app) -> None:
        self.app = app
        self.pieces = 0
        self.cut = threading.Event()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "PATCH" and "/uploads/" in environ["PATH_INFO"]:
            self.pieces += 1
            if self.pieces == 2:
                environ["wsgi.input"] = _CutStream(
                    environ["wsgi.input"], environ["werkzeug.socket"], CUT_AFTER, self.cut
                )
        return self.app(environ, start_response)


def _network(driver, offline: bool) -> None:
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def test_a_cut_connection_resumes_a_large_task_upload(lms_browser, tmp_path):
    from lti_tool.models import Activity, UploadSession
    from lti_tool.storage import storage_for
    from lti_tool.uploads import sessions
    from plugins.tugas.models import TugasFile

    b = lms_browser
    b.lang = "en"
    app = b.tool.app
    with app.app_context():
        db = get_db(app).sessionmaker()
        for a in db.scalars(select(Activity).where(Activity.type == "tugas")):
            a.settings = {**a.settings, "max_mb": 10}
        db.commit()
        db.close()
    data = (PDF + bytes(range(256)) * (SIZE // 256 + 1))[:SIZE]
    task = tmp_path / "portofolio sesi 1.pdf"
    task.write_bytes(data)

    log, logger = _Log(), logging.getLogger("lti_tool.uploads")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(log)
    cutter = _CutSecondPiece(app.wsgi_app)
    app.wsgi_app = cutter
    try:
        b.open_course(
            "module page",
            roles=["Learner"],
            user={"sub": "guru-jauh", "name": "Guru Jauh"},
            context={"id": "kelas-jauh", "title": "Kelas di desa"},
            target_link_uri=b.tool.url(MODULE),
            locale="en-US",
        )
        module_url = b.path()
        b.visit(f"{module_url}/sesi-1/tugas", "task")
        form = b.find("form[data-resumable]:has(#tugas-file)")
        assert form.get_attribute("data-target").startswith("tugas:")
        b.js(WATCH_PROGRESS)
        b.find("#tugas-file").send_keys(str(task))

        def upload_through_a_dropped_connection() -> None:
            b.find("form:has(#tugas-file) button[type=submit]").click()
            assert cutter.cut.wait(20), "the second piece never arrived"
            _network(b.driver, offline=True)
            time.sleep(2)
            _network(b.driver, offline=False)

        b.act("task uploaded", upload_through_a_dropped_connection)
    finally:
        _network(b.driver, offline=False)
        app.wsgi_app = cutter.app
        logger.removeHandler(log)
        logger.setLevel(level)

    assert task.name in b.text()
    assert b.js("return sessionStorage.getItem('e2e-max');") == "100"
    assert b.js("return sessionStorage.getItem('e2e-text');") == "100%"
    # the page waited 1 s, found the network still down, then waited 2 s (backoff)
    shown = b.js("return JSON.parse(sessionStorage.getItem('e2e-msgs') || '[]');")
    retries = [m for m in shown if "Trying again in" in m]
    assert any("in 1 s" in m for m in retries) and any("in 2 s" in m for m in retries), shown

    # every byte range reached the server once, in order, across the cut
    ranges = [RANGE.match(line) for line in log.lines]
    pieces = [(int(m[2]), int(m[3]), bool(m[5])) for m in ranges if m]
    assert {int(m[4]) for m in ranges if m} == {SIZE}
    assert pieces[0][0] == 0 and pieces[-1][1] == SIZE, pieces
    assert all(a[1] == b_[0] for a, b_ in itertools.pairwise(pieces)), pieces
    assert sum(end - start for start, end, _cut in pieces) == SIZE
    cut = [p for p in pieces if p[2]]
    assert len(cut) == 1 and cut[0][1] - cut[0][0] == CUT_AFTER, pieces
    # after the cut the page asked where the upload stood, and went on from there
    asked = [int(m[2]) for m in map(ASKED.match, log.lines) if m]
    assert cut[0][1] in asked, log.lines
    assert len(pieces) >= SIZE // (1024 * 1024) + 1

    with app.app_context():
        db = get_db(app).sessionmaker()
        (stored,) = db.scalars(select(TugasFile)).all()
        assert stored.original_name == task.name and stored.size == SIZE
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        with storage_for("tugas", app).open(stored.stored_name) as f:
            assert hashlib.sha256(f.read()).hexdigest() == hashlib.sha256(data).hexdigest()
        assert db.scalars(select(UploadSession)).all() == []
        db.close()
    assert list(sessions.folder(app).glob("*.part")) == []
    harness.write_weights(b.test_name, b.loads)


class _Stall:
    """WSGI middleware: while `on`, every piece after the first is refused with 503
    (the server is reachable but the upload cannot go on)."""

    def __init__(self, app) -> None:
        self.app = app
        self.on = True

    def __call__(self, environ, start_response):
        is_piece = environ["REQUEST_METHOD"] == "PATCH" and "/uploads/" in environ["PATH_INFO"]
        if self.on and is_piece and environ.get("HTTP_UPLOAD_OFFSET") != "0":
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"busy"]
        return self.app(environ, start_response)


def test_a_reload_continues_the_upload_and_cancel_removes_it(lms_browser, tmp_path):
    """After a reload the same file continues where it stopped; Cancel ends an upload
    on the server; a small file the task refuses shows the reason on the page."""
    from lti_tool.models import Activity, UploadSession
    from plugins.tugas.models import TugasFile

    b = lms_browser
    b.lang = "en"
    app = b.tool.app
    with app.app_context():
        db = get_db(app).sessionmaker()
        for a in db.scalars(select(Activity).where(Activity.type == "tugas")):
            a.settings = {**a.settings, "max_mb": 10}
        db.commit()
        db.close()

    def uploads() -> list:
        with app.app_context():
            db = get_db(app).sessionmaker()
            try:
                return [(u.filename, u.offset) for u in db.scalars(select(UploadSession))]
            finally:
                db.close()

    data = (PDF + bytes(range(255, -1, -1)) * 12_000)[: 3 * 1024 * 1024]
    big = tmp_path / "video praktik.pdf"
    big.write_bytes(data)
    log, logger = _Log(), logging.getLogger("lti_tool.uploads")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(log)
    stall = _Stall(app.wsgi_app)
    app.wsgi_app = stall
    try:
        b.open_course(
            "module page",
            roles=["Learner"],
            user={"sub": "guru-kota", "name": "Guru Kota"},
            context={"id": "kelas-kota", "title": "Kelas di kota"},
            target_link_uri=b.tool.url(MODULE),
            locale="en-US",
        )
        task_url = f"{b.path()}/sesi-1/tugas"
        b.visit(task_url, "task")
        b.find("#tugas-file").send_keys(str(big))
        b.find("form:has(#tugas-file) button[type=submit]").click()
        harness.wait_until(lambda: uploads() == [(big.name, CHUNK)], 15, "the first piece")

        b.visit(task_url, "task reloaded")  # the page is gone, the upload is not
        stall.on = False
        b.js(WATCH_PROGRESS)
        b.find("#tugas-file").send_keys(str(big))
        b.submit("form:has(#tugas-file) button[type=submit]", "task uploaded after reload")
        assert big.name in b.text()
        shown = b.js("return JSON.parse(sessionStorage.getItem('e2e-msgs') || '[]');")
        assert "Continuing an earlier upload of this file." in shown, shown
        pieces = [(int(m[2]), int(m[3])) for m in map(RANGE.match, log.lines) if m]
        assert pieces[0] == (0, CHUNK) and pieces[1][0] == CHUNK, pieces  # no restart
        assert sum(e - s for s, e in pieces) == len(data)
        assert sum("created" in line for line in log.lines) == 1
        with app.app_context():
            db = get_db(app).sessionmaker()
            (stored,) = db.scalars(select(TugasFile).where(TugasFile.original_name == big.name))
            assert stored.sha256 == hashlib.sha256(data).hexdigest()
            db.close()

        # Cancel: the upload in progress is removed on the server
        stall.on = True
        other = tmp_path / "rekaman.pdf"
        other.write_bytes((PDF + bytes(range(7, 250)) * 9_000)[: 2 * 1024 * 1024 + 1000])
        b.find("#tugas-file").send_keys(str(other))
        b.find("form:has(#tugas-file) button[type=submit]").click()
        harness.wait_until(lambda: uploads() == [(other.name, CHUNK)], 15, "the first piece")
        b.find(".upload-progress button").click()
        harness.wait_until(lambda: uploads() == [], 10, "the upload removed")
        note = harness.wait_until(lambda: b.finds("form:has(#tugas-file) p[role=alert]"), 5)
        assert note[0].text == "Upload cancelled. Nothing was submitted."
        assert b.find("form:has(#tugas-file) button[type=submit]").is_enabled()
        assert not b.js(
            "return Object.keys(localStorage).filter(function (k) {"
            " return k.indexOf('tus|') === 0; });"
        )
    finally:
        app.wsgi_app = stall.app
        logger.removeHandler(log)
        logger.setLevel(level)

    # a small file the task refuses: the reason shows on the page, the form stays
    fake = tmp_path / "tugas.pdf"
    fake.write_bytes(b"MZ\x90\x00\x03" + b"\x00" * 200)
    b.find("#tugas-file").send_keys(str(fake))
    b.find("form:has(#tugas-file) button[type=submit]").click()
    refused = harness.wait_until(
        lambda: [p for p in b.finds("form:has(#tugas-file) p.error") if p.text], 10, "the refusal"
    )
    assert "is not a file type this task accepts" in refused[0].text
    assert b.find("form:has(#tugas-file) button[type=submit]").is_enabled()
