"""Every bad input a user can send is answered clearly, stores nothing, and reveals
nothing of anyone else: oversized, empty, wrongly typed or badly named files,
another peserta's file id, HTML/JS in comments, malformed scores."""

from __future__ import annotations

import re

import pytest

from plugins.laporan.tests.helpers import (
    close,
    make_class,
    pdf,
    review,
    set_deadlines,
    stored_files,
    submissions,
    upload,
)

EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"PE\x00\x00" * 64
)


@pytest.fixture
def klass(live_tool, lms):
    k = make_class(live_tool, lms)
    set_deadlines(live_tool, k, "mentor1", "A", {"1": ("2099-01-31", "")})
    yield k
    close(k)


def _nothing_stored(app):
    assert submissions(app) == [] and stored_files(app) == []


def test_an_oversized_file_is_refused_with_413_and_the_limit(live_tool, klass):
    big = pdf(1024 * 1024 + 10)  # the test module allows 1 MB
    r = upload(live_tool, klass, "guru1", "1", big, name="besar.pdf")
    assert r.status_code == 413
    assert "1 MB" in r.text and "besar.pdf" in r.text and "Tidak ada yang diunggah" in r.text
    _nothing_stored(live_tool.app)


def test_a_request_over_the_tools_whole_limit_states_the_reports_limit(live_tool, klass):
    live_tool.app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    try:
        r = upload(live_tool, klass, "guru1", "1", pdf(3 * 1024 * 1024), name="besar.pdf")
    finally:
        live_tool.app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    assert r.status_code == 413
    assert "paling besar 1 MB" in r.text
    _nothing_stored(live_tool.app)


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("virus.pdf", EXE, 415, "dikenali dari isinya"),  # an .exe renamed .pdf
        ("program.exe", EXE, 415, "bukan jenis berkas"),
        ("catatan.txt", b"teks biasa\n", 415, "bukan jenis berkas"),
        ("laporan.docx", pdf(), 415, "isinya PDF"),  # content and name disagree
        ("kosong.pdf", b"", 400, "kosong (0 bita)"),
        ("../../etc/passwd.pdf", pdf(), 400, "bagian folder"),
        # quoted as a browser sends it: a backslash reaches the tool
        ("C:\\\\Users\\\\guru\\\\laporan.pdf", pdf(), 400, "bagian folder"),
        ("C:lap.pdf", pdf(), 400, "bagian folder"),
        ("<script>alert(1)</script>.pdf", pdf(), 400, "bagian folder"),
        ("lap\x07oran.pdf", pdf(), 400, "karakter kontrol"),
        ("lap\u202efdp.exe", pdf(), 400, "karakter kontrol"),
        ("...", pdf(), 400, "hanya berupa titik"),
        ("a" * 200 + ".pdf", pdf(), 400, "lebih dari 150 karakter"),
    ],
    ids=[
        "exe-renamed-pdf",
        "exe",
        "txt",
        "pdf-named-docx",
        "empty",
        "posix-path",
        "windows-path",
        "drive",
        "html-name",
        "control-char",
        "bidi-override",
        "only-dots",
        "too-long",
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    live_tool, klass, name, content, status, words
):
    r = upload(live_tool, klass, "guru1", "1", content, name=name)
    assert r.status_code == status, r.text[-2000:]
    assert words in r.text
    assert "<script>alert(1)" not in r.text
    assert 'role="alert"' in r.text and 'id="r-1"' in r.text  # inside the report's card
    _nothing_stored(live_tool.app)


def test_a_missing_file_field_or_unknown_report_is_refused(live_tool, klass):
    b = klass.browsers["guru1"]
    klass.page(live_tool, "guru1")
    r = b.post(klass.url(live_tool, "/1/upload"), data={"x": "1"})
    assert r.status_code == 400 and "Pilih berkas" in r.text
    klass.page(live_tool, "guru1")
    r = b.post(klass.url(live_tool, "/9/upload"), files={"file": ("a.pdf", pdf())})
    assert r.status_code == 404
    _nothing_stored(live_tool.app)


def test_another_peserta_file_is_not_found(live_tool, klass):
    app = live_tool.app
    assert upload(live_tool, klass, "guru1", "1", pdf(), name="rahasia.pdf").status_code == 200
    (row,) = submissions(app)
    own = klass.browsers["guru1"].get(klass.url(live_tool, f"/file/{row.id}"))
    assert own.status_code == 200 and own.content == pdf()
    assert own.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "rahasia.pdf" in own.headers["Content-Disposition"]
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    for who in ("guru2", "guru3", "mentor2"):
        other = klass.browsers[who].get(klass.url(live_tool, f"/file/{row.id}"))
        assert other.status_code == 404 and "rahasia" not in other.text
    assert klass.browsers["guru1"].get(klass.url(live_tool, "/file/99999")).status_code == 404
    # another activity's id in the URL: not this plugin's, not found
    assert (
        klass.browsers["guru1"]
        .get(live_tool.url(f"/c/{klass.ctx}/laporan/1/file/{row.id}"))
        .status_code
        == 404
    )
    # a peserta cannot post reviews or deadlines
    klass.page(live_tool, "guru2")
    assert (
        klass.browsers["guru2"]
        .post(klass.url(live_tool, f"/peserta/{klass.users['guru1']}/1"), data={"score": "100"})
        .status_code
        == 403
    )
    assert set_deadlines(live_tool, klass, "guru2", "A", {}).status_code == 403
    assert submissions(app)[0].score is None


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        'Bagus <a href="javascript:alert(1)">lihat</a>',
        "&#60;script&#62;alert(1)",
        "<svg/onload=alert(1)>",
    ],
    ids=["script", "img-onerror", "javascript-link", "entities", "svg"],
)
def test_html_in_a_comment_is_refused_and_the_typed_text_kept(live_tool, klass, payload):
    app = live_tool.app
    upload(live_tool, klass, "guru1", "1", pdf())
    r = review(live_tool, klass, "mentor1", "guru1", "1", "80", payload)
    assert r.status_code == 400 and "teks biasa" in r.text
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    assert "<svg/onload" not in r.text
    textarea = re.search(r'name="comment"[^>]*>(.*?)</textarea>', r.text, re.S).group(1)
    assert textarea.strip() != ""  # what was typed is shown again (escaped)
    assert 'value="80"' in r.text
    (row,) = submissions(app)
    assert row.score is None and row.comment is None


def test_plain_text_comments_are_escaped_where_shown(live_tool, klass):
    upload(live_tool, klass, "guru1", "1", pdf())
    text = 'Nilai < 70 & "revisi" bab 2\nBaris kedua'
    assert review(live_tool, klass, "mentor1", "guru1", "1", "65", text).status_code == 200
    page = klass.page(live_tool, "guru1")
    assert "Nilai &lt; 70 &amp; &#34;revisi&#34; bab 2\nBaris kedua" in page.text
    (row,) = submissions(live_tool.app)
    assert row.comment == text


@pytest.mark.parametrize("score", ["101", "-1", "abc", "85,555", "1e2", "\uff18\uff10"])
def test_malformed_scores_are_refused(live_tool, klass, score):
    upload(live_tool, klass, "guru1", "1", pdf())
    r = review(live_tool, klass, "mentor1", "guru1", "1", score, "komentar tetap")
    assert r.status_code == 400 and "Masukkan nilai 0 sampai 100" in r.text
    assert "komentar tetap" in r.text
    assert submissions(live_tool.app)[0].score is None


def test_a_given_score_cannot_be_removed(live_tool, klass):
    upload(live_tool, klass, "guru1", "1", pdf())
    assert review(live_tool, klass, "mentor1", "guru1", "1", "70").status_code == 200
    r = review(live_tool, klass, "mentor1", "guru1", "1", "", "tanpa nilai")
    assert r.status_code == 400 and "tidak dapat dihapus" in r.text
    assert submissions(live_tool.app)[0].score == "70"
