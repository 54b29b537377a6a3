"""Every refused upload is answered clearly and stores nothing: oversized files (413
with the limit), wrong types (by content), names with path parts or control
characters, empty files, too many files, uploads after the deadline; feedback with
HTML; another user's file id in a URL reveals nothing."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from lti_tool.db import session
from lti_tool.models import ActivityCompletion, GradeOutbox
from plugins.tugas.models import TugasFile
from plugins.tugas.tests.helpers import (
    EXE,
    PDF,
    PNG,
    TXT,
    file_ids,
    open_tugas,
    page_url,
    set_settings,
    set_start,
    stored_files,
    upload,
)
from tests.conftest import make_browser

MB = 1024 * 1024


def _count(app, model) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(model))


def _nothing_stored(app) -> None:
    assert _count(app, TugasFile) == 0
    assert stored_files(app) == []  # not even a temporary file
    assert _count(app, ActivityCompletion) == 0
    assert _count(app, GradeOutbox) == 0


def _text(response) -> str:
    return html.unescape(response.text)


def test_an_oversized_file_is_refused_with_the_limit(live_tool, lms, browser):
    app = live_tool.app
    page, _ctx = open_tugas(live_tool, lms, browser)
    big = PDF + b"0" * (2 * MB)  # the task accepts at most 2 MB
    refused = upload(live_tool, browser, page.text, ("besar.pdf", big))
    assert refused.status_code == 413
    assert "2 MB" in _text(refused) and "besar.pdf" in _text(refused)
    _nothing_stored(app)
    # exactly at the limit is accepted
    ok = upload(live_tool, browser, page.text, ("pas.pdf", PDF + b"0" * (2 * MB - len(PDF))))
    assert ok.status_code == 200 and len(file_ids(ok.text)) == 1


def test_a_request_over_the_tool_limit_states_the_task_limit(live_tool, lms, browser):
    app = live_tool.app
    page, _ctx = open_tugas(live_tool, lms, browser)
    app.config["MAX_CONTENT_LENGTH"] = 3 * MB  # stands in for the tool's 64 MiB
    refused = upload(live_tool, browser, page.text, ("video.pdf", PDF + b"0" * (4 * MB)))
    assert refused.status_code == 413
    assert "2 MB" in _text(refused)
    _nothing_stored(app)


@pytest.mark.parametrize(
    ("name", "data", "status", "says"),
    [
        ("program.pdf", EXE, 415, "program.pdf"),  # a Windows program named as PDF
        ("program.exe", EXE, 415, "program.exe"),
        ("halaman.html", b"<!DOCTYPE html><script>alert(1)</script>", 415, "halaman.html"),
        ("gambar.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 415, ""),
        ("foto.pdf", PNG, 415, "PNG"),  # the name says PDF, the content is PNG
        ("kosong.pdf", b"", 400, "kosong.pdf"),
        ("../../etc/laporan.pdf", PDF, 400, "laporan.pdf"),
        # a backslash arrives only escaped (a bare one is dropped by the form parser)
        ("bab\\\\1.pdf", PDF, 400, "1.pdf"),
        ("lapor\x07an.pdf", PDF, 400, "lapor"),
        ("laporan\u202efdp.exe", PDF, 400, "laporan"),
        ("<img src=x onerror=alert(1)>.pdf", PDF, 400, "<img"),
        ("..", PDF, 400, ""),
    ],
    ids=[
        "exe-as-pdf",
        "exe",
        "html",
        "svg",
        "png-named-pdf",
        "empty",
        "path",
        "backslash",
        "control",
        "bidi",
        "markup",
        "dots",
    ],
)
def test_refused_files_store_nothing(live_tool, lms, browser, name, data, status, says):
    app = live_tool.app
    page, _ctx = open_tugas(live_tool, lms, browser)
    refused = upload(live_tool, browser, page.text, (name, data))
    assert refused.status_code == status, refused.text[:400]
    assert 'role="alert"' in refused.text
    assert says in _text(refused)
    assert "<img src=x" not in refused.text  # a name is repeated escaped, never as markup
    _nothing_stored(app)


def test_several_files_are_accepted_or_refused_together(live_tool, lms, browser):
    app = live_tool.app
    page, _ctx = open_tugas(live_tool, lms, browser)
    refused = upload(live_tool, browser, page.text, ("a.pdf", PDF), ("b.txt", TXT), ("c.exe", EXE))
    assert refused.status_code == 415 and "c.exe" in _text(refused)
    _nothing_stored(app)
    ok = upload(live_tool, browser, page.text, ("a.pdf", PDF), ("b.txt", TXT), ("c.png", PNG))
    assert ok.status_code == 200 and len(file_ids(ok.text)) == 3
    # the task allows three files: a fourth is refused, a replacement is not
    more = upload(live_tool, browser, page.text, ("d.pdf", PDF))
    assert more.status_code == 409 and "3" in _text(more)
    assert _count(app, TugasFile) == 3 and len(stored_files(app)) == 3


def test_no_file_chosen(live_tool, lms, browser):
    page, _ctx = open_tugas(live_tool, lms, browser)
    refused = upload(live_tool, browser, page.text, ("", b""))
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    _nothing_stored(live_tool.app)


def test_after_the_due_date_a_refusing_task_changes_nothing(live_tool, lms, browser):
    app = live_tool.app
    page, ctx = open_tugas(live_tool, lms, browser)
    ok = upload(live_tool, browser, page.text, ("laporan.pdf", PDF))
    (fid,) = file_ids(ok.text)
    set_settings(app, late="refuse")
    set_start(app, ctx, days_ago=30)  # sesi 1 was due 17 days ago
    page = browser.get(live_tool.url(page_url(ctx)))
    assert "upload_action" not in page.text and "/upload" not in page.text  # no form
    for response in (
        upload(live_tool, browser, ok.text, ("baru.pdf", PDF)),
        browser.post(
            live_tool.url(f"/c/{ctx}/tugas/file/{fid}/replace"),
            files=[("file", ("baru.pdf", PDF))],
        ),
        browser.post(live_tool.url(f"/c/{ctx}/tugas/file/{fid}/delete")),
    ):
        assert response.status_code == 409
        assert 'role="alert"' in response.text
    assert _count(app, TugasFile) == 1 and len(stored_files(app)) == 1


def test_after_the_due_date_an_accepting_task_marks_files_late(live_tool, lms, browser):
    app = live_tool.app
    page, ctx = open_tugas(live_tool, lms, browser)
    set_start(app, ctx, days_ago=30)
    page = browser.get(live_tool.url(page_url(ctx)))
    ok = upload(live_tool, browser, page.text, ("laporan.pdf", PDF))
    assert ok.status_code == 200
    from plugins.tugas.submissions import files_of, submitted_at

    with app.app_context():
        db = session()
        row = db.scalars(select(TugasFile)).one()
        from plugins.tugas.models import TugasSubmission

        sub = db.get(TugasSubmission, row.submission_id)
        (f,) = files_of(db, ctx, sub.activity_id, sub.user_id)
        assert f.late and f.filename == "laporan.pdf" and f.size == len(PDF)
        assert submitted_at(db, ctx, sub.activity_id, sub.user_id) == sub.updated_at
    # moving the due date for everyone makes it on time again
    set_start(app, ctx, days_ago=0)
    with app.app_context():
        (f,) = files_of(session(), ctx, sub.activity_id, sub.user_id)
        assert not f.late


def test_another_users_file_reveals_nothing(live_tool, lms, browser):
    app = live_tool.app
    page, ctx = open_tugas(live_tool, lms, browser, sub="guru-a")
    ok = upload(live_tool, browser, page.text, ("rahasia-a.pdf", PDF))
    (fid,) = file_ids(ok.text)
    with make_browser() as other:
        page_b, ctx_b = open_tugas(live_tool, lms, other, sub="guru-b")
        assert ctx_b == ctx
        assert "rahasia-a.pdf" not in page_b.text
        answers = [
            other.get(live_tool.url(f"/c/{ctx}/tugas/file/{fid}")),
            other.post(live_tool.url(f"/c/{ctx}/tugas/file/{fid}/delete")),
            other.post(
                live_tool.url(f"/c/{ctx}/tugas/file/{fid}/replace"),
                files=[("file", ("x.pdf", PDF))],
            ),
            other.get(live_tool.url(f"/c/{ctx}/tugas/file/{fid + 1000}")),  # no such file
        ]
        for r in answers:
            assert r.status_code == 404
            assert "rahasia" not in r.text and "guru-a" not in r.text.lower()
        # the same answer for a file that exists and one that does not
        assert answers[0].text == answers[3].text
        # a peserta cannot open the grading pages
        activity_id = int(page_b.text.split("/tugas/")[1].split("/")[0])
        assert other.get(live_tool.url(f"/c/{ctx}/tugas/{activity_id}/grading")).status_code == 403
    assert _count(app, TugasFile) == 1 and len(stored_files(app)) == 1
    # a file of one course asked for through another course's URL
    assert browser.get(live_tool.url(f"/c/{ctx + 1}/tugas/file/{fid}")).status_code == 401
