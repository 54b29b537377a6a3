"""A task through real LTI launches: a peserta uploads, sees, replaces and deletes
files; staff see the submissions of the peserta they may see and grade them; the
score and feedback reach grading/ and the LMS outbox."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.db import session
from lti_tool.models import ActivityCompletion, GradeOutbox
from plugins.tugas.models import TugasFile
from plugins.tugas.tests.helpers import (
    PDF,
    PNG,
    TXT,
    file_ids,
    open_tugas,
    page_url,
    stored_files,
    upload,
)


def _one(app, model):
    with app.app_context():
        rows = list(session().scalars(select(model)))
        for r in rows:
            session().expunge(r)
        return rows


def test_peserta_uploads_sees_replaces_and_deletes(live_tool, lms, browser):
    app = live_tool.app
    page, ctx = open_tugas(live_tool, lms, browser)
    assert "Belum dikumpulkan" in page.text  # the status, in Bahasa Indonesia
    done = upload(live_tool, browser, page.text, ("Laporan Sesi 1.pdf", PDF))
    assert done.status_code == 200 and done.url.endswith("done=uploaded")
    assert "Laporan Sesi 1.pdf" in done.text
    (fid,) = file_ids(done.text)
    (row,) = _one(app, TugasFile)
    assert row.original_name == "Laporan Sesi 1.pdf" and row.mime == "application/pdf"
    assert row.stored_name != row.original_name and row.stored_name.endswith(".pdf")
    assert [p.name for p in stored_files(app)] == [row.stored_name]
    # complete (submitted), and the LMS is told it waits for a grader
    (comp,) = _one(app, ActivityCompletion)
    assert comp.state == "submitted" and comp.completed_at is not None
    (out,) = _one(app, GradeOutbox)
    assert (out.activity_progress, out.grading_progress, out.score_given) == (
        "Submitted",
        "PendingManual",
        None,
    )

    got = browser.get(live_tool.url(f"/c/{ctx}/tugas/file/{fid}"))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "Laporan" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"

    # a second file, then the first replaced by an image
    two = upload(live_tool, browser, done.text, ("catatan.txt", TXT))
    assert two.status_code == 200 and len(file_ids(two.text)) == 2
    replaced = browser.post(
        live_tool.url(f"/c/{ctx}/tugas/file/{fid}/replace"),
        files=[("file", ("foto kelas.png", PNG))],
    )
    assert replaced.status_code == 200 and replaced.url.endswith("done=replaced")
    names = sorted(f.original_name for f in _one(app, TugasFile))
    assert names == ["catatan.txt", "foto kelas.png"]
    assert len(stored_files(app)) == 2  # the replaced file is gone from storage
    assert fid not in file_ids(replaced.text)
    assert browser.get(live_tool.url(f"/c/{ctx}/tugas/file/{fid}")).status_code == 404

    # delete both: nothing left, nothing submitted
    for f in file_ids(replaced.text):
        gone = browser.post(live_tool.url(f"/c/{ctx}/tugas/file/{f}/delete"))
        assert gone.status_code == 200 and gone.url.endswith("done=deleted")
    assert _one(app, TugasFile) == [] and stored_files(app) == []
    final = browser.get(live_tool.url(page_url(ctx)))
    assert file_ids(final.text) == []
    # only one "waiting for a grader" message was sent
    assert len(_one(app, GradeOutbox)) == 1
