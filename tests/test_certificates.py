"""Certificates (STTPP): only for peserta who pass, one number per peserta (idempotent,
snapshot at first issue), revoke and re-issue, the class ZIP, the QR code to the
public verification page, and that page for valid, revoked, unknown and malformed
numbers."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import zipfile
import zlib
from decimal import Decimal

import pytest
import segno
from sqlalchemy import func, select

from lti_tool.certificates import numbers, pdf, service
from lti_tool.db import get_db
from lti_tool.models import Certificate, Context, CourseInstance, ExportFile, User
from lti_tool.services import roster, scores
from lti_tool.services.instances import instance_for
from tests.conftest import add_member, launch_as, make_browser, open_a_form
from tests.exports_helpers import export_id_of, fetch_export, state_of, wait_for_export
from tests.peer.constants import CLAIM_LIS

MODULE = "/course/gp-pedagogik-a"
SITI_NOMOR = "16220415610025"
TEMPLATE = service.Template(
    ministry="Kementerian Pendidikan dan Kebudayaan",
    unit_name="PPPPTK Bahasa",
    unit_address="Jl. Gardu, Jakarta",
    signatory_title="Kepala",
    signatory_name="Dr. Kepala Unit",
    signatory_id="196001011985031001",
    city="Jakarta",
    logo_path=None,
    prefix="STTPP",
)


def pdf_text(data: bytes) -> bytes:
    """The PDF with its Flate streams inflated, to search for printed text."""
    parts = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        with contextlib.suppress(zlib.error):
            parts.append(zlib.decompress(stream))
    return b"\n".join(parts)


def give(db, inst, user_id, pd, ts, ta, by=None):
    for key, value in (("PD", pd), ("TS", ts), ("TA", ta)):
        if value is not None:
            scores.set_manual(db, inst, user_id, key, Decimal(value), by=by or user_id)


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(Certificate))


# -- numbers and the PDF ----------------------------------------------------------------


def test_numbers_are_unique_checked_and_normalized():
    made = {numbers.make("STTPP", 2026, 12) for _ in range(50)}
    assert len(made) > 1  # the random part differs
    for number in made:
        assert re.fullmatch(r"STTPP/2026/00012-[0-9A-Z]{5}", number) and numbers.is_valid(number)
    number = next(iter(made))
    wrong = number[:-1] + next(c for c in numbers.ALPHABET if c != number[-1])
    assert not numbers.is_valid(wrong)  # a mistyped check character
    for bad in (
        "",
        "abc",
        "STTPP/26/00012-AAAAA",
        "STTPP/2026/12-AAAAA",
        "../../etc/passwd",
        "STTPP//2026/00012-AAAAA",
        number + "X",
        "X" * 200,
    ):
        assert not numbers.is_valid(bad), bad
    typed = " " + number.lower().replace("0", "o") + " "
    assert numbers.normalize(typed).endswith(number[-5:]) and numbers.is_valid(
        numbers.normalize(typed)
    ) == (numbers.normalize(typed) == number)
    with pytest.raises(ValueError):
        numbers.make("bad prefix", 2026, 1)


def test_names_outside_latin1_are_transliterated():
    assert pdf.latin1("Nguyễn Văn Đức “Ayu” — Ñoño") == 'Nguyen Van Duc "Ayu" - Ñoño'
    assert pdf.latin1("王") == "?"
    assert pdf.tanggal("2026-08-24") == "24 Agustus 2026"


def test_the_qr_code_is_the_verification_url():
    url = "https://gp.example.id/verify/STTPP/2026/00012-SVVJZ"
    size, runs = pdf.qr_runs(url)
    drawn = [[0] * size for _ in range(size)]
    for r, c, length in runs:
        for i in range(length):
            drawn[r][c + i] = 1
    expected = segno.make(url, error="m", micro=False)
    assert drawn == [list(row) for row in expected.matrix]
    assert expected.designator.endswith("-M")


# -- the service ------------------------------------------------------------------------


@pytest.fixture
def klass(db):
    """Siti passes (NA 80.13), Budi is pending (no TA), Dewi fails (NA 50)."""
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="c1", title="Kelas A")
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    siti = add_member(db, "https://lms", ctx.id, "siti", name="Siti Rahayu")
    budi = add_member(db, "https://lms", ctx.id, "budi", name="Budi Santoso")
    dewi = add_member(db, "https://lms", ctx.id, "dewi", name="Dewi Lestari")
    siti.person_sourcedid = SITI_NOMOR
    db.flush()
    give(db, inst, siti.id, "90", "76.25", "82.5")
    give(db, inst, budi.id, "90", "90", None)
    give(db, inst, dewi.id, "50", "50", "50")
    db.flush()
    return db, inst, siti, budi, dewi


def test_only_a_passing_peserta_gets_a_certificate_and_only_once(klass):
    db, inst, siti, budi, dewi = klass
    cert = service.issue(db, inst, siti.id, template=TEMPLATE, by=siti.id)
    assert service.issue(db, inst, siti.id, template=TEMPLATE, by=siti.id).number == cert.number
    snap = cert.snapshot
    assert snap["number"] == cert.number and snap["name"] == "Siti Rahayu"
    assert snap["nomor_peserta"] == SITI_NOMOR and snap["institution"] is None
    assert (snap["score"], snap["predikat"]) == ("80.13", "Baik")
    assert snap["components"] == [{"key": "TA", "label": "Tes Akhir", "value": "82.50"}]
    assert snap["unit"] == "PPPPTK Bahasa" and snap["signatory_id"] == "196001011985031001"
    for user, reason in ((budi, "pending"), (dewi, "below_pass_mark")):
        standing = service.standings(db, inst, [user.id])[user.id]
        assert not standing.eligible and standing.reason == reason
        with pytest.raises(service.CertificateError):
            service.issue(db, inst, user.id, template=TEMPLATE, by=user.id)
    assert service.standings(db, inst, [budi.id])[budi.id].pending == ("Tes Akhir",)
    assert count(db) == 1

    data = pdf.render(snap, "http://x/verify/" + cert.number, compress=False)
    assert data.startswith(b"%PDF") and cert.number.encode() in data
    assert b"SURAT TANDA TAMAT PENDIDIKAN DAN PELATIHAN" in data and b"80,13" in data


def test_a_later_score_change_needs_a_reissue(klass):
    db, inst, siti, _budi, dewi = klass
    first = service.issue(db, inst, siti.id, template=TEMPLATE, by=siti.id)
    give(db, inst, siti.id, None, None, "95")
    assert service.issue(db, inst, siti.id, template=TEMPLATE, by=siti.id).snapshot["score"] == (
        "80.13"
    )
    with pytest.raises(service.CertificateError, match="reason"):
        service.reissue(db, inst, siti.id, template=TEMPLATE, by=dewi.id, reason="  ")
    second = service.reissue(db, inst, siti.id, template=TEMPLATE, by=dewi.id, reason="TA koreksi")
    assert second.number != first.number and second.snapshot["score"] == "85.13"
    assert first.revoked and first.replaced_by_id == second.id and first.active is None
    assert service.active(db, inst, siti.id) is second
    # After a revoke without re-issue, the peserta gets nothing new by themselves.
    service.revoke(db, second, by=dewi.id, reason="salah orang")
    with pytest.raises(service.CertificateError, match="revoked"):
        service.issue(db, inst, siti.id, template=TEMPLATE, by=siti.id)
    assert count(db) == 2


def test_issue_all_issues_exactly_the_passing_peserta(klass):
    db, inst, siti, budi, dewi = klass
    ani = add_member(db, "https://lms", inst.context_pk, "ani", name="Ani")
    db.flush()
    give(db, inst, ani.id, "100", "100", "100")
    issued = service.issue_all(
        db, inst, [siti.id, budi.id, dewi.id, ani.id], template=TEMPLATE, by=None
    )
    assert sorted(c.user_id for c in issued) == sorted([siti.id, ani.id])
    assert len({c.number for c in issued}) == 2
    assert service.issue_all(db, inst, [siti.id, ani.id], template=TEMPLATE, by=None) == []


def test_the_template_is_configuration(klass, tmp_path):
    from lti_tool.config import Config, settings_of

    defaults = service.Template.from_config(settings_of(Config))
    assert "CERT_UNIT_NAME" in defaults.placeholders() and defaults.prefix == "STTPP"
    assert TEMPLATE.placeholders() == []
    db, inst, siti, *_ = klass
    bad = service.Template(**{**TEMPLATE.__dict__, "prefix": "NO SPACES/ALLOWED"})
    assert "CERT_NUMBER_PREFIX" in bad.placeholders()
    with pytest.raises(service.CertificateError, match="bad_prefix"):
        service.issue(db, inst, siti.id, template=bad, by=siti.id)
    assert count(db) == 0
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (60, 60), (200, 30, 30)).save(logo)
    cert = service.issue(db, inst, siti.id, template=TEMPLATE, by=siti.id)
    url = "http://x/verify/" + cert.number
    with_logo = pdf.render(cert.snapshot, url, logo_path=str(logo))
    assert b"/Subtype /Image" in with_logo
    missing = pdf.render(cert.snapshot, url, logo_path=str(tmp_path / "none.png"))
    assert missing.startswith(b"%PDF") and b"/Subtype /Image" not in missing


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="needs poppler and zbar"
)
def test_the_printed_qr_code_scans_to_the_verification_url(klass, tmp_path):
    db, inst, siti, *_ = klass
    cert = service.issue(db, inst, siti.id, template=TEMPLATE, by=siti.id)
    url = "https://gp.example.id/verify/" + cert.number
    (tmp_path / "c.pdf").write_bytes(pdf.render(cert.snapshot, url))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", tmp_path / "c.pdf", tmp_path / "c"], check=True
    )
    out = subprocess.run(
        ["zbarimg", "-q", "--raw", tmp_path / "c-1.png"], capture_output=True, text=True
    )
    assert out.stdout.strip() == url


# -- through real launches ----------------------------------------------------------------


def _setup(live_tool, lms):
    """Siti and Ani pass, Budi is pending, Dewi fails; Siti is in the mentor's rombel."""
    browsers = {name: make_browser() for name in ("siti", "ani", "budi", "dewi", "mentor", "p1")}
    r = lms.launch(
        browsers["siti"],
        roles=["Learner"],
        user={"sub": "siti", "name": "Siti Rahayu"},
        target_link_uri=live_tool.url(MODULE),
        extra_claims={CLAIM_LIS: {"person_sourcedid": SITI_NOMOR}},
    )
    assert r.ok, r.error
    base = re.search(r'href="(/c/\d+/module/gp-pedagogik-a)/sertifikat"', r.final_response.text)
    for sub in ("ani", "budi", "dewi"):
        launch_as(live_tool, lms, browsers[sub], ["Learner"], sub, MODULE, name=sub.title())
    launch_as(live_tool, lms, browsers["mentor"], ["Mentor"], "mentor", MODULE, name="Pak Mentor")
    launch_as(live_tool, lms, browsers["p1"], ["Instructor"], "p1", MODULE, name="Bu Pengampu")
    with get_db(live_tool.app).sessionmaker() as db:
        ids = {u.sub: u.id for u in db.scalars(select(User))}
        inst = db.scalars(select(CourseInstance)).one()
        rombel = roster.create_rombel(db, inst, "Rombel A", ids["mentor"])
        roster.assign(db, inst, ids["siti"], rombel.id, by=ids["p1"])
        roster.assign(db, inst, ids["budi"], rombel.id, by=ids["p1"])
        give(db, inst, ids["siti"], "90", "76.25", "82.5", by=ids["p1"])
        give(db, inst, ids["ani"], "100", "100", "100", by=ids["p1"])
        give(db, inst, ids["budi"], "90", "90", None, by=ids["p1"])
        give(db, inst, ids["dewi"], "50", "50", "50", by=ids["p1"])
        db.commit()
    return browsers, live_tool.url(base.group(1)), ids


def _rows(app) -> int:
    with get_db(app).sessionmaker() as db:
        return count(db)


def _number(response) -> str:
    return re.search(r"STTPP/\d{4}/\d{5,}-[0-9A-Z]{5}", response.text).group(0)


def test_a_passing_peserta_downloads_a_verifiable_certificate(live_tool, lms):
    browsers, base, _ids = _setup(live_tool, lms)
    siti = browsers["siti"]
    page = siti.get(base + "/sertifikat")
    assert page.status_code == 200 and "/sertifikat.pdf" in page.text
    assert _rows(live_tool.app) == 0  # looking does not issue
    r = siti.get(base + "/sertifikat.pdf")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and "no-store" in r.headers["Cache-Control"]
    number = _number(siti.get(base + "/sertifikat"))
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="sttpp-siti-rahayu-sttpp-')
    assert number.lower().replace("/", "-") in disposition
    text = pdf_text(r.content)
    assert number.encode() in text and SITI_NOMOR.encode() in text
    assert f"{live_tool.base_url}/verify/{number}".encode() in text  # printed under the QR code
    again = siti.get(base + "/sertifikat.pdf")
    assert number.encode() in pdf_text(again.content) and _rows(live_tool.app) == 1

    public = make_browser()  # no launch, no session
    v = public.get(live_tool.url(f"/verify/{number}?lang=en"))
    assert v.status_code == 200 and "Valid." in v.text and "Siti Rahayu" in v.text
    assert SITI_NOMOR in v.text and "80,13" in v.text and "Baik" in v.text
    assert "noindex" in v.headers["X-Robots-Tag"]
    assert "siti" not in v.text.lower().replace("siti rahayu", "")  # no login name, no email


def test_no_pdf_and_no_row_for_a_pending_or_failing_peserta(live_tool, lms):
    browsers, base, _ids = _setup(live_tool, lms)
    for who in ("budi", "dewi"):
        page = browsers[who].get(base + "/sertifikat")
        assert page.status_code == 200 and "/sertifikat.pdf" not in page.text
        r = browsers[who].get(base + "/sertifikat.pdf")
        assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/html")
        assert not r.content.startswith(b"%PDF")
    assert _rows(live_tool.app) == 0
    assert make_browser().get(base + "/sertifikat.pdf").status_code == 401


def test_verify_valid_unknown_and_malformed(live_tool, lms, monkeypatch):
    browsers, base, _ids = _setup(live_tool, lms)
    browsers["siti"].get(base + "/sertifikat.pdf")
    number = _number(browsers["siti"].get(base + "/sertifikat"))
    public = make_browser()
    assert public.get(live_tool.url("/verify/" + number)).status_code == 200
    # Typed in lower case with spaces: redirected to the number as printed.
    r = public.get(live_tool.url("/verify"), params={"number": f" {number.lower()} "})
    assert r.status_code == 200 and r.url.endswith("/verify/" + number)
    unknown = numbers.make("STTPP", 2026, 99999)
    r = public.get(live_tool.url(f"/verify/{unknown}?lang=en"))
    assert r.status_code == 404 and "No certificate has the number" in r.text
    assert "noindex" in r.headers["X-Robots-Tag"]

    def no_lookup(*_args, **_kwargs):
        raise AssertionError("a malformed number must not reach the database")

    monkeypatch.setattr(service, "lookup", no_lookup)
    wrong_check = number[:-1] + next(c for c in numbers.ALPHABET if c != number[-1])
    for bad in ("abc", wrong_check, "STTPP/2026/1-AAAAA", "%3Cscript%3E", "x" * 300):
        r = public.get(live_tool.url(f"/verify/{bad}?lang=en"))
        assert r.status_code == 404 and "is not a certificate number" in r.text, bad
        assert "<script>" not in r.text
    r = public.get(live_tool.url("/verify"), params={"number": "nonsense", "lang": "en"})
    assert r.status_code == 404 and "is not a certificate number" in r.text
    form = public.get(live_tool.url("/verify"))
    assert form.status_code == 200 and 'name="number"' in form.text


def test_revoke_and_reissue_show_on_the_verification_page(live_tool, lms):
    browsers, base, ids = _setup(live_tool, lms)
    siti, p1 = browsers["siti"], browsers["p1"]
    siti.get(base + "/sertifikat.pdf")
    number = _number(siti.get(base + "/sertifikat"))
    person = base + f"/sertifikat/kelas/{ids['siti']}"
    assert number in p1.get(person).text
    r = p1.post(person + "/cabut", data={"reason": "nilai dikoreksi"})  # no confirmation
    assert "error=confirm" in r.url
    r = p1.post(person + "/cabut", data={"reason": " ", "confirm": "1"})
    assert "error=reason" in r.url
    public = make_browser()
    assert "Valid." in public.get(live_tool.url(f"/verify/{number}?lang=en")).text
    open_a_form(browsers["budi"], live_tool, re.search(r"/c/\d+", base).group(0))
    r = browsers["budi"].post(person + "/cabut", data={"reason": "x", "confirm": "1"})
    assert r.status_code == 403
    r = p1.post(person + "/cabut", data={"reason": "nilai dikoreksi", "confirm": "1"})
    assert "saved=1" in r.url
    v = public.get(live_tool.url(f"/verify/{number}?lang=en"))
    assert v.status_code == 200 and "Revoked" in v.text and "Valid." not in v.text
    assert "nilai dikoreksi" not in v.text  # the staff's reason stays internal
    mine = siti.get(base + "/sertifikat.pdf")
    assert mine.status_code == 403 and number in mine.text

    p1.get(person)
    r = p1.post(person + "/terbitkan-ulang", data={"reason": "nilai dikoreksi", "confirm": "1"})
    assert "saved=1" in r.url
    new = _number(siti.get(base + "/sertifikat"))
    assert new != number
    old = public.get(live_tool.url(f"/verify/{number}?lang=en"))
    assert "Revoked" in old.text and new in old.text  # replaced by the new one
    assert "Valid." in public.get(live_tool.url(f"/verify/{new}?lang=en")).text
    assert new.encode() in pdf_text(siti.get(base + "/sertifikat.pdf").content)


def test_the_class_zip_holds_exactly_the_passing_peserta(live_tool, lms):
    browsers, base, _ids = _setup(live_tool, lms)
    p1 = browsers["p1"]
    page = p1.get(base + "/sertifikat/kelas")
    assert _rows(live_tool.app) == 0  # looking does not issue
    # the ZIP is made by a job: the button posts, the status page links the file
    r = fetch_export(live_tool.app, p1, p1.post(base + "/sertifikat/kelas.zip"))
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    assert r.headers["Content-Disposition"].startswith("attachment; filename=sttpp-gp-pedagogik-a")
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = sorted(archive.namelist())
    assert len(names) == 2
    assert names[0].startswith("sttpp-ani-sttpp-") and names[1].startswith("sttpp-siti-rahayu-")
    found = [_number_in(pdf_text(archive.read(n))) for n in names]
    assert len(set(found)) == 2  # a number of its own for each
    assert all(archive.read(n).startswith(b"%PDF") for n in names)
    page = p1.get(base + "/sertifikat/kelas")
    assert all(n in page.text for n in found)
    assert _rows(live_tool.app) == 2
    # The mentor's rombel only, read-only; a peserta none of it.
    rombel = re.search(r'<option value="(\d+)"', page.text).group(1)
    only = zipfile.ZipFile(
        io.BytesIO(
            fetch_export(
                live_tool.app, p1, p1.post(base + f"/sertifikat/kelas.zip?rombel={rombel}")
            ).content
        )
    )
    assert [n.split("-sttpp-")[0] for n in only.namelist()] == ["sttpp-siti-rahayu"]
    mentor = browsers["mentor"].get(base + "/sertifikat/kelas")
    assert mentor.status_code == 200 and "Siti Rahayu" in mentor.text and "Ani" not in mentor.text
    assert "kelas.zip" not in mentor.text and "/terbitkan" not in mentor.text
    assert browsers["mentor"].get(base + "/sertifikat/kelas.zip").status_code == 403
    browsers["mentor"].get(base + "/rekap")  # a page with a form: the next post has a token
    assert browsers["mentor"].post(base + "/sertifikat/kelas.zip").status_code == 403
    assert browsers["siti"].get(base + "/sertifikat/kelas").status_code == 403
    # another member of staff does not get the pengampu's files
    zip_status = re.search(r'href="(/c/\d+/ekspor/\d+)"', p1.get(base + "/sertifikat/kelas").text)
    assert browsers["mentor"].get(live_tool.url(zip_status.group(1))).status_code == 404


def _number_in(text: bytes) -> str:
    return re.search(rb"STTPP/\d{4}/\d{5,}-[0-9A-Z]{5}", text).group(0).decode()


def test_issue_all_and_another_courses_certificates(live_tool, lms):
    browsers, base, _ids = _setup(live_tool, lms)
    with get_db(live_tool.app).sessionmaker() as db:
        other = Context(issuer="https://other", deployment_id="d", context_id="c2", title="B")
        db.add(other)
        db.flush()
        inst, _ = instance_for(db, other.id, "gp-pedagogik-a")
        eka = add_member(db, "https://other", other.id, "eka", name="Eka")
        db.flush()
        give(db, inst, eka.id, "100", "100", "100")
        foreign = service.issue(db, inst, eka.id, template=TEMPLATE, by=None).number
        db.commit()
    p1 = browsers["p1"]
    p1.get(base + "/sertifikat/kelas")
    assert _issued(live_tool.app, p1, p1.post(base + "/sertifikat/kelas/terbitkan")) == 2
    page = p1.get(base + "/sertifikat/kelas")
    assert foreign not in page.text and "Eka" not in page.text
    assert len(set(re.findall(r"STTPP/\d{4}/\d{5,}-[0-9A-Z]{5}", page.text))) == 2
    assert p1.get(base + f"/sertifikat/kelas/{eka.id}").status_code == 404
    assert _issued(live_tool.app, p1, p1.post(base + "/sertifikat/kelas/terbitkan")) == 0
    assert _rows(live_tool.app) == 3


def _issued(app, browser, response) -> int:
    """How many certificates the "issue to all" job behind `response` issued."""
    page = wait_for_export(app, lambda: browser.get(response.url).text)
    assert state_of(page) == ("ready", "")
    with get_db(app).sessionmaker() as db:
        return db.get(ExportFile, export_id_of(response.url)).result["issued"]
