"""Peserta biodata: checking and saving the form, and reading it for other features.

Reports and certificates ask for a peserta's participant number and institution
through `nomor_of` and `institution_of`: the biodata the peserta entered in this
course first, else the number the LMS sends as the user's ID number
(`User.person_sourcedid`). Every read is scoped to one course.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import Biodata, User
from lti_tool.reference import lptk, nomor_peserta

MAX_INSTANSI = 255
#: Users looked up per query (SQLite allows only so many bound values).
CHUNK = 1000
ERRORS = {
    "nomor_missing": _l("Enter your participant number (nomor peserta), 14 digits."),
    "nuptk": _l("The NUPTK has 16 digits (or leave it empty)."),
    "instansi": _l("Enter the name of your school or institution."),
    "instansi_long": _l("The name of the school or institution can be at most 255 characters."),
    "lptk": _l("Choose an LPTK from the list (or none)."),
    "phone": _l(
        "Enter the phone number with 8 to 15 digits, for example 0812-3456-7890 "
        "(or leave it empty)."
    ),
}
_PHONE = re.compile(r"^\+?[\d\s().-]+$")


@dataclass(frozen=True)
class BiodataInput:
    """The form's values, checked and normalised."""

    nomor_peserta: str
    nuptk: str | None
    instansi: str
    lptk: str | None
    phone: str | None


def check(form: Mapping[str, str]) -> tuple[BiodataInput | None, dict[str, str]]:
    """(the input, {}) when every field is valid, else (None, {field: message})."""
    errors: dict[str, str] = {}
    raw_nomor = (form.get("nomor_peserta") or "").strip()
    number = ""
    if not raw_nomor:
        errors["nomor_peserta"] = str(ERRORS["nomor_missing"])
    else:
        try:
            number = nomor_peserta.parse(raw_nomor).number
        except nomor_peserta.NomorPesertaError as exc:
            errors["nomor_peserta"] = exc.message
    nuptk = re.sub(r"[\s.-]", "", form.get("nuptk") or "")
    if nuptk and not (len(nuptk) == 16 and nuptk.isdigit() and nuptk.isascii()):
        errors["nuptk"] = str(ERRORS["nuptk"])
    instansi = " ".join((form.get("instansi") or "").split())
    if not instansi:
        errors["instansi"] = str(ERRORS["instansi"])
    elif len(instansi) > MAX_INSTANSI:
        errors["instansi"] = str(ERRORS["instansi_long"])
    code = (form.get("lptk") or "").strip()
    if code and lptk.get(code) is None:
        errors["lptk"] = str(ERRORS["lptk"])
    phone = " ".join((form.get("phone") or "").split())
    if phone:
        digits = sum(c.isdigit() for c in phone)
        if not _PHONE.match(phone) or not phone.isascii() or not 8 <= digits <= 15:
            errors["phone"] = str(ERRORS["phone"])
    if errors:
        return None, errors
    return (
        BiodataInput(
            nomor_peserta=number,
            nuptk=nuptk or None,
            instansi=instansi,
            lptk=code or None,
            phone=phone[:30] or None,
        ),
        {},
    )


def get(db: Session, context_pk: int, user_id: int) -> Biodata | None:
    return db.scalars(
        select(Biodata).where(Biodata.context_pk == context_pk, Biodata.user_id == user_id)
    ).first()


def save(db: Session, context_pk: int, user_id: int, data: BiodataInput) -> Biodata:
    """Create or update the peserta's biodata in this course. The caller commits."""
    row = get(db, context_pk, user_id)
    if row is None:
        row = Biodata(context_pk=context_pk, user_id=user_id, instansi=data.instansi)
        db.add(row)
    row.nomor_peserta = data.nomor_peserta
    row.nuptk = data.nuptk
    row.instansi = data.instansi
    row.lptk = data.lptk
    row.phone = data.phone
    row.updated_at = utcnow()
    db.flush()
    return row


def nomor_of(db: Session, context_pk: int, user_id: int) -> str | None:
    """The peserta's participant number: from their biodata in this course, else the
    LMS's ID number for them; None when neither is known."""
    return nomors_in(db, context_pk, [user_id]).get(user_id)


def nomors_in(
    db: Session, context_pk: int, user_ids: Iterable[int] | None = None
) -> dict[int, str]:
    """user id -> participant number for many peserta at once (biodata first, else the
    LMS's ID number); users with neither are left out. All biodata of the course when
    `user_ids` is None."""
    query = select(Biodata.user_id, Biodata.nomor_peserta).where(Biodata.context_pk == context_pk)
    if user_ids is None:
        return dict(db.execute(query).all())
    ids = list(user_ids)
    out: dict[int, str] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        out.update(db.execute(query.where(Biodata.user_id.in_(chunk))).all())
        missing = [uid for uid in chunk if uid not in out]
        if missing:
            rows = db.execute(
                select(User.id, User.person_sourcedid).where(
                    User.id.in_(missing), User.person_sourcedid.is_not(None)
                )
            )
            out.update({uid: number for uid, number in rows if number})
    return out


def institution_of(db: Session, context_pk: int, user_id: int) -> str | None:
    """The school or institution the peserta entered in this course's biodata (for
    certificates), or None."""
    return db.scalar(
        select(Biodata.instansi).where(Biodata.context_pk == context_pk, Biodata.user_id == user_id)
    )
