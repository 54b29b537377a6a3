"""Who a certificate names: the peserta's name, nomor peserta and institution.

The one place the certificate reads a peserta's identity: the biodata the peserta
keeps in the tool for that course (nomor peserta, instansi/school) first, else the
LMS's ID number (`lis.person_sourcedid`); an unknown institution prints a dash.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.models import User
from lti_tool.services import biodata


def name_of(user: User) -> str:
    return user.display_name


def nomor_peserta_of(db: Session, user: User, context_pk: int | None = None) -> str | None:
    """The participant number from the biodata, else the LMS's (None when neither)."""
    if context_pk is not None:
        return biodata.nomor_of(db, context_pk, user.id)
    return (user.person_sourcedid or "").strip() or None


def institution_of(db: Session, user: User, context_pk: int | None = None) -> str | None:
    """The peserta's institution (school, instansi) in that course; None while unknown."""
    if context_pk is None:
        return None
    return biodata.institution_of(db, context_pk, user.id)
