"""Files on posts: the upload rules of the tool (streamed, sniffed, generated names,
served as downloads), the forum's limit and types, and every refusal storing nothing
while keeping what was typed (and a file already accepted)."""

from __future__ import annotations

import html
import io
import re

import pytest

from plugins.forum.models import ForumAttachment, ForumPost, ForumThread
from plugins.forum.tests.helpers import Person, rows, thread_links
from tests.engines import stored_names

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def _stored(live_tool) -> list[str]:
    """What the forum's storage holds (a folder or a bucket), temporary copies included."""
    return stored_names(live_tool.app, "forum")


def test_a_file_is_sniffed_stored_under_a_generated_name_and_downloaded(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    r = siti.new_thread(
        "Lembar kerja",
        "Terlampir",
        files={"file": ("lembar kerja.pdf", io.BytesIO(PDF), "application/octet-stream")},
    )
    assert r.status_code == 200 and "lembar kerja.pdf" in r.text
    (row,) = rows(app, ForumAttachment)
    assert row.mime == "application/pdf" and row.size == len(PDF) and row.post_id is not None
    assert row.stored_name.endswith(".pdf") and "lembar" not in row.stored_name
    assert _stored(live_tool) == [row.stored_name]

    budi = Person(live_tool, lms, "budi")
    view = budi.get(thread_links(budi.page.text)[0]).text
    href = html.unescape(re.search(r'href="(/c/\d+/forum/\d+/file/\d+)"', view).group(1))
    got = budi.get(href)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Type"] == "application/pdf"

    # a PNG named .pdf is a PNG: stored and served as one
    page = budi.get(thread_links(budi.open().text)[0])
    budi.reply(page, "Foto", files={"file": ("foto.pdf", io.BytesIO(PNG))})
    png = rows(app, ForumAttachment)[-1]
    assert png.mime == "image/png" and png.stored_name.endswith(".png")
    got = siti.get(f"/c/{siti.ctx}/forum/{rows(app, ForumThread)[0].activity_id}/file/{png.id}")
    assert got.headers["Content-Type"] == "image/png"
    assert "filename=foto.pdf.png" in got.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [
        ("besar.pdf", PDF + b"x" * (1024 * 1024), 413, "Berkas terlalu besar: batasnya 1 MB"),
        (
            "program.pdf",
            EXE,
            400,
            "Jenis berkas ini tidak diterima di sini. Yang diizinkan: PDF, PNG, TXT.",
        ),
        ("kosong.pdf", b"", 400, "Berkas kosong."),
        ("../../etc/passwd.pdf", PDF, 400, "Nama berkas tidak boleh memuat folder"),
        ("C:\\Users\\guru\\tugas.pdf", PDF, 400, "Nama berkas tidak boleh memuat folder"),
        ("tugas\u202egpj.pdf", PDF, 400, "Nama berkas tidak boleh memuat folder"),
        ("..", PDF, 400, "Nama berkas tidak boleh memuat folder"),
    ],
    ids=["too-large", "wrong-type", "empty", "path", "windows-path", "bidi-override", "dotdot"],
)
def test_refused_files_store_nothing_and_keep_the_text(
    live_tool, lms, name, content, status, message
):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    r = siti.new_thread(
        "Judul saya", "Teks yang saya tulis lama", files={"file": (name, io.BytesIO(content))}
    )
    assert r.status_code == status
    assert message in r.text
    assert 'value="Judul saya"' in r.text and "Teks yang saya tulis lama</textarea>" in r.text
    assert rows(app, ForumThread) == [] and rows(app, ForumAttachment) == []
    assert _stored(live_tool) == []


def test_control_characters_in_a_file_name_are_refused(live_tool, lms):
    """Browsers escape them; a crafted request (RFC 2231 name) can still send them."""
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    token = re.search(r'name="csrf_token" value="([^"]+)"', siti.page.text).group(1)
    key = siti.key(siti.page.text)
    boundary = "forumtestboundary"
    parts = []
    for field, value in (("csrf_token", token), ("submit_key", key), ("title", "T"), ("body", "B")):
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{value}\r\n'
        )
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        "filename*=UTF-8''tugas%0A%07.pdf\r\nContent-Type: application/pdf\r\n\r\n"
    )
    body = "".join(parts).encode() + head.encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    r = siti.browser.post(
        siti.url(siti.action(siti.page.text, "threads")),
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 400 and "Nama berkas tidak boleh memuat" in r.text
    assert rows(app, ForumAttachment) == [] and _stored(live_tool) == []


def test_a_file_accepted_with_a_refused_form_is_kept_for_its_resend(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    r = siti.new_thread("", "", files={"file": ("bukti.pdf", io.BytesIO(PDF))})
    assert (
        r.status_code == 400 and "bukti.pdf" in r.text and "tersimpan, akan dilampirkan" in r.text
    )
    (pending,) = rows(app, ForumAttachment)
    assert pending.post_id is None
    assert rows(app, ForumThread) == []
    # only its uploader may fetch it meanwhile
    aid = pending.activity_id
    url = f"/c/{siti.ctx}/forum/{aid}/file/{pending.id}"
    budi = Person(live_tool, lms, "budi")
    assert budi.get(url).status_code == 404
    assert siti.get(url).status_code == 200
    # budi cannot take it into his own post
    page = budi.page
    budi.new_thread("Curi", "isi", page=page, pending=str(pending.id))
    assert rows(app, ForumAttachment, ForumAttachment.id == pending.id)[0].post_id is None
    # the resent form (with the kept file's id) attaches it
    ids = re.findall(r'name="pending" value="(\d+)"', r.text)
    done = siti.post(
        siti.action(r.text, "threads"),
        data={
            "title": "Bukti",
            "body": "Ini buktinya",
            "submit_key": siti.key(r.text),
            "pending": ids,
        },
    )
    assert done.status_code == 200 and "bukti.pdf" in done.text
    (post,) = rows(app, ForumPost, ForumPost.source == "Ini buktinya")
    assert rows(app, ForumAttachment, ForumAttachment.id == pending.id)[0].post_id == post.id


def test_files_follow_the_post_they_belong_to(live_tool, lms):
    """Hidden post: its files for staff only; removed post: for nobody."""
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    siti.new_thread("Satu", "isi", files={"file": ("a.pdf", io.BytesIO(PDF))})
    (f,) = rows(app, ForumAttachment)
    (post,) = rows(app, ForumPost)
    aid = f.activity_id
    url = f"/c/{siti.ctx}/forum/{aid}/file/{f.id}"
    pengampu = Person(live_tool, lms, "bu-ani", "pengampu")
    budi = Person(live_tool, lms, "budi")
    assert budi.get(url).status_code == 200
    pengampu.post(f"/c/{siti.ctx}/forum/{aid}/p/{post.id}/hide", data={"reason": ""})
    assert budi.get(url).status_code == 404
    assert pengampu.get(url).status_code == 200
    pengampu.post(f"/c/{siti.ctx}/forum/{aid}/p/{post.id}/unhide")
    siti.post(f"/c/{siti.ctx}/forum/{aid}/p/{post.id}/delete")
    for who in (budi, pengampu, siti):
        assert who.get(url).status_code == 404
    # ids of other courses' or activities' files, or unknown ids: 404
    assert budi.get(f"/c/{siti.ctx}/forum/{aid}/file/999").status_code == 404
    assert budi.get(f"/c/{siti.ctx}/forum/{aid + 1}/file/{f.id}").status_code == 404


def test_a_forum_without_files_refuses_one(live_tool, lms):
    app = live_tool.app
    pengampu = Person(live_tool, lms, "bu-ani", "pengampu", "/course/forum-uji/sesi-1/tanya")
    assert 'type="file"' not in pengampu.page.text
    r = pengampu.new_thread("Tanya", "Pertanyaan", files={"file": ("a.pdf", io.BytesIO(PDF))})
    assert r.status_code == 400 and "Forum ini tidak menerima berkas" in r.text
    assert "Pertanyaan</textarea>" in r.text
    assert rows(app, ForumAttachment) == [] and rows(app, ForumThread) == []


def test_a_request_over_the_tools_limit_states_the_forums_limit(live_tool, lms):
    live_tool.app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    siti = Person(live_tool, lms, "siti")
    r = siti.new_thread(
        "x", "y", files={"file": ("big.pdf", io.BytesIO(PDF + b"0" * 3 * 1024 * 1024))}
    )
    assert r.status_code == 413 and "batasnya 1 MB per berkas" in r.text
    assert rows(live_tool.app, ForumThread) == [] and _stored(live_tool) == []
