"""Peserta biodata: the form (prefilled from the LMS's ID number), refusals that name
the wrong part and write nothing, per-course separation, staff views, the nomor
peserta filter, and the lookups other features use."""

from __future__ import annotations

import re

from flask import render_template_string
from sqlalchemy import func, select

from lti_tool.db import get_db
from lti_tool.models import Biodata, Context, User
from lti_tool.services import biodata
from tests.conftest import add_member, make_browser
from tests.peer import DEFAULT_CONTEXT
from tests.peer.constants import CLAIM_LIS

MODULE = "/course/gp-pedagogik-a"
NOMOR = "16 22 04 156 1 0025"
OTHER_COURSE = {**DEFAULT_CONTEXT, "id": "course-ppg-202", "title": "Kelas B"}
FORM = {
    "nomor_peserta": NOMOR,
    "instansi": "SMP Negeri 1 Kuta",
    "nuptk": "5563 7416 4312 0003",
    "lptk": "44",
    "phone": "0812-3456-7890",
}


def _launch(live_tool, lms, browser, sub, roles=("Learner",), context=DEFAULT_CONTEXT, **claims):
    """A launch in English; returns the course's id."""
    result = lms.launch(
        browser,
        roles=list(roles),
        user={"sub": sub, "name": sub.title(), "email": f"{sub}@sekolah.sch.id"},
        target_link_uri=live_tool.url(MODULE),
        context=context,
        locale="en-US",
        extra_claims=claims or None,
    )
    assert result.ok, result.error
    return int(re.search(r"/c/(\d+)/", result.final_response.text).group(1))


def _rows(live_tool) -> list[Biodata]:
    with get_db(live_tool.app).sessionmaker() as db:
        return list(db.scalars(select(Biodata)))


def test_the_form_is_prefilled_saves_and_shows_the_parts(live_tool, lms):
    siti = make_browser()
    ctx = _launch(live_tool, lms, siti, "siti", **{CLAIM_LIS: {"person_sourcedid": NOMOR}})
    url = live_tool.url(f"/c/{ctx}/biodata")
    module = siti.get(live_tool.url(f"/c/{ctx}/module/gp-pedagogik-a"))
    assert f'href="/c/{ctx}/biodata"' in module.text and "My biodata" in module.text
    page = siti.get(url)
    assert page.status_code == 200
    assert f'value="{NOMOR}"' in page.text  # the LMS's ID number, to confirm
    assert 'name="csrf_token"' in page.text

    saved = siti.post(url, data=FORM)
    assert saved.status_code == 200 and saved.url.endswith("saved=1")
    assert "Saved." in saved.text
    for part in (
        "2016",
        "Bali",
        "Kabupaten Badung",
        "Bahasa Indonesia",
        "Kementerian Pendidikan dan Kebudayaan",
        "0025",
        "SMP Negeri 1 Kuta",
        "Universitas Pendidikan Ganesha (Singaraja)",
    ):
        assert part in saved.text
    (row,) = _rows(live_tool)
    assert (row.context_pk, row.nomor_peserta, row.nuptk, row.lptk, row.phone) == (
        ctx,
        "16220415610025",
        "5563741643120003",
        "44",
        "0812-3456-7890",
    )
    # the stored values fill the form next time; a change updates the same row
    again = siti.get(url)
    assert 'value="16220415610025"' in again.text and 'value="44" selected' in again.text
    siti.post(url, data={**FORM, "instansi": "SMP Negeri 2 Kuta", "nuptk": "", "lptk": ""})
    (row,) = _rows(live_tool)
    assert (row.instansi, row.nuptk, row.lptk) == ("SMP Negeri 2 Kuta", None, None)


def test_bad_input_is_refused_naming_the_part_and_nothing_is_written(live_tool, lms):
    siti = make_browser()
    ctx = _launch(live_tool, lms, siti, "siti")
    url = live_tool.url(f"/c/{ctx}/biodata")
    siti.get(url)
    cases = {
        "16 99 04 156 1 0025": "Digits 3-4 (99) are not a province code",
        "16 22 98 156 1 0025": "Digits 5-6 (98) are not a regency/city code of Bali",
        "16 22 04 999 1 0025": "Digits 7-9 (999) are not a bidang studi code",
        "16 22 04 156 8 0025": "Digit 10 (8) is not a ministry code",
        "16 22 04 156 1 0000": "Digits 11-14 (the sequence number) start at 0001",
        "16 22 04 156 1 002": "A participant number has 14 digits; this one has 13.",
        "16 22 04 156 1 00x5": "A participant number has digits only",
        "": "Enter your participant number",
    }
    for number, message in cases.items():
        page = siti.post(url, data={**FORM, "nomor_peserta": number})
        assert page.status_code == 400, number
        assert message in page.text, number
        assert "Nothing was saved" in page.text
        assert f'value="{number}"' in page.text  # what was typed is kept for correcting
    for field, value, message in (
        ("nuptk", "12345", "The NUPTK has 16 digits"),
        ("instansi", "  ", "Enter the name of your school"),
        ("lptk", "99", "Choose an LPTK from the list"),
        ("phone", "call me", "Enter the phone number with 8 to 15 digits"),
        ("phone", "0812", "Enter the phone number with 8 to 15 digits"),
    ):
        page = siti.post(url, data={**FORM, field: value})
        assert page.status_code == 400 and message in page.text, field
    assert _rows(live_tool) == []
    # after a good save, a bad change leaves the saved biodata as it was
    assert siti.post(url, data=FORM).status_code == 200
    siti.post(url, data={**FORM, "nomor_peserta": "16 22 04 156 6 0025", "instansi": "X"})
    (row,) = _rows(live_tool)
    assert (row.nomor_peserta, row.instansi) == ("16220415610025", "SMP Negeri 1 Kuta")
    # without the form's CSRF token nothing is written either
    bare = make_browser()
    _launch(live_tool, lms, bare, "budi")
    assert bare.post(url, data={"csrf_token": "", **FORM}).status_code == 400
    assert len(_rows(live_tool)) == 1


def test_no_course_reads_another_courses_biodata(live_tool, lms):
    siti = make_browser()
    a = _launch(live_tool, lms, siti, "siti", **{CLAIM_LIS: {"person_sourcedid": NOMOR}})
    siti.get(live_tool.url(f"/c/{a}/biodata"))
    siti.post(live_tool.url(f"/c/{a}/biodata"), data=FORM)
    # the same peserta in another course starts from the LMS's number, not course A's form
    b = _launch(live_tool, lms, siti, "siti", context=OTHER_COURSE)
    assert b != a
    page = siti.get(live_tool.url(f"/c/{b}/biodata"))
    assert "SMP Negeri 1 Kuta" not in page.text and "As saved" not in page.text
    # a peserta of course B only cannot open course A's pages
    budi = make_browser()
    _launch(live_tool, lms, budi, "budi", context=OTHER_COURSE)
    assert budi.get(live_tool.url(f"/c/{a}/biodata")).status_code == 401
    with get_db(live_tool.app).sessionmaker() as db:
        siti_id = db.scalar(select(User.id).where(User.sub == "siti"))
        budi_id = db.scalar(select(User.id).where(User.sub == "budi"))
    # staff of course B do not see course A's entry, nor a peserta who is not theirs
    pengampu = make_browser()
    _launch(live_tool, lms, pengampu, "bu-b", roles=["Instructor"], context=OTHER_COURSE)
    listing = pengampu.get(live_tool.url(f"/c/{b}/biodata"))
    assert "SMP Negeri 1 Kuta" not in listing.text and "Siti" in listing.text
    view = pengampu.get(live_tool.url(f"/c/{b}/biodata/{siti_id}"))
    assert view.status_code == 200 and "SMP Negeri 1 Kuta" not in view.text
    assert pengampu.get(live_tool.url(f"/c/{a}/biodata/{siti_id}")).status_code == 401
    # a peserta cannot open someone's biodata, nor post as staff would
    assert budi.get(live_tool.url(f"/c/{b}/biodata/{siti_id}")).status_code == 403
    assert budi.get(live_tool.url(f"/c/{b}/biodata/{budi_id + 1000}")).status_code == 403
    with get_db(live_tool.app).sessionmaker() as db:
        assert biodata.institution_of(db, a, siti_id) == "SMP Negeri 1 Kuta"
        assert biodata.institution_of(db, b, siti_id) is None
        assert biodata.nomor_of(db, a, siti_id) == "16220415610025"  # the biodata
        assert biodata.nomor_of(db, b, siti_id) == NOMOR  # the LMS's ID number
        assert biodata.nomor_of(db, b, budi_id) is None


def test_staff_see_the_class_and_a_mentor_only_their_rombel(live_tool, lms):
    siti = make_browser()
    ctx = _launch(live_tool, lms, siti, "siti")
    siti.get(live_tool.url(f"/c/{ctx}/biodata"))
    siti.post(live_tool.url(f"/c/{ctx}/biodata"), data=FORM)
    pengampu = make_browser()
    _launch(live_tool, lms, pengampu, "bu-a", roles=["Instructor"])
    with get_db(live_tool.app).sessionmaker() as db:
        siti_id = db.scalar(select(User.id).where(User.sub == "siti"))
        issuer = db.scalar(select(Context.issuer).where(Context.id == ctx))
        add_member(db, issuer, ctx, "tono", name="Tono", first_launch=None)
        db.commit()
    listing = pengampu.get(live_tool.url(f"/c/{ctx}/biodata"))
    assert listing.status_code == 200
    assert "1 of 2 peserta have filled in their biodata." in listing.text
    assert (
        '<abbr class="nomor" title="2016 · Bali · Kab. Badung · Bahasa Indonesia · Kemdikbud'
        ' · #25">16 22 04 156 1 0025</abbr>'
    ) in listing.text
    assert "not filled in" in listing.text  # Tono
    view = pengampu.get(live_tool.url(f"/c/{ctx}/biodata/{siti_id}"))
    assert "Kabupaten Badung" in view.text and "0812-3456-7890" in view.text
    assert pengampu.post(live_tool.url(f"/c/{ctx}/biodata"), data=FORM).status_code == 403
    # the staff overview shows the number with its parts
    overview = pengampu.get(live_tool.url(f"/c/{ctx}/module/gp-pedagogik-a/kelas"))
    assert 'title="2016 · Bali · Kab. Badung' in overview.text
    # a mentor without a rombel leading Siti sees nobody
    mentor = make_browser()
    _launch(live_tool, lms, mentor, "pak-mentor", roles=["Mentor"])
    assert mentor.get(live_tool.url(f"/c/{ctx}/biodata/{siti_id}")).status_code == 403
    assert "Siti" not in mentor.get(live_tool.url(f"/c/{ctx}/biodata")).text


def test_the_filter_renders_the_parts(app):
    with app.test_request_context():
        render = lambda source, **values: render_template_string(source, **values)  # noqa: E731
        out = render("{{ n|nomor_peserta }}", n="16220415610025")
        assert out == (
            '<abbr class="nomor" title="2016 · Bali · Kab. Badung · Bahasa Indonesia · '
            'Kemdikbud · #25">16 22 04 156 1 0025</abbr>'
        )
        spelled = render("{{ n|nomor_peserta(parts=True) }}", n="16-22-01-180-1-0429")
        assert "16 22 01 180 1 0429" in spelled
        assert "2016 · Bali · Kab. Buleleng · Matematika · Kemdikbud · #429" in spelled
        broken = render("{{ n|nomor_peserta }}", n="16 99 04 156 1 0025")
        assert 'class="nomor error"' in broken and "3-4 (99)" in broken
        assert render("{{ n|nomor_peserta }}", n="<b>siti@x.id</b>") == (
            "&lt;b&gt;siti@x.id&lt;/b&gt;"
        )
        assert render("{{ n|nomor_peserta or '—' }}", n=None) == "—"
        assert render("{{ nomor_parts(n).regency }}", n=NOMOR) == "Kabupaten Badung"


def test_nomors_of_many_peserta_take_biodata_first(db):
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="c1", title="A")
    db.add(ctx)
    db.flush()
    users = [add_member(db, "https://lms", ctx.id, f"u{i}") for i in range(3)]
    users[0].person_sourcedid = "16 22 04 156 1 0001"
    users[1].person_sourcedid = "16 22 04 156 1 0002"
    data, errors = biodata.check({**FORM, "nomor_peserta": "16 22 04 156 1 0003"})
    assert errors == {}
    biodata.save(db, ctx.id, users[1].id, data)
    numbers = biodata.nomors_in(db, ctx.id, [u.id for u in users])
    assert numbers == {users[0].id: "16 22 04 156 1 0001", users[1].id: "16220415610003"}
    assert biodata.nomors_in(db, ctx.id) == {users[1].id: "16220415610003"}
    assert db.scalar(select(func.count(Biodata.id))) == 1
