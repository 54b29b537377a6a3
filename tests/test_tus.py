"""Resumable uploads (tus 1.0.0, lti_tool/uploads) through real launches: the
protocol (OPTIONS, create, HEAD, PATCH, DELETE), its refusals (offset 409, type 415,
size 413 at creation and while appending, version 412, CSRF, someone else's upload
or course 404, expiry 410), a connection cut in the middle of a piece, housekeeping,
and the hand-off of a finished upload to the task, report and forum forms, which
store it through their own checks, once."""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool.db import get_db, session, utcnow
from lti_tool.models import UploadSession
from lti_tool.uploads import sessions
from plugins.tugas.models import TugasFile
from plugins.tugas.tests.helpers import EXE, PDF, PNG, TUGAS, stored_files, upload_action
from tests.conftest import LiveTool, build_app, make_browser, served, shared_templates

LAPORAN_TEMPLATE = (
    Path(__file__).resolve().parents[1]
    / "plugins"
    / "laporan"
    / "tests"
    / "data"
    / "plpg-laporan-uji.yaml"
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PIECE = 700_000  # larger than MAX_FORM_MEMORY_SIZE (500 KB): a piece is streamed


@pytest.fixture
def live_tool(tmp_path: Path) -> Iterator[LiveTool]:
    """The shared templates and the PLPG module (laporan) over HTTP."""
    with served(build_app(tmp_path, templates=shared_templates(LAPORAN_TEMPLATE))) as tool:
        yield tool


def launch(live_tool, lms, browser, path: str, sub: str = "guru1", roles=("Learner",)):
    """A launch in English (messages are asserted in English); (first page, ctx)."""
    result = lms.launch(
        browser,
        roles=list(roles),
        user={"sub": sub, "name": sub.title()},
        target_link_uri=live_tool.url(path),
        locale="en-US",
    )
    assert result.ok, result.error
    page = result.final_response
    assert page.status_code == 200, page.text[:300]
    return page, int(re.search(r"/c/(\d+)/", page.text).group(1))


def big_pdf(size: int) -> bytes:
    """A PDF padded (inside a comment) to `size` bytes, each byte position distinct
    enough that a misplaced piece changes the hash."""
    body = b"".join(b"%%%07d\n" % i for i in range(size // 9 + 1))
    return (PDF + body)[:size]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Tus:
    """A tus client on a peer browser: the page's CSRF token in X-CSRFToken."""

    def __init__(self, live_tool: LiveTool, browser, ctx: int, page_text: str) -> None:
        self.live_tool, self.browser, self.ctx = live_tool, browser, ctx
        self.csrf = html.unescape(CSRF.search(page_text).group(1))

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Tus-Resumable": "1.0.0", "X-CSRFToken": self.csrf, **extra}

    def url(self, token: str = "", ctx: int | None = None) -> str:
        return self.live_tool.url(f"/c/{ctx or self.ctx}/uploads/{token}")

    def create(self, length: int, target: str, filename: str = "laporan.pdf", **extra):
        meta = f"filename {b64(filename)},target {b64(target)}"
        headers = self.headers(**{"Upload-Length": str(length), "Upload-Metadata": meta}, **extra)
        return self.browser.request("POST", self.url(), headers=headers)

    def start(self, data: bytes, target: str, filename: str = "laporan.pdf") -> str:
        made = self.create(len(data), target, filename)
        assert made.status_code == 201, made.text
        return made.headers["Location"].rsplit("/", 1)[1]

    def head(self, token: str, ctx: int | None = None):
        return self.browser.request("HEAD", self.url(token, ctx), headers=self.headers())

    def patch(self, token: str, offset: int, data: bytes, *, ctx=None, **extra):
        headers = self.headers(
            **{
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                **extra,
            }
        )
        return self.browser.request("PATCH", self.url(token, ctx), data=data, headers=headers)

    def send_all(self, token: str, data: bytes, piece: int = PIECE) -> None:
        for start in range(0, len(data), piece):
            done = self.patch(token, start, data[start : start + piece])
            assert done.status_code == 204, done.text
            assert int(done.headers["Upload-Offset"]) == min(start + piece, len(data))

    def upload(self, data: bytes, target: str, filename: str = "laporan.pdf") -> str:
        token = self.start(data, target, filename)
        self.send_all(token, data)
        return token


def tugas_target(page_text: str) -> str:
    return "tugas:" + re.search(r"/tugas/(\d+)/upload", upload_action(page_text)).group(1)


def rows(app) -> list[UploadSession]:
    with app.app_context():
        found = list(session().scalars(select(UploadSession)))
        for r in found:
            session().expunge(r)
        return found


def tugas_files(app) -> list[TugasFile]:
    with app.app_context():
        found = list(session().scalars(select(TugasFile)))
        for r in found:
            session().expunge(r)
        return found


def part(app, token: str) -> Path:
    return sessions.data_path(app, token)


@pytest.fixture
def peserta(live_tool, lms, browser):
    page, ctx = launch(live_tool, lms, browser, TUGAS)
    return page, ctx, Tus(live_tool, browser, ctx, page.text)


# -- the protocol ------------------------------------------------------------------------


def test_options_says_what_the_server_speaks(live_tool, peserta):
    _page, _ctx, tus = peserta
    got = tus.browser.request("OPTIONS", tus.url())
    assert got.status_code == 204
    assert got.headers["Tus-Version"] == "1.0.0"
    assert set(got.headers["Tus-Extension"].split(",")) == {
        "creation",
        "termination",
        "expiration",
    }
    assert int(got.headers["Tus-Max-Size"]) == live_tool.app.config["MAX_CONTENT_LENGTH"]
    assert tus.browser.request("OPTIONS", tus.url("x" * 32)).status_code == 204


def test_create_head_patch_and_hand_off_once(live_tool, peserta, browser):
    page, ctx, tus = peserta
    app = live_tool.app
    data = big_pdf(1_800_000)  # the test task takes at most 2 MB
    made = tus.create(len(data), tugas_target(page.text), "Laporan Sesi 1.pdf")
    assert made.status_code == 201, made.text
    assert made.headers["Tus-Resumable"] == "1.0.0" and made.headers["Upload-Expires"]
    token = made.headers["Location"].rsplit("/", 1)[1]
    assert made.headers["Location"] == f"/c/{ctx}/uploads/{token}"
    (row,) = rows(app)
    assert (row.filename, row.length, row.offset, row.target) == (
        "Laporan Sesi 1.pdf",
        len(data),
        0,
        tugas_target(page.text),
    )
    assert row.expires_at - utcnow() > timedelta(hours=23)

    head = tus.head(token)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store"

    first = tus.patch(token, 0, data[:PIECE])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(PIECE)
    # the same piece again, or a piece from elsewhere: 409 with where it stands
    again = tus.patch(token, 0, data[:PIECE])
    assert again.status_code == 409 and again.headers["Upload-Offset"] == str(PIECE)
    assert f"continue from byte {PIECE}" in again.text
    # not a tus piece
    wrong = tus.patch(token, PIECE, data[PIECE:], **{"Content-Type": "text/plain"})
    assert wrong.status_code == 415 and "application/offset+octet-stream" in wrong.text
    assert tus.head(token).headers["Upload-Offset"] == str(PIECE)
    assert part(app, token).stat().st_size == PIECE
    # the rest, in two pieces: complete
    assert tus.patch(token, PIECE, data[PIECE : 2 * PIECE]).status_code == 204
    last = tus.patch(token, 2 * PIECE, data[2 * PIECE :])
    assert last.status_code == 204 and last.headers["Upload-Offset"] == str(len(data))
    (row,) = rows(app)
    assert row.complete and part(app, token).read_bytes() == data

    # the task's own form takes the finished upload instead of a file
    action = live_tool.url(upload_action(page.text))
    done = browser.post(action, data={"upload_id": token})
    assert done.status_code == 200 and done.url.endswith("done=uploaded"), done.text[:300]
    assert "Laporan Sesi 1.pdf" in done.text
    (stored,) = tugas_files(app)
    assert stored.original_name == "Laporan Sesi 1.pdf" and stored.mime == "application/pdf"
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert [e.name for e in stored_files(app)] == [stored.stored_name]
    got = browser.get(live_tool.url(f"/c/{ctx}/tugas/file/{stored.id}"))
    assert got.content == data
    # used once: the row and its bytes are gone, a second post stores nothing
    assert rows(app) == [] and not part(app, token).exists()
    twice = browser.post(action, data={"upload_id": token})
    assert twice.status_code == 410 and "no longer available" in html.unescape(twice.text)
    assert len(tugas_files(app)) == 1 and len(stored_files(app)) == 1
    assert tus.head(token).status_code == 404


def test_termination_removes_the_upload(live_tool, peserta):
    page, _ctx, tus = peserta
    token = tus.start(big_pdf(1_000_000), tugas_target(page.text))
    assert tus.patch(token, 0, big_pdf(1_000_000)[:PIECE]).status_code == 204
    gone = tus.browser.request("DELETE", tus.url(token), headers=tus.headers())
    assert gone.status_code == 204 and gone.headers["Tus-Resumable"] == "1.0.0"
    assert rows(live_tool.app) == [] and not part(live_tool.app, token).exists()
    assert tus.head(token).status_code == 404
    assert tus.patch(token, PIECE, b"x").status_code == 404


def test_too_large_is_refused_at_creation_and_while_appending(live_tool, peserta):
    page, _ctx, tus = peserta
    target = tugas_target(page.text)
    over = tus.create(2 * 1024 * 1024 + 1, target, "besar.pdf")
    assert over.status_code == 413
    assert "larger than 2 MB" in over.text and "besar.pdf" in over.text
    empty = tus.create(0, target, "kosong.pdf")
    assert empty.status_code == 400 and "empty" in empty.text
    assert rows(live_tool.app) == []
    # declared 1000 bytes, a piece of 1001: refused whole, nothing kept
    token = tus.start(big_pdf(1000), target)
    long = tus.patch(token, 0, big_pdf(1001))
    assert long.status_code == 413 and "runs past the end of the file (1000 bytes)" in long.text
    assert tus.head(token).headers["Upload-Offset"] == "0"
    assert part(live_tool.app, token).stat().st_size == 0
    # the same when the piece's length is not announced in advance (chunked body)
    chunked = tus.patch(token, 0, iter([big_pdf(600), big_pdf(600)]))
    assert chunked.status_code == 413
    assert tus.head(token).headers["Upload-Offset"] == "0"


def test_bad_requests_get_clear_refusals(live_tool, peserta):
    page, _ctx, tus = peserta
    target = tugas_target(page.text)
    no_version = tus.browser.request(
        "POST", tus.url(), headers={"X-CSRFToken": tus.csrf, "Upload-Length": "10"}
    )
    assert no_version.status_code == 412 and no_version.headers["Tus-Version"] == "1.0.0"
    no_length = tus.browser.request(
        "POST",
        tus.url(),
        headers=tus.headers(**{"Upload-Metadata": f"filename {b64('a.pdf')},target {b64(target)}"}),
    )
    assert no_length.status_code == 400 and "Upload-Length" in no_length.text
    for odd in ("²", "9" * 19, "-1", "1e3"):  # "²".isdigit() is true, int("²") fails
        metadata = f"filename {b64('a.pdf')},target {b64(target)}"
        headers = tus.headers(**{"Upload-Length": odd, "Upload-Metadata": metadata})
        bad_length = tus.browser.request("POST", tus.url(), headers=headers)
        assert bad_length.status_code == 400 and "Upload-Length" in bad_length.text, odd
    no_target = tus.browser.request(
        "POST",
        tus.url(),
        headers=tus.headers(**{"Upload-Length": "10", "Upload-Metadata": f"filename {b64('a')}"}),
    )
    assert no_target.status_code == 400 and "target" in no_target.text
    assert tus.create(10, "tugas:999999").status_code == 404  # no such activity here
    assert tus.create(10, target + ":extra").status_code == 403  # a task has no slots
    assert tus.create(10, target, "a\x07b.pdf").status_code == 400
    # CSRF: the page's token is needed for every change
    bare = {"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    assert tus.browser.request("POST", tus.url(), headers=bare).status_code == 400
    token = tus.start(big_pdf(10), target)
    forged = tus.browser.request(
        "PATCH",
        tus.url(token),
        data=b"x" * 10,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert forged.status_code == 400 and "reload the page" in forged.text
    assert tus.head(token).headers["Upload-Offset"] == "0"
    assert tus.browser.request("DELETE", tus.url(token), headers=bare).status_code == 400
    assert rows(live_tool.app) != []


def test_staff_cannot_upload_to_a_task(live_tool, lms):
    with make_browser() as b:
        page, ctx = launch(live_tool, lms, b, TUGAS, sub="pengampu1", roles=("Instructor",))
        staff_page = b.get(live_tool.url(f"/c/{ctx}/module/gp-pedagogik-a/kelas"))
        tus = Tus(live_tool, b, ctx, staff_page.text)  # a page with the staff's CSRF token
        aid = re.search(r"/c/\d+/tugas/(\d+)/grading", page.text).group(1)
        refused = tus.create(10, f"tugas:{aid}")
        assert refused.status_code == 403 and "does not take this upload" in refused.text


def test_someone_elses_upload_and_another_course_are_not_found(live_tool, lms, peserta):
    page, ctx, tus = peserta
    token = tus.start(big_pdf(1000), tugas_target(page.text))
    assert tus.patch(token, 0, big_pdf(1000)[:400]).status_code == 204
    with make_browser() as other:
        page2, ctx2 = launch(live_tool, lms, other, TUGAS, sub="guru2")
        assert ctx2 == ctx
        thief = Tus(live_tool, other, ctx, page2.text)
        assert thief.head(token).status_code == 404
        assert thief.patch(token, 400, big_pdf(1000)[400:]).status_code == 404
        gone = other.request("DELETE", thief.url(token), headers=thief.headers())
        assert gone.status_code == 404
        finished = other.post(live_tool.url(upload_action(page2.text)), data={"upload_id": token})
        assert finished.status_code == 410 and tugas_files(live_tool.app) == []
    # the same person launched into another course: that course's URL does not know it
    other_course = lms.launch(
        tus.browser,
        roles=["Learner"],
        user={"sub": "guru1", "name": "Guru1"},
        context={"id": "kelas-lain", "title": "Kelas lain"},
        target_link_uri=live_tool.url(TUGAS),
        locale="en-US",
    )
    assert other_course.ok, other_course.error
    ctx_b = int(re.search(r"/c/(\d+)/", other_course.final_response.text).group(1))
    assert ctx_b != ctx
    assert tus.head(token, ctx=ctx_b).status_code == 404
    assert tus.patch(token, 400, big_pdf(1000)[400:], ctx=ctx_b).status_code == 404
    assert tus.head(token).headers["Upload-Offset"] == "400"  # untouched


def test_a_cut_connection_keeps_what_arrived(live_tool, peserta):
    """A piece whose connection drops keeps the bytes that arrived; the client asks
    for the offset and sends only the rest."""
    page, ctx, tus = peserta
    app = live_tool.app
    data = big_pdf(1_000_000)
    token = tus.start(data, tugas_target(page.text), "potong.pdf")
    host, port = live_tool.base_url.removeprefix("http://").split(":")
    cookie = "; ".join(f"{c.name}={c.value}" for c in tus.browser.cookies)
    head = (
        f"PATCH /c/{ctx}/uploads/{token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Cookie: {cookie}\r\nTus-Resumable: 1.0.0\r\nX-CSRFToken: {tus.csrf}\r\n"
        "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(head + data[:400_000])
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while tus.head(token).headers["Upload-Offset"] != "400000":
        assert time.monotonic() < deadline, tus.head(token).headers
        time.sleep(0.05)
    rest = tus.patch(token, 400_000, data[400_000:])
    assert rest.status_code == 204 and rest.headers["Upload-Offset"] == str(len(data))
    done = tus.browser.post(live_tool.url(upload_action(page.text)), data={"upload_id": token})
    assert done.status_code == 200
    (stored,) = tugas_files(app)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


# -- hand-off through the plugins' checks -----------------------------------------------------


def test_a_disguised_executable_is_refused_and_nothing_stored(live_tool, peserta, browser):
    page, _ctx, tus = peserta
    app = live_tool.app
    token = tus.upload(EXE, tugas_target(page.text), "tugas akhir.pdf")
    refused = browser.post(live_tool.url(upload_action(page.text)), data={"upload_id": token})
    assert refused.status_code == 415
    assert "is not a file type this task accepts" in html.unescape(refused.text)
    assert tugas_files(app) == [] and stored_files(app) == []
    # refused, not used: the upload is still there (nothing was committed)
    assert [r.id for r in rows(app)] == [token] and part(app, token).exists()


def test_an_unfinished_upload_cannot_be_handed_over(live_tool, peserta, browser):
    page, _ctx, tus = peserta
    data = big_pdf(1_000_000)
    token = tus.start(data, tugas_target(page.text))
    assert tus.patch(token, 0, data[:PIECE]).status_code == 204
    early = browser.post(live_tool.url(upload_action(page.text)), data={"upload_id": token})
    assert early.status_code == 409 and "has not finished yet" in early.text
    assert tugas_files(live_tool.app) == []
    assert tus.head(token).headers["Upload-Offset"] == str(PIECE)


def test_a_task_file_is_replaced_by_a_resumable_upload(live_tool, peserta, browser):
    page, ctx, tus = peserta
    app = live_tool.app
    first = browser.post(
        live_tool.url(upload_action(page.text)), files=[("file", ("lama.png", PNG))]
    )
    assert first.status_code == 200
    (old,) = tugas_files(app)
    data = big_pdf(1_200_000)
    token = tus.upload(data, tugas_target(page.text), "baru.pdf")
    replaced = browser.post(
        live_tool.url(f"/c/{ctx}/tugas/file/{old.id}/replace"),
        data={"upload_id": token},
        files=[("file", ("", b""))],  # the emptied file input of the page's form
    )
    assert replaced.status_code == 200 and replaced.url.endswith("done=replaced")
    (new,) = tugas_files(app)
    assert new.original_name == "baru.pdf" and new.sha256 == hashlib.sha256(data).hexdigest()
    assert rows(app) == []


def test_a_report_takes_a_resumable_upload_for_its_own_slot(live_tool, lms, browser):
    from plugins.laporan.models import LaporanSubmission
    from plugins.laporan.tests.helpers import PAGE as LAPORAN_PAGE

    page, ctx = launch(live_tool, lms, browser, LAPORAN_PAGE)
    aid = int(re.search(r"/laporan/(\d+)/1/upload", page.text).group(1))
    assert f'data-target="laporan:{aid}:1"' in page.text and "upload.js" in page.text
    tus = Tus(live_tool, browser, ctx, page.text)
    data = big_pdf(900_000)  # the test report takes at most 1 MB
    assert tus.create(1024 * 1024 + 1, f"laporan:{aid}:1").status_code == 413
    assert tus.create(10, f"laporan:{aid}:99").status_code == 403  # no such report
    token = tus.upload(data, f"laporan:{aid}:1", "laporan-1.pdf")
    # posted to another report's form: not this upload's slot
    url = live_tool.url(f"/c/{ctx}/laporan/{aid}/{{key}}/upload")
    wrong = browser.post(
        url.format(key="2"), data={"upload_id": token}, files=[("file", ("", b""))]
    )
    assert wrong.status_code == 410
    done = browser.post(url.format(key="1"), data={"upload_id": token}, files=[("file", ("", b""))])
    assert done.status_code == 200 and "done=uploaded" in done.url, done.text[:300]
    with live_tool.app.app_context():
        (row,) = session().scalars(select(LaporanSubmission)).all()
        assert (row.report_key, row.original_name, row.sha256) == (
            "1",
            "laporan-1.pdf",
            hashlib.sha256(data).hexdigest(),
        )
    assert rows(live_tool.app) == []


def test_a_forum_post_takes_a_resumable_attachment(live_tool, lms, browser):
    from plugins.forum.models import ForumAttachment, ForumPost

    page, ctx = launch(live_tool, lms, browser, "/course/gp-pedagogik-a/sesi-1/forum")
    aid = int(re.search(r"/forum/(\d+)/threads", page.text).group(1))
    assert f'data-target="forum:{aid}"' in page.text
    tus = Tus(live_tool, browser, ctx, page.text)
    data = big_pdf(3_000_000)
    token = tus.upload(data, f"forum:{aid}", "bahan diskusi.pdf")
    key = re.search(r'name="submit_key" value="([0-9a-f]{32})"', page.text).group(1)
    posted = browser.post(
        live_tool.url(f"/c/{ctx}/forum/{aid}/threads"),
        data={"title": "Bahan", "body": "Lihat lampiran.", "submit_key": key, "upload_id": token},
    )
    assert posted.status_code == 200 and "bahan diskusi.pdf" in posted.text
    with live_tool.app.app_context():
        (att,) = session().scalars(select(ForumAttachment)).all()
        post = session().get(ForumPost, att.post_id)
        assert post is not None and att.sha256 == hashlib.sha256(data).hexdigest()
    assert rows(live_tool.app) == []


# -- expiry and housekeeping --------------------------------------------------------------


def test_expired_uploads_are_refused_and_cleaned_up(live_tool, peserta, browser):
    page, _ctx, tus = peserta
    app = live_tool.app
    data = big_pdf(1000)
    stale = tus.upload(data, tugas_target(page.text))
    fresh = tus.start(data, tugas_target(page.text))
    with app.app_context():
        db = session()
        db.get(UploadSession, stale).expires_at = utcnow() - timedelta(minutes=1)
        db.commit()
    expired = tus.head(stale)
    assert expired.status_code == 410
    assert tus.patch(stale, 1000, b"").status_code == 410
    late = browser.post(live_tool.url(upload_action(page.text)), data={"upload_id": stale})
    assert late.status_code == 410 and tugas_files(app) == []
    # files no row points to: an old one goes, a new one stays (a create in progress)
    folder = sessions.folder(app)
    old_stray, new_stray = folder / ("o" * 32 + ".part"), folder / ("n" * 32 + ".part")
    old_stray.write_bytes(b"x")
    new_stray.write_bytes(b"x")
    day_ago = time.time() - 25 * 3600
    os.utime(old_stray, (day_ago, day_ago))

    result = app.test_cli_runner().invoke(args=["cleanup"])
    assert result.exit_code == 0, result.output
    assert "uploads: expired uploads removed: 1" in result.output
    assert "uploads: stray upload files removed: 1" in result.output
    assert [r.id for r in rows(app)] == [fresh]
    assert not part(app, stale).exists() and part(app, fresh).exists()
    assert not old_stray.exists() and new_stray.exists()


def test_a_user_keeps_at_most_ten_unfinished_uploads(live_tool, peserta):
    page, _ctx, tus = peserta
    tokens = [tus.start(big_pdf(100), tugas_target(page.text)) for _ in range(11)]
    assert tus.head(tokens[0]).status_code == 404  # the oldest made room
    assert all(tus.head(t).status_code == 200 for t in tokens[1:])
    assert len(rows(live_tool.app)) == sessions.MAX_OPEN_PER_USER


def test_the_upload_folder_follows_the_setting(tmp_path):
    app = build_app(tmp_path, templates=[], UPLOAD_TMP_DIR=str(tmp_path / "shared"))
    try:
        assert sessions.folder(app) == tmp_path / "shared"
        assert sessions.data_path(app, "a" * 32) == tmp_path / "shared" / ("a" * 32 + ".part")
        with pytest.raises(ValueError):
            sessions.data_path(app, "../../etc/passwd")
    finally:
        get_db(app).engine.dispose()


def test_posted_files_and_finished_uploads_go_together(live_tool, peserta, browser):
    """A form with a small file posted as usual and a large one sent in pieces stores
    both, or (a name refused) neither, and the upload stays for another try."""
    page, _ctx, tus = peserta
    app = live_tool.app
    data = big_pdf(1_500_000)
    token = tus.upload(data, tugas_target(page.text), "besar.pdf")
    action = live_tool.url(upload_action(page.text))
    refused = browser.post(action, data={"upload_id": token}, files=[("file", ("a<b>.png", PNG))])
    assert refused.status_code == 400 and tugas_files(app) == []
    assert [r.id for r in rows(app)] == [token] and part(app, token).exists()
    both = browser.post(action, data={"upload_id": token}, files=[("file", ("foto.png", PNG))])
    assert both.status_code == 200 and both.url.endswith("done=uploaded")
    assert sorted(f.original_name for f in tugas_files(app)) == ["besar.pdf", "foto.png"]
    assert rows(app) == [] and not part(app, token).exists()
