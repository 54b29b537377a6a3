"""What each kind of export builds, inside its job: with the report writers and the
certificate service, as the download views did, but into a temporary file.

A builder gets the session, the export row, its module instance, the file to write
(None for a batch with no file) and the heartbeat to call per row or certificate; it
returns a small JSON result (counts) or raises ExportRefusedError for what cannot be made.
Certificates are issued and committed in chunks: a retry after a failure continues
where it stopped (issuing skips whoever has a certificate already).
"""

from __future__ import annotations

import dataclasses
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy.orm import Session

from lti_tool.exports.service import (
    CERT_ISSUE,
    CERT_ZIP,
    REKAP,
    ExportRefusedError,
    Heartbeat,
)
from lti_tool.models import CourseInstance, ExportFile

#: Peserta issued to (and committed) at a time.
CHUNK = 500


@dataclass(frozen=True)
class Builder:
    makes_file: bool
    build: Callable[
        [Session, ExportFile, CourseInstance, BinaryIO | None, Heartbeat], dict[str, Any]
    ]


def _counted(table: Any, beat: Heartbeat) -> Any:
    """The table, its rows counted by the heartbeat as the writer reads them."""
    rows = table.rows

    def counting(offset: int, limit: int | None) -> Iterator[tuple]:
        for row in rows(offset, limit):
            beat()
            yield row

    return dataclasses.replace(table, rows=counting)


def build_rekap(
    db: Session, row: ExportFile, inst: CourseInstance, out: BinaryIO | None, beat: Heartbeat
) -> dict[str, Any]:
    """A class report as CSV or XLSX: every table, every row, filters checked again
    (a rombel may have been removed since the request)."""
    from lti_tool.reports import writers
    from lti_tool.reports.base import FilterError, kinds, parse_filters

    assert out is not None
    kind = kinds(current_app).get(row.report or "")
    if kind is None or not kind.applies(db, inst):
        raise ExportRefusedError("no_report")
    params = row.params
    try:
        filters = parse_filters(
            db, inst, params.get("filters") or {}, only_mentor=params.get("only_mentor")
        )
    except FilterError as exc:
        raise ExportRefusedError("filters", " ".join(str(m) for m in exc.messages)) from None
    tables = [_counted(t, beat) for t in kind.tables(db, inst, filters)]
    if row.format == "csv":
        for piece in writers.csv_chunks(
            tables, timezone=inst.timezone, indonesian=bool(params.get("indonesian"))
        ):
            out.write(piece)
    elif row.format == "xlsx":
        writers.write_xlsx(tables, out, timezone=inst.timezone, tmpdir=tempfile.gettempdir())
    else:
        raise ExportRefusedError("format", row.format)
    return {"rows": beat.count}


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _issue(
    db: Session, inst: CourseInstance, ids: list[int], by: int, beat: Heartbeat, *, count: bool
) -> int:
    """Issue to every peserta among `ids` who passes and has none; returns how many
    (`count`: the peserta looked at are the progress shown)."""
    from lti_tool.certificates import service
    from lti_tool.web.certificates import template

    made = 0
    tmpl = template()
    for chunk in _chunks(ids):
        try:
            made += len(service.issue_all(db, inst, chunk, template=tmpl, by=by))
        except service.CertificateError as exc:
            raise ExportRefusedError(exc.code) from None
        db.commit()
        beat(len(chunk) if count else 0)
    return made


def build_issue(
    db: Session, row: ExportFile, inst: CourseInstance, out: BinaryIO | None, beat: Heartbeat
) -> dict[str, Any]:
    """Issue certificates to every peserta of the class who passes (no file)."""
    from lti_tool.services import roster

    ids = [p.id for p in roster.peserta(db, inst)]
    return {"issued": _issue(db, inst, ids, row.user_id, beat, count=True)}


def build_zip(
    db: Session, row: ExportFile, inst: CourseInstance, out: BinaryIO | None, beat: Heartbeat
) -> dict[str, Any]:
    """Every passing peserta's certificate (issued now where missing; one rombel if
    asked), one PDF at a time into an uncompressed ZIP."""
    from lti_tool.certificates import service
    from lti_tool.services import roster
    from lti_tool.web.certificates import pdf_name, render_pdf

    assert out is not None
    people = roster.peserta(db, inst)
    rombel = row.params.get("rombel")
    if rombel is not None:
        assigned = roster.assignments(db, inst)
        people = [p for p in people if assigned.get(p.id) == rombel]
    ids = [p.id for p in people]
    issued = _issue(db, inst, ids, row.user_id, beat, count=False)
    files = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for chunk in _chunks(ids):
            standings = service.standings(db, inst, chunk)
            history = service.certificates(db, inst, chunk)
            for uid in chunk:
                if not standings[uid].eligible:
                    continue
                for cert in history.get(uid, []):
                    if cert.active:
                        archive.writestr(pdf_name(cert), render_pdf(cert))
                        files += 1
                        beat()
    if not files:
        raise ExportRefusedError("none_eligible")
    return {"files": files, "issued": issued}


BUILDERS: dict[str, Builder] = {
    REKAP: Builder(makes_file=True, build=build_rekap),
    CERT_ZIP: Builder(makes_file=True, build=build_zip),
    CERT_ISSUE: Builder(makes_file=False, build=build_issue),
}
