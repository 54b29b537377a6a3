"""The task rules without HTTP: names, feedback, scores, download names, settings, and
an upload read in chunks (never whole) and written atomically."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from lti_tool.db import utcnow
from lti_tool.models import Activity, Context
from lti_tool.services.instances import instance_for
from lti_tool.storage import CHUNK, LocalStorage
from plugins.tugas import service
from plugins.tugas.models import TugasFile
from plugins.tugas.settings import TugasSettings
from plugins.tugas.tests.helpers import PDF
from tests.conftest import add_member


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Laporan Sesi 1.pdf", "Laporan Sesi 1.pdf"),
        ("  laporan   akhir .pdf ", "laporan akhir .pdf"),
        ("Tugas_Sesi-1_Siti Ñúñez.docx", "Tugas_Sesi-1_Siti Ñúñez.docx"),
        ("a" * 300 + ".pdf", "a" * 146 + ".pdf"),
        ("e\u0301.txt", "\u00e9.txt"),  # NFC
    ],
)
def test_file_names_kept(raw, kept):
    assert service.clean_filename(raw) == kept


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "missing"),
        ("   ", "missing"),
        ("../x.pdf", "name"),
        ("/etc/passwd", "name"),
        ("a\\b.pdf", "name"),
        ("<b>x</b>.pdf", "name"),
        ("...", "name"),
        ("a\x00b.pdf", "name_control"),
        ("a\nb.pdf", "name_control"),
        ("a\u202eb.pdf", "name_control"),
        ("a\x7fb.pdf", "name_control"),
    ],
)
def test_file_names_refused(raw, code):
    with pytest.raises(service.TugasError) as caught:
        service.clean_filename(raw)
    assert caught.value.code == code


def test_download_names_carry_the_real_type():
    assert service.download_name("laporan.pdf", "application/pdf") == "laporan.pdf"
    assert service.download_name("foto.JPEG", "image/jpeg") == "foto.JPEG"
    assert service.download_name("laporan", "application/pdf") == "laporan.pdf"
    assert service.download_name("catatan.md", "text/plain") == "catatan.md.txt"


def test_feedback_is_plain_text():
    assert service.clean_feedback("  Bagus.\r\nLanjutkan\x07 \t ") == "Bagus.\nLanjutkan"
    assert service.clean_feedback("nilai < 70 atau > 90") == "nilai < 70 atau > 90"
    assert service.clean_feedback("") is None and service.clean_feedback(None) is None
    for bad in ("<script>alert(1)</script>", "lihat <a href='javascript:x'>ini</a>", "<!-- x -->"):
        with pytest.raises(service.TugasError) as caught:
            service.clean_feedback(bad)
        assert caught.value.code == "feedback_html"
    with pytest.raises(service.TugasError):
        service.clean_feedback("x" * (service.FEEDBACK_MAX + 1))


def test_scores():
    top = Decimal(100)
    assert service.parse_score("85,5", top) == Decimal("85.50")
    assert str(service.parse_score("100", top)) == "100.00"
    assert service.parse_score(" ", top) is None
    for bad in ("100.01", "-0.5", "1e3", "inf", "NaN", "abc", "85.555"):
        with pytest.raises(service.TugasError):
            service.parse_score(bad, top)


def test_settings():
    s = TugasSettings.model_validate({"types": ["pdf", "jpg"], "max_mb": 5})
    assert s.allowed() == {"application/pdf": "pdf", "image/jpeg": "jpg"}
    assert s.max_bytes == 5 * 1024 * 1024 and s.late == "accept"
    assert ".jpeg" in s.accept_attribute()
    for bad in (
        {"types": ["exe"]},
        {"types": []},
        {"types": ["pdf", "pdf"]},
        {"max_mb": 61},
        {"max_mb": 0},
        {"late": "maybe"},
        {"instructions_file": "../x.pdf"},
        {"unknown": 1},
    ):
        with pytest.raises(ValidationError):
            TugasSettings.model_validate(bad)


class Chunky(io.RawIOBase):
    """A stream that fails if anyone asks for all of it at once."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.reads = data, 0, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size is not None and 0 < size <= CHUNK, f"read({size}) of a whole upload"
        self.reads += 1
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        return chunk


@pytest.fixture
def course(db):
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="c1", title="A")
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    activity = db.scalars(select(Activity).where(Activity.type == "tugas")).first()
    siti = add_member(db, "https://lms", ctx.id, "siti")
    return db, ctx, inst, activity, siti


def test_an_upload_is_streamed_in_chunks(course, tmp_path: Path):
    db, ctx, inst, activity, siti = course
    store = LocalStorage(tmp_path / "store")
    data = PDF + b"0" * (1024 * 1024)
    stream = Chunky(data)
    change = service.upload(
        db,
        store,
        context_pk=ctx.id,
        inst=inst,
        activity=activity,
        user_id=siti.id,
        incoming=[service.Incoming("besar.pdf", stream)],
        now=utcnow(),
    )
    db.commit()
    assert stream.reads > 1
    (row,) = change.files
    assert store.path(row.stored_name).read_bytes() == data
    assert [p.name for p in (tmp_path / "store").iterdir()] == [row.stored_name]


def test_a_crash_while_copying_leaves_no_file(course, tmp_path: Path):
    db, ctx, inst, activity, siti = course
    store = LocalStorage(tmp_path / "store")

    class Broken(Chunky):
        def read(self, size=-1):
            if self.reads == 3:
                raise OSError("connection lost")
            return super().read(size)

    with pytest.raises(OSError):
        service.upload(
            db,
            store,
            context_pk=ctx.id,
            inst=inst,
            activity=activity,
            user_id=siti.id,
            incoming=[
                service.Incoming("a.pdf", io.BytesIO(PDF)),
                service.Incoming("b.pdf", Broken(PDF + b"0" * 300_000)),
            ],
            now=utcnow(),
        )
    db.rollback()
    assert list((tmp_path / "store").iterdir()) == []
    assert db.scalars(select(TugasFile)).all() == []


def test_due_dates_follow_the_class_and_personal_overrides(course):
    from lti_tool.models import DueOverride

    db, _ctx, inst, activity, siti = course
    assert service.deadline(db, inst, activity, siti.id) is None  # no start date yet
    inst.start_date = date(2026, 7, 13)  # sesi 1 is week 2: due Sunday 26 July, WIB
    db.flush()
    due = service.deadline(db, inst, activity, siti.id)
    assert due.isoformat() == "2026-07-26T16:59:59"
    db.add(
        DueOverride(
            instance_id=inst.id,
            activity_id=activity.id,
            user_id=siti.id,
            due_date=date(2026, 7, 26) + timedelta(days=3),
        )
    )
    db.flush()
    assert service.deadline(db, inst, activity, siti.id).isoformat() == "2026-07-29T16:59:59"


def test_housekeeping_removes_only_old_files_without_a_row(course, tmp_path: Path):
    import os
    import time

    db, ctx, inst, activity, siti = course
    store = LocalStorage(tmp_path / "store")
    change = service.upload(
        db,
        store,
        context_pk=ctx.id,
        inst=inst,
        activity=activity,
        user_id=siti.id,
        incoming=[service.Incoming("a.pdf", io.BytesIO(PDF))],
        now=utcnow(),
    )
    db.commit()
    root = tmp_path / "store"
    kept = root / change.files[0].stored_name
    stray, half, fresh = root / "0123abcd.pdf", root / ".upload-x1", root / "fedc.pdf"
    for p in (stray, half, fresh):
        p.write_bytes(b"x")
    old = time.time() - 3 * 86400
    for p in (kept, stray, half):
        os.utime(p, (old, old))
    assert service.sweep(db, root, utcnow()) == 2
    assert sorted(p.name for p in root.iterdir()) == sorted([kept.name, fresh.name])
