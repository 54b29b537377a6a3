"""A pengampu adds files to learning material: checked by content, stored atomically
under generated names, downloaded as attachments; refused files leave nothing behind."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.storage import MATERIAL_TYPES, LocalStorage, StorageError, sniff
from plugins.materi.models import MateriUpload
from tests.conftest import launch_as, make_browser, open_a_form
from tests.engines import stored_names

TARGET = "/course/gp-pedagogik-a/pendahuluan/kebijakan"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def _open(live_tool, lms, browser, roles, sub):
    return launch_as(live_tool, lms, browser, roles, sub, TARGET)


def _stored(live_tool) -> list[str]:
    """What the material storage holds (a folder or a bucket), temporary copies included."""
    return stored_names(live_tool.app, "materi")


def _rows(live_tool):
    with get_db(live_tool.app).sessionmaker() as db:
        return list(db.scalars(select(MateriUpload)))


def test_upload_download_and_remove(live_tool, lms):
    pengampu, siti = make_browser(), make_browser()
    page = _open(live_tool, lms, pengampu, ["Instructor"], "pengampu-1")
    action = live_tool.url(re.search(r'action="(/c/\d+/materi/\d+/upload)"', page.text).group(1))
    r = pengampu.post(
        action,
        data={"title": "Modul PKB"},
        files={"file": ("modul pkb.pdf", io.BytesIO(PDF), "application/octet-stream")},
    )
    assert "Berkas telah ditambahkan." in r.text
    (row,) = _rows(live_tool)
    assert row.mime == "application/pdf" and row.size == len(PDF)
    assert row.stored_name.endswith(".pdf") and "pkb" not in row.stored_name  # generated
    assert _stored(live_tool) == [row.stored_name]

    view = _open(live_tool, lms, siti, ["Learner"], "siti").text
    assert "Modul PKB" in view and '/upload"' not in view  # peserta see it, cannot upload
    href = re.search(r'href="(/c/\d+/materi/\d+/upload/\d+)"', view).group(1)
    download = siti.get(live_tool.url(href))
    assert download.content == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    open_a_form(siti, live_tool, href.split("/materi/")[0])
    assert (
        siti.post(
            action, data={"title": "x"}, files={"file": ("a.pdf", io.BytesIO(PDF))}
        ).status_code
        == 403
    )
    assert make_browser().get(live_tool.url(href)).status_code == 401

    remove = live_tool.url(href + "/delete")
    assert siti.post(remove).status_code == 403
    r = pengampu.post(remove)
    assert r.status_code == 200
    assert _rows(live_tool) == [] and _stored(live_tool) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "modul.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64,
            "Jenis berkas ini tidak diterima",
        ),
        ("kosong.pdf", b"", "Berkas kosong."),
        ("besar.pdf", PDF + b"x" * 5000, "Berkas terlalu besar."),
    ],
)
def test_refused_files_leave_nothing(live_tool, lms, name, content, message):
    live_tool.app.config["MATERI_MAX_UPLOAD"] = 4096
    pengampu = make_browser()
    page = _open(live_tool, lms, pengampu, ["Instructor"], "pengampu-1")
    action = live_tool.url(re.search(r'action="(/c/\d+/materi/\d+/upload)"', page.text).group(1))
    r = pengampu.post(action, data={"title": "Modul"}, files={"file": (name, io.BytesIO(content))})
    assert message in r.text
    assert _rows(live_tool) == [] and _stored(live_tool) == []


def test_missing_title_is_refused(live_tool, lms):
    pengampu = make_browser()
    page = _open(live_tool, lms, pengampu, ["Instructor"], "pengampu-1")
    action = live_tool.url(re.search(r'action="(/c/\d+/materi/\d+/upload)"', page.text).group(1))
    r = pengampu.post(action, data={"title": " "}, files={"file": ("a.pdf", io.BytesIO(PDF))})
    assert "Pilih berkas dan beri judul." in r.text and _rows(live_tool) == []


def test_storage_streams_in_chunks_and_sniffs_content(tmp_path):
    storage = LocalStorage(tmp_path / "s")

    class Chunks(io.RawIOBase):
        """A stream that hands out at most 1000 bytes per read, like a socket."""

        def __init__(self, data: bytes) -> None:
            self.data, self.pos, self.reads = data, 0, 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            self.reads += 1
            chunk = self.data[self.pos : self.pos + min(n if n > 0 else 1000, 1000)]
            self.pos += len(chunk)
            return chunk

    stream = Chunks(PDF * 100)
    stored = storage.save(stream, max_bytes=10**6, allowed=MATERIAL_TYPES)
    assert stream.reads > 5 and stored.size == len(PDF) * 100
    assert (tmp_path / "s" / stored.name).read_bytes() == PDF * 100
    text = storage.save(
        io.BytesIO("Lembar kerja ✓\n".encode()), max_bytes=100, allowed=MATERIAL_TYPES
    )
    assert text.mime == "text/plain"
    with pytest.raises(StorageError) as err:
        storage.save(io.BytesIO(b"\xff\xfe\x00\x01binary"), max_bytes=100, allowed=MATERIAL_TYPES)
    assert err.value.code == "type"
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted([stored.name, text.name])
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20) == "image/png"
    with pytest.raises(StorageError):
        storage.path("../../etc/passwd")
