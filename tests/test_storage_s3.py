"""Uploads in S3-compatible object storage, against a real S3 API server (moto's server
mode on 127.0.0.1): saving, reading and deleting; refused and too-large files leave no
object; the store going away mid-upload leaves no object and no row, and says so; a
task (tugas) through the live app with STORAGE_URL=s3://..., downloads as attachments.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lti_tool.db import session, utcnow
from lti_tool.storage import MATERIAL_TYPES, StorageError, storage_for
from lti_tool.storage_s3 import PART, S3Storage, client
from plugins.tugas.models import TugasFile
from plugins.tugas.tests.helpers import EXE, PDF, TXT, file_ids, open_tugas, upload
from tests.conftest import build_app, served

PDF_TYPES = {"application/pdf": "pdf"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto's S3 server on a free port of 127.0.0.1, with throwaway credentials."""
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    saved["AWS_DEFAULT_REGION"] = os.environ.get("AWS_DEFAULT_REGION")
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def bucket(endpoint: str) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def objects(endpoint: str, bucket: str) -> list[str]:
    listed = client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", ()))


def unfinished(endpoint: str, bucket: str) -> list[str]:
    listed = client(endpoint).list_multipart_uploads(Bucket=bucket)
    return sorted(u["Key"] for u in listed.get("Uploads", ()))


class Chunky:
    """A request body read in pieces; `at(n, f)` calls f once n bytes have been read."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.reads = data, 0, 0
        self.hooks: list[tuple[int, object]] = []

    def at(self, n: int, f) -> Chunky:
        self.hooks.append((n, f))
        return self

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        for n, f in list(self.hooks):
            if self.pos >= n:
                self.hooks.remove((n, f))
                f()
        end = len(self.data) if size < 0 else self.pos + size
        out, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return out


class Outage:
    """A TCP relay in front of the object store that can be cut: open connections are
    closed and new ones refused, as when the store goes away mid-request."""

    def __init__(self, endpoint: str) -> None:
        self.target = ("127.0.0.1", int(endpoint.rsplit(":", 1)[1]))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets: list[socket.socket] = []
        self.cut_off = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [conn, upstream]
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.cut_off = True
        # shutdown first: closing alone does not end an accept() blocked in a thread
        for s in (self.listener, *self.sockets):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


# -- the storage on its own ----------------------------------------------------------------


def test_save_read_and_delete(endpoint, bucket):
    store = S3Storage(bucket, "lti/materi/", endpoint_url=endpoint)
    stored = store.save(io.BytesIO(PDF), max_bytes=10_000, allowed=MATERIAL_TYPES)
    assert stored.mime == "application/pdf" and stored.size == len(PDF)
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest() and stored.name.endswith(".pdf")
    assert objects(endpoint, bucket) == [f"lti/materi/{stored.name}"]
    head = client(endpoint).head_object(Bucket=bucket, Key=f"lti/materi/{stored.name}")
    assert head["ContentType"] == "application/pdf"
    assert store.exists(stored.name)
    with store.open(stored.name) as f:
        assert f.read() == PDF
    assert [e.name for e in store.entries()] == [stored.name]
    store.delete(stored.name)
    store.delete(stored.name)  # already gone: not an error
    assert not store.exists(stored.name) and objects(endpoint, bucket) == []
    with pytest.raises(FileNotFoundError):
        store.open(stored.name)
    with pytest.raises(StorageError):
        store.exists("../escape.pdf")


def test_a_large_file_goes_up_in_parts_without_being_held_whole(endpoint, bucket):
    store = S3Storage(bucket, "t/", endpoint_url=endpoint)
    data = PDF + os.urandom(2 * PART + 12345)
    stream = Chunky(data)
    stored = store.save(stream, max_bytes=len(data), allowed=PDF_TYPES)
    assert stream.reads > 100  # read in 64 KiB chunks
    key = f"t/{stored.name}"
    etag = client(endpoint).head_object(Bucket=bucket, Key=key)["ETag"]
    assert etag.strip('"').endswith("-3")  # three parts of a multipart upload
    with store.open(stored.name) as f:
        assert hashlib.sha256(f.read()).hexdigest() == stored.sha256
    assert unfinished(endpoint, bucket) == []


@pytest.mark.parametrize(
    ("content", "limit", "code"),
    [
        (EXE, 10_000, "type"),
        (b"", 10_000, "empty"),
        (PDF + b"0" * 5000, 4096, "too_large"),
        (EXE + b"\x00" * (PART + 100), 3 * PART, "type"),  # refused once the type is known
        (PDF + b"0" * (2 * PART), PART + 1000, "too_large"),  # a multipart upload, aborted
        (EXE + b"\x00" * (2 * PART), PART + 1000, "too_large"),  # size first, as locally
    ],
)
def test_refused_files_leave_no_object(endpoint, bucket, content, limit, code):
    store = S3Storage(bucket, "t/", endpoint_url=endpoint)
    with pytest.raises(StorageError) as refused:
        store.save(Chunky(content), max_bytes=limit, allowed=PDF_TYPES)
    assert refused.value.code == code
    assert objects(endpoint, bucket) == [] and unfinished(endpoint, bucket) == []


def test_the_store_gone_mid_upload_leaves_nothing_and_says_so(endpoint, bucket):
    outage = Outage(endpoint)
    store = S3Storage(bucket, "t/", endpoint_url=outage.endpoint)
    data = PDF + os.urandom(3 * PART)
    stream = Chunky(data).at(PART + 2 * 65536, outage.cut)  # after the first part went up
    with pytest.raises(StorageError) as failed:
        store.save(stream, max_bytes=len(data), allowed=PDF_TYPES)
    assert failed.value.code == "storage_unavailable" and outage.cut_off
    # no object; the upload that could not be aborted is invisible, and swept later
    assert objects(endpoint, bucket) == []
    behind = S3Storage(bucket, "t/", endpoint_url=endpoint)
    assert [e.temporary for e in behind.entries()] == [True]
    assert behind.sweep(set(), utcnow() + timedelta(minutes=1)) == 1
    assert unfinished(endpoint, bucket) == []
    # a small file (one PUT) and every other call fail just as clearly
    for call in (
        lambda: store.save(io.BytesIO(PDF), max_bytes=10_000, allowed=PDF_TYPES),
        lambda: store.open("a.pdf"),
        lambda: store.exists("a.pdf"),
        lambda: list(store.entries()),
    ):
        with pytest.raises(StorageError) as failed:
            call()
        assert failed.value.code == "storage_unavailable"
    store.delete("a.pdf")  # best effort: logged, not raised


def test_sweep_removes_old_objects_no_row_points_to(endpoint, bucket):
    store = S3Storage(bucket, "t/", endpoint_url=endpoint)
    kept = store.save(io.BytesIO(PDF), max_bytes=10_000, allowed=PDF_TYPES)
    stray = store.save(io.BytesIO(PDF), max_bytes=10_000, allowed=PDF_TYPES)
    assert store.sweep({kept.name, stray.name}, utcnow() + timedelta(minutes=1)) == 0
    assert store.sweep({kept.name}, utcnow() - timedelta(minutes=1)) == 0  # too new
    assert store.sweep({kept.name}, utcnow() + timedelta(minutes=1)) == 1
    assert [e.name for e in store.entries()] == [kept.name]


def test_storage_url_picks_the_backend(tmp_path: Path, endpoint, bucket):
    from lti_tool import create_app

    def app_with(url):
        settings = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"), "STORAGE_URL": url}
        return create_app({**settings, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})

    app = app_with(f"s3://{bucket}/lti")
    s3 = storage_for("tugas", app)
    assert isinstance(s3, S3Storage) and (s3.bucket, s3.prefix) == (bucket, "lti/tugas/")
    assert storage_for("tugas", app_with(f"s3://{bucket}")).prefix == "tugas/"
    assert storage_for("tugas", app_with(f"file://{tmp_path}/f")).root == tmp_path / "f" / "tugas"
    app = app_with(None)
    assert storage_for("forum", app).root == Path(app.instance_path) / "uploads" / "forum"
    for bad in ("ftp://x/y", "s3:///nobucket", "file://host/x", "file:relative"):
        with pytest.raises(ValueError, match="STORAGE_URL"):
            app_with(bad)  # refused at start-up, naming the variable


# -- through the live app ------------------------------------------------------------------


@pytest.fixture
def s3_tool(tmp_path: Path, endpoint: str, bucket: str):
    """The tool with STORAGE_URL=s3://<bucket>/lti, its store behind a relay that a test
    may cut."""
    outage = Outage(endpoint)
    app = build_app(tmp_path, STORAGE_URL=f"s3://{bucket}/lti", S3_ENDPOINT_URL=outage.endpoint)
    with served(app) as tool:
        yield tool, outage


@pytest.fixture
def s3_lms(s3_tool):
    from lti_tool.services.platforms import add_platform
    from tests.conftest import CLIENT_ID, DEPLOYMENT_ID
    from tests.peer import TestPlatform

    tool, _ = s3_tool
    with TestPlatform() as platform:
        platform.register_tool(tool.base_url, client_id=CLIENT_ID, deployment_ids=[DEPLOYMENT_ID])
        with tool.app.app_context():
            add_platform(
                session(),
                name="Peer LMS",
                issuer=platform.issuer,
                client_id=CLIENT_ID,
                auth_login_url=platform.auth_url,
                auth_token_url=platform.token_url,
                key_set_url=platform.jwks_url,
                deployment_ids=[DEPLOYMENT_ID],
            )
        yield platform


def _rows(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(TugasFile))


def test_a_task_upload_flow_on_object_storage(s3_tool, s3_lms, endpoint, bucket, browser):
    tool, outage = s3_tool
    app = tool.app
    page, ctx = open_tugas(tool, s3_lms, browser)
    done = upload(tool, browser, page.text, ("Laporan Sesi 1.pdf", PDF))
    assert done.status_code == 200 and done.url.endswith("done=uploaded")
    (fid,) = file_ids(done.text)
    with app.app_context():
        row = session().scalars(select(TugasFile)).one()
    assert objects(endpoint, bucket) == [f"lti/tugas/{row.stored_name}"]

    got = browser.get(tool.url(f"/c/{ctx}/tugas/file/{fid}"))
    assert got.status_code == 200 and got.content == PDF
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "Laporan Sesi 1.pdf" in disposition
    assert got.headers["Content-Length"] == str(len(PDF))
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Cache-Control"] == "private, no-cache"

    # replaced: the old object is gone, the new one is there
    replaced = browser.post(
        tool.url(f"/c/{ctx}/tugas/file/{fid}/replace"), files=[("file", ("catatan.txt", TXT))]
    )
    assert replaced.url.endswith("done=replaced")
    with app.app_context():
        row = session().scalars(select(TugasFile)).one()
    assert objects(endpoint, bucket) == [f"lti/tugas/{row.stored_name}"]
    # a refused file stores nothing
    refused = upload(tool, browser, replaced.text, ("program.pdf", EXE))
    assert refused.status_code == 415
    assert _rows(app) == 1 and len(objects(endpoint, bucket)) == 1

    # the store goes away: a clear message (503), no row, no object
    outage.cut()
    failed = upload(tool, browser, replaced.text, ("kedua.pdf", PDF))
    assert failed.status_code == 503
    assert _rows(app) == 1 and len(objects(endpoint, bucket)) == 1
    (kept,) = file_ids(replaced.text)
    gone = browser.get(tool.url(f"/c/{ctx}/tugas/file/{kept}"))
    assert gone.status_code == 503


def test_the_store_gone_is_said_in_english_for_an_english_launch(s3_tool, s3_lms, browser):
    tool, outage = s3_tool
    result = s3_lms.launch(
        browser,
        roles=["Learner"],
        user={"sub": "ann", "name": "Ann"},
        target_link_uri=tool.url("/course/gp-pedagogik-a/sesi-1/tugas"),
        locale="en-US",
    )
    assert result.ok, result.error
    page = result.final_response
    outage.cut()
    failed = upload(tool, browser, page.text, ("Report.pdf", PDF))
    assert failed.status_code == 503
    assert "The file store cannot be reached right now" in failed.text
    assert "“Report.pdf” was not uploaded" in failed.text
    assert _rows(tool.app) == 0
