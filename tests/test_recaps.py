"""Recaps of the monitoring instruments on prepared data: empty, partial and complete
responses; one response per peserta, enforced by the database too."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lti_tool.db import get_db, utcnow
from lti_tool.models import Activity, CourseInstance
from plugins.evaluasi.models import EvaluasiResponse
from plugins.smiley.models import SmileyResponse
from tests.conftest import add_member, make_browser

SMILEY = "/course/gp-pedagogik-a/sesi-2/reaksi"
EVALUASI = "/course/gp-pedagogik-a/penutup/evaluasi"


def _staff_page(live_tool, lms, target):
    browser = make_browser()
    result = lms.launch(
        browser,
        roles=["Instructor"],
        user={"sub": "p1", "name": "P"},
        target_link_uri=live_tool.url(target),
    )
    assert result.ok, result.error
    return result.final_response.text


def _prepare(live_tool, lms, key: str, model, answers: list[dict], **extra):
    """Three peserta in the course; one response per entry of `answers`."""
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        activity = db.scalars(select(Activity).where(Activity.key == key)).first()
        users = [
            add_member(db, lms.issuer, inst.context_pk, f"g{i}", first_launch=utcnow())
            for i in range(3)
        ]
        for user, a in zip(users, answers, strict=False):
            db.add(
                model(
                    context_pk=inst.context_pk,
                    activity_id=activity.id,
                    user_id=user.id,
                    answers=a,
                    **extra,
                )
            )
        db.commit()
        return inst.context_pk, activity.id, users[0].id


def test_smiley_recap_empty_then_partial(live_tool, lms):
    empty = _staff_page(live_tool, lms, SMILEY)
    assert "0 dari 0 peserta menjawab" in empty
    assert re.search(r"Materi sesi ini bermanfaat</th>(<td>0</td>){5}<td>—</td>", empty)
    _prepare(
        live_tool, lms, "reaksi", SmileyResponse, [{"0": 5, "1": 4}, {"0": 2}]
    )  # the second response lacks item 2
    page = _staff_page(live_tool, lms, SMILEY)
    assert "2 dari 3 peserta menjawab (67%)" in page
    first = re.search(r"Materi sesi ini bermanfaat</th>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td>([^<]*)</td>", first) == ["0", "1", "0", "0", "1", "3.50"]
    second = re.search(r"Dukungan pengampu membantu saya</th>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td>([^<]*)</td>", second) == ["0", "0", "0", "1", "0", "4.00"]


def test_evaluasi_recap_with_partial_answers(live_tool, lms):
    _staff_page(live_tool, lms, EVALUASI)  # the instance exists
    full = {f"l{i}": 4 for i in range(7)} | {"o0": "Forum", "o1": "", "o2": "Berbagi"}
    partial = {"l0": 2, "l1": 2}  # an old, partial record: only two scaled items
    _prepare(live_tool, lms, "evaluasi", EvaluasiResponse, [full, partial])
    page = _staff_page(live_tool, lms, EVALUASI)
    assert "2 dari 3 peserta menjawab" in page
    # relevance: items 1 and 6 -> 4, 4, 2 -> mean 3.333 -> 58.3
    assert "Indeks relevansi: <strong>58.3</strong>" in page
    # effectiveness: items 2-5 -> 4, 4, 4, 4, 2 -> mean 3.6 -> 65.0
    assert "Indeks efektivitas: <strong>65.0</strong>" in page
    assert "<li>Forum</li>" in page and "<li>Berbagi</li>" in page


@pytest.mark.parametrize(
    ("model", "key", "answers"),
    [
        (SmileyResponse, "reaksi", {"0": 3, "1": 3}),
        (EvaluasiResponse, "evaluasi", {"l0": 3}),
    ],
)
def test_one_response_per_peserta_in_the_database(live_tool, lms, model, key, answers):
    target = SMILEY if model is SmileyResponse else EVALUASI
    _staff_page(live_tool, lms, target)
    ctx, activity_id, user_id = _prepare(live_tool, lms, key, model, [answers])
    with get_db(live_tool.app).sessionmaker() as db:
        db.add(model(context_pk=ctx, activity_id=activity_id, user_id=user_id, answers=answers))
        with pytest.raises(IntegrityError):
            db.commit()
        db.rollback()
        assert db.query(model).count() == 1
