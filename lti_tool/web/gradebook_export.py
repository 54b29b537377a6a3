"""Download a class's scores as CSV or XLSX: who may see the scores page may download
what it shows (a mentor: their rombel; pengampu and admin: the whole class)."""

from __future__ import annotations

from flask import Blueprint, Response, g
from flask_babel import get_locale
from flask_babel import gettext as _

from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.models import Context
from lti_tool.services import gradebook_export as export
from lti_tool.services.roles import MENTOR
from lti_tool.web.auth import course_access
from lti_tool.web.scores import _people
from lti_tool.web.views import _instance

bp = Blueprint("gradebook_export", __name__)


def _labels(precision: int) -> export.Labels:
    return export.Labels(
        number=_("No"),
        name=_("Name"),
        email=_("Email"),
        nomor=_("Participant number"),
        rombel=_("Rombel"),
        passed=_("Passed"),
        predikat=_("Predikat"),
        ukg=_("Initial UKG"),
        yes=_("yes").capitalize(),
        no=_("no").capitalize(),
        empty=_("empty = no score yet"),
        scores_sheet=_("Scores"),
        notes_sheet=_("Notes"),
        course=_("Class"),
        module=_("Module"),
        peserta=_("Peserta"),
        rombel_only=_("only the peserta of your rombel"),
        formula=_("Formula"),
        minimum=_("Pass mark"),
        no_minimum=_("none"),
        bands=_("Predikat bands"),
        rounding=_("Rounding"),
        rounding_rule=_("half up to %(n)s decimals", n=precision),
        unrounded=_(
            "The final score is computed from the unrounded component scores; each score is "
            "rounded only as shown."
        ),
        exported=_("Exported"),
    )


def _download(ctx: int, module_key: str, extension: str) -> Response:
    db = db_session()
    inst = _instance(ctx, module_key)
    people = _people(db, inst)  # 403 for a peserta
    context = db.get(Context, ctx)
    book = export.gather(
        db,
        inst,
        people,
        course_title=(context.title if context else None) or g.context.title or "",
        now=utcnow(),
        rombel_only=g.role == MENTOR,
    )
    locale = get_locale()
    indonesian = locale is None or locale.language == "id"
    labels = _labels(book.rule.precision)
    if extension == "csv":
        data, mimetype = export.to_csv(book, labels, indonesian=indonesian), export.CSV_TYPE
    else:
        data, mimetype = export.to_xlsx(book, labels, indonesian=indonesian), export.XLSX_TYPE
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{export.filename(book, extension)}"'
    )
    response.headers["Cache-Control"] = "private, no-store"  # personal data
    return response


@bp.get("/c/<int:ctx>/module/<module_key>/nilai/ekspor.csv")
@course_access
def csv_file(ctx: int, module_key: str):
    return _download(ctx, module_key, "csv")


@bp.get("/c/<int:ctx>/module/<module_key>/nilai/ekspor.xlsx")
@course_access
def xlsx_file(ctx: int, module_key: str):
    return _download(ctx, module_key, "xlsx")
