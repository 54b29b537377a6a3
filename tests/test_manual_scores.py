"""Manual component scores (PLPG proses and presentasi) with an audit trail, and final
scores from the template's rule (pending while a component has no score)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import CourseInstance, ManualScore, ScoreAudit, User
from lti_tool.services import scores
from tests.conftest import make_browser

MODULE = "/course/gp-pedagogik-a"


@pytest.mark.parametrize(
    ("text", "value"),
    [("", None), ("80", Decimal("80.00")), ("72,5", Decimal("72.50")), ("100", Decimal("100.00"))],
)
def test_parse_score(text, value):
    assert scores.parse_score(text) == value


@pytest.mark.parametrize("text", ["101", "-1", "80.123", "abc", "NaN", "Infinity"])
def test_parse_score_refuses(text):
    with pytest.raises(ValueError):
        scores.parse_score(text)


def _plpg(live_tool):
    """The fixture module, scored as the PLPG SP with manual proses and presentasi."""
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        definition = dict(inst.module.definition)
        definition["scoring"] = {
            "name": "SP",
            "label": "Skor Pembekalan",
            "pass_mark": "65",
            "precision": 2,
            "missing_after_close": "pending",
            "components": [
                {"key": "proses", "label": "Proses", "weight": "30", "manual": True},
                {"key": "laporan", "label": "Laporan", "weight": "30"},
                {"key": "presentasi", "label": "Presentasi", "weight": "40", "manual": True},
            ],
            "predikat": [],
        }
        inst.module.definition = definition
        db.commit()


def test_entry_audit_and_pending_final(live_tool, lms):
    pengampu, siti = make_browser(), make_browser()
    lms.launch(
        siti,
        roles=["Learner"],
        user={"sub": "siti", "name": "Siti"},
        target_link_uri=live_tool.url(MODULE),
    )
    result = lms.launch(
        pengampu,
        roles=["Instructor"],
        user={"sub": "p1", "name": "Bu Pengampu"},
        target_link_uri=live_tool.url(MODULE),
    )
    _plpg(live_tool)
    url = live_tool.url(
        re.search(r'href="(/c/\d+/module/gp-pedagogik-a)/kelas"', result.final_response.text).group(
            1
        )
        + "/nilai"
    )
    page = pengampu.get(url).text
    assert (
        "Skor: Skor Pembekalan (SP)" in page and "30% Proses + 30% Laporan + 40% Presentasi" in page
    )
    with get_db(live_tool.app).sessionmaker() as db:
        sid = db.scalars(select(User).where(User.sub == "siti")).one().id
    bad = pengampu.post(url, data={f"score-{sid}-proses": "85", f"score-{sid}-presentasi": "101"})
    assert bad.status_code == 400 and "Tidak ada yang disimpan" in bad.text
    assert 'value="101"' in bad.text  # what was typed comes back
    with get_db(live_tool.app).sessionmaker() as db:
        assert db.scalars(select(ManualScore)).first() is None
    ok = pengampu.post(url, data={f"score-{sid}-proses": "85", f"score-{sid}-presentasi": "70,5"})
    assert "Tersimpan." in ok.text
    # laporan has no score yet (its plugin arrives later): the SP is pending
    assert "tertunda" in ok.text
    pengampu.post(url, data={f"score-{sid}-proses": "88", f"score-{sid}-presentasi": "70.5"})
    with get_db(live_tool.app).sessionmaker() as db:
        rows = {r.component: r.value for r in db.scalars(select(ManualScore))}
        assert rows == {"proses": "88.00", "presentasi": "70.50"}
        trail = [
            (a.component, a.old_value, a.new_value)
            for a in db.scalars(select(ScoreAudit).order_by(ScoreAudit.id))
        ]
        assert trail == [
            ("proses", None, "85.00"),
            ("presentasi", None, "70.50"),
            ("proses", "85.00", "88.00"),
        ]  # an unchanged value is not audited
    page = pengampu.get(url).text
    assert "Bu Pengampu: Siti, proses 85.00 → 88.00" in page


def test_final_score_once_every_component_is_known(live_tool, lms):
    pengampu = make_browser()
    lms.launch(
        pengampu,
        roles=["Instructor"],
        user={"sub": "p1", "name": "P"},
        target_link_uri=live_tool.url(MODULE),
    )
    _plpg(live_tool)
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        rule = scores.rule_of(inst)
        from grading.formulas import final_score

        result = final_score(
            {"proses": Decimal(70), "laporan": Decimal(80), "presentasi": Decimal(60)}, rule
        )
        assert result.value == Decimal("69.00") and result.passed is True
