"""Scores page: manual components entered by staff, final scores, and the audit trail."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from lti_tool.db import session as db_session
from lti_tool.models import User
from lti_tool.services import roster, scores
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU
from lti_tool.web.auth import course_access
from lti_tool.web.views import _instance

bp = Blueprint("scores", __name__)
INVALID = _l("Nothing was saved: enter scores from 0 to 100 with at most two decimals.")


def _people(db, inst):
    people = roster.peserta(db, inst)
    if g.role == MENTOR:
        mine = {r.id for r in roster.rombels(db, inst) if r.mentor_id == g.viewer.user_id}
        assigned = roster.assignments(db, inst)
        people = [p for p in people if assigned.get(p.id) in mine]
    elif g.role not in (PENGAMPU, ADMIN):
        abort(403)
    return people


@bp.route("/c/<int:ctx>/module/<module_key>/nilai", methods=["GET", "POST"])
@course_access
def page(ctx: int, module_key: str):
    db = db_session()
    inst = _instance(ctx, module_key)
    people = _people(db, inst)
    rule = scores.rule_of(inst)
    manual = [c for c in rule.components if c.manual]
    computed = [c for c in rule.components if not c.manual]
    stored = scores.manual_scores(db, inst)
    ukg = {uid: v for (uid, key), v in stored.items() if key == "UKG"}
    values = {(p.id, c.key): str(stored.get((p.id, c.key), "")) for p in people for c in manual}
    invalid: set[tuple[int, str]] = set()
    status = 200
    if request.method == "POST":
        parsed = {}
        for p in people:
            for c in manual:
                raw = request.form.get(f"score-{p.id}-{c.key}", "")
                values[(p.id, c.key)] = raw
                try:
                    parsed[(p.id, c.key)] = scores.parse_score(raw)
                except ValueError:
                    invalid.add((p.id, c.key))
        if invalid:
            status = 400
        else:
            for (uid, key), value in parsed.items():
                scores.set_manual(db, inst, uid, key, value, g.viewer.user_id)
            db.commit()
            return redirect(url_for("scores.page", ctx=ctx, module_key=module_key, saved=1))
    results = scores.finals(db, inst, [p.id for p in people])
    names = {u.id: u.name or u.sub for u in db.query(User).all()}
    return render_template(
        "course/scores.html",
        inst=inst,
        module=inst.module,
        rule=rule,
        manual=manual,
        computed=computed,
        stored=stored,
        ukg=ukg,
        people=people,
        values=values,
        invalid=invalid,
        results=results,
        error=INVALID if invalid else None,
        audit=scores.audit(db, inst),
        names=names,
        saved=request.args.get("saved"),
        viewer=g.viewer,
        context=g.context,
    ), status
