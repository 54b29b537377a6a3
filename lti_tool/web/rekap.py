"""Class reports (rekap) on screen and as CSV or XLSX files.

Pengampu and admin kelas see the whole class; a mentor sees the peserta of their own
rombel only (the server narrows every query, downloads included); peserta are refused.
The screen shows one table of a report at a time, 100 rows a page; a download holds
every table and is made by a job (lti_tool/exports), never inside the request: the
CSV and XLSX buttons post, and the answer is a page that shows when the file is ready.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from lti_tool import exports
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.models import Context, CourseInstance, CourseModule, User
from lti_tool.reports import writers
from lti_tool.reports.base import FilterError, Filters, kinds, parse_filters
from lti_tool.reports.query import display_name
from lti_tool.services import roster
from lti_tool.services.roles import MENTOR, STAFF
from lti_tool.services.schedule import today_in
from lti_tool.web.auth import course_access
from lti_tool.web.params import int_param
from lti_tool.web.views import _instance

bp = Blueprint("rekap", __name__)
PAGE_SIZE = 100
FORMATS = {"csv": "CSV", "xlsx": "Excel (XLSX)"}


def _indonesian() -> bool:
    locale = get_locale()
    return locale is None or locale.language == "id"


def _open(ctx: int, module_key: str, kind_name: str | None = None):
    """The instance and (if named) the report kind, for staff only; a mentor's reports
    are narrowed to their rombel."""
    if g.role not in STAFF:
        abort(403)
    inst = _instance(ctx, module_key)
    kind = None
    if kind_name is not None:
        kind = kinds(current_app).get(kind_name)
        if kind is None or not kind.applies(db_session(), inst):
            abort(404)
    return inst, kind


def _only_mentor() -> int | None:
    return g.viewer.user_id if g.role == MENTOR else None


def _modules(db, ctx: int) -> list[tuple[str, str]]:
    """The course's modules (for the switcher): key, title."""
    return [
        tuple(row)
        for row in db.execute(
            select(CourseInstance.module_key, CourseModule.title)
            .join(CourseModule, CourseModule.id == CourseInstance.module_id)
            .where(CourseInstance.context_pk == ctx)
            .order_by(CourseModule.title)
        )
    ]


@bp.get("/c/<int:ctx>/module/<module_key>/rekap")
@course_access
def index(ctx: int, module_key: str):
    inst, _kind = _open(ctx, module_key)
    db = db_session()
    available = [k for k in kinds(current_app).values() if k.applies(db, inst)]
    return render_template(
        "course/rekap_index.html",
        inst=inst,
        module=inst.module,
        kinds=available,
        modules=_modules(db, ctx),
        exports=exports.recent(db, inst, g.viewer.user_id, (exports.REKAP,)),
        viewer=g.viewer,
        context=g.context,
    )


def _filter_choices(db, inst) -> tuple[list, list]:
    """The rombel (a mentor: their own) and mentors the filter form offers."""
    groups = roster.rombels(db, inst)
    only = _only_mentor()
    if only is not None:
        return [r for r in groups if r.mentor_id == only], []
    led = {r.mentor_id for r in groups if r.mentor_id is not None}
    mentors = [m for m in roster.mentors(db, inst) if m.id in led]
    known = {m.id for m in mentors}
    for uid in sorted(led - known):  # a mentor who left the LMS roster still leads
        user = db.get(User, uid)
        if user is not None:
            mentors.append(
                roster.Person(
                    uid,
                    display_name(
                        user.name, user.given_name, user.family_name, user.email, user.sub
                    ),
                    user.email,
                )
            )
    return groups, mentors


@bp.get("/c/<int:ctx>/module/<module_key>/rekap/<kind_name>")
@course_access
def show(ctx: int, module_key: str, kind_name: str):
    inst, kind = _open(ctx, module_key, kind_name)
    db = db_session()
    groups, mentors = _filter_choices(db, inst)
    page = int_param(request.args.get("page"), 7) or 1
    common = {
        "inst": inst,
        "module": inst.module,
        "kind": kind,
        "modules": _modules(db, ctx),
        "groups": groups,
        "mentors": mentors,
        "args": request.args,
        "exports": exports.recent(db, inst, g.viewer.user_id, (exports.REKAP,)),
        "viewer": g.viewer,
        "context": g.context,
    }
    try:
        filters = parse_filters(db, inst, request.args, only_mentor=_only_mentor())
    except FilterError as exc:
        return render_template(
            "course/rekap.html", errors=exc.messages, filters=Filters(), **common
        ), 400
    tables = kind.tables(db, inst, filters)
    chosen = next((t for t in tables if t.key == request.args.get("table")), tables[0])
    rows = chosen.page((page - 1) * PAGE_SIZE, PAGE_SIZE + 1)
    fmt = writers.Formatter(inst.timezone, decimal_comma=_indonesian())
    shown = [
        [fmt.text(v, c) for v, c in zip(row, chosen.columns, strict=False)]
        for row in rows[:PAGE_SIZE]
    ]
    return render_template(
        "course/rekap.html",
        errors=[],
        filters=filters,
        tables=tables,
        table=chosen,
        rows=shown,
        numeric=[c.type in ("int", "number") for c in chosen.columns],
        page=page,
        first_row=(page - 1) * PAGE_SIZE + 1,
        has_next=len(rows) > PAGE_SIZE,
        query=filters.query_args(),
        **common,
    )


def _download(ctx: int, module_key: str, kind_name: str, extension: str):
    """GET: a page with the button that asks for the file (old links land here).
    POST: the file is made by a job (lti_tool/exports); the answer is its status page.
    Filters come from the URL's query either way, checked here and again by the job."""
    inst, kind = _open(ctx, module_key, kind_name)
    db = db_session()
    try:
        filters = parse_filters(db, inst, request.args, only_mentor=_only_mentor())
    except FilterError as exc:
        message = " ".join(str(m) for m in exc.messages)
        return render_template("error.html", title=message, message=message, code=400), 400
    query = filters.query_args()
    here = url_for(
        f"rekap.{extension}_file", ctx=ctx, module_key=module_key, kind_name=kind.name, **query
    )
    if request.method == "GET":
        return render_template(
            "course/export_request.html",
            title=f"{kind.title} · {FORMATS[extension]}",
            action=here,
            back=url_for(
                "rekap.show", ctx=ctx, module_key=module_key, kind_name=kind.name, **query
            ),
            back_label=_("Back to the recap"),
            exports=exports.recent(db, inst, g.viewer.user_id, (exports.REKAP,)),
            inst=inst,
            module=inst.module,
            viewer=g.viewer,
            context=g.context,
        )
    context = db.get(Context, ctx)
    title = (context.title if context else None) or g.context.title or ""
    name = writers.filename(
        kind.name, inst.module_key, title, today_in(inst.timezone, utcnow()), extension
    )
    locale = get_locale()
    row = exports.request_export(
        db,
        inst=inst,
        user_id=g.viewer.user_id,
        kind=exports.REKAP,
        report=kind.name,
        fmt=extension,
        filename=name,
        params={
            "filters": query,
            "only_mentor": _only_mentor(),
            "locale": locale.language if locale else None,
            "indonesian": _indonesian(),
        },
    )
    return redirect(url_for("exports.status", ctx=ctx, export_id=row.id), code=303)


@bp.route("/c/<int:ctx>/module/<module_key>/rekap/<kind_name>.csv", methods=["GET", "POST"])
@course_access
def csv_file(ctx: int, module_key: str, kind_name: str):
    return _download(ctx, module_key, kind_name, "csv")


@bp.route("/c/<int:ctx>/module/<module_key>/rekap/<kind_name>.xlsx", methods=["GET", "POST"])
@course_access
def xlsx_file(ctx: int, module_key: str, kind_name: str):
    return _download(ctx, module_key, kind_name, "xlsx")
