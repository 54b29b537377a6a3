"""Report files and certificate batches made by the job queue (lti_tool/exports): the
whole flow (post, status page, job, ready, download equal to what the writers make)
with the inline, thread and RQ backends; a second click while one is queued or running
reuses it; a failing build retries, then shows the failure; refusals (nobody passes);
only the person who asked, in that course and role, sees a file; a lost job is noticed;
old files are cleaned up. Under `make test-pg` the same runs on PostgreSQL, Redis (the
RQ case) and S3."""

from __future__ import annotations

import io
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import timedelta

import openpyxl
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from lti_tool import jobs
from lti_tool.db import get_db, session, utcnow
from lti_tool.exports import builders, service
from lti_tool.models import Certificate, CourseInstance, ExportFile
from lti_tool.reports import writers
from lti_tool.reports.base import Filters, kinds
from tests import engines
from tests.conftest import build_app
from tests.exports_helpers import (
    download_link,
    export_id_of,
    run_jobs,
    state_of,
    wait_for_export,
)
from tests.redis_helpers import private_redis
from tests.test_rekap import MODULE, Klass


def _app(tmp_path, backend: str, **settings):
    """An app whose jobs run `backend`; for RQ, Redis from `make test-pg` or a private
    redis-server. Returns (app, the redis generator to close or None)."""
    server_gen = None
    if backend == "rq" and not engines.REDIS:
        server_gen = private_redis()
        server = next(server_gen)
        settings.update(
            REDIS_URL=server.url(5),
            REDIS_KEY_PREFIX=f"t-{uuid.uuid4().hex[:8]}:",
            JOBS_QUEUE=f"q-{uuid.uuid4().hex[:8]}",
        )
    return build_app(tmp_path, JOBS_BACKEND=backend, **settings), server_gen


def _klass(app) -> Klass:
    """Kelas A of tests/test_rekap.py, seeded and committed."""
    with app.app_context():
        db = session()
        k = Klass(db)
        db.commit()
    return k


@pytest.fixture(params=["inline", "thread", "rq"])
def world(request, tmp_path):
    """Kelas A of tests/test_rekap.py (Siti passes), with the jobs run by each backend."""
    app, server_gen = _app(tmp_path, request.param)
    k = _klass(app)
    yield app, k
    get_db(app).engine.dispose()
    if server_gen is not None:
        server_gen.close()


class Client:
    """A signed-in browser of the Flask test client, in one course and role."""

    def __init__(self, app, klass, sub: str, role: str, ctx=None) -> None:
        self.app = app
        self.ctx = (ctx or klass.ctx).id
        self.user_id = klass.u[sub].id
        self.client = app.test_client()
        raw = secrets.token_hex(20)
        with self.client.session_transaction() as s:
            s["uid"] = self.user_id
            s["name"] = sub
            s["courses"] = {str(self.ctx): [role, "Kelas"]}
            s["csrf_token"] = raw  # what Flask-WTF keeps; its forms carry it signed
        signer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        self.token = signer.dumps(raw)
        self.base = f"/c/{self.ctx}/module/{MODULE}"

    def post(self, path: str, data: dict | None = None):
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})})

    def text(self, path: str) -> str:
        return self.client.get(path).get_data(as_text=True)

    def ask(self, path: str) -> int:
        """Post a request for an export; the id of the export it leads to."""
        r = self.post(path)
        assert r.status_code == 303, (r.status_code, r.get_data(as_text=True)[:300])
        return export_id_of(r.headers["Location"])

    def status_url(self, export_id: int) -> str:
        return f"/c/{self.ctx}/ekspor/{export_id}"

    def finish(self, export_id: int) -> str:
        return wait_for_export(self.app, lambda: self.text(self.status_url(export_id)))

    def download(self, export_id: int):
        page = self.finish(export_id)
        assert state_of(page) == ("ready", ""), state_of(page)
        return self.client.get(download_link(page))


def expected_csv(app, klass, name: str, filters: Filters) -> bytes:
    with app.test_request_context():
        db = session()
        inst = db.get(CourseInstance, klass.inst.id)
        tables = kinds(app)[name].tables(db, inst, filters)
        return b"".join(writers.csv_chunks(tables, timezone=inst.timezone, indonesian=True))


def expected_xlsx(app, klass, name: str, filters: Filters) -> list:
    with app.test_request_context():
        db = session()
        inst = db.get(CourseInstance, klass.inst.id)
        out = io.BytesIO()
        writers.write_xlsx(
            kinds(app)[name].tables(db, inst, filters),
            out,
            timezone=inst.timezone,
            tmpdir=tempfile.gettempdir(),
        )
    return sheets(out.getvalue())


def sheets(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [(ws.title, list(ws.iter_rows(values_only=True))) for ws in book.worksheets]
    finally:
        book.close()


def rows_of(app) -> list[ExportFile]:
    with get_db(app).sessionmaker() as db:
        return list(db.scalars(select(ExportFile).order_by(ExportFile.id)))


# -- the flow ---------------------------------------------------------------------------


def test_recap_files_through_the_queue(world):
    app, k = world
    pengampu = Client(app, k, "pengampu", "pengampu")
    # the CSV: the status page, then the file, byte for byte what the writer makes
    export_id = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    r = pengampu.download(export_id)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Content-Disposition"].startswith("attachment; filename=rekap-grades-")
    assert "no-store" in r.headers["Cache-Control"]
    assert r.data == expected_csv(app, k, "grades", Filters())
    assert "Siti Rahayu" in r.data.decode("utf-8-sig")
    # the XLSX, with a filter: the same workbook as the writer's
    rombel = k.a.id
    export_id = pengampu.ask(pengampu.base + f"/rekap/logins.xlsx?rombel={rombel}")
    r = pengampu.download(export_id)
    assert r.status_code == 200 and r.headers["Content-Type"] == writers.XLSX_TYPE
    assert sheets(r.data) == expected_xlsx(app, k, "logins", Filters(rombel_id=rombel))
    # the recap pages list the user's recent files, with their links
    index = pengampu.text(pengampu.base + "/rekap")
    assert f"/ekspor/{export_id}/unduh" in index and f"/ekspor/{export_id}" in index
    (first, second) = rows_of(app)
    assert (first.status, first.format, first.report) == ("ready", "csv", "grades")
    assert (second.status, second.format, second.params["filters"]) == (
        "ready",
        "xlsx",
        {"rombel": str(rombel)},
    )
    assert first.size == len(expected_csv(app, k, "grades", Filters())) and first.attempts == 1
    assert first.active_key is None and first.finished_at is not None
    # a mentor's file holds their rombel only, as their page does
    mentor = Client(app, k, "mentor1", "mentor")
    r = mentor.download(mentor.ask(mentor.base + "/rekap/grades.csv"))
    assert r.data == expected_csv(app, k, "grades", Filters(only_mentor=k.u["mentor1"].id))
    text = r.data.decode("utf-8-sig")
    assert "Siti Rahayu" in text and "Dewi" not in text


def test_certificates_zip_and_issue_all_through_the_queue(world):
    app, k = world
    pengampu = Client(app, k, "pengampu", "pengampu")
    # issue to everyone who passes: a batch with no file, its count on the status page
    export_id = pengampu.ask(pengampu.base + "/sertifikat/kelas/terbitkan")
    page = pengampu.finish(export_id)
    assert state_of(page) == ("ready", "") and "/unduh" not in page
    (batch,) = rows_of(app)
    assert batch.result == {"issued": 1} and batch.storage_key is None
    with get_db(app).sessionmaker() as db:
        (cert,) = db.scalars(select(Certificate)).all()
        assert cert.user_id == k.u["siti"].id and cert.issued_by == k.u["pengampu"].id
    # the class ZIP: exactly the passing peserta's PDFs
    r = pengampu.download(pengampu.ask(pengampu.base + "/sertifikat/kelas.zip"))
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    assert r.headers["Content-Disposition"].startswith("attachment; filename=sttpp-gp-pedagogik")
    archive = zipfile.ZipFile(io.BytesIO(r.data))
    (name,) = archive.namelist()
    assert name.startswith("sttpp-siti-rahayu-") and archive.read(name).startswith(b"%PDF")
    assert slug_number(cert.number) in name
    # the certificate page lists both, newest first
    listing = pengampu.text(pengampu.base + "/sertifikat/kelas")
    assert listing.index(f'/ekspor/{batch.id + 1}"') < listing.index(f'/ekspor/{batch.id}"')


def slug_number(number: str) -> str:
    from lti_tool.services.gradebook_export import slug

    return slug(number)


# -- a second click ---------------------------------------------------------------------


def test_a_second_click_reuses_the_queued_export(tmp_path):
    """With RQ and no worker running, the first request stays queued: clicking again
    (or the other format's twin with the same filters) does not queue a second job."""
    app, server_gen = _app(tmp_path, "rq")
    try:
        with app.app_context():
            db = session()
            k = Klass(db)
            db.commit()
        pengampu = Client(app, k, "pengampu", "pengampu")
        first = pengampu.ask(pengampu.base + "/rekap/grades.csv")
        again = pengampu.ask(pengampu.base + "/rekap/grades.csv")
        assert again == first
        other = pengampu.ask(pengampu.base + "/rekap/grades.xlsx")  # not the same request
        assert other != first
        filtered = pengampu.ask(pengampu.base + f"/rekap/grades.csv?rombel={k.a.id}")
        assert filtered not in (first, other)
        with app.app_context():
            assert jobs._backend(None).queue().count == 3
        assert [r.status for r in rows_of(app)] == ["queued"] * 3
        page = pengampu.text(pengampu.status_url(first))
        assert state_of(page) == ("queued", "")
        assert pengampu.client.get(pengampu.status_url(first)).headers["Refresh"] == "1"
        # the download of an unfinished export is the status page
        r = pengampu.client.get(pengampu.status_url(first) + "/unduh")
        assert r.status_code == 302 and r.headers["Location"].endswith(f"/ekspor/{first}")
        run_jobs(app)
        assert [r.status for r in rows_of(app)] == ["ready"] * 3
        # once it is ready, a click makes a new file (the data may have changed)
        assert pengampu.ask(pengampu.base + "/rekap/grades.csv") not in (first, other, filtered)
    finally:
        get_db(app).engine.dispose()
        if server_gen is not None:
            server_gen.close()


def test_a_second_click_reuses_the_running_export(tmp_path, monkeypatch):
    """With the in-process thread, a build under way is found again by a second click."""
    app, _ = _app(tmp_path, "thread")
    k = _klass(app)
    release, started = threading.Event(), threading.Event()
    real = builders.BUILDERS[service.REKAP]

    def slow(*args):
        started.set()
        assert release.wait(30)
        return real.build(*args)

    monkeypatch.setitem(
        builders.BUILDERS, service.REKAP, builders.Builder(makes_file=True, build=slow)
    )
    pengampu = Client(app, k, "pengampu", "pengampu")
    first = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    assert started.wait(30)
    assert state_of(pengampu.text(pengampu.status_url(first))) == ("running", "")
    assert pengampu.ask(pengampu.base + "/rekap/grades.csv") == first
    assert len(rows_of(app)) == 1
    release.set()
    assert pengampu.download(first).data == expected_csv(app, k, "grades", Filters())
    get_db(app).engine.dispose()


# -- failures ---------------------------------------------------------------------------


def test_a_failing_build_is_retried_then_shown_as_failed(tmp_path, monkeypatch):
    app, _ = _app(tmp_path, "inline", EXPORT_RETRIES=2)
    k = _klass(app)
    calls = []

    def broken(*args):
        calls.append(1)
        raise RuntimeError("the disk is full")

    monkeypatch.setitem(
        builders.BUILDERS, service.REKAP, builders.Builder(makes_file=True, build=broken)
    )
    pengampu = Client(app, k, "pengampu", "pengampu")
    export_id = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    page = pengampu.finish(export_id)
    assert state_of(page) == ("failed", "") and 'role="alert"' in page
    assert "RuntimeError" in page and "the disk is full" not in page  # the type, not the text
    assert f'action="{pengampu.base}/rekap/grades.csv"' in page  # try again
    assert len(calls) == 3  # the first try and two retries
    (row,) = rows_of(app)
    assert (row.status, row.attempts, row.active_key) == ("failed", 3, None)
    assert "the disk is full" in row.error
    with app.app_context():  # the dead-letter list has it too
        (dead,) = jobs.failed_jobs()
        assert dead.id == row.job_id and "the disk is full" in dead.error
    # nothing stored; asking again starts a new export (the failed one is not reused)
    assert engines.stored_names(app, service.AREA) == []
    r = pengampu.client.get(pengampu.status_url(export_id) + "/unduh")
    assert r.status_code == 302
    monkeypatch.undo()
    again = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    assert again != export_id
    assert pengampu.download(again).data == expected_csv(app, k, "grades", Filters())
    get_db(app).engine.dispose()


def test_a_build_that_fails_once_succeeds_on_its_retry(tmp_path, monkeypatch):
    app, _ = _app(tmp_path, "inline", EXPORT_RETRIES=2)
    k = _klass(app)
    real = builders.BUILDERS[service.REKAP]
    calls = []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the database went away")
        return real.build(*args)

    monkeypatch.setitem(
        builders.BUILDERS, service.REKAP, builders.Builder(makes_file=True, build=flaky)
    )
    pengampu = Client(app, k, "pengampu", "pengampu")
    export_id = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    assert pengampu.download(export_id).data == expected_csv(app, k, "grades", Filters())
    (row,) = rows_of(app)
    assert (row.status, row.attempts, row.error) == ("ready", 2, None)


@pytest.mark.parametrize("backend", ["inline", "rq"])
def test_an_admin_retry_of_the_dead_letter_makes_the_file(tmp_path, monkeypatch, backend):
    """`lti-tool jobs retry` of a failed export runs it once more: ready, downloadable."""
    app, server_gen = _app(tmp_path, backend, EXPORT_RETRIES=1)
    try:
        k = _klass(app)
        monkeypatch.setattr(service, "RETRY_INTERVALS", (0,))
        real = builders.BUILDERS[service.REKAP]
        monkeypatch.setitem(
            builders.BUILDERS,
            service.REKAP,
            builders.Builder(makes_file=True, build=_raises(RuntimeError("disk full"))),
        )
        pengampu = Client(app, k, "pengampu", "pengampu")
        export_id = pengampu.ask(pengampu.base + "/rekap/grades.csv")
        run_jobs(app)
        assert state_of(pengampu.finish(export_id)) == ("failed", "")
        (row,) = rows_of(app)
        assert (row.status, row.attempts) == ("failed", 2)
        monkeypatch.setitem(builders.BUILDERS, service.REKAP, real)  # the disk is fixed
        with app.app_context():
            assert jobs.requeue_failed([row.job_id]) == [row.job_id]
        run_jobs(app)
        r = pengampu.download(export_id)
        assert r.data == expected_csv(app, k, "grades", Filters())
        (row,) = rows_of(app)
        assert (row.status, row.error, row.active_key) == ("ready", None, None)
    finally:
        get_db(app).engine.dispose()
        if server_gen is not None:
            server_gen.close()


def test_a_retry_after_try_again_leaves_the_new_export_alone(tmp_path, monkeypatch):
    """The pengampu asked again (a new export of the same request is queued) before an
    admin retried the old dead letter: the old job does nothing, the new one works."""
    app, _ = _app(tmp_path, "inline", EXPORT_RETRIES=0)
    k = _klass(app)
    broken = builders.Builder(makes_file=True, build=_raises(RuntimeError("disk full")))
    monkeypatch.setitem(builders.BUILDERS, service.REKAP, broken)
    pengampu = Client(app, k, "pengampu", "pengampu")
    first = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    assert state_of(pengampu.finish(first)) == ("failed", "")
    monkeypatch.undo()
    with get_db(app).sessionmaker() as db:  # the new request, still queued
        old = db.get(ExportFile, first)
        db.add(
            ExportFile(
                context_pk=old.context_pk,
                instance_id=old.instance_id,
                user_id=old.user_id,
                kind=old.kind,
                report=old.report,
                format=old.format,
                params=old.params,
                filename=old.filename,
                status="queued",
                attempts=0,
                progress=0,
                created_at=utcnow(),
                active_key=service._key(old),
            )
        )
        db.commit()
        job_id = old.job_id
    with app.app_context():
        assert jobs.requeue_failed([job_id]) == [job_id]
        assert jobs.job_status(job_id).result == {"export": first, "skipped": True}
    old_row, new_row = rows_of(app)
    assert (old_row.status, old_row.attempts) == ("failed", 1)
    assert (new_row.status, new_row.active_key) == ("queued", service._key(old_row))
    get_db(app).engine.dispose()


def _raises(exc: Exception):
    def build(*args):
        raise exc

    return build


def test_refusals_fail_at_once_with_their_reason(tmp_path):
    """Nobody passes in the chosen rombel: no ZIP, the reason shown, no retry."""
    app, _ = _app(tmp_path, "inline", EXPORT_RETRIES=2)
    k = _klass(app)
    pengampu = Client(app, k, "pengampu", "pengampu")
    export_id = pengampu.ask(pengampu.base + f"/sertifikat/kelas.zip?rombel={k.b.id}")
    page = pengampu.finish(export_id)
    assert state_of(page) == ("failed", "none_eligible")
    (row,) = rows_of(app)
    assert row.attempts == 1
    with app.app_context():
        assert jobs.failed_jobs() == []  # a refusal is not a dead letter
    # old links to the files are pages with the button (GET changes nothing)
    for path in ("/rekap/grades.csv", "/rekap/grades.xlsx", "/sertifikat/kelas.zip"):
        r = pengampu.client.get(pengampu.base + path)
        assert r.status_code == 200 and 'method="post"' in r.get_data(as_text=True)
    assert len(rows_of(app)) == 1
    # bad filters are refused at the request, as on the page
    assert pengampu.post(pengampu.base + "/rekap/grades.csv?from=kemarin").status_code == 400
    assert len(rows_of(app)) == 1


# -- who sees what ----------------------------------------------------------------------


def test_only_the_person_who_asked_sees_an_export(tmp_path):
    app, _ = _app(tmp_path, "inline")
    k = _klass(app)
    pengampu = Client(app, k, "pengampu", "pengampu")
    export_id = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    assert pengampu.download(export_id).status_code == 200
    status = pengampu.status_url(export_id)
    others = [
        Client(app, k, "mentor1", "mentor"),  # staff of the course, not the one who asked
        Client(app, k, "siti", "peserta"),
        Client(app, k, "zaki", "pengampu", ctx=k.other),  # another course
    ]
    for other in others:
        for path in (f"/c/{other.ctx}/ekspor/{export_id}", status, status + "/unduh"):
            r = other.client.get(path)
            # 404 in their own course; 401 in a course they never launched into
            assert r.status_code == (404 if f"/c/{other.ctx}/" in path else 401), path
    assert app.test_client().get(status).status_code == 401
    # the one who asked, no longer staff in that course: refused
    demoted = Client(app, k, "pengampu", "peserta")
    assert demoted.client.get(status).status_code == 403
    assert demoted.client.get(status + "/unduh").status_code == 403
    # a peserta cannot ask for files either, and a mentor not for certificates
    siti = Client(app, k, "siti", "peserta")
    for path in ("/rekap/grades.csv", "/sertifikat/kelas.zip", "/sertifikat/kelas/terbitkan"):
        assert siti.post(siti.base + path).status_code == 403
    mentor = Client(app, k, "mentor1", "mentor")
    for path in ("/sertifikat/kelas.zip", "/sertifikat/kelas/terbitkan"):
        assert mentor.post(mentor.base + path).status_code == 403
    assert len(rows_of(app)) == 1
    get_db(app).engine.dispose()


# -- lost jobs and old files ------------------------------------------------------------


def test_a_lost_export_is_failed_and_asked_again(tmp_path):
    """A build whose process died (no heartbeat for long) is not waited for forever:
    its page says so, and the same request starts a new one."""
    app, _ = _app(tmp_path, "inline")
    k = _klass(app)
    pengampu = Client(app, k, "pengampu", "pengampu")
    first = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    long_ago = utcnow() - service.STALE - timedelta(minutes=1)
    with get_db(app).sessionmaker() as db:
        row = db.get(ExportFile, first)
        row.status, row.active_key = "running", service._key(row)
        row.created_at = row.started_at = row.heartbeat_at = long_ago
        db.commit()
    second = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    assert second != first
    assert state_of(pengampu.text(pengampu.status_url(first))) == ("failed", "lost")
    assert state_of(pengampu.finish(second)) == ("ready", "")


def test_an_export_whose_process_is_gone_is_lost_at_once(tmp_path):
    """Without RQ the build runs in a thread of a web process: when that process is gone
    (a restart), its export is taken as lost at once, not after STALE minutes, and the
    same request starts a new one. One whose process runs is waited for."""
    app, _ = _app(tmp_path, "thread")
    k = _klass(app)
    pengampu = Client(app, k, "pengampu", "pengampu")
    first = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    pengampu.finish(first)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        ticks = jobs._start_ticks(child.pid)
        job_of_child = f"{uuid.uuid4().hex[:16]}@{child.pid}.{ticks}.{jobs._host_tag()}"
        just_now = utcnow()
        with get_db(app).sessionmaker() as db:
            row = db.get(ExportFile, first)
            row.status, row.active_key, row.job_id = "running", service._key(row), job_of_child
            row.started_at = row.heartbeat_at = just_now
            db.commit()
        assert pengampu.ask(pengampu.base + "/rekap/grades.csv") == first  # still running
    finally:
        child.kill()
        child.wait()
    second = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    assert second != first
    assert state_of(pengampu.text(pengampu.status_url(first))) == ("failed", "lost")
    assert state_of(pengampu.finish(second)) == ("ready", "")
    get_db(app).engine.dispose()


def test_old_exports_and_their_files_are_cleaned_up(tmp_path):
    app, _ = _app(tmp_path, "inline", EXPORT_KEEP_DAYS=7)
    k = _klass(app)
    pengampu = Client(app, k, "pengampu", "pengampu")
    old = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    kept = pengampu.ask(pengampu.base + "/rekap/grades.xlsx")
    assert len(engines.stored_names(app, service.AREA)) == 2
    with get_db(app).sessionmaker() as db:
        row = db.get(ExportFile, old)
        old_key = row.storage_key
        row.created_at = utcnow() - timedelta(days=8)
        db.commit()
    # the list shows only what is kept
    assert f"/ekspor/{old}" not in pengampu.text(pengampu.base + "/rekap")
    out = app.test_cli_runner().invoke(args=["cleanup"])
    assert out.exit_code == 0 and "exports: deleted: 1" in out.output
    assert [r.id for r in rows_of(app)] == [kept]
    names = engines.stored_names(app, service.AREA)
    assert old_key not in names and len(names) == 1
    # a new export also removes expired ones (a few at a time), in its job
    with get_db(app).sessionmaker() as db:
        db.get(ExportFile, kept).created_at = utcnow() - timedelta(days=8)
        db.commit()
    newest = pengampu.ask(pengampu.base + f"/rekap/grades.csv?rombel={k.a.id}")
    assert [r.id for r in rows_of(app)] == [newest]
    assert len(engines.stored_names(app, service.AREA)) == 1
    with get_db(app).sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(ExportFile)) == 1


def test_the_status_page_refreshes_less_often_as_time_goes_by():
    now = utcnow()
    row = ExportFile(created_at=now)
    assert service.refresh_seconds(row, now + timedelta(seconds=2)) == 1
    assert service.refresh_seconds(row, now + timedelta(seconds=30)) == 3
    assert service.refresh_seconds(row, now + timedelta(minutes=5)) == 10


def test_heartbeat_writes_progress_while_a_build_runs(tmp_path):
    app, _ = _app(tmp_path, "inline")
    k = _klass(app)
    pengampu = Client(app, k, "pengampu", "pengampu")
    export_id = pengampu.ask(pengampu.base + "/rekap/grades.csv")
    with get_db(app).sessionmaker() as db:
        row = db.get(ExportFile, export_id)
        row.status, row.heartbeat_at, row.progress = "running", None, 0
        db.commit()
    beat = service.Heartbeat(app, export_id, every=0)
    time.sleep(0.01)
    beat(5)
    with get_db(app).sessionmaker() as db:
        row = db.get(ExportFile, export_id)
        assert row.progress == 5 and row.heartbeat_at is not None
    assert '<span class="muted">5 ' in pengampu.text(pengampu.status_url(export_id))
