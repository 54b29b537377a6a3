"""The gradebook export: a class's scores as CSV (Indonesian `;` and decimal comma, or
English `,` and point) and XLSX (numeric cells), pending scores as empty cells, the
notes (formula, pass mark, predikat bands, rounding); downloads through real launches
with the scores page's access rules."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from grading.report import report_score
from lti_tool.db import get_db
from lti_tool.models import Context, CourseInstance, User
from lti_tool.services import gradebook_export as ge
from lti_tool.services import roster, scores
from lti_tool.services.instances import instance_for
from tests.conftest import add_member, launch_as, make_browser
from tests.peer.constants import CLAIM_LIS

NOW = datetime(2026, 7, 13, 17, 30, tzinfo=UTC)  # 14 July, 00:30 in Jakarta
SITI_NOMOR = "16220415610025"
DEWI_NOMOR = "16220415610026"
HEADER_ID = [
    "No",
    "Nama",
    "Surel",
    "Nomor peserta",
    "Rombel",
    "PD",
    "TS",
    "TA",
    "NA",
    "Lulus",
    "Predikat",
    "UKG awal",
]


def _report(db, ctx, acts, user, ref, points, top="100"):
    report_score(
        db,
        context_pk=ctx.id,
        activity=acts[ref],
        user_id=user.id,
        score=Decimal(points),
        max_score=Decimal(top),
        source="test",
    )


@pytest.fixture
def book(db):
    """Three peserta: Siti complete (and in a rombel, with an initial UKG score), Budi
    without TA (pending), Dewi with an imported TA and scores that need rounding."""
    ctx = Context(
        issuer="https://lms", deployment_id="d", context_id="c1", title="Kelas Pedagogik A — Bali"
    )
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    siti = add_member(db, "https://lms", ctx.id, "siti", name="Siti Rahayu")
    budi = add_member(db, "https://lms", ctx.id, "budi", name="Budi Santoso")
    dewi = add_member(db, "https://lms", ctx.id, "dewi", name="Dewi Lestari")
    siti.email, siti.person_sourcedid = "siti@sekolah.sch.id", SITI_NOMOR
    dewi.email, dewi.person_sourcedid = "dewi@sekolah.sch.id", DEWI_NOMOR
    db.flush()
    acts = {f"{b.key}/{a.key}": a for b in inst.module.blocks for a in b.activities}
    for n, points in enumerate(("80", "70", "90", "65"), start=1):
        _report(db, ctx, acts, siti, f"sesi-{n}/tes-sumatif", points)  # TS 76.25
        _report(db, ctx, acts, siti, f"sesi-{n}/penilaian-diri", "45", top="50")  # PD 90
    _report(db, ctx, acts, siti, "penutup/tes-akhir", "82.5")
    scores.set_manual(db, inst, siti.id, "UKG", Decimal("61"), by=siti.id)
    for n in range(1, 5):
        _report(db, ctx, acts, budi, f"sesi-{n}/tes-sumatif", "80")
        _report(db, ctx, acts, budi, f"sesi-{n}/penilaian-diri", "100")
    for n, points in enumerate(("60", "61", "62", "62"), start=1):
        _report(db, ctx, acts, dewi, f"sesi-{n}/tes-sumatif", points)  # TS 61.25
        _report(db, ctx, acts, dewi, f"sesi-{n}/penilaian-diri", "2", top="3")  # PD 66.67
    scores.set_manual(db, inst, dewi.id, "TA", Decimal("55.55"), by=dewi.id)
    rombel = roster.create_rombel(db, inst, "Rombel A", None)
    roster.assign(db, inst, siti.id, rombel.id, by=siti.id)
    db.flush()
    people = roster.peserta(db, inst)
    return ge.gather(db, inst, people, course_title=ctx.title, now=NOW)


def _indonesian(app):
    from lti_tool.web.gradebook_export import _labels

    with app.test_request_context():
        return _labels(2)


def _csv(data: bytes, delimiter: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=delimiter))


def test_rows_to_the_digit(book):
    assert [r.name for r in book.rows] == ["Budi Santoso", "Dewi Lestari", "Siti Rahayu"]
    assert ge.header(book, ge.Labels()) == [
        "No",
        "Name",
        "Email",
        "Participant number",
        "Rombel",
        "PD",
        "TS",
        "TA",
        "NA",
        "Passed",
        "Predikat",
        "Initial UKG",
    ]
    d = Decimal
    assert ge.table(book, ge.Labels()) == [
        [1, "Budi Santoso", "", "", "", d("100.00"), d("80.00"), None, None, "—", None, None],
        # NA = 10% x 66.666.. + 50% x 61.25 + 40% x 55.55 = 59.5116.. (not from 66.67)
        [
            2,
            "Dewi Lestari",
            "dewi@sekolah.sch.id",
            DEWI_NOMOR,
            "",
            d("66.67"),
            d("61.25"),
            d("55.55"),
            d("59.51"),
            "No",
            "Kurang",
            None,
        ],
        # NA = 9 + 38.125 + 33 = 80.125 -> 80.13 (half up)
        [
            3,
            "Siti Rahayu",
            "siti@sekolah.sch.id",
            SITI_NOMOR,
            "Rombel A",
            d("90.00"),
            d("76.25"),
            d("82.50"),
            d("80.13"),
            "Yes",
            "Baik",
            d("61.00"),
        ],
    ]


def test_csv_in_indonesian(app, book):
    rows = _csv(ge.to_csv(book, _indonesian(app), indonesian=True), ";")
    assert rows[0] == HEADER_ID
    assert rows[1] == ["1", "Budi Santoso", "", "", "", "100,00", "80,00", "", "", "—", "", ""]
    assert rows[2] == [
        "2",
        "Dewi Lestari",
        "dewi@sekolah.sch.id",
        DEWI_NOMOR,
        "",
        "66,67",
        "61,25",
        "55,55",
        "59,51",
        "Tidak",
        "Kurang",
        "",
    ]
    assert rows[3] == [
        "3",
        "Siti Rahayu",
        "siti@sekolah.sch.id",
        SITI_NOMOR,
        "Rombel A",
        "90,00",
        "76,25",
        "82,50",
        "80,13",
        "Ya",
        "Baik",
        "61,00",
    ]
    assert rows[4] == []  # the notes are under a blank row
    notes = dict(r for r in rows[5:] if r[0])
    assert notes["Rumus"] == "NA = 10% PD + 50% TS + 40% TA"
    assert notes["TA"] == "Tes Akhir" and notes["Batas lulus"] == "70"
    assert notes["Rentang predikat"] == (
        "Amat Baik: 91,00-100,00; Baik: 76,00-90,99; Cukup: 61,00-75,99; Kurang: 0,00-60,99"
    )
    assert notes["Peserta"] == "3"
    assert notes["Diekspor"] == "2026-07-14 00:30 (Asia/Jakarta)"
    assert ["", "kosong = belum ada nilai"] in rows


def test_csv_in_english(book):
    rows = _csv(ge.to_csv(book, ge.Labels(), indonesian=False), ",")
    assert rows[0][:5] == ["No", "Name", "Email", "Participant number", "Rombel"]
    assert rows[3][5:] == ["90.00", "76.25", "82.50", "80.13", "Yes", "Baik", "61.00"]
    assert ["", "empty = no score yet"] in rows
    assert ["Rounding", "half up to 2 decimals"] in rows


def test_the_exported_file_can_be_imported_again(app, book):
    from lti_tool.services import score_import

    sheet = score_import.read(ge.to_csv(book, _indonesian(app), indonesian=True), "nilai.csv")
    assert sheet.key_columns == ("email", "nomor") and sheet.components == ("TA", "UKG")
    # Budi (no email, no number) is skipped: a row without a key or a value
    assert [(r.email, r.values) for r in sheet.rows] == [
        ("dewi@sekolah.sch.id", {"TA": "55,55", "UKG": ""}),
        ("siti@sekolah.sch.id", {"TA": "82,50", "UKG": "61,00"}),
    ]


def test_xlsx_numeric_cells_and_notes(app, book):
    data = ge.to_xlsx(book, _indonesian(app), indonesian=True)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Skor", "Keterangan"]
    sheet = workbook["Skor"]
    assert [c.value for c in sheet[1]] == HEADER_ID
    assert all(c.font.b for c in sheet[1]) and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width > 10
    budi, dewi, siti = (sheet[r] for r in (2, 3, 4))
    assert [c.value for c in siti[5:9]] == [90, 76.25, 82.5, 80.13]
    assert all(c.data_type == "n" and c.number_format == "0.00" for c in siti[5:9])
    assert siti[11].value == 61 and siti[11].number_format == "0.00"
    assert [c.value for c in siti[:5]] == [
        3,
        "Siti Rahayu",
        "siti@sekolah.sch.id",
        SITI_NOMOR,
        "Rombel A",
    ]
    assert siti[3].data_type == "s"  # the nomor peserta stays text (no 1.6E+13)
    assert [c.value for c in dewi[5:11]] == [66.67, 61.25, 55.55, 59.51, "Tidak", "Kurang"]
    # pending: empty cells, not zero
    assert [c.value for c in budi[5:12]] == [100, 80, None, None, "—", None, None]
    notes = {row[0].value: row[1].value for row in workbook["Keterangan"].iter_rows()}
    assert notes["Rumus"] == "NA = 10% PD + 50% TS + 40% TA"
    assert notes["Batas lulus"] == "70"
    assert notes["Pembulatan"] == "setengah ke atas, 2 desimal"
    assert notes["Kelas"] == "Kelas Pedagogik A — Bali"
    assert notes["Diekspor"] == "2026-07-14 00:30 (Asia/Jakarta)"
    assert "kosong = belum ada nilai" in notes.values()


def test_text_is_never_a_formula(db, book):
    evil = ge.Row(
        name='=HYPERLINK("http://x","klik")',
        email="@x",
        nomor="",
        rombel="",
        components=(Decimal(1), Decimal(2), Decimal(3)),
        final=Decimal("2.30"),
        passed=False,
        predikat="Kurang",
        ukg=None,
    )
    from dataclasses import replace

    book = replace(book, rows=(evil,))
    rows = _csv(ge.to_csv(book, ge.Labels(), indonesian=False), ",")
    assert rows[1][1:3] == ['\'=HYPERLINK("http://x","klik")', "'@x"]
    sheet = openpyxl.load_workbook(
        io.BytesIO(ge.to_xlsx(book, ge.Labels(), indonesian=False))
    ).active
    assert sheet["B2"].data_type == "s" and sheet["B2"].value.startswith("=HYPERLINK")


def test_no_ukg_column_without_ukg_scores_and_the_file_name(book):
    from dataclasses import replace

    without = replace(book, rows=tuple(replace(r, ukg=None) for r in book.rows))
    assert ge.header(without, ge.Labels())[-1] == "Predikat"
    assert all(len(r) == 11 for r in ge.table(without, ge.Labels()))
    assert ge.filename(book, "csv") == "nilai-gp-pedagogik-a-kelas-pedagogik-a-bali-20260714.csv"
    assert ge.slug("Kelas Bahasa Indonésia: Angkatan #2") == "kelas-bahasa-indonesia-angkatan-2"


# -- through real launches ----------------------------------------------------------------

MODULE = "/course/gp-pedagogik-a"


def _setup(live_tool, lms):
    """Siti and Budi launch; Siti is in the mentor's rombel and has a TA score."""
    siti, budi, mentor, pengampu = make_browser(), make_browser(), make_browser(), make_browser()
    r = lms.launch(
        siti,
        roles=["Learner"],
        user={"sub": "siti", "name": "Siti Rahayu", "email": "siti@sekolah.sch.id"},
        target_link_uri=live_tool.url(MODULE),
        extra_claims={CLAIM_LIS: {"person_sourcedid": SITI_NOMOR}},
    )
    assert r.ok, r.error
    launch_as(live_tool, lms, budi, ["Learner"], "budi", MODULE, name="Budi Santoso")
    launch_as(live_tool, lms, mentor, ["Mentor"], "mentor-1", MODULE, name="Pak Mentor")
    page = launch_as(live_tool, lms, pengampu, ["Instructor"], "p1", MODULE, name="Bu Pengampu")
    base = re.search(r'href="(/c/\d+/module/gp-pedagogik-a)/kelas"', page.text).group(1)
    with get_db(live_tool.app).sessionmaker() as db:
        ids = {u.sub: u.id for u in db.scalars(select(User))}
        inst = db.scalars(select(CourseInstance)).one()
        rombel = roster.create_rombel(db, inst, "Rombel A", ids["mentor-1"])
        roster.assign(db, inst, ids["siti"], rombel.id, by=ids["p1"])
        scores.set_manual(db, inst, ids["siti"], "TA", Decimal("88.5"), by=ids["p1"])
        db.commit()
    return pengampu, mentor, siti, live_tool.url(base + "/nilai"), base


def _names(rows):
    return [r[1] for r in rows[1:] if r and r[0].isdigit()]


def test_pengampu_downloads_both_files(live_tool, lms):
    pengampu, _mentor, _siti, url, _base = _setup(live_tool, lms)
    page = pengampu.get(url).text
    assert "/nilai/ekspor.xlsx" in page and "/nilai/ekspor.csv" in page
    today = datetime.now(ZoneInfo("Asia/Jakarta"))
    stem = f"nilai-gp-pedagogik-a-pendidikan-profesi-guru-daring-{today:%Y%m%d}"
    r = pengampu.get(url + "/ekspor.csv")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{stem}.csv"'
    assert "no-store" in r.headers["Cache-Control"]
    rows = _csv(r.content, ";")
    assert rows[0] == HEADER_ID[:-1]  # no initial UKG scores in this class
    assert _names(rows) == ["Budi Santoso", "Siti Rahayu"]
    assert rows[2][2:4] == ["siti@sekolah.sch.id", SITI_NOMOR] and rows[2][7] == "88,50"
    r = pengampu.get(url + "/ekspor.xlsx")
    assert r.status_code == 200 and r.headers["Content-Type"] == ge.XLSX_TYPE
    assert r.headers["Content-Disposition"] == f'attachment; filename="{stem}.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(r.content))["Skor"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "Budi Santoso",
        "Siti Rahayu",
    ]
    assert sheet["H3"].value == 88.5 and sheet["H3"].data_type == "n"


def test_english_csv_for_an_english_launch(live_tool, lms):
    _setup(live_tool, lms)
    admin = make_browser()
    r = lms.launch(
        admin,
        roles=["Administrator"],
        user={"sub": "admin-1", "name": "Admin"},
        target_link_uri=live_tool.url(MODULE),
        locale="en-US",
    )
    base = re.search(r'href="(/c/\d+/module/gp-pedagogik-a)/kelas"', r.final_response.text)
    rows = _csv(admin.get(live_tool.url(base.group(1) + "/nilai/ekspor.csv")).content, ",")
    assert rows[0][:4] == ["No", "Name", "Email", "Participant number"]
    assert rows[2][7] == "88.50" and ["", "empty = no score yet"] in rows


def test_a_mentor_gets_their_rombel_and_a_peserta_nothing(live_tool, lms):
    _pengampu, mentor, siti, url, _base = _setup(live_tool, lms)
    rows = _csv(mentor.get(url + "/ekspor.csv").content, ";")
    assert _names(rows) == ["Siti Rahayu"]
    assert ["Peserta", "1 (hanya peserta rombel Anda)"] in rows
    sheet = openpyxl.load_workbook(io.BytesIO(mentor.get(url + "/ekspor.xlsx").content)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Siti Rahayu"]
    for ending in ("/ekspor.csv", "/ekspor.xlsx"):
        assert siti.get(url + ending).status_code == 403
    assert make_browser().get(url + "/ekspor.csv").status_code == 401  # no launch
