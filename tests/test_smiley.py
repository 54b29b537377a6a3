"""Reaksi Peserta: a five-face survey per even session, editable until the week ends,
with a recap for staff (distribution, mean, response rate, comments)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import ActivityCompletion, CourseInstance
from lti_tool.services import schedule
from plugins.smiley.models import SmileyResponse
from tests.conftest import launch_as, make_browser

SESI2 = "/course/gp-pedagogik-a/sesi-2/reaksi"
SESI4 = "/course/gp-pedagogik-a/sesi-4/reaksi"


def _open(live_tool, lms, browser, roles, sub, target=SESI2):
    return launch_as(live_tool, lms, browser, roles, sub, target)


def _action(page) -> str:
    return re.search(r'action="(/c/\d+/smiley/\d+)"', page.text).group(1)


def _rows(live_tool):
    with get_db(live_tool.app).sessionmaker() as db:
        return list(db.scalars(select(SmileyResponse)))


def test_answer_edit_and_recap(live_tool, lms):
    siti, budi, pengampu = make_browser(), make_browser(), make_browser()
    page = _open(live_tool, lms, siti, ["Learner"], "siti")
    text = page.text
    assert "Materi sesi ini bermanfaat" in text and "Dukungan pengampu membantu saya" in text
    # five faces per item, each labelled for screen readers
    assert text.count('type="radio" name="item-0"') == 5
    assert '<span class="sr">5 — Sangat puas</span>' in text
    action = live_tool.url(_action(page))

    # an incomplete answer is refused, what was chosen comes back, nothing is stored
    refused = siti.post(action, data={"item-0": "4", "comment": "Bagus"})
    assert refused.status_code == 400
    assert "Tidak ada yang hilang" in refused.text
    assert re.search(r'name="item-0" value="4" checked', refused.text)
    assert "Bagus</textarea>" in refused.text and 'class="faces invalid"' in refused.text
    assert _rows(live_tool) == []
    bad = siti.post(action, data={"item-0": "9", "item-1": "3"})
    assert bad.status_code == 400 and _rows(live_tool) == []

    ok = siti.post(action, data={"item-0": "5", "item-1": "4", "comment": "Sangat membantu"})
    assert "Terima kasih" in ok.text
    with get_db(live_tool.app).sessionmaker() as db:
        (done,) = db.scalars(select(ActivityCompletion))
        assert done.state == "submitted" and done.completed_at is not None
    # editable: a second answer replaces the first
    siti.post(action, data={"item-0": "4", "item-1": "4", "comment": "Sangat membantu"})
    (row,) = _rows(live_tool)
    assert row.answers == {"0": 4, "1": 4}

    budi_page = _open(live_tool, lms, budi, ["Learner"], "budi")
    budi.post(live_tool.url(_action(budi_page)), data={"item-0": "2", "item-1": "5"})

    recap = _open(live_tool, lms, pengampu, ["Instructor"], "pengampu-1").text
    assert "2 dari 2 peserta menjawab (100%)" in recap
    first_row = re.search(
        r"<th scope=\"row\">Materi sesi ini bermanfaat</th>(.*?)</tr>", recap
    ).group(1)
    assert re.findall(r"<td>([^<]*)</td>", first_row) == ["0", "1", "0", "1", "0", "3.00"]
    assert "<strong>Siti</strong>: Sangat membantu" in recap
    # staff cannot answer (with a valid token from a page with a form)
    pengampu.get(action.split("/smiley/")[0] + "/module/gp-pedagogik-a")
    assert pengampu.post(action, data={"item-0": "5", "item-1": "5"}).status_code == 403


def test_comments_reach_the_mentor_without_names_when_the_template_says_so(live_tool, lms):
    siti, mentor, pengampu = make_browser(), make_browser(), make_browser()
    page = _open(live_tool, lms, siti, ["Learner"], "siti", SESI4)
    siti.post(
        live_tool.url(_action(page)),
        data={"item-0": "3", "item-1": "3", "comment": "Waktunya kurang"},
    )
    mentor_view = _open(live_tool, lms, mentor, ["Mentor"], "mentor-1", SESI4).text
    assert "<li>Waktunya kurang</li>" in mentor_view and "Siti" not in mentor_view
    pengampu_view = _open(live_tool, lms, pengampu, ["Instructor"], "pengampu-1", SESI4).text
    assert "<strong>Siti</strong>: Waktunya kurang" in pengampu_view


def test_survey_closes_at_the_end_of_the_sessions_week(live_tool, lms):
    siti = make_browser()
    page = _open(live_tool, lms, siti, ["Learner"], "siti")
    action = live_tool.url(_action(page))
    siti.post(action, data={"item-0": "4", "item-1": "4"})
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        # sesi-2 is week 3: start six weeks ago, so its week is over
        inst.start_date = schedule.today_in("Asia/Jakarta") - timedelta(days=42)
        db.commit()
    refused = siti.post(action, data={"item-0": "1", "item-1": "1"})
    assert "Survei ini ditutup pada akhir minggu sesi." in refused.text
    (row,) = _rows(live_tool)
    assert row.answers == {"0": 4, "1": 4}  # kept as it was
    view = _open(live_tool, lms, siti, ["Learner"], "siti").text
    assert "Survei ini sudah ditutup. Jawaban Anda tetap tersimpan." in view
    assert 'name="item-0"' not in view
