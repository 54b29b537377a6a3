"""Importing Tes Akhir (TA) and initial UKG scores from CSV/XLSX: the reader, the row
checks, and upload -> preview -> apply through real launches (with the audit trail)."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from lti_tool.db import get_db
from lti_tool.models import ManualScore, ScoreAudit, User
from lti_tool.services import score_import as si
from lti_tool.services.score_import import Known, ScoreFileError
from tests.conftest import launch_as, make_browser, open_a_form, row_counts
from tests.peer import DEFAULT_CONTEXT
from tests.peer.constants import CLAIM_LIS

MODULE = "/course/gp-pedagogik-a"
SITI_NOMOR = "16220415610025"


# -- reading files -------------------------------------------------------------------------


def _xlsx(rows: list[list], title_rows: int = 0) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for _ in range(title_rows):
        sheet.append(["Rekap nilai UKG"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_comma_with_bom():
    data = "\ufeffEmail,Nama,TA,UKG\r\nsiti@x.id,Siti,85,70.5\r\n".encode()
    sheet = si.read(data, "nilai.csv")
    assert sheet.header_row == 1
    assert sheet.key_columns == ("email",) and sheet.components == ("TA", "UKG")
    assert sheet.rows == (si.SheetRow(2, "siti@x.id", "", {"TA": "85", "UKG": "70.5"}),)


def test_csv_semicolon_decimal_comma_title_rows_no_bom():
    data = (
        b"Daftar nilai kelas A\n\nNo. Peserta;Nama;Nilai Tes Akhir\n16 22 04 156 1 0025;Siti;72,5\n"
    )
    sheet = si.read(data, "nilai.csv")
    assert sheet.header_row == 3 and sheet.components == ("TA",)
    (row,) = sheet.rows
    assert (row.number, row.nomor, row.values) == (4, "16 22 04 156 1 0025", {"TA": "72,5"})


def test_csv_windows_1252_and_tab():
    data = "Surel\tNama\tUKG\r\nbudi@x.id\tBudi Sëtiawan\t61\r\n".encode("cp1252")
    sheet = si.read(data, "nilai.txt")
    assert sheet.rows[0].email == "budi@x.id" and sheet.rows[0].values == {"UKG": "61"}


def test_blank_rows_and_rows_without_key_or_value_are_skipped():
    data = b"email,nama,ta\na@x.id,A,80\n,,\n,Jumlah,\nb@x.id,B,\n"
    sheet = si.read(data, "a.csv")
    assert [(r.number, r.email) for r in sheet.rows] == [(2, "a@x.id"), (5, "b@x.id")]


def test_xlsx_numbers_and_header_below_a_title():
    data = _xlsx(
        [
            ["NOMOR_PESERTA", "E-mail", "Post Test", "Pre Test"],
            [int(SITI_NOMOR), "Siti@X.id", 72.30000000000001, 60],
            [None, "budi@x.id", 85.5, None],
            [None, "dewi@x.id", 80.125, "90,5"],
        ],
        title_rows=2,
    )
    sheet = si.read(data, "nilai.xlsx")
    assert sheet.header_row == 3
    assert sheet.key_columns == ("email", "nomor") and sheet.components == ("TA", "UKG")
    assert [(r.number, r.nomor, r.email, r.values) for r in sheet.rows] == [
        (4, SITI_NOMOR, "Siti@X.id", {"TA": "72.30", "UKG": "60"}),
        (5, "", "budi@x.id", {"TA": "85.5", "UKG": ""}),
        (6, "", "dewi@x.id", {"TA": "80.125", "UKG": "90,5"}),  # a real third decimal stays
    ]


@pytest.mark.parametrize(
    ("key", "value", "columns"),
    [
        ("email", "TA", ("email", ("TA",))),
        ("  E-Mail ", "nilai ta", ("email", ("TA",))),
        ("SUREL", "Tes Akhir", ("email", ("TA",))),
        ("Nomor Peserta", "Nilai Tes Akhir", ("nomor", ("TA",))),
        ("no peserta", "post test", ("nomor", ("TA",))),
        ("No. Peserta", "UKG", ("nomor", ("UKG",))),
        ("NOPES", "Nilai UKG", ("nomor", ("UKG",))),
        ("nomor_peserta", "nilai awal", ("nomor", ("UKG",))),
        ("Participant  Number", "UKG awal", ("nomor", ("UKG",))),
        ("email", "Pre Test", ("email", ("UKG",))),
    ],
)
def test_header_variants(key, value, columns):
    sheet = si.read(f"{key},{value}\nx,1\n".encode(), "a.csv")
    assert (sheet.key_columns[0], sheet.components) == columns


def test_too_many_rows():
    lines = ["email,ta"] + [f"p{i}@x.id,80" for i in range(si.MAX_ROWS + 1)]
    with pytest.raises(ScoreFileError) as exc:
        si.read("\n".join(lines).encode(), "a.csv")
    assert exc.value.code == "too_many_rows"
    lines.pop()
    assert len(si.read("\n".join(lines).encode(), "a.csv").rows) == si.MAX_ROWS


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "a.csv", "empty"),
        (b"email,ta\n" + b"x" * si.MAX_BYTES, "a.csv", "too_large"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "nilai.xlsx", "encrypted"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "nilai.xls", "encrypted"),
        (b"PK\x03\x04 not really a zip", "nilai.xlsx", "xlsx_unreadable"),
        (b"%PDF-1.7 ...", "nilai.pdf", "not_supported"),
        (b"email\x00ta\n", "nilai.csv", "not_supported"),
        (b"nama,kelas\nSiti,A\n", "a.csv", "no_header"),
        (b"email,nama\nsiti@x.id,Siti\n", "a.csv", "no_score_column"),
        (b"email,TA,Tes Akhir\nsiti@x.id,80,81\n", "a.csv", "duplicate_column"),
    ],
)
def test_whole_file_errors(data, name, code):
    with pytest.raises(ScoreFileError) as exc:
        si.read(data, name)
    assert exc.value.code == code


def test_a_zip_that_is_no_workbook_and_a_docx_name():
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    for name, code in (("nilai.xlsx", "xlsx_unreadable"), ("nilai.docx", "not_supported")):
        with pytest.raises(ScoreFileError) as exc:
            si.read(buf.getvalue(), name)
        assert exc.value.code == code


def test_xlsx_with_only_a_key_column():
    with pytest.raises(ScoreFileError) as exc:
        si.read(_xlsx([["Email", "Nama"], ["a@x.id", "A"]]), "a.xlsx")
    assert exc.value.code == "no_score_column"


# -- checking rows against the class ---------------------------------------------------------

KNOWN = [
    Known(1, "Siti", "Siti@Sekolah.sch.id", SITI_NOMOR, True),
    Known(2, "Budi", "budi@sekolah.sch.id", None, True),
    Known(3, "Dewi", "dewi@sekolah.sch.id", "16220415610026", True),
    Known(4, "Pak Mentor", "mentor@sekolah.sch.id", None, False),
    Known(5, "Kembar A", "kembar@sekolah.sch.id", None, True),
    Known(6, "Kembar B", "kembar@sekolah.sch.id", None, True),
]


def _check(text: str, current=None):
    return si.check(si.read(text.encode(), "a.csv"), KNOWN, current or {})


def _errors(preview):
    return {r.number: [(e.code, e.params) for e in r.errors] for r in preview.rows if r.errors}


def test_check_ok_unchanged_and_empty_values():
    current = {(1, "TA"): Decimal("70.00"), (2, "TA"): Decimal("80.00")}
    preview = _check(
        "email,nomor peserta,ta,ukg\n"
        "SITI@sekolah.sch.id,,75,60\n"  # email in another case
        ",16 22 04 156 1 0026,,55.5\n"  # by number, spaces allowed; empty TA
        "budi@sekolah.sch.id,,80,\n",  # the same TA: unchanged
        current,
    )
    assert [r.status for r in preview.rows] == ["ok", "ok", "unchanged"]
    assert [r.name for r in preview.rows] == ["Siti", "Dewi", "Budi"]
    assert preview.changes == [
        si.Change(1, "TA", Decimal("70.00"), Decimal("75.00")),
        si.Change(1, "UKG", None, Decimal("60.00")),
        si.Change(3, "UKG", None, Decimal("55.50")),
    ]
    assert (preview.count("ok"), preview.count("unchanged"), preview.count("error")) == (2, 1, 0)


def test_check_every_row_error():
    preview = _check(
        "email,nomor peserta,ta,ukg\n"
        "nobody@x.id,,80,\n"  # 2 unknown email
        ",99999999999999,80,\n"  # 3 unknown number
        "mentor@sekolah.sch.id,,80,\n"  # 4 not a peserta
        "budi@sekolah.sch.id,,101,\n"  # 5 out of range
        "dewi@sekolah.sch.id,,,80.123\n"  # 6 three decimals
        "budi@sekolah.sch.id,,lulus,\n"  # 7 not a number (and Budi a second time)
        ",,90,\n"  # 8 no key
        "kembar@sekolah.sch.id,,90,\n"  # 9 two peserta share the email
        f"budi@sekolah.sch.id,{SITI_NOMOR},90,\n"  # 10 email and number of different people
        f"siti@sekolah.sch.id,{SITI_NOMOR},90,\n"  # 11 both keys, one person: fine
    )
    assert _errors(preview) == {
        2: [("unknown_email", {"value": "nobody@x.id"})],
        3: [("unknown_number", {"value": "99999999999999"})],
        4: [("not_peserta", {"value": "mentor@sekolah.sch.id", "name": "Pak Mentor"})],
        5: [("invalid_score", {"column": "TA", "value": "101"}), ("duplicate", {"rows": "7"})],
        6: [("invalid_score", {"column": "UKG", "value": "80.123"})],
        7: [("invalid_score", {"column": "TA", "value": "lulus"}), ("duplicate", {"rows": "5"})],
        8: [("empty_key", {})],
        9: [("ambiguous", {"value": "kembar@sekolah.sch.id"})],
        10: [("key_mismatch", {})],
    }
    assert preview.rows[-1].status == "ok" and preview.changes == [
        si.Change(1, "TA", None, Decimal("90.00"))
    ]


def test_the_same_person_twice_imports_neither_row():
    preview = _check(f"email,no peserta,ta\nsiti@sekolah.sch.id,,80\n,{SITI_NOMOR},85\n")
    assert _errors(preview) == {
        2: [("duplicate", {"rows": "3"})],
        3: [("duplicate", {"rows": "2"})],
    }
    assert preview.changes == []


def test_changes_round_trip_and_junk_is_refused():
    changes = [
        si.Change(1, "TA", None, Decimal("75.00")),
        si.Change(2, "UKG", Decimal("1.5"), Decimal("2")),
    ]
    assert si.load_changes(si.dump_changes(changes)) == [
        si.Change(1, "TA", None, Decimal("75.00")),
        si.Change(2, "UKG", Decimal("1.50"), Decimal("2.00")),
    ]
    for junk in (
        {},
        [[1, "TA", None]],
        [["1", "TA", None, "80"]],
        [[1, "PD", None, "80"]],
        [[1, "TA", None, "101"]],
        [[1, "TA", None, ""]],
        [[1, "TA", "x", "80"]],
    ):
        with pytest.raises(ValueError):
            si.load_changes(junk)


# -- through real launches ------------------------------------------------------------------


def _setup(live_tool, lms):
    """Siti launches (email and ID number in the launch); Budi is on the LMS roster with
    an ID number; a mentor launches. Returns the pengampu's browser and the scores URL."""
    siti = make_browser()
    result = lms.launch(
        siti,
        roles=["Learner"],
        user={"sub": "siti", "name": "Siti Rahayu", "email": "Siti@Sekolah.sch.id"},
        target_link_uri=live_tool.url(MODULE),
        extra_claims={CLAIM_LIS: {"person_sourcedid": SITI_NOMOR}},
    )
    assert result.ok, result.error
    lms.set_members(
        DEFAULT_CONTEXT["id"],
        [
            {
                "user_id": "budi",
                "name": "Budi Santoso",
                "email": "budi@sekolah.sch.id",
                "lis_person_sourcedid": "16 22 04 156 1 0026",
                "roles": ["Learner"],
            },
            {"user_id": "mentor-1", "name": "Pak Mentor", "email": "m@x.id", "roles": ["Mentor"]},
        ],
    )
    pengampu = make_browser()
    page = launch_as(live_tool, lms, pengampu, ["Instructor"], "p1", MODULE, name="Bu Pengampu")
    base = re.search(r'href="(/c/\d+/module/gp-pedagogik-a)/kelas"', page.text).group(1)
    pengampu.post(live_tool.url(base + "/kelas/sync"))
    with get_db(live_tool.app).sessionmaker() as db:
        users = {u.sub: u for u in db.scalars(select(User))}
        assert users["siti"].person_sourcedid == SITI_NOMOR
        assert users["budi"].person_sourcedid == "16 22 04 156 1 0026"
    return pengampu, live_tool.url(base + "/nilai"), siti


def _upload(browser, scores_url, data: bytes, name: str = "nilai.csv"):
    browser.get(scores_url + "/impor")  # the form's CSRF token
    return browser.post(scores_url + "/impor", files={"file": (name, data)})


def _token(page) -> str:
    return html.unescape(re.search(r'name="changes" value="([^"]+)"', page.text).group(1))


def _stored(live_tool):
    with get_db(live_tool.app).sessionmaker() as db:
        users = {u.id: u.sub for u in db.scalars(select(User))}
        scores = {(users[r.user_id], r.component): r.value for r in db.scalars(select(ManualScore))}
        trail = [
            (users[a.user_id], a.component, a.old_value, a.new_value, users[a.changed_by])
            for a in db.scalars(select(ScoreAudit).order_by(ScoreAudit.id))
        ]
        return scores, trail


FILE = (
    "Email;No. Peserta;Nama;Nilai Tes Akhir;Nilai UKG\n"
    "siti@sekolah.sch.id;;Siti;82,5;61\n"
    ";16 22 04 156 1 0026;Budi;90;\n"
    "m@x.id;;Pak Mentor;70;\n"
    "orang@lain.id;;Orang;70;\n"
)


def test_upload_preview_apply_and_apply_again(live_tool, lms):
    pengampu, scores_url, _siti = _setup(live_tool, lms)
    page = pengampu.get(scores_url)
    assert "/nilai/impor" in page.text  # linked from the scores page
    preview = _upload(pengampu, scores_url, FILE.encode())
    assert preview.status_code == 200
    text = html.unescape(preview.text)
    assert (
        "4 baris: 2 dengan perubahan, 0 tanpa perubahan, 2 dengan kesalahan; 3 nilai akan berubah."
        in text
    )
    assert "m@x.id adalah Pak Mentor, yang bukan peserta kelas ini." in text
    assert "Tidak ada peserta kelas ini dengan surel orang@lain.id." in text
    assert text.count('class="error"') >= 3  # the message and the two error rows
    assert 'name="csrf_token"' in preview.text and "Terapkan 3 perubahan" in text
    assert _stored(live_tool) == ({}, [])  # nothing is saved by a preview
    token = _token(preview)
    done = pengampu.post(scores_url + "/impor/terapkan", data={"changes": token})
    assert done.url.startswith(scores_url) and "imported=3" in done.url
    assert "Diimpor: 3 nilai berubah." in html.unescape(done.text)
    scores, trail = _stored(live_tool)
    assert scores == {("siti", "TA"): "82.50", ("siti", "UKG"): "61.00", ("budi", "TA"): "90.00"}
    assert sorted(trail) == [
        ("budi", "TA", None, "90.00", "p1"),
        ("siti", "TA", None, "82.50", "p1"),
        ("siti", "UKG", None, "61.00", "p1"),
    ]
    # the same preview again: nothing changes, nothing is audited
    again = pengampu.post(scores_url + "/impor/terapkan", data={"changes": token})
    assert "imported=0" in again.url and "sudah diimpor" in again.text
    assert _stored(live_tool) == (scores, trail)
    # the file again: every valid row is now unchanged
    second = _upload(pengampu, scores_url, FILE.encode())
    assert "2 tanpa perubahan" in second.text and 'name="changes"' not in second.text
    # a new TA for Siti: the audit keeps the old value
    newer = _upload(pengampu, scores_url, b"email,ta\nsiti@sekolah.sch.id,88\n")
    pengampu.post(scores_url + "/impor/terapkan", data={"changes": _token(newer)})
    scores, trail = _stored(live_tool)
    assert scores[("siti", "TA")] == "88.00" and trail[-1] == ("siti", "TA", "82.50", "88.00", "p1")


def test_an_xlsx_upload(live_tool, lms):
    pengampu, scores_url, _siti = _setup(live_tool, lms)
    data = _xlsx([["Nomor Peserta", "TA", "UKG"], [int(SITI_NOMOR), 77.5, 64]], title_rows=1)
    preview = _upload(pengampu, scores_url, data, "nilai.xlsx")
    assert "Terapkan 2 perubahan" in preview.text
    pengampu.post(scores_url + "/impor/terapkan", data={"changes": _token(preview)})
    assert _stored(live_tool)[0] == {("siti", "TA"): "77.50", ("siti", "UKG"): "64.00"}


def test_mentor_and_peserta_get_403(live_tool, lms):
    pengampu, scores_url, siti = _setup(live_tool, lms)
    token = _token(_upload(pengampu, scores_url, FILE.encode()))
    mentor = make_browser()
    launch_as(live_tool, lms, mentor, ["Mentor"], "mentor-1", MODULE)
    page = mentor.get(scores_url)  # a mentor sees the scores of their rombel (a form)
    assert 'name="csrf_token"' in page.text and "/nilai/impor" not in page.text
    ctx_path = scores_url.split("/module/")[0].replace(live_tool.base_url, "")
    open_a_form(siti, live_tool, ctx_path)  # so that a refusal is the role check's
    for browser in (siti, mentor):
        assert browser.get(scores_url + "/impor").status_code == 403
        r = browser.post(scores_url + "/impor", files={"file": ("a.csv", FILE.encode())})
        assert r.status_code == 403
        r = browser.post(scores_url + "/impor/terapkan", data={"changes": token})
        assert r.status_code == 403
    assert _stored(live_tool) == ({}, [])


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"nama,kelas\nSiti,A\n", "a.csv", "Tidak ditemukan baris judul kolom"),
        (b"PK\x03\x04 rusak", "nilai.xlsx", "Buku kerja tidak dapat dibaca"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "nilai.xlsx", "dilindungi kata sandi"),
        (b"%PDF-1.7", "nilai.pdf", "bukan berkas CSV atau XLSX"),
        (b"", "kosong.csv", "Berkas kosong."),
    ],
)
def test_a_bad_file_changes_nothing(live_tool, lms, data, name, message):
    pengampu, scores_url, _siti = _setup(live_tool, lms)
    before = row_counts(live_tool.app), _stored(live_tool)
    r = _upload(pengampu, scores_url, data, name)
    assert r.status_code == 400
    assert message in html.unescape(r.text)
    assert 'name="changes"' not in r.text
    assert (row_counts(live_tool.app), _stored(live_tool)) == before


def test_tampered_expired_or_foreign_payload_is_refused(live_tool, lms, monkeypatch):
    pengampu, scores_url, _siti = _setup(live_tool, lms)
    preview = _upload(pengampu, scores_url, FILE.encode())
    token = _token(preview)
    refused = "Tidak ada yang diubah: unggah berkasnya lagi."
    # altered: a character of the payload changed, or the signature of another payload
    for bad in (
        token[:5] + ("A" if token[5] != "A" else "B") + token[6:],
        token + "x",
        "",
        "abc.def",
    ):
        r = pengampu.post(scores_url + "/impor/terapkan", data={"changes": bad})
        assert r.status_code == 400 and refused in html.unescape(r.text)
    # another pengampu of the class cannot apply it (bound to the uploader)
    other = make_browser()
    launch_as(live_tool, lms, other, ["Instructor"], "p2", MODULE)
    other.get(scores_url + "/impor")
    r = other.post(scores_url + "/impor/terapkan", data={"changes": token})
    assert r.status_code == 400 and refused in html.unescape(r.text)
    # expired
    from lti_tool.web import score_import as view

    monkeypatch.setattr(view, "MAX_AGE", -1)
    r = pengampu.post(scores_url + "/impor/terapkan", data={"changes": token})
    assert r.status_code == 400 and refused in html.unescape(r.text)
    assert _stored(live_tool) == ({}, [])


def test_a_score_changed_since_the_preview_refuses_the_whole_apply(live_tool, lms):
    pengampu, scores_url, _siti = _setup(live_tool, lms)
    preview = _upload(pengampu, scores_url, FILE.encode())
    with get_db(live_tool.app).sessionmaker() as db:
        from lti_tool.models import CourseInstance
        from lti_tool.services import scores

        inst = db.scalars(select(CourseInstance)).one()
        budi = db.scalars(select(User).where(User.sub == "budi")).one()
        scores.set_manual(db, inst, budi.id, "TA", Decimal("50.00"), budi.id)
        db.commit()
    before = _stored(live_tool)
    r = pengampu.post(scores_url + "/impor/terapkan", data={"changes": _token(preview)})
    assert r.status_code == 409 and "diubah sejak pratinjau" in html.unescape(r.text)
    assert _stored(live_tool) == before
    with get_db(live_tool.app).sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(ManualScore)) == 1
