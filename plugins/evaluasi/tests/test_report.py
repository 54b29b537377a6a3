"""The `evaluation` report kind: answers per item from Sangat Baik to Sangat Kurang with
each item's index, the relevance and effectiveness indices, and the open answers."""

from __future__ import annotations

from decimal import Decimal

from lti_tool.models import Context
from lti_tool.reports.base import Filters, kinds
from lti_tool.services import roster
from lti_tool.services.instances import instance_for
from plugins.evaluasi.models import EvaluasiResponse
from tests.conftest import add_member


def _tables(app, db, inst, filters=None):
    with app.test_request_context():
        from lti_tool.i18n import use_locale

        use_locale("en")
        kind = kinds(app)["evaluation"]
        assert kind.applies(db, inst)
        return {t.key: list(t.all()) for t in kind.tables(db, inst, filters or Filters())}


def _answers(scaled: list[int], texts: list[str]) -> dict:
    out = {f"l{i}": v for i, v in enumerate(scaled)}
    out.update({f"o{i}": t for i, t in enumerate(texts)})
    return out


def test_evaluation_recap(app, db):
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="e", title="Kelas E")
    other = Context(issuer="https://lms", deployment_id="d", context_id="o", title="Lain")
    db.add_all([ctx, other])
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    ani = add_member(db, "https://lms", ctx.id, "ani", name="Ani")
    budi = add_member(db, "https://lms", ctx.id, "budi", name="Budi")
    mentor = add_member(db, "https://lms", ctx.id, "m1", role="mentor", name="Pak Mentor")
    zaki = add_member(db, "https://lms", other.id, "zaki", name="Zaki")
    db.flush()
    rombel = roster.create_rombel(db, inst, "A", mentor.id)
    roster.assign(db, inst, ani.id, rombel.id, by=mentor.id)
    (activity,) = (a for b in inst.module.blocks for a in b.activities if a.type == "evaluasi")
    db.add_all(
        [
            EvaluasiResponse(
                context_pk=ctx.id,
                activity_id=activity.id,
                user_id=ani.id,
                answers=_answers([5, 5, 4, 3, 4, 5, 2], ["Forum", "Jadwal", "Berbagi"]),
            ),
            EvaluasiResponse(
                context_pk=ctx.id,
                activity_id=activity.id,
                user_id=budi.id,
                answers=_answers([4, 3, 4, 1, 4, 3, 3], ["Materi", "Sinyal", "Menerapkan"]),
            ),
            EvaluasiResponse(
                context_pk=other.id,
                activity_id=activity.id,
                user_id=zaki.id,
                answers=_answers([1] * 7, ["Lain", "Lain", "Lain"]),
            ),
        ]
    )
    db.flush()
    out = _tables(app, db, inst)
    items = out["items"]
    assert len(items) == 7  # the six of Lampiran 1 and the template's extra item
    # item 1: Sangat Baik 1, Baik 1 -> mean 4.5 -> (4.5 - 1) / 4 x 100 = 87.5
    assert items[0][1] == 1 and items[0][3:] == (1, 1, 0, 0, 0, 2, Decimal("87.5"))
    assert items[3][3:] == (0, 0, 1, 0, 1, 2, Decimal("25.0"))  # 3 and 1: mean 2
    assert items[6][2] == "Bagaimana Saudara menilai jadwal pembelajaran?"
    indices = {r[1]: r[2:] for r in out["indices"]}
    # relevance: items 1 and 6 -> 5, 4, 5, 3 -> mean 4.25 -> 81.3 (half up, one decimal)
    assert indices["Relevance"] == ("1, 6", 2, Decimal("81.3"))
    # effectiveness: items 2-5 -> 5,4,3,4 and 3,4,1,4 -> mean 3.5 -> 62.5
    assert indices["Effectiveness"] == ("2, 3, 4, 5", 2, Decimal("62.5"))
    open_answers = [(r[1], r[3]) for r in out["open"]]
    assert open_answers == [
        (8, "Forum"),
        (8, "Materi"),
        (9, "Jadwal"),
        (9, "Sinyal"),
        (10, "Berbagi"),
        (10, "Menerapkan"),
    ]
    assert "Zaki" not in repr(out) and "Lain" not in repr(out)
    # a mentor sees their rombel's answers only
    mine = _tables(app, db, inst, Filters(only_mentor=mentor.id))
    assert mine["items"][0][3:8] == (1, 0, 0, 0, 0)
    assert [r[3] for r in mine["open"]] == ["Forum", "Jadwal", "Berbagi"]
