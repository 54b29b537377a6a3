"""Certificate (STTPP) pages: the peserta's own, the class list for staff, and the public
verification page.

A peserta who passed downloads their certificate (issued on first download); anyone
else gets a page saying what is missing, never a PDF, and nothing is written.
Pengampu and admin see the whole class (100 peserta a page), issue to all, revoke,
re-issue and download the class as a ZIP (issuing to all and the ZIP are jobs:
lti_tool/exports); a mentor sees the list of their own rombel, read-only.
`/verify/<number>` needs no login: it says whether a number is a valid certificate
and shows only what the certificate shows.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lti_tool import exports
from lti_tool.certificates import numbers, pdf, service
from lti_tool.db import session as db_session
from lti_tool.i18n import use_locale
from lti_tool.models import Certificate, RombelMember, User
from lti_tool.reports import query
from lti_tool.reports.base import Filters
from lti_tool.services import roster, schedule, scores
from lti_tool.services.gradebook_export import slug
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU, PESERTA
from lti_tool.web.auth import course_access
from lti_tool.web.params import int_param
from lti_tool.web.views import _instance

bp = Blueprint("certificates", __name__)
EDITORS = (PENGAMPU, ADMIN)
PAGE_SIZE = 100  # rows of the class list a page, as the grade recap
ERRORS = {
    "reason": _l("Nothing was changed: give the reason."),
    "confirm": _l("Nothing was changed: tick the box to confirm."),
    "not_eligible": _l(
        "Nothing was changed: this peserta does not pass now, so no new certificate can be "
        "issued (a valid one can still be revoked)."
    ),
    "not_a_peserta": _l("That person is not a peserta of this class."),
    "already_revoked": _l("That certificate was revoked already."),
    "no_certificate": _l("Nothing was changed: this peserta has no valid certificate."),
    "none_eligible": _l("No peserta passes yet: there is no certificate to download."),
    "bad_prefix": _l(
        "Certificates cannot be made now: the certificate number prefix (CERT_NUMBER_PREFIX) "
        "is not valid. Ask the tool's administrator to fix it."
    ),
}


def template() -> service.Template:
    return service.Template.from_config(current_app.config)


def verify_url(number: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/verify/{number}"


def render_pdf(cert: Certificate) -> bytes:
    return pdf.render(
        cert.snapshot,
        verify_url(cert.number),
        logo_path=current_app.config.get("CERT_LOGO_PATH") or None,
    )


def pdf_name(cert: Certificate) -> str:
    """sttpp-<name>-<number>.pdf, ASCII only."""
    return f"sttpp-{slug(cert.snapshot.get('name') or '', 40)}-{slug(cert.number)}.pdf".replace(
        "--", "-"
    )


def _pdf_response(cert: Certificate) -> Response:
    response = Response(render_pdf(cert), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{pdf_name(cert)}"'
    response.headers["Cache-Control"] = "private, no-store"  # personal data
    return response


# -- the peserta ------------------------------------------------------------------------


def _mine(db, inst, user_id: int, status: int = 200, error: str | None = None):
    cert = service.active(db, inst, user_id)
    history = service.certificates(db, inst, [user_id]).get(user_id, [])
    standing = service.standings(db, inst, [user_id])[user_id]
    return render_template(
        "course/certificate.html",
        inst=inst,
        module=inst.module,
        rule=scores.rule_of(inst),
        cert=cert,
        revoked=history[0] if history and cert is None else None,
        standing=standing,
        error=ERRORS.get(error or ""),
        viewer=g.viewer,
        context=g.context,
    ), status


@bp.get("/c/<int:ctx>/module/<module_key>/sertifikat")
@course_access
def mine(ctx: int, module_key: str):
    if g.role != PESERTA:
        return redirect(url_for("certificates.klass", ctx=ctx, module_key=module_key))
    inst = _instance(ctx, module_key)
    return _mine(db_session(), inst, g.viewer.user_id)


@bp.get("/c/<int:ctx>/module/<module_key>/sertifikat.pdf")
@course_access
def mine_pdf(ctx: int, module_key: str):
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    inst = _instance(ctx, module_key)
    try:
        cert = service.issue(db, inst, g.viewer.user_id, template=template(), by=g.viewer.user_id)
    except service.CertificateError as exc:
        db.rollback()
        error = exc.code if exc.code == "bad_prefix" else None
        return _mine(db, inst, g.viewer.user_id, status=503 if error else 403, error=error)
    db.commit()
    return _pdf_response(cert)


# -- staff --------------------------------------------------------------------------------


def _page(raw: str | None, last_page: int) -> int:
    """?page=: anything but digits is the first page; past the end, the last page."""
    value = int_param(raw, 4000)  # any run of digits: a page far past the end is the last
    return 1 if value is None else max(1, min(value, last_page))


def _viewer_filters(chosen: int | None) -> Filters:
    """The peserta this viewer may see (a mentor: their rombel), narrowed to the rombel
    asked for, as the recaps narrow them; 403 for anyone else."""
    if g.role == MENTOR:
        return Filters(rombel_id=chosen, only_mentor=g.viewer.user_id)
    if g.role not in EDITORS:
        abort(403)
    return Filters(rombel_id=chosen)


def _editor(ctx: int, module_key: str):
    if g.role not in EDITORS:
        abort(403)
    return _instance(ctx, module_key)


def _template_problems() -> list[str]:
    problems = template().placeholders()
    logo = current_app.config.get("CERT_LOGO_PATH")
    if logo and not Path(logo).is_file():
        problems.append("CERT_LOGO_PATH")
    return problems


@bp.get("/c/<int:ctx>/module/<module_key>/sertifikat/kelas")
@course_access
def klass(ctx: int, module_key: str):
    """The class's peserta, PAGE_SIZE a page (?page=, kept with ?rombel=) as the grade
    recap shows them: standings, certificates and rombel are read for the page's rows
    only; the counts are of the whole (filtered) class."""
    db = db_session()
    inst = _instance(ctx, module_key)
    chosen = int_param(request.args.get("rombel"))
    filters = _viewer_filters(chosen)
    groups = roster.rombels(db, inst)
    if g.role == MENTOR:
        groups = [r for r in groups if r.mentor_id == g.viewer.user_id]
    visible = chosen is None or chosen in {r.id for r in groups}  # else: nobody
    people = query.peserta_select(db, inst, filters).add_columns(RombelMember.rombel_id)
    ids = people.with_only_columns(User.id).order_by(None)
    total = db.scalar(select(func.count()).select_from(ids.subquery())) if visible else 0
    last_page = max(1, -(-total // PAGE_SIZE))
    page = _page(request.args.get("page"), last_page)
    rows = []
    if total:
        found = db.execute(people.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        page_ids = [row[0] for row in found]
        standings = service.standings(db, inst, page_ids)
        history = service.certificates(db, inst, page_ids)
        for row in found:
            certs = history.get(row[0], [])
            current = next((c for c in certs if c.active), None)
            rows.append(
                {
                    "person": query.person(row),
                    "rombel": row[query.PERSON_COLUMNS],
                    "standing": standings[row[0]],
                    "cert": current,
                    "revoked": certs[0] if certs and current is None else None,
                }
            )
    issued = (
        db.scalar(
            select(func.count())
            .select_from(Certificate)
            .where(
                Certificate.instance_id == inst.id,
                Certificate.active.is_(True),
                Certificate.user_id.in_(ids),
            )
        )
        if total
        else 0
    )
    return render_template(
        "course/certificates.html",
        inst=inst,
        module=inst.module,
        rule=scores.rule_of(inst),
        rows=rows,
        total=total,
        page=page,
        first_row=(page - 1) * PAGE_SIZE + 1,
        has_next=page < last_page,
        groups=groups,
        group_names={r.id: r.name for r in groups},
        chosen=chosen,
        eligible=sum(1 for r in rows if r["standing"].eligible),
        issued=issued,
        can_edit=g.role in EDITORS,
        problems=_template_problems() if g.role in EDITORS else [],
        exports=exports.recent(db, inst, g.viewer.user_id, (exports.CERT_ZIP, exports.CERT_ISSUE))
        if g.role in EDITORS
        else [],
        done=request.args.get("issued"),
        saved=request.args.get("saved"),
        error=ERRORS.get(request.args.get("error", "")),
        viewer=g.viewer,
        context=g.context,
    )


@bp.post("/c/<int:ctx>/module/<module_key>/sertifikat/kelas/terbitkan")
@course_access
def issue_all(ctx: int, module_key: str):
    """Issue to every peserta who passes: a job (a large class takes a while); the
    answer is its status page."""
    inst = _editor(ctx, module_key)
    row = exports.request_export(
        db_session(),
        inst=inst,
        user_id=g.viewer.user_id,
        kind=exports.CERT_ISSUE,
        params={"locale": _locale()},
    )
    return redirect(url_for("exports.status", ctx=ctx, export_id=row.id), code=303)


def _locale() -> str | None:
    locale = get_locale()
    return locale.language if locale else None


@bp.route("/c/<int:ctx>/module/<module_key>/sertifikat/kelas.zip", methods=["GET", "POST"])
@course_access
def class_zip(ctx: int, module_key: str):
    """Every passing peserta's certificate (issued now where missing; one rombel with
    ?rombel=) as one ZIP, made by a job. GET: the page with the button (old links);
    POST: ask for it, answered with its status page."""
    inst = _editor(ctx, module_key)
    db = db_session()
    chosen = int_param(request.args.get("rombel"), 9)  # the roster is the job's
    group = None
    if chosen is not None:
        group = next((r for r in roster.rombels(db, inst) if r.id == chosen), None)
    if request.method == "GET":
        return render_template(
            "course/export_request.html",
            title=_l("Certificates of the class (ZIP)"),
            action=url_for("certificates.class_zip", ctx=ctx, module_key=module_key, rombel=chosen),
            back=url_for("certificates.klass", ctx=ctx, module_key=module_key, rombel=chosen),
            back_label=_l("Back to the certificates"),
            exports=exports.recent(db, inst, g.viewer.user_id, (exports.CERT_ZIP,)),
            inst=inst,
            module=inst.module,
            viewer=g.viewer,
            context=g.context,
        )
    name = f"sttpp-{slug(module_key)}-{slug(g.context.title or str(ctx), 40)}"
    name += f"-{slug(group.name, 30)}" if group else ""
    row = exports.request_export(
        db,
        inst=inst,
        user_id=g.viewer.user_id,
        kind=exports.CERT_ZIP,
        fmt="zip",
        filename=f"{name}.zip",
        params={"rombel": chosen, "locale": _locale()},
    )
    return redirect(url_for("exports.status", ctx=ctx, export_id=row.id), code=303)


def _person(db, inst, user_id: int):
    if user_id not in {p.id for p in roster.peserta(db, inst)}:
        abort(404)
    return db.get(User, user_id)


@bp.get("/c/<int:ctx>/module/<module_key>/sertifikat/kelas/<int:user_id>")
@course_access
def person(ctx: int, module_key: str, user_id: int):
    inst = _editor(ctx, module_key)
    db = db_session()
    user = _person(db, inst, user_id)
    certs = service.certificates(db, inst, [user_id]).get(user_id, [])
    return render_template(
        "course/certificate_person.html",
        inst=inst,
        module=inst.module,
        rule=scores.rule_of(inst),
        person=user,
        standing=service.standings(db, inst, [user_id])[user_id],
        cert=next((c for c in certs if c.active), None),
        history=certs,
        numbers_by_id={c.id: c.number for c in certs},
        error=ERRORS.get(request.args.get("error", "")),
        saved=request.args.get("saved"),
        viewer=g.viewer,
        context=g.context,
    )


@bp.get("/c/<int:ctx>/module/<module_key>/sertifikat/kelas/<int:user_id>.pdf")
@course_access
def person_pdf(ctx: int, module_key: str, user_id: int):
    inst = _editor(ctx, module_key)
    db = db_session()
    _person(db, inst, user_id)
    cert = service.active(db, inst, user_id)
    if cert is None:
        abort(404)
    return _pdf_response(cert)


def _change(ctx: int, module_key: str, user_id: int, action):
    """Revoke or re-issue: needs a reason and the confirmation box; a refusal changes
    nothing and says why."""
    inst = _editor(ctx, module_key)
    db = db_session()
    _person(db, inst, user_id)
    back = {"ctx": ctx, "module_key": module_key, "user_id": user_id}
    if not request.form.get("confirm"):
        return redirect(url_for("certificates.person", **back, error="confirm"))
    try:
        action(db, inst, request.form.get("reason", ""))
    except service.CertificateError as exc:
        db.rollback()
        return redirect(url_for("certificates.person", **back, error=exc.code))
    db.commit()
    return redirect(url_for("certificates.person", **back, saved=1))


@bp.post("/c/<int:ctx>/module/<module_key>/sertifikat/kelas/<int:user_id>/cabut")
@course_access
def revoke(ctx: int, module_key: str, user_id: int):
    def action(db, inst, reason: str) -> None:
        cert = service.active(db, inst, user_id)
        if cert is None:
            raise service.CertificateError("no_certificate")
        service.revoke(db, cert, by=g.viewer.user_id, reason=reason)

    return _change(ctx, module_key, user_id, action)


@bp.post("/c/<int:ctx>/module/<module_key>/sertifikat/kelas/<int:user_id>/terbitkan-ulang")
@course_access
def reissue(ctx: int, module_key: str, user_id: int):
    def action(db, inst, reason: str) -> None:
        service.reissue(db, inst, user_id, template=template(), by=g.viewer.user_id, reason=reason)

    return _change(ctx, module_key, user_id, action)


# -- public verification ---------------------------------------------------------------


def _public(body: str, status: int) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _language() -> str | None:
    lang = request.args.get("lang")
    if lang in current_app.config["BABEL_SUPPORTED_LOCALES"]:
        use_locale(lang)
        return lang
    return None


@bp.get("/verify")
def verify_form():
    """A form to type a certificate number (GET ?number=...)."""
    lang = _language()
    typed = request.args.get("number")
    if typed is not None:
        number = numbers.normalize(typed)
        if numbers.is_valid(number):
            return redirect(url_for("certificates.verify", number=number, lang=lang))
        body = render_template("verify.html", state="malformed", typed=typed[:100], lang=lang)
        return _public(body, 404)
    return _public(render_template("verify.html", state="form", lang=lang), 200)


@bp.get("/verify/<path:number>")
def verify(number: str):
    lang = _language()
    canonical = numbers.normalize(number)
    if not numbers.is_valid(canonical):  # no database read for a malformed number
        body = render_template("verify.html", state="malformed", typed=number[:100], lang=lang)
        return _public(body, 404)
    if canonical != number:
        return redirect(url_for("certificates.verify", number=canonical, lang=lang))
    cert = service.lookup(db_session(), canonical)
    if cert is None:
        body = render_template("verify.html", state="unknown", typed=canonical, lang=lang)
        return _public(body, 404)
    replaced_by = (
        db_session().get(Certificate, cert.replaced_by_id) if cert.replaced_by_id else None
    )
    zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE")
    body = render_template(
        "verify.html",
        state="revoked" if cert.revoked else "valid",
        cert=cert,
        snap=cert.snapshot,
        period=pdf.period_text(cert.snapshot),
        scores=pdf.score_lines(cert.snapshot),
        issued_on=pdf.tanggal(cert.snapshot.get("issued_on")),
        revoked_on=pdf.tanggal(schedule.today_in(zone, cert.revoked_at)) if cert.revoked else None,
        replaced_by=replaced_by.number if replaced_by else None,
        lang=lang,
    )
    return _public(body, 200)
