"""Class reports (rekap): every core kind on prepared data (known rows and numbers), the
filters (rombel, mentor, dates; bad values refused with a message), a mentor narrowed
to their own rombel, another course's data never showing, the streamed grade recap
equal to `scores.finals` for every peserta, CSV and XLSX files that read back, the
pages and their files (made by the job queue) through real launches (peserta
refused), and `lti-tool reports export`."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from sqlalchemy import select

from grading.formulas import PENDING
from grading.report import report_score
from lti_tool.models import (
    ActivityCompletion,
    ActivityLog,
    Context,
    CourseInstance,
    StaffReport,
    User,
)
from lti_tool.reports import writers
from lti_tool.reports.base import FilterError, Filters, kinds, parse_filters
from lti_tool.reports.gradecalc import GradeStream
from lti_tool.services import meetings, roster, scores
from lti_tool.services.instances import instance_for
from tests.conftest import add_member, launch_as, make_browser, open_a_form
from tests.exports_helpers import fetch_export

MODULE = "gp-pedagogik-a"
D = Decimal


def half_up(value: Decimal) -> Decimal:
    return value.quantize(D(1), rounding=ROUND_HALF_UP)


def _score(db, ctx, acts, user, ref, points, top="100"):
    report_score(
        db,
        context_pk=ctx.id,
        activity=acts[ref],
        user_id=user.id,
        score=D(points),
        max_score=D(top),
        source="test",
    )


class Klass:
    """Kelas A: Siti and Budi in rombel A (mentor Pak Mentor), Dewi in rombel B (Bu
    Mentor), Eko in none; a pengampu. Kelas B: a course of its own (never shown)."""

    def __init__(self, db):
        self.db = db
        ctx = Context(issuer="https://lms", deployment_id="d", context_id="a", title="Kelas A")
        other = Context(issuer="https://lms", deployment_id="d", context_id="b", title="Kelas B")
        db.add_all([ctx, other])
        db.flush()
        self.ctx, self.other = ctx, other
        self.inst, _ = instance_for(db, ctx.id, MODULE)
        self.other_inst, _ = instance_for(db, other.id, MODULE)
        t0 = datetime(2026, 7, 13, 1, 0)  # 08:00 in Jakarta
        self.t0 = t0
        u = {}
        for sub, name in (
            ("siti", "Siti Rahayu"),
            ("budi", "Budi Santoso"),
            ("dewi", "Dewi Lestari"),
            ("eko", "Eko Prasetyo"),
        ):
            u[sub] = add_member(db, "https://lms", ctx.id, sub, name=name, first_launch=t0)
        u["mentor1"] = add_member(db, "https://lms", ctx.id, "m1", role="mentor", name="Pak Mentor")
        u["mentor2"] = add_member(db, "https://lms", ctx.id, "m2", role="mentor", name="Bu Mentor")
        u["pengampu"] = add_member(
            db, "https://lms", ctx.id, "p1", role="pengampu", name="Bu Pengampu"
        )
        u["zaki"] = add_member(db, "https://lms", other.id, "zaki", name="Zaki Lain")
        db.flush()
        self.u = u
        u["siti"].email, u["siti"].person_sourcedid = "siti@sekolah.sch.id", "16220415610025"
        self.a = roster.create_rombel(db, self.inst, "Rombel A", u["mentor1"].id)
        self.b = roster.create_rombel(db, self.inst, "Rombel B", u["mentor2"].id)
        for sub, r in (("siti", self.a), ("budi", self.a), ("dewi", self.b)):
            roster.assign(db, self.inst, u[sub].id, r.id, by=u["pengampu"].id)
        self.acts = {f"{b.key}/{a.key}": a for b in self.inst.module.blocks for a in b.activities}
        acts = self.acts
        for n, points in enumerate(("80", "70", "90", "65"), start=1):
            _score(db, ctx, acts, u["siti"], f"sesi-{n}/tes-sumatif", points)  # TS 76.25
            _score(db, ctx, acts, u["siti"], f"sesi-{n}/penilaian-diri", "45", "50")  # PD 90
        _score(db, ctx, acts, u["siti"], "penutup/tes-akhir", "82.5")
        scores.set_manual(db, self.inst, u["siti"].id, "UKG", D("61"), by=u["pengampu"].id)
        for n in range(1, 5):
            _score(db, ctx, acts, u["budi"], f"sesi-{n}/tes-sumatif", "80")
            _score(db, ctx, acts, u["budi"], f"sesi-{n}/penilaian-diri", "100")
        for n, points in enumerate(("60", "61", "62", "62"), start=1):
            _score(db, ctx, acts, u["dewi"], f"sesi-{n}/tes-sumatif", points)  # TS 61.25
            _score(db, ctx, acts, u["dewi"], f"sesi-{n}/penilaian-diri", "2", "3")  # 66.67
        scores.set_manual(db, self.inst, u["dewi"].id, "TA", D("55.55"), by=u["pengampu"].id)
        scores.set_manual(db, self.inst, u["dewi"].id, "UKG", D("50"), by=u["pengampu"].id)
        # Kelas B has scores too (never to be seen from Kelas A)
        other_acts = {
            f"{b.key}/{a.key}": a for b in self.other_inst.module.blocks for a in b.activities
        }
        _score(db, other, other_acts, u["zaki"], "penutup/tes-akhir", "99")
        db.flush()

    @property
    def ids(self) -> dict[str, int]:
        return {k: v.id for k, v in self.u.items()}


@pytest.fixture
def klass(db):
    return Klass(db)


def tables_of(app, db, klass, name, filters=None, inst=None):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from lti_tool.i18n import use_locale

        use_locale("en")
        kind = kinds(app)[name]
        found = kind.tables(db, inst or klass.inst, filters or Filters())
        return {t.key: (t, list(t.all())) for t in found}


# -- the kinds on prepared data ---------------------------------------------------------


def test_grade_recap_rows_to_the_digit(app, db, klass):
    out = tables_of(app, db, klass, "grades")
    table, rows = out["peserta"]
    assert [str(c.label) for c in table.columns] == [
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
    assert rows == [
        (
            1,
            "Budi Santoso",
            "",
            "",
            "Rombel A",
            D("100.00"),
            D("80.00"),
            None,
            None,
            None,
            None,
            None,
        ),
        # NA = 10% x 66.666.. + 50% x 61.25 + 40% x 55.55 = 59.5116.. -> 59.51
        (
            2,
            "Dewi Lestari",
            "",
            "",
            "Rombel B",
            D("66.67"),
            D("61.25"),
            D("55.55"),
            D("59.51"),
            "No",
            "Kurang",
            D("50.00"),
        ),
        (3, "Eko Prasetyo", "", "", "", None, None, None, None, None, None, None),
        # NA = 9 + 38.125 + 33 = 80.125 -> 80.13 (half up)
        (
            4,
            "Siti Rahayu",
            "siti@sekolah.sch.id",
            "16220415610025",
            "Rombel A",
            D("90.00"),
            D("76.25"),
            D("82.50"),
            D("80.13"),
            "Yes",
            "Baik",
            D("61.00"),
        ),
    ]
    notes = dict(out["notes"][1])
    assert notes["Formula"] == "NA = 10% PD + 50% TS + 40% TA" and notes["Pass mark"] == "70"
    # a page is a window on the same rows, numbered on
    assert table.page(1, 2) == rows[1:3]


def _same(a, b) -> bool:
    return (a.value, a.passed, a.predikat, a.components) == (
        b.value,
        b.passed,
        b.predikat,
        b.components,
    )


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_streamed_grade_recap_equals_finals_for_every_peserta(db, closed):
    """60 peserta with random scores (some missing, some out of other maxima), imported
    TA and UKG: the streamed recap gives each the Result of `scores.finals`."""
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="r", title="Acak")
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, MODULE)
    if closed:
        inst.start_date = date.today() - timedelta(days=90)  # missing scores count as zero
    rng = random.Random(7)
    graded = [a for b in inst.module.blocks for a in b.activities if a.component]
    people = []
    for i in range(60):
        user = add_member(db, "https://lms", ctx.id, f"u{i}", name=f"Guru {rng.randint(0, 99):02d}")
        db.flush()
        people.append(user)
        for a in graded:
            if rng.random() < 0.8:
                top = rng.choice(("100", "50", "3", "7"))
                points = D(rng.randint(0, int(top) * 100)) / 100
                report_score(
                    db,
                    context_pk=ctx.id,
                    activity=a,
                    user_id=user.id,
                    score=points,
                    max_score=D(top),
                    source="test",
                )
        if rng.random() < 0.3:
            scores.set_manual(db, inst, user.id, "TA", D(rng.randint(0, 10000)) / 100, by=user.id)
        if rng.random() < 0.5:
            scores.set_manual(db, inst, user.id, "UKG", D(rng.randint(0, 10000)) / 100, by=user.id)
    db.flush()
    ids = [p.id for p in people]
    expected = scores.finals(db, inst, ids)
    streamed = {person.id: result for person, result, _m in GradeStream(db, inst).rows(Filters())}
    assert set(streamed) == set(ids)
    assert all(_same(streamed[uid], expected[uid]) for uid in ids)
    values = [r.value for r in expected.values()]
    if closed:
        assert all(v is not PENDING for v in values)
    else:
        assert any(v is PENDING for v in values) and any(v is not PENDING for v in values)


def test_completion_recap(app, db, klass):
    u, acts = klass.u, klass.acts
    t0 = klass.t0
    done_at = {
        ("siti", "pendahuluan/kebijakan"): t0,
        ("siti", "sesi-1/tes-sumatif"): t0 + timedelta(days=3),
        ("budi", "pendahuluan/kebijakan"): t0 + timedelta(days=10),
    }
    for (sub, ref), at in done_at.items():
        klass.db.add(
            ActivityCompletion(
                context_pk=klass.ctx.id,
                activity_id=acts[ref].id,
                user_id=u[sub].id,
                state="graded" if "tes" in ref else "viewed",
                completed_at=at,
            )
        )
    klass.db.add(
        ActivityCompletion(
            context_pk=klass.ctx.id,
            activity_id=acts["pendahuluan/alur"].id,
            user_id=u["siti"].id,
            state="viewed",
        )
    )
    db.flush()
    total = len(acts)
    out = tables_of(app, db, klass, "completion")
    table, rows = out["peserta"]
    labels = [str(c.label) for c in table.columns]
    assert labels[:4] == [
        "No",
        "Name",
        "Rombel",
        "1.1 Kebijakan Pengembangan Keprofesian Berkelanjutan",
    ]
    assert labels[-4:] == ["Completed", "Activities", "%", "Memenuhi syarat Tes Akhir"]
    siti = rows[3]
    assert siti[1] == "Siti Rahayu"
    cells = dict(zip(labels, siti, strict=True))
    assert cells["1.1 Kebijakan Pengembangan Keprofesian Berkelanjutan"] == "✓"
    assert cells["1.3 Alur Kegiatan Belajar"] == "viewed"  # a state, not complete
    assert siti[-4:] == (2, total, half_up(D(200) / total), "No")
    assert rows[0][-4:-1] == (1, total, half_up(D(100) / total))
    per_activity = {r[0]: r for r in out["activities"][1]}
    assert per_activity["1.1 Kebijakan Pengembangan Keprofesian Berkelanjutan"][2:] == (
        2,
        4,
        D(50),
    )
    per_rombel = out["rombel"][1]
    assert [r[0] for r in per_rombel] == ["(no rombel)", "Rombel A", "Rombel B", "Whole class"]
    assert per_rombel[1][1:] == (2, half_up(D(300) / (2 * total)), 0)
    # only completions in the period count
    period = Filters(date_from=date(2026, 7, 14), date_to=date(2026, 7, 20))
    rows = tables_of(app, db, klass, "completion", period)["peserta"][1]
    assert rows[3][-4] == 1 and rows[0][-4] == 0


def test_login_records(app, db, klass):
    u = klass.u
    log = [
        ("siti", "peserta", klass.t0),
        ("siti", "peserta", klass.t0 + timedelta(days=2)),
        ("dewi", "peserta", klass.t0 + timedelta(days=1)),
        ("mentor1", "mentor", klass.t0 + timedelta(days=1, hours=3)),
        ("pengampu", "pengampu", klass.t0 - timedelta(days=1)),
    ]
    for sub, role, at in log:
        db.add(
            ActivityLog(
                at=at,
                user_id=u[sub].id,
                context_pk=klass.ctx.id,
                role=role,
                event="launch",
                detail="/course/gp-pedagogik-a",
            )
        )
    db.add(
        ActivityLog(
            at=klass.t0,
            user_id=u["zaki"].id,
            context_pk=klass.other.id,
            role="peserta",
            event="launch",
        )
    )
    db.flush()
    out = tables_of(app, db, klass, "logins")
    people = {r[0]: r for r in out["people"][1]}
    assert "Zaki Lain" not in people
    assert people["Siti Rahayu"][1:] == (
        "Participant (peserta)",
        "Rombel A",
        2,
        klass.t0,
        klass.t0 + timedelta(days=2),
    )
    assert people["Eko Prasetyo"][3] == 0
    # staff first (admin, pengampu, mentor, then peserta)
    assert [r[0] for r in out["people"][1]][:3] == ["Bu Pengampu", "Bu Mentor", "Pak Mentor"]
    records = out["records"][1]
    assert [r[0] for r in records] == sorted((at for _s, _r, at in log), reverse=True)
    roles = {r[0]: r[1:] for r in out["roles"][1]}
    assert roles["Participant (peserta)"] == (4, 2, 3)
    assert roles["Mentor"] == (2, 1, 1)
    # dates (days in the class's time zone) and a rombel: its peserta and its mentor
    period = Filters(date_from=date(2026, 7, 14), date_to=date(2026, 7, 14), rombel_id=klass.a.id)
    out = tables_of(app, db, klass, "logins", period)
    assert [(r[1], r[0]) for r in out["records"][1]] == [
        ("Pak Mentor", klass.t0 + timedelta(days=1, hours=3))
    ]
    assert sorted(r[0] for r in out["people"][1]) == ["Budi Santoso", "Pak Mentor", "Siti Rahayu"]


def _attendance(db, klass):
    u = klass.u

    def save(key, kind, title, rombel, held, statuses, place=None):
        meetings.save(
            db,
            klass.inst,
            key=key,
            kind=kind,
            title=title,
            rombel_id=rombel,
            data=meetings.MeetingInput(
                held_on=held,
                time="08:00",
                texts={"place": place or "", "resume": "Orientasi"},
                statuses=statuses,
            ),
            by=u["pengampu"].id,
        )

    tm = "TM-1: Orientasi di Pusat Belajar"
    save(
        "tm-1",
        "tm",
        tm,
        klass.a.id,
        date(2026, 7, 14),
        {u["siti"].id: "hadir", u["budi"].id: "izin"},
    )
    save("tm-1", "tm", tm, klass.b.id, date(2026, 7, 15), {u["dewi"].id: "hadir"}, "SMPN 2")
    everyone = {u[s].id: "hadir" for s in ("siti", "budi", "dewi", "eko")}
    everyone[u["eko"].id] = "alpa"
    save("web-1", "web", "WC sesi 2", None, date(2026, 7, 28), everyone)
    db.flush()


def test_attendance_recap(app, db, klass):
    _attendance(db, klass)
    out = tables_of(app, db, klass, "attendance")
    table, rows = out["peserta"]
    labels = [str(c.label) for c in table.columns]
    assert labels[4:6] == ["TM-1: Orientasi di Pusat Belajar", "WC sesi 2"]
    assert [r[1:] for r in rows] == [
        ("Budi Santoso", "", "Rombel A", "izin", "hadir", 1, 2, D(50)),
        ("Dewi Lestari", "", "Rombel B", "hadir", "hadir", 2, 2, D(100)),
        ("Eko Prasetyo", "", "", None, "alpa", 0, 1, D(0)),
        ("Siti Rahayu", "16220415610025", "Rombel A", "hadir", "hadir", 2, 2, D(100)),
    ]
    records = out["meetings"][1]
    assert [(r[1], r[3], r[4], r[7:11]) for r in records] == [
        ("TM-1: Orientasi di Pusat Belajar", "Rombel A", date(2026, 7, 14), (1, 1, 0, 0)),
        ("TM-1: Orientasi di Pusat Belajar", "Rombel B", date(2026, 7, 15), (1, 0, 0, 0)),
        ("WC sesi 2", "whole class", date(2026, 7, 28), (3, 0, 0, 1)),
    ]
    # held between: only the TM of the 15th; a rombel filter keeps its meetings and the class's
    period = Filters(date_from=date(2026, 7, 15), date_to=date(2026, 7, 20))
    rows = tables_of(app, db, klass, "attendance", period)["peserta"][1]
    assert [r[4:] for r in rows] == [(None, 0, 0, None), ("hadir", 1, 1, D(100))] + [
        (None, 0, 0, None)
    ] * 2
    out = tables_of(app, db, klass, "attendance", Filters(rombel_id=klass.b.id))
    assert [r[1] for r in out["peserta"][1]] == ["Dewi Lestari"]
    assert [r[3] for r in out["meetings"][1]] == ["Rombel B", "whole class"]


def test_prepost_recap(app, db, klass):
    out = tables_of(app, db, klass, "prepost")
    rows = out["peserta"][1]
    assert [r[1:] for r in rows] == [
        ("Budi Santoso", "", "Rombel A", None, None, None),
        ("Dewi Lestari", "", "Rombel B", D("50.00"), D("55.55"), D("5.55")),
        ("Eko Prasetyo", "", "", None, None, None),
        ("Siti Rahayu", "16220415610025", "Rombel A", D("61.00"), D("82.50"), D("21.50")),
    ]
    analysis = out["analysis"][1]
    whole = analysis[0]
    assert whole[:5] == ("Whole class", 4, 2, D("55.50"), D("69.03"))
    assert abs(whole[5] - D("13.525")) <= D("0.005")  # mean difference (float statistics)
    assert whole[8] == 1  # df
    assert [r[0] for r in analysis[1:]] == ["Rombel A", "Rombel B"]
    mentor = tables_of(app, db, klass, "prepost", Filters(only_mentor=klass.ids["mentor2"]))
    assert [r[1] for r in mentor["peserta"][1]] == ["Dewi Lestari"]
    assert [r[0] for r in mentor["analysis"][1]] == ["Rombel B"]


def test_mentor_and_pengampu_reports(app, db, klass):
    _attendance(db, klass)
    u = klass.u
    mentor_report = StaffReport(
        instance_id=klass.inst.id,
        author_id=u["mentor1"].id,
        kind="mentor",
        rombel_id=klass.a.id,
        week=1,
        constraints="Sinyal lemah",
        lessons="Belajar berkelompok",
        recommendations="TM sore hari",
    )
    pengampu_report = StaffReport(
        instance_id=klass.inst.id, author_id=u["pengampu"].id, kind="pengampu", week=6
    )
    db.add_all([mentor_report, pengampu_report])
    db.flush()
    out = tables_of(app, db, klass, "mentor_reports")
    reports = out["reports"][1]
    assert [r[1:8] for r in reports] == [
        ("Mentor (Lampiran 4)", "Pak Mentor", "Rombel A", 1, "draft", None, "Sinyal lemah"),
        ("Pengampu (Lampiran 5)", "Bu Pengampu", "", 6, "draft", None, ""),
    ]
    meetings_rows = out["meetings"][1]
    # the mentor's report lists its rombel's TM and the class's web conference
    assert [(r[0], r[5], r[6]) for r in meetings_rows if r[0] == 1] == [
        (1, "TM-1: Orientasi di Pusat Belajar", 1),
        (1, "WC sesi 2", 3),
    ]
    assert {r[4] for r in out["activity"][1] if r[0] == 1} == {"Siti Rahayu", "Budi Santoso"}
    # a mentor sees the reports on their rombel only
    mine = tables_of(app, db, klass, "mentor_reports", Filters(only_mentor=klass.ids["mentor2"]))
    assert mine["reports"][1] == []


# -- filters, the mentor's view, other courses ---------------------------------------------


def test_filters_narrow_the_peserta(app, db, klass):
    def names(filters):
        return [r[1] for r in tables_of(app, db, klass, "grades", filters)["peserta"][1]]

    assert names(Filters(rombel_id=klass.a.id)) == ["Budi Santoso", "Siti Rahayu"]
    assert names(Filters(mentor_id=klass.ids["mentor2"])) == ["Dewi Lestari"]
    assert names(Filters(only_mentor=klass.ids["mentor1"])) == ["Budi Santoso", "Siti Rahayu"]
    # a mentor asking for another mentor's rombel gets nothing of it
    assert names(Filters(only_mentor=klass.ids["mentor1"], rombel_id=klass.b.id)) == []


def test_bad_filter_values_are_refused_with_a_message(app, db, klass):
    with app.test_request_context():
        from lti_tool.i18n import use_locale

        use_locale("en")
        ok = parse_filters(
            db, klass.inst, {"rombel": str(klass.a.id), "from": "2026-07-01", "to": "2026-07-31"}
        )
        assert (ok.rombel_id, ok.date_from, ok.date_to) == (
            klass.a.id,
            date(2026, 7, 1),
            date(2026, 7, 31),
        )
        cases = [
            ({"rombel": "999999"}, "no such rombel"),
            ({"rombel": "abc"}, "no such rombel"),
            ({"mentor": str(klass.ids["siti"])}, "no such mentor"),
            ({"from": "31-07-2026"}, "YYYY-MM-DD"),
            ({"to": "2026-02-30"}, "YYYY-MM-DD"),
            ({"from": "2026-08-01", "to": "2026-07-01"}, "start date is after"),
        ]
        for args, words in cases:
            with pytest.raises(FilterError) as err:
                parse_filters(db, klass.inst, args)
            assert words in str(err.value), args
        # a mentor cannot name a rombel that is not theirs
        with pytest.raises(FilterError):
            parse_filters(
                db, klass.inst, {"rombel": str(klass.b.id)}, only_mentor=klass.ids["mentor1"]
            )


def test_another_course_never_appears(app, db, klass):
    _attendance(db, klass)
    for name in kinds(app):
        for _key, (_table, rows) in tables_of(app, db, klass, name).items():
            text = repr(rows)
            assert "Zaki" not in text and "99.00" not in text, name


# -- files --------------------------------------------------------------------------------


def _csv_tables(data: bytes, delimiter: str) -> list[list[list[str]]]:
    """The tables of a CSV report (title row first when there are several)."""
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=delimiter))
    out, current = [], []
    for row in rows:
        if row == []:
            out.append(current)
            current = []
        else:
            current.append(row)
    out.append(current)
    return out


def test_csv_and_xlsx_files_read_back(app, db, klass, tmp_path):
    with app.test_request_context():
        from lti_tool.i18n import use_locale

        use_locale("en")  # words in English; numbers and separators as Indonesian Excel wants
        tables = kinds(app)["grades"].tables(db, klass.inst, Filters())
        data = b"".join(writers.csv_chunks(tables, timezone="Asia/Jakarta", indonesian=True))
        path = tmp_path / "r.xlsx"
        with path.open("wb") as out:
            writers.write_xlsx(tables, out, timezone="Asia/Jakarta", tmpdir=str(tmp_path))
    scores_table, _notes = _csv_tables(data, ";")
    assert len(scores_table[0]) == 1  # the table's title
    header = scores_table[1]
    assert header[:3] == ["No", "Name", "Email"] and header[5:9] == ["PD", "TS", "TA", "NA"]
    siti = scores_table[5]
    assert siti[1] == "Siti Rahayu" and siti[5:12] == [
        "90,00",
        "76,25",
        "82,50",
        "80,13",
        "Yes",
        "Baik",
        "61,00",
    ]
    assert scores_table[2][7:9] == ["", ""]  # Budi's TA and NA are pending: empty, never 0
    book = openpyxl.load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:5] == ["No", "Name", "Email", "Participant number", "Rombel"]
    assert values[4][:1] == [4] and values[4][5:9] == [90.0, 76.25, 82.5, 80.13]
    assert values[1][7] is None
    assert len(book.worksheets) == 2  # scores and notes
    book.close()


def test_formula_like_names_stay_text(app, db, klass):
    klass.u["eko"].name = "=HYPERLINK(1)"
    db.flush()
    with app.test_request_context():
        tables = kinds(app)["grades"].tables(db, klass.inst, Filters())[:1]
        data = b"".join(writers.csv_chunks(tables, timezone=None, indonesian=False))
    assert "'=HYPERLINK(1)" in data.decode("utf-8-sig")


# -- pages and downloads through real launches ----------------------------------------------


def _launch(live_tool, lms, roles, sub, name):
    browser = make_browser()
    page = launch_as(live_tool, lms, browser, roles, sub, f"/course/{MODULE}", name=name)
    ctx = int(re.search(r"/c/(\d+)/", page.text).group(1))
    return browser, ctx


def test_pages_and_downloads_by_role(live_tool, lms, monkeypatch):
    admin, ctx = _launch(live_tool, lms, ["Administrator"], "admin-1", "Admin Kelas")
    mentor, _ = _launch(live_tool, lms, ["Mentor"], "mentor-1", "Pak Mentor")
    siti, _ = _launch(live_tool, lms, ["Learner"], "siti", "Siti")
    budi, _ = _launch(live_tool, lms, ["Learner"], "budi", "Budi")
    with live_tool.app.app_context():
        from lti_tool.db import session

        db = session()
        users = {u.sub: u.id for u in db.scalars(select(User))}
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == ctx)).one()
        rombel = roster.create_rombel(db, inst, "Rombel A", users["mentor-1"])
        roster.assign(db, inst, users["siti"], rombel.id, by=users["admin-1"])
        db.commit()
    base = live_tool.url(f"/c/{ctx}/module/{MODULE}/rekap")
    # the class overview links the reports
    assert f"/c/{ctx}/module/{MODULE}/rekap" in admin.get(base.replace("/rekap", "/kelas")).text
    index = admin.get(base)
    assert index.status_code == 200
    for name in ("logins", "completion", "grades", "prepost", "attendance", "smiley"):
        assert f"/rekap/{name}" in index.text
    page = admin.get(base + "/grades")
    assert page.status_code == 200 and "Siti" in page.text and "Budi" in page.text
    # a mentor: their rombel only, on screen and in both files
    page = mentor.get(base + "/grades")
    assert page.status_code == 200 and "Siti" in page.text and "Budi" not in page.text
    # the files are made by a job: the button posts, the status page links the file
    data = fetch_export(live_tool.app, mentor, mentor.post(base + "/grades.csv"))
    assert data.status_code == 200 and data.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in data.headers["Content-Disposition"]
    assert "Siti" in data.content.decode("utf-8-sig") and "Budi" not in data.content.decode(
        "utf-8-sig"
    )
    xlsx = fetch_export(live_tool.app, mentor, mentor.post(base + "/logins.xlsx"))
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    names = [r[0] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    book.close()
    assert "Siti" in names and "Budi" not in names and "Pak Mentor" in names
    # bad filters: a message, not a crash; a rombel that is not the mentor's is refused
    bad = admin.get(base + "/grades?rombel=999999&from=kemarin")
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert admin.get(base + "/grades.xlsx?to=2026-13-01").status_code == 400
    assert mentor.get(base + "/grades.csv?rombel=999999").status_code == 400
    assert mentor.post(base + "/grades.csv?rombel=999999").status_code == 400
    assert admin.get(base + "/nothing").status_code == 404
    # pages of rows
    import lti_tool.web.rekap as rekap_view

    monkeypatch.setattr(rekap_view, "PAGE_SIZE", 1)
    first = admin.get(base + "/grades")
    assert "Budi" in first.text and "Siti" not in first.text and "page=2" in first.text
    second = admin.get(base + "/grades?page=2")
    assert "Siti" in second.text and "Budi" not in second.text
    # peserta are refused everything
    for path in ("", "/grades", "/grades.csv", "/grades.xlsx"):
        assert siti.get(base + path).status_code == 403
        assert budi.get(base + path).status_code == 403
    open_a_form(siti, live_tool, f"/c/{ctx}")
    for path in ("/grades.csv", "/grades.xlsx"):
        assert siti.post(base + path).status_code == 403


# -- the command line -------------------------------------------------------------------------

KINDS = ("logins", "completion", "grades", "plpg", "smiley", "evaluation", "attendance", "prepost")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli_export_writes_every_kind(app, db, klass, tmp_path, fmt):
    tmp_path = tmp_path / "out"  # (the test database is in tmp_path)
    tmp_path.mkdir()
    _attendance(db, klass)
    db.commit()
    runner = app.test_cli_runner()
    for kind in (*KINDS, "mentor_reports"):
        out = tmp_path / f"{kind}.{fmt}"
        result = runner.invoke(
            args=[
                "reports",
                "export",
                kind,
                "--context",
                str(klass.ctx.id),
                "--format",
                fmt,
                "--output",
                str(out),
                "--locale",
                "en",
            ]
        )
        assert result.exit_code == 0, (kind, result.output)
        if fmt == "csv":
            text = out.read_text(encoding="utf-8-sig")
            assert "Zaki" not in text
            if kind == "grades":
                assert "Siti Rahayu" in text and "80.13" in text
        else:
            book = openpyxl.load_workbook(out, read_only=True)
            assert book.worksheets
            first = next(book.worksheets[0].iter_rows(values_only=True))
            assert first[0]
            book.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{k}.{fmt}" for k in (*KINDS, "mentor_reports")
    )


def test_cli_export_filters_and_refusals(app, db, klass, tmp_path):
    tmp_path = tmp_path / "out"  # (the test database is in tmp_path)
    tmp_path.mkdir()
    db.commit()
    runner = app.test_cli_runner()
    out = tmp_path / "nilai.csv"
    common = ["--format", "csv", "--output", str(out)]
    ok = runner.invoke(
        args=[
            *("reports", "export", "grades", "--context", str(klass.ctx.id), "--module", MODULE),
            *common,
            *("--rombel", str(klass.b.id), "--locale", "en"),
        ]
    )
    assert ok.exit_code == 0, ok.output
    text = out.read_text(encoding="utf-8-sig")
    assert "Dewi Lestari" in text and "Siti" not in text
    out.unlink()
    refusals = [
        ["reports", "export", "nilai", "--context", str(klass.ctx.id)],
        ["reports", "export", "grades", "--context", "999999"],
        ["reports", "export", "grades", "--context", str(klass.ctx.id), "--module", "nope"],
        ["reports", "export", "grades", "--context", str(klass.ctx.id), "--rombel", "999999"],
        ["reports", "export", "logins", "--context", str(klass.ctx.id), "--from", "kemarin"],
    ]
    for args in refusals:
        result = runner.invoke(args=args + common)
        assert result.exit_code == 2, (args, result.output)
        assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no partial file left either
    unknown = runner.invoke(args=refusals[0] + common)
    assert "unknown report kind 'nilai'" in unknown.output and "grades" in unknown.output


def test_every_plugin_report_kind_is_a_named_report_kind(app):
    from lti_tool.reports.base import ReportKind

    for plugin in app.extensions["lti_activities"]:
        for kind in plugin.report_kinds:
            assert issubclass(kind, ReportKind) and kind.name and kind.title
    assert {"smiley", "evaluation", "plpg"} <= set(kinds(app))
