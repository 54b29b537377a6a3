"""Quiz pages: the quiz's page, an attempt (autosaved), its review, the staff results
with item analysis, and the pengampu's question banks (import and export)."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from lti_tool.activities.forms import activity_in_course, page_of, refuse
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.models import Activity, User
from lti_tool.services import roster
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU, PESERTA, STAFF
from lti_tool.web.auth import course_access
from plugins.quiz import analysis, attempts, banks, engine, formats
from plugins.quiz.models import QuizAttempt
from plugins.quiz.questions import FormatError, Question
from plugins.quiz.text import as_html

bp = Blueprint(
    "quiz",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/quiz",
)

MESSAGES = {
    "not_open": _l("This test opens on %(date)s."),
    "closed": _l("This test is closed."),
    "no_attempts_left": _l("You have used all %(allowed)s allowed attempts."),
    "bank_short": _l(
        "This test cannot start yet: its question bank has %(have)s questions and needs "
        "%(need)s. Please tell your pengampu."
    ),
    "tampered": _l(
        "Your answers could not be read (the form was changed). Nothing was lost: your last "
        "saved answers are kept."
    ),
    "finished": _l("This attempt was already submitted; it was not changed."),
    "time_up": _l(
        "Time is up: the attempt was submitted with the answers saved before the time limit."
    ),
}
QTYPE_LABELS = {
    "multichoice": _l("Multiple choice"),
    "multiresponse": _l("Multiple response"),
    "truefalse": _l("True/false"),
    "shortanswer": _l("Short answer"),
    "numerical": _l("Numerical"),
    "matching": _l("Matching"),
}
IMPORT_MESSAGES = {
    "name": _l("Give the bank a name: lower-case letters, digits, - and _."),
    "format": _l("Choose the file's format: GIFT or Moodle XML."),
    "file": _l("Choose a file to import."),
}


def message(code: str, **info) -> str:
    if "at" in info:
        info["date"] = format_datetime(info.pop("at"), "medium")
    return str(MESSAGES[code]) % info if info else str(MESSAGES[code])


_asset_versions: dict[str, str] = {}


def asset_url(filename: str) -> str:
    """The plugin's static file with a content fingerprint (cached a year)."""
    v = _asset_versions.get(filename)
    if v is None:
        data = (Path(bp.static_folder) / filename).read_bytes()
        v = _asset_versions[filename] = hashlib.sha256(data).hexdigest()[:12]
    return url_for("quiz.static", filename=filename, v=v)


@bp.app_context_processor
def _helpers():
    return {"quiz_asset": asset_url, "qtype_label": lambda t: QTYPE_LABELS.get(t, t)}


# -- the quiz's page ---------------------------------------------------------------------


def render_page(page, error: str | None = None) -> str:
    """The quiz as its activity page shows it: rules, my attempts, start or continue."""
    db = db_session()
    activity = page.activity
    s = attempts.settings_of(activity)
    inst = _inst(db, page.instance_id)
    now = utcnow()
    mine = attempts.attempts_of(db, page.context_id, activity.id, page.user_id)
    changed = False
    for a in mine:
        if attempts.overdue(a, now):
            attempts.finish(db, a, activity, "timeout", now)
            changed = True
    if changed:
        db.commit()
    win = attempts.window(db, inst, activity, page.user_id)
    bank = banks.get_bank(db, page.module.key, s.bank)
    declared = any(
        b["key"] == s.bank
        for b in (page.module.definition.get("resources") or {}).get("question_banks", [])
    )
    grade = engine.combine(
        [Decimal(a.percent) for a in mine if a.state == "finished"], s.grading_method
    )
    going = next((a for a in mine if a.state == "inprogress"), None)
    left = None if not s.attempts else max(s.attempts - len(mine), 0)
    return render_template(
        "quiz/intro.html",
        page=page,
        settings=s,
        attempts=mine,
        going=going,
        left=left,
        grade=grade,
        window=win,
        now=now,
        is_open=(win.opens is None or now >= win.opens)
        and (win.closes is None or now <= win.closes),
        bank=bank,
        bank_ready=bank is not None or declared,
        error=error or _arg_message(),
        staff=page.role in STAFF,
        can_manage=page.role in (PENGAMPU, ADMIN),
    )


def _arg_message() -> str | None:
    code = request.args.get("error")
    return message(code) if code in MESSAGES and code not in ("not_open",) else None


def _inst(db, instance_id):
    from lti_tool.models import CourseInstance

    return db.get(CourseInstance, instance_id) if instance_id else None


@bp.post("/c/<int:ctx>/quiz/<int:activity_id>/start")
@course_access
def start(ctx: int, activity_id: int):
    """Start an attempt (or continue the one in progress: a double click starts one)."""
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "quiz")
    page = page_of(ctx, activity, module, instance)
    try:
        attempt = attempts.start(
            db, ctx, instance, activity, g.viewer.user_id, utcnow(), page.files_dir
        )
    except attempts.QuizError as exc:
        db.commit()  # an overdue attempt finished on the way stays finished
        return refuse(render_page(page, error=message(exc.code, **exc.info)), activity, module, 409)
    except FormatError:
        return refuse(
            render_page(page, error=message("bank_short", have=0, need=1)), activity, module, 409
        )
    db.commit()
    return redirect(url_for("quiz.attempt", ctx=ctx, attempt_id=attempt.id))


# -- an attempt --------------------------------------------------------------------------


def _attempt(db, ctx: int, attempt_id: int) -> tuple[QuizAttempt, Activity]:
    """The attempt, if it belongs to this course and the viewer may see it."""
    attempt = db.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.context_pk != ctx:
        abort(404)
    if g.role == PESERTA and attempt.user_id != g.viewer.user_id:
        abort(404)
    if g.role not in STAFF and g.role != PESERTA:
        abort(403)
    activity = db.get(Activity, attempt.activity_id)
    return attempt, activity


def _slot_views(attempt: QuizAttempt, answers: dict, review: str | None) -> list[dict]:
    out = []
    for n, slot in enumerate(attempt.slots):
        q = Question.from_dict(slot["snap"])
        view = {
            "n": n,
            "key": str(n),
            "q": q,
            "text": as_html(q.text, q.text_format),
            "answer": answers.get(str(n)),
            "options": [],
        }
        if q.qtype in ("multichoice", "multiresponse"):
            view["options"] = [
                (i, as_html(q.answers[i].text, q.text_format)) for i in slot["order"]
            ]
        elif q.qtype == "matching":
            view["subs"] = [(i, as_html(q.pairs[i].question, q.text_format)) for i in slot["order"]]
            view["choices"] = list(enumerate(slot["choices"]))
        if review:
            f = engine.fraction(slot, answers.get(str(n)))
            view["fraction"] = f
            view["right"] = engine.is_right(slot, answers.get(str(n)))
            view["mark"] = q.default_mark
            if review in ("answers", "staff"):
                view["correct"] = engine.correct_answer(slot)
                view["feedback"] = _feedback(q, answers.get(str(n)))
                view["general"] = as_html(q.general_feedback, q.text_format)
        out.append(view)
    return out


def _feedback(q: Question, answer) -> Markup | None:
    chosen = []
    if q.qtype == "multichoice" and answer is not None:
        chosen = [q.answers[answer]]
    elif q.qtype == "multiresponse" and answer:
        chosen = [q.answers[i] for i in answer]
    elif q.qtype == "truefalse" and answer:
        chosen = [a for a in q.answers if a.text == answer]
    text = " ".join(a.feedback for a in chosen if a.feedback)
    return as_html(text, q.text_format) if text else None


def _review_level(attempt: QuizAttempt, activity: Activity, inst) -> str:
    if g.role in STAFF:
        return "staff"
    s = attempts.settings_of(activity)
    if s.review == "answers_after_close":
        db = db_session()
        win = attempts.window(db, inst, activity, attempt.user_id)
        closed = win.closes is not None and utcnow() > win.closes
        return "answers" if closed else "responses"
    return s.review


@bp.get("/c/<int:ctx>/quiz/attempt/<int:attempt_id>")
@course_access
def attempt(ctx: int, attempt_id: int):
    """The attempt's questions (in progress) or its review (finished)."""
    db = db_session()
    att, activity = _attempt(db, ctx, attempt_id)
    activity, module, instance = activity_in_course(ctx, activity.id, "quiz")
    now = utcnow()
    if attempts.overdue(att, now):
        attempts.finish(db, att, activity, "timeout", now)
        db.commit()
    if att.state == "inprogress" and g.role == PESERTA:
        left = None
        if att.deadline is not None:
            left = max(int((att.deadline - now).total_seconds()), 0)
        html = render_template(
            "quiz/attempt.html",
            attempt=att,
            activity=activity,
            slots=_slot_views(att, att.answers or {}, None),
            seconds_left=left,
            error=MESSAGES.get(request.args.get("error", "")),
            saved=request.args.get("saved"),
        )
        return _framed(html, activity, module)
    level = _review_level(att, activity, instance)
    owner = db.get(User, att.user_id)
    html = render_template(
        "quiz/review.html",
        attempt=att,
        activity=activity,
        owner=owner,
        level=level,
        slots=_slot_views(att, att.answers or {}, level) if level != "score" else [],
        message=MESSAGES.get(request.args.get("error", "")),
        submitted=request.args.get("submitted"),
    )
    return _framed(html, activity, module)


def _framed(body_html: str, activity, module, status: int = 200):
    return render_template(
        "course/activity.html",
        module=module,
        block=activity.block,
        activity=activity,
        body=Markup(body_html),  # noqa: S704 - our own autoescaped template
        viewer=g.viewer,
        context=g.context,
    ), status


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


@bp.post("/c/<int:ctx>/quiz/attempt/<int:attempt_id>/save")
@course_access
def save(ctx: int, attempt_id: int):
    """Autosave (the page posts the whole form on every change) or the Save button."""
    return _store(ctx, attempt_id, submit=False)


@bp.post("/c/<int:ctx>/quiz/attempt/<int:attempt_id>/submit")
@course_access
def submit(ctx: int, attempt_id: int):
    """Save the posted answers and finish the attempt (a second submit changes nothing)."""
    return _store(ctx, attempt_id, submit=True)


def _store(ctx: int, attempt_id: int, submit: bool):
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    att, activity = _attempt(db, ctx, attempt_id)
    now = utcnow()
    try:
        answers = attempts.read_answers(att, request.form)
        attempts.save(db, att, activity, answers, now)
        if submit:
            attempts.finish(db, att, activity, "submitted", now)
    except attempts.QuizError as exc:
        db.commit()  # keeps an attempt finished because its time was up
        if _wants_json():
            return jsonify(error=exc.code, message=message(exc.code), state=att.state), (
                400 if exc.code == "tampered" else 409
            )
        if att.state == "finished":
            return redirect(url_for("quiz.attempt", ctx=ctx, attempt_id=att.id, error=exc.code))
        return redirect(url_for("quiz.attempt", ctx=ctx, attempt_id=att.id, error=exc.code)), 303
    db.commit()
    if _wants_json():
        return jsonify(saved_at=format_datetime(now, "HH:mm:ss"), state=att.state)
    if submit:
        return redirect(url_for("quiz.attempt", ctx=ctx, attempt_id=att.id, submitted=1))
    return redirect(url_for("quiz.attempt", ctx=ctx, attempt_id=att.id, saved=1))


# -- staff: results and item analysis ------------------------------------------------------


@bp.get("/c/<int:ctx>/quiz/<int:activity_id>/results")
@course_access
def results(ctx: int, activity_id: int):
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "quiz")
    if attempts.finish_overdue(db, ctx, activity, utcnow()):
        db.commit()
    people = roster.peserta(db, instance)
    if g.role == MENTOR:
        mine = {r.id for r in roster.rombels(db, instance) if r.mentor_id == g.viewer.user_id}
        assigned = roster.assignments(db, instance)
        people = [p for p in people if assigned.get(p.id) in mine]
    ids = {p.id for p in people}
    # The list needs a few columns of every attempt; the drawn questions (`slots`, a
    # snapshot of each question: the bulk of an attempt) only the item analysis reads,
    # of each peserta's first finished attempt, streamed below.
    rows = [
        a
        for a in db.execute(
            select(*_RESULT_COLUMNS)
            .where(QuizAttempt.context_pk == ctx, QuizAttempt.activity_id == activity.id)
            .order_by(QuizAttempt.user_id, QuizAttempt.number)
        )
        if a.user_id in ids
    ]
    by_user: dict[int, list] = {}
    for a in rows:
        by_user.setdefault(a.user_id, []).append(a)
    s = attempts.settings_of(activity)
    grades = {
        uid: engine.combine(
            [Decimal(a.percent) for a in atts if a.state == "finished"], s.grading_method
        )
        for uid, atts in by_user.items()
    }
    firsts = [
        next(a.id for a in atts if a.state == "finished")
        for atts in by_user.values()
        if any(a.state == "finished" for a in atts)
    ]
    html = render_template(
        "quiz/results.html",
        activity=activity,
        settings=s,
        people=people,
        by_user=by_user,
        grades=grades,
        items=analysis.item_analysis(_analysed(db, firsts)),
        analysed=len(firsts),
        can_manage=g.role in (PENGAMPU, ADMIN),
        module=module,
    )
    return _framed(html, activity, module)


_RESULT_COLUMNS = (
    QuizAttempt.id,
    QuizAttempt.context_pk,
    QuizAttempt.user_id,
    QuizAttempt.number,
    QuizAttempt.state,
    QuizAttempt.percent,
)
ANALYSIS_BATCH = 50


def _analysed(db, attempt_ids: list[int]):
    """(slots, fractions) of these attempts (one per peserta, in user order), read
    ANALYSIS_BATCH at a time: the item analysis keeps a few numbers of each, so a
    class's question snapshots are never all in memory at once."""
    for start in range(0, len(attempt_ids), ANALYSIS_BATCH):
        chunk = attempt_ids[start : start + ANALYSIS_BATCH]
        yield from db.execute(
            select(QuizAttempt.slots, QuizAttempt.fractions)
            .where(QuizAttempt.id.in_(chunk))
            .order_by(QuizAttempt.user_id)
        )


# -- pengampu: question banks ------------------------------------------------------------


def _module_of_course(ctx: int, module_key: str):
    from lti_tool.web.views import _instance

    return _instance(ctx, module_key).module


@bp.route("/c/<int:ctx>/quiz/banks/<module_key>", methods=["GET", "POST"])
@course_access
def bank_list(ctx: int, module_key: str):
    """The module's banks: questions per bank, import a file, export a bank."""
    if g.role not in (PENGAMPU, ADMIN):
        abort(403)
    db = db_session()
    module = _module_of_course(ctx, module_key)
    status, errors, problems, result = 200, [], [], None
    form = {"bank": request.args.get("bank", ""), "format": "gift", "replace": ""}
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("bank", "format", "replace")}
        upload = request.files.get("file")
        if not re.fullmatch(banks.NAME_PATTERN, form["bank"]):
            errors.append(IMPORT_MESSAGES["name"])
        if form["format"] not in formats.FORMATS:
            errors.append(IMPORT_MESSAGES["format"])
        if upload is None or not upload.filename:
            errors.append(IMPORT_MESSAGES["file"])
        if not errors:
            try:
                questions = banks.parse_file(form["format"], upload.read(banks.MAX_FILE_BYTES + 1))
                result = banks.import_questions(
                    db, module.key, form["bank"], questions, replace=form["replace"] == "1"
                )
            except FormatError as exc:
                db.rollback()
                problems = exc.problems
            else:
                db.commit()
        if errors or problems:
            status = 400
    html = render_template(
        "quiz/banks.html",
        context=g.context,
        module=module,
        banks=banks.banks_of(db, module.key),
        declared=(module.definition.get("resources") or {}).get("question_banks", []),
        form=form,
        errors=errors,
        problems=problems,
        result=result,
        formats=formats.FORMATS,
        quizzes=[a for b in module.blocks for a in b.activities if a.type == "quiz"],
    )
    return render_template(
        "quiz/banks_page.html",
        body=Markup(html),  # noqa: S704 - our own autoescaped template
        module=module,
        viewer=g.viewer,
        context=g.context,
    ), status


@bp.get("/c/<int:ctx>/quiz/banks/<module_key>/<bank_name>.<fmt>")
@course_access
def bank_export(ctx: int, module_key: str, bank_name: str, fmt: str):
    if g.role not in (PENGAMPU, ADMIN):
        abort(403)
    db = db_session()
    module = _module_of_course(ctx, module_key)
    bank = banks.get_bank(db, module.key, bank_name)
    spec = next((f for f in formats.FORMATS.values() if f.extension == fmt), None)
    if bank is None or spec is None:
        abort(404)
    text = banks.export(db, bank, spec.name)
    return Response(
        text,
        mimetype=spec.media_type,
        headers={"Content-Disposition": f'attachment; filename="{module.key}-{bank.name}.{fmt}"'},
    )
