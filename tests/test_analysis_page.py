"""The analysis page through real launches: who may see it (peserta 403, a mentor only
their rombel), the t-test numbers for prepared scores, the pengampu's interpretation
(kept as typed when refused), and no data of another course."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import Context, CourseInstance, PrePostNote, User
from lti_tool.services import roster, scores
from tests.conftest import add_member, make_browser, open_a_form

MODULE = "/course/gp-pedagogik-a"
# (initial UKG, final TA): the hand-computed example of tests/test_prepost.py
PAIRS = [(60, 70), (55, 65), (70, 72), (65, 80), (50, 58)]


def _launch(live_tool, lms, roles, sub, context=None):
    browser = make_browser()
    extra = {} if context is None else {"context": context}
    result = lms.launch(
        browser,
        roles=roles,
        user={"sub": sub, "name": sub.title()},
        target_link_uri=live_tool.url(MODULE),
        locale="en",
        **extra,
    )
    assert result.ok, result.error
    return browser, result.final_response


def _analysis_url(live_tool, page) -> str:
    canonical = re.search(r'history.replaceState\(null, "", "([^"]+)"\)', page.text).group(1)
    return live_tool.url(canonical + "/analisis")


@pytest.fixture
def klass(live_tool, lms):
    """A class with a pengampu, a mentor leading Rombel A (3 peserta, diffs 10, 10, 2)
    and Rombel B (2 peserta with scores, one without), smiley answers in both."""
    pengampu, page = _launch(live_tool, lms, ["Instructor"], "bu-pengampu")
    mentor, _page = _launch(live_tool, lms, ["Mentor"], "pak-mentor")
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        ctx = db.get(Context, inst.context_pk)
        by = db.scalar(select(User.id).where(User.sub == "bu-pengampu"))
        mentor_id = db.scalar(select(User.id).where(User.sub == "pak-mentor"))
        people = [add_member(db, ctx.issuer, ctx.id, f"guru-{i}") for i in range(6)]
        db.flush()
        for person, (a, b) in zip(people, PAIRS, strict=False):
            scores.set_manual(db, inst, person.id, "UKG", Decimal(a), by)
            scores.set_manual(db, inst, person.id, "TA", Decimal(b), by)
        rombel_a = roster.create_rombel(db, inst, "Rombel A", mentor_id)
        rombel_b = roster.create_rombel(db, inst, "Rombel B", None)
        for person in people[:3]:
            roster.assign(db, inst, person.id, rombel_a.id, by)
        for person in people[3:]:
            roster.assign(db, inst, person.id, rombel_b.id, by)
        from plugins.smiley.models import SmileyResponse

        smiley = next(a for b in inst.module.blocks for a in b.activities if a.type == "smiley")
        # Rombel A answers face 5 (x3), Rombel B face 1 (x3)
        for person, face in zip(people, [5, 5, 5, 1, 1, 1], strict=True):
            db.add(
                SmileyResponse(
                    context_pk=ctx.id,
                    activity_id=smiley.id,
                    user_id=person.id,
                    answers={"0": face, "1": face},
                )
            )
        ids = {"a": rombel_a.id, "b": rombel_b.id, "inst": inst.id}
        db.commit()
    return {
        "pengampu": pengampu,
        "mentor": mentor,
        "url": _analysis_url(live_tool, page),
        "ids": ids,
        "app": live_tool.app,
    }


def _cells(page_text: str, row_class: str) -> list[str]:
    row = re.search(rf'<tr class="{row_class}">(.*?)</tr>', page_text, re.S).group(1)
    return [html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


def test_pengampu_sees_the_paired_t_test_per_class_and_rombel(klass):
    r = klass["pengampu"].get(klass["url"])
    assert r.status_code == 200
    text = r.text
    assert "t = d̄ / (s_d / √n), df = n \u2212 1" in text and "d_z = d̄ / s_d" in text
    whole = _cells(text, "group-class")
    # group, peserta, n, initial, final, diff, CI, t, df, p, d_z, effect, d_av
    assert whole[:3] == ["Whole class", "6", "5"]
    assert whole[3] == "60.00 (7.91)" and whole[4] == "69.00 (8.19)"
    assert whole[5] == "+9.00 (4.69)" and whole[6] == "3.18 to 14.82"
    assert whole[7:12] == ["4.291", "4", "0.0127", "1.92", "large"]
    a = _cells(text, f"group-{klass['ids']['a']}")
    # Rombel A: diffs 10, 10, 2: mean 7.33, s_d = sqrt(64/3) = 4.62, t = 2.750, df 2
    assert a[:3] == ["Rombel A", "3", "3"] and a[7:9] == ["2.750", "2"]
    b = _cells(text, f"group-{klass['ids']['b']}")
    assert b[:3] == ["Rombel B", "3", "2"]
    assert "Rombel B: Only 2 pairs: the test is computed" in html.unescape(text)
    assert text.count("<svg") >= 5 and 'role="img"' in text
    # the smiley section, from the plugin's hook, for the whole class: 3 x face 5, 3 x 1
    smiley = html.unescape(text.split("Reaksi peserta", 1)[1])
    assert "6 of 6 peserta answered" in smiley
    assert "5 · 50%" in smiley and "1 · 50%" in smiley
    assert "Programme evaluation" in text and "Completion over the weeks" in text


def test_mentor_sees_only_their_rombel_and_cannot_write(klass):
    r = klass["mentor"].get(klass["url"])
    assert r.status_code == 200
    text = html.unescape(r.text)
    assert 'class="group-class"' not in r.text and "Rombel B" not in text
    assert _cells(r.text, f"group-{klass['ids']['a']}")[7:9] == ["2.750", "2"]
    assert "4.291" not in text
    assert "3 of 3 peserta answered" in text and "5 · 100%" in text  # their rombel's faces
    assert "<textarea" not in r.text
    # with a valid CSRF token (from the reports page, where a mentor writes), still refused
    assert (
        'name="csrf_token"'
        in klass["mentor"].get(klass["url"][: -len("analisis")] + "laporan").text
    )
    refused = klass["mentor"].post(klass["url"], data={"text": "mine"})
    assert refused.status_code == 403


def test_peserta_gets_403(live_tool, lms, klass):
    siti, page = _launch(live_tool, lms, ["Learner"], "siti")
    url = _analysis_url(live_tool, page)
    assert url == klass["url"]
    assert siti.get(url).status_code == 403
    open_a_form(
        siti, live_tool, url[len(live_tool.base_url) : -len("/module/gp-pedagogik-a/analisis")]
    )
    assert siti.post(url, data={"text": "x"}).status_code == 403


def test_pengampu_writes_the_interpretation_and_a_mentor_reads_it_as_text(klass):
    pengampu, url = klass["pengampu"], klass["url"]
    pengampu.get(url)
    note = "Nilai naik <b>signifikan</b>;\r\nefek besar."
    r = pengampu.post(url, data={"text": note, "rombel_id": ""})
    assert r.status_code == 200 and "Saved." in r.text
    assert "Nilai naik &lt;b&gt;signifikan&lt;/b&gt;;\nefek besar.</textarea>" in r.text
    r = pengampu.post(url, data={"text": "Rombel A naik.", "rombel_id": str(klass["ids"]["a"])})
    assert "Rombel A naik.</textarea>" in r.text
    mentor_view = klass["mentor"].get(url).text
    assert "Nilai naik &lt;b&gt;signifikan&lt;/b&gt;" in mentor_view and "<b>" not in mentor_view
    assert "Rombel A naik." in mentor_view
    # emptying a note removes it
    pengampu.post(url, data={"text": "  ", "rombel_id": str(klass["ids"]["a"])})
    with get_db(klass["app"]).sessionmaker() as db:
        assert [n.rombel_id for n in db.scalars(select(PrePostNote))] == [None]


def test_a_too_long_note_is_refused_and_kept_as_typed(klass, live_tool):
    pengampu, url = klass["pengampu"], klass["url"]
    pengampu.get(url)
    pengampu.post(url, data={"text": "Versi pertama."})
    long_text = "Analisis panjang. " * 300  # 5400 characters
    r = pengampu.post(url, data={"text": long_text, "rombel_id": ""})
    assert r.status_code == 400
    assert "at most 5000 characters" in r.text and 'aria-invalid="true"' in r.text
    assert long_text in html.unescape(r.text)
    with get_db(live_tool.app).sessionmaker() as db:
        assert [n.text for n in db.scalars(select(PrePostNote))] == ["Versi pertama."]
    # a rombel of no class of this module
    assert pengampu.post(url, data={"text": "x", "rombel_id": "9999"}).status_code == 404


def test_another_course_sees_none_of_this_data(live_tool, lms, klass):
    other, page = _launch(
        live_tool, lms, ["Instructor"], "bu-lain", context={"id": "course-other", "title": "B"}
    )
    url = _analysis_url(live_tool, page)
    assert url != klass["url"]
    text = html.unescape(other.get(url).text)
    assert "Too few pairs for a paired t-test: 0 peserta" in text
    assert "4.291" not in text and "Rombel A" not in text and "of 6 peserta" not in text
    assert "0 of 0 peserta answered" in text
    # and the other course's pengampu cannot open this course's page
    assert other.get(klass["url"]).status_code in (401, 403)


def test_many_rombel_share_one_interpretation_form(klass, monkeypatch):
    from lti_tool.web import analysis

    monkeypatch.setattr(analysis, "MAX_NOTE_BOXES", 1)
    pengampu, url = klass["pengampu"], klass["url"]
    page = pengampu.get(url).text
    assert page.count("<textarea") == 1 and 'name="rombel_id"' in page and "<select" in page
    rombel_a = str(klass["ids"]["a"])
    r = pengampu.post(url, data={"text": "Rombel A: naik.", "rombel_id": rombel_a})
    assert r.status_code == 200 and '<p class="pre">Rombel A: naik.</p>' in r.text
    too_long = "x" * 5001
    r = pengampu.post(url, data={"text": too_long, "rombel_id": rombel_a})
    assert r.status_code == 400 and too_long in r.text
    assert f'<option value="{rombel_a}" selected>Rombel A</option>' in r.text


def test_the_plugins_recap_pages_show_the_chart_too(klass):
    base = klass["url"][: -len("/analisis")]
    smiley = klass["pengampu"].get(base + "/sesi-2/reaksi").text
    recap = html.unescape(smiley.split("Recap", 1)[1])
    assert 'role="img"' in recap and "5 · 50%" in recap and "1 · 50%" in recap
    evaluasi = klass["pengampu"].get(base + "/penutup/evaluasi").text
    assert "No data yet." in evaluasi.split("Recap", 1)[1]  # nobody answered yet


def test_weekly_completion_counts_peserta_who_finished_each_week(db):
    from lti_tool.analysis import progress
    from lti_tool.db import utcnow
    from lti_tool.models import ActivityCompletion
    from lti_tool.services.instances import instance_for

    ctx = Context(issuer="https://lms", deployment_id="d", context_id="w", title="W")
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    a, b, c = (add_member(db, "https://lms", ctx.id, s) for s in "abc")
    db.flush()
    week1 = [x for blk in inst.module.blocks if blk.week == 1 for x in blk.activities]
    done = [(a, week1), (b, week1), (c, week1[:1])]  # a and b finish week 1, c one activity
    for person, acts in done:
        for act in acts:
            db.add(
                ActivityCompletion(
                    context_pk=ctx.id,
                    activity_id=act.id,
                    user_id=person.id,
                    state="graded",
                    completed_at=utcnow(),
                )
            )
    db.add(  # viewed only: not complete
        ActivityCompletion(context_pk=ctx.id, activity_id=week1[1].id, user_id=c.id, state="viewed")
    )
    db.flush()
    rows = progress.weekly(db, inst, [a.id, b.id, c.id])
    first = rows[0]
    assert (first.label, first.activities, first.complete, first.peserta) == ("1", len(week1), 2, 3)
    assert first.percent == pytest.approx(200 / 3)
    assert first.mean_percent == pytest.approx(100 * (2 * len(week1) + 1) / (3 * len(week1)))
    assert all(r.complete == 0 and r.percent == 0 for r in rows[1:])
    assert progress.weekly(db, inst, [a.id])[0].percent == 100
