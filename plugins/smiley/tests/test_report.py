"""The `smiley` report kind: answers per face, mean and count per statement, the
response rate, and each peserta's answers and comment (nameless for a mentor when the
survey is anonymous to mentors)."""

from __future__ import annotations

from decimal import Decimal

from lti_tool.models import Context
from lti_tool.reports.base import Filters, kinds
from lti_tool.services import roster
from lti_tool.services.instances import instance_for
from plugins.smiley.models import SmileyResponse
from tests.conftest import add_member


def _tables(app, db, inst, filters=None):
    with app.test_request_context():
        from lti_tool.i18n import use_locale

        use_locale("en")
        kind = kinds(app)["smiley"]
        assert kind.applies(db, inst)
        return {t.key: list(t.all()) for t in kind.tables(db, inst, filters or Filters())}


def test_smiley_recap(app, db):
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="s", title="Kelas S")
    other = Context(issuer="https://lms", deployment_id="d", context_id="o", title="Lain")
    db.add_all([ctx, other])
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    people = {
        s: add_member(db, "https://lms", ctx.id, s, name=s.title()) for s in ("ani", "budi", "cici")
    }
    mentor = add_member(db, "https://lms", ctx.id, "m1", role="mentor", name="Pak Mentor")
    stranger = add_member(db, "https://lms", other.id, "zaki", name="Zaki")
    db.flush()
    rombel = roster.create_rombel(db, inst, "A", mentor.id)
    for s in ("ani", "budi"):
        roster.assign(db, inst, people[s].id, rombel.id, by=mentor.id)
    sesi2, _sesi4 = (a for b in inst.module.blocks for a in b.activities if a.type == "smiley")
    answers = {
        "ani": ({"0": 5, "1": 4}, "Bagus"),
        "budi": ({"0": 3, "1": 4}, None),
        "cici": ({"0": 4, "1": 1}, "Kurang jelas"),
    }
    for s, (given, comment) in answers.items():
        db.add(
            SmileyResponse(
                context_pk=ctx.id,
                activity_id=sesi2.id,
                user_id=people[s].id,
                answers=given,
                comment=comment,
            )
        )
    db.add(
        SmileyResponse(
            context_pk=other.id, activity_id=sesi2.id, user_id=stranger.id, answers={"0": 1, "1": 1}
        )
    )
    db.flush()
    out = _tables(app, db, inst)
    items = out["items"]
    assert [r[1:] for r in items[:2]] == [
        (1, "Materi sesi ini bermanfaat", 0, 0, 1, 1, 1, 3, Decimal("4.00")),
        (2, "Dukungan pengampu membantu saya", 1, 0, 0, 2, 0, 3, Decimal("3.00")),
    ]
    assert [r[1:] for r in items[2:]] == [
        (1, "Materi sesi ini bermanfaat", 0, 0, 0, 0, 0, 0, None),
        (2, "Dukungan pengampu membantu saya", 0, 0, 0, 0, 0, 0, None),
    ]
    assert [r[1:] for r in out["rate"]] == [(3, 3, Decimal(100)), (0, 3, Decimal(0))]
    assert [r[1:] for r in out["answers"]] == [
        ("Ani", "A", items[0][0], 5, 4, "Bagus"),
        ("Budi", "A", items[0][0], 3, 4, ""),
        ("Cici", "", items[0][0], 4, 1, "Kurang jelas"),
    ]
    # a mentor: their rombel only; names hidden when the survey says so
    mine = _tables(app, db, inst, Filters(only_mentor=mentor.id))
    assert [r[1] for r in mine["answers"]] == ["Ani", "Budi"]
    assert mine["items"][0][3:9] == (0, 0, 1, 0, 1, 2)
    sesi2.settings = {"anonymous_to_mentor": True}
    db.flush()
    hidden = _tables(app, db, inst, Filters(only_mentor=mentor.id))
    assert [r[1] for r in hidden["answers"]] == ["—", "—"]
    assert [r[1] for r in _tables(app, db, inst)["answers"]] == ["Ani", "Budi", "Cici"]
