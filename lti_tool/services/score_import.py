"""Import Tes Akhir (TA) and initial UKG scores from a CSV or XLSX file.

The final test was historically taken in the national UKG system: the pengampu imports
its scores (component `TA`), and the peserta's earlier UKG scores (component `UKG`, the
initial score of the monitoring t-test, Juknis V.C), from a file keyed by the LMS
user's email or by the participant number (nomor peserta), which the LMS sends as the
user's ID number (`User.person_sourcedid`).

`read` turns the file's bytes into a `Sheet` (or a `ScoreFileError` about the whole
file), `check` compares its rows with the class and says, row by row, what would
change (pure functions); `preview` and `apply` are the database side. Values are
stored as manual scores through `scores.set_manual`, so every change is audited.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lti_tool.models import Context, CourseInstance, User
from lti_tool.services import roster, scores

TA = "TA"
UKG = "UKG"
COMPONENTS = (TA, UKG)

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
#: Columns read from each row, and rows searched for the header.
MAX_COLUMNS = 50
HEADER_SEARCH = 20
#: An XLSX is a zip: what it may unpack to (a small file can hide a huge sheet).
MAX_UNPACKED = 50 * 1024 * 1024
#: So many blank rows in a row end the data (spreadsheets format empty rows too).
BLANK_RUN = 1000

EMAIL = "email"
NOMOR = "nomor"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and password-protected .xlsx
_ZIP = b"PK\x03\x04"

#: Header names (compared lower-case, spaces and underscores collapsed) -> column.
HEADERS = {
    EMAIL: {"email", "e-mail", "e mail", "surel", "alamat email", "alamat surel"},
    NOMOR: {
        "nomor peserta",
        "no peserta",
        "no. peserta",
        "no.peserta",
        "nopes",
        "participant number",
    },
    TA: {"ta", "nilai ta", "tes akhir", "nilai tes akhir", "post test", "posttest", "post-test"},
    UKG: {"ukg", "nilai ukg", "nilai awal", "ukg awal", "pre test", "pretest", "pre-test"},
}
_COLUMN_OF = {name: column for column, names in HEADERS.items() for name in names}


class ScoreFileError(ValueError):
    """The whole file cannot be imported; `code` says why, `params` give the details."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class ApplyError(ValueError):
    """The changes of a preview no longer fit the class (`code`: "stale")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# -- reading the file --------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row's number in the file, as a spreadsheet shows it
    email: str
    nomor: str
    values: dict[str, str]  # component -> the cell's text ("" = no value)


@dataclass(frozen=True)
class Sheet:
    header_row: int
    key_columns: tuple[str, ...]  # EMAIL and/or NOMOR
    components: tuple[str, ...]  # TA and/or UKG, in COMPONENTS order
    rows: tuple[SheetRow, ...]


def header_name(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())


def _header(cells: list[str]) -> dict[str, int]:
    """The known columns of a row: column -> index (ScoreFileError on a column twice)."""
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        column = _COLUMN_OF.get(header_name(cell))
        if column is None:
            continue
        if column in found:
            raise ScoreFileError("duplicate_column", column=cell.strip())
        found[column] = i
    return found


def _find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]]:
    """The first row (of the first HEADER_SEARCH) naming a key and a score column."""
    keys_only = False
    for index, cells in enumerate(rows[:HEADER_SEARCH]):
        try:
            found = _header(cells)
        except ScoreFileError:
            if any(_COLUMN_OF.get(header_name(c)) in (EMAIL, NOMOR) for c in cells):
                raise
            continue
        has_key = EMAIL in found or NOMOR in found
        if has_key and (TA in found or UKG in found):
            return index, found
        keys_only = keys_only or has_key
    raise ScoreFileError("no_score_column" if keys_only else "no_header")


def _float_text(value: float) -> str:
    """A spreadsheet number as text: 85.5 -> "85.5"; float noise (72.30000000000001,
    from a formula) is rounded away when it is below a billionth."""
    if value.is_integer():
        return str(int(value))
    exact = Decimal(repr(value))
    rounded = exact.quantize(Decimal("0.01"))
    if exact != rounded and abs(exact - rounded) < Decimal("1e-9"):
        exact = rounded
    return format(exact, "f")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return _float_text(value)
    return str(value).strip()


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # "Unicode text" from Excel
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ScoreFileError("not_text") from exc
    if b"\x00" in data:
        raise ScoreFileError("not_supported")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # Excel's plain "CSV (Comma delimited)" on Windows
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ScoreFileError("not_text") from exc


def _csv_records(text: str, delimiter: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            yield [c.strip() for c in record[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise ScoreFileError("not_supported") from exc


def _csv_rows(data: bytes) -> tuple[list[list[str]], int, dict[str, int]]:
    """Rows and header of a CSV; the delimiter (`,`, `;` or tab) is the one whose
    reading of the first rows finds the header."""
    text = _decode(data)
    failures: list[ScoreFileError] = []
    for delimiter in (",", ";", "\t"):
        head: list[list[str]] = []
        for record in _csv_records(text, delimiter):
            head.append(record)
            if len(head) >= HEADER_SEARCH:
                break
        try:
            index, columns = _find_header(head)
        except ScoreFileError as exc:
            failures.append(exc)
            continue
        return _bounded(_csv_records(text, delimiter)), index, columns
    order = ("duplicate_column", "no_score_column", "no_header")
    raise min(failures, key=lambda e: order.index(e.code) if e.code in order else len(order))


def _bounded(records: Iterable[list[str]]) -> list[list[str]]:
    """The rows up to the end of the data, refusing more than MAX_ROWS of them."""
    rows: list[list[str]] = []
    blank = filled = 0
    for record in records:
        if any(record):
            blank = 0
            filled += 1
            if filled > MAX_ROWS + HEADER_SEARCH:
                raise ScoreFileError("too_many_rows", max=MAX_ROWS)
        else:
            blank += 1
            if blank >= BLANK_RUN:
                break
        rows.append(record)
    while rows and not any(rows[-1]):
        rows.pop()
    return rows


def _xlsx_rows(data: bytes) -> list[list[str]]:
    """The first sheet's cell values (cached results of formulas)."""
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ScoreFileError("xlsx_unreadable") from exc
    if unpacked > MAX_UNPACKED:
        raise ScoreFileError("too_large", max_mb=MAX_BYTES // (1024 * 1024))
    with warnings.catch_warnings():
        # openpyxl warns about styles, extensions and validations it does not keep.
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # corrupt, not a workbook, unsupported parts
            raise ScoreFileError("xlsx_unreadable") from exc
        try:
            if not book.worksheets:
                raise ScoreFileError("no_header")
            sheet = book.worksheets[0]
            records = (
                [_cell_text(v) for v in row]
                for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
            )
            return _bounded(records)
        except ScoreFileError:
            raise
        except Exception as exc:
            raise ScoreFileError("xlsx_unreadable") from exc
        finally:
            book.close()


def read(data: bytes, filename: str = "") -> Sheet:
    """Read a score file (CSV or XLSX, told apart by content); ScoreFileError if the
    whole file cannot be used."""
    if not data:
        raise ScoreFileError("empty")
    if len(data) > MAX_BYTES:
        raise ScoreFileError("too_large", max_mb=MAX_BYTES // (1024 * 1024))
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(_OLE):
        raise ScoreFileError("encrypted")
    if data.startswith(_ZIP):
        if suffix not in ("", ".xlsx", ".xlsm"):
            raise ScoreFileError("not_supported")
        rows = _xlsx_rows(data)
        index, columns = _find_header(rows)
    else:
        if suffix not in ("", ".csv", ".txt", ".tsv"):
            raise ScoreFileError("not_supported")
        rows, index, columns = _csv_rows(data)

    def cell(cells: list[str], column: str) -> str:
        i = columns.get(column)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    out = []
    for number, cells in enumerate(rows[index + 1 :], start=index + 2):
        row = SheetRow(
            number=number,
            email=cell(cells, EMAIL),
            nomor=cell(cells, NOMOR),
            values={c: cell(cells, c) for c in COMPONENTS if c in columns},
        )
        if row.email or row.nomor or any(row.values.values()):
            out.append(row)
    if len(out) > MAX_ROWS:
        raise ScoreFileError("too_many_rows", max=MAX_ROWS)
    return Sheet(
        header_row=index + 1,
        key_columns=tuple(k for k in (EMAIL, NOMOR) if k in columns),
        components=tuple(c for c in COMPONENTS if c in columns),
        rows=tuple(out),
    )


# -- checking the rows against the class --------------------------------------------------


@dataclass(frozen=True)
class Known:
    """Someone the file may name: a peserta of the class, or another user of the LMS."""

    id: int
    name: str
    email: str | None
    sourcedid: str | None
    peserta: bool


@dataclass(frozen=True)
class Change:
    user_id: int
    component: str
    old: Decimal | None
    new: Decimal


@dataclass(frozen=True)
class RowError:
    code: str
    params: dict[str, str] = field(default_factory=dict)


OK = "ok"
UNCHANGED = "unchanged"
ERROR = "error"


@dataclass(frozen=True)
class RowResult:
    number: int
    key: str  # how the file names the person
    name: str | None  # the peserta it matched
    status: str  # OK, UNCHANGED or ERROR
    raw: dict[str, str]  # component -> the file's value
    old: dict[str, Decimal | None]  # component -> the stored score
    changes: tuple[Change, ...] = ()
    errors: tuple[RowError, ...] = ()

    def change(self, component: str) -> Change | None:
        return next((c for c in self.changes if c.component == component), None)


@dataclass(frozen=True)
class Preview:
    sheet: Sheet
    rows: tuple[RowResult, ...]

    @property
    def changes(self) -> list[Change]:
        return [c for r in self.rows for c in r.changes]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)


def email_key(text: str | None) -> str:
    return (text or "").strip().lower()


def nomor_key(text: str | None) -> str:
    """Participant numbers compared without spaces, dots and dashes: 16 22 04 156 1 0025."""
    return re.sub(r"[\s.\-]", "", text or "").casefold()


def _index(known: list[Known], key) -> dict[str, list[Known]]:
    out: dict[str, list[Known]] = {}
    for k in known:
        value = key(k)
        if value:
            out.setdefault(value, []).append(k)
    return out


def _resolve(candidates: list[Known], unknown: str, value: str) -> Known | RowError:
    if not candidates:
        return RowError(unknown, {"value": value})
    peserta = [k for k in candidates if k.peserta]
    if len(peserta) > 1:
        return RowError("ambiguous", {"value": value})
    if peserta:
        return peserta[0]
    return RowError("not_peserta", {"value": value, "name": candidates[0].name})


def check(sheet: Sheet, known: list[Known], current: dict[tuple[int, str], Decimal]) -> Preview:
    """What importing the sheet would change, row by row (nothing is written)."""
    by_email = _index(known, lambda k: email_key(k.email))
    by_nomor = _index(known, lambda k: nomor_key(k.sourcedid))
    results: list[RowResult] = []
    person_of_row: dict[int, Known] = {}
    for row in sheet.rows:
        key = " / ".join(v for v in (row.email, row.nomor) if v)
        errors: list[RowError] = []
        found: list[Known | RowError] = []
        if row.email:
            found.append(
                _resolve(by_email.get(email_key(row.email), []), "unknown_email", row.email)
            )
        if row.nomor:
            found.append(
                _resolve(by_nomor.get(nomor_key(row.nomor), []), "unknown_number", row.nomor)
            )
        people = {k.id: k for k in found if isinstance(k, Known)}
        person: Known | None = None
        if not found:
            errors.append(RowError("empty_key"))
        elif len(people) > 1:
            errors.append(RowError("key_mismatch"))
        elif people:
            person = next(iter(people.values()))
        else:
            errors.append(next(e for e in found if isinstance(e, RowError)))
        parsed: dict[str, Decimal | None] = {}
        for component, raw in row.values.items():
            try:
                parsed[component] = scores.parse_score(raw)
            except ValueError:
                errors.append(RowError("invalid_score", {"column": component, "value": raw}))
        old = {c: current.get((person.id, c)) if person else None for c in row.values}
        changes = ()
        if person is not None:
            person_of_row[row.number] = person
            changes = tuple(
                Change(person.id, c, old[c], value)
                for c, value in parsed.items()
                if value is not None and value != old[c]
            )
        if errors:
            status, changes = ERROR, ()
        else:
            status = OK if changes else UNCHANGED
        results.append(
            RowResult(
                number=row.number,
                key=key,
                name=person.name if person else None,
                status=status,
                raw=dict(row.values),
                old=old,
                changes=changes,
                errors=tuple(errors),
            )
        )
    rows_of: dict[int, list[int]] = {}
    for number, person in person_of_row.items():
        rows_of.setdefault(person.id, []).append(number)
    twice = {n: numbers for numbers in rows_of.values() if len(numbers) > 1 for n in numbers}
    for i, r in enumerate(results):
        if r.number in twice:
            others = ", ".join(str(n) for n in twice[r.number] if n != r.number)
            results[i] = RowResult(
                number=r.number,
                key=r.key,
                name=r.name,
                status=ERROR,
                raw=r.raw,
                old=r.old,
                changes=(),
                errors=(*r.errors, RowError("duplicate", {"rows": others})),
            )
    return Preview(sheet=sheet, rows=tuple(results))


# -- the database side --------------------------------------------------------------------


def known_people(db: Session, inst: CourseInstance, sheet: Sheet) -> list[Known]:
    """The class's peserta, and the other users of the same LMS the file names (so that
    a row naming a mentor, or a peserta of another class, says so)."""
    peserta = roster.peserta(db, inst)
    ids = [p.id for p in peserta]
    sourcedids = dict(
        db.execute(select(User.id, User.person_sourcedid).where(User.id.in_(ids))).all()
    )
    out = [Known(p.id, p.name, p.email, sourcedids.get(p.id), True) for p in peserta]
    emails = {email_key(r.email) for r in sheet.rows if r.email}
    numbers = {r.nomor.strip() for r in sheet.rows if r.nomor} | {
        nomor_key(r.nomor) for r in sheet.rows if r.nomor
    }
    if not emails and not numbers:
        return out
    issuer = db.scalar(select(Context.issuer).where(Context.id == inst.context_pk))
    clauses = []
    if emails:
        clauses.append(func.lower(User.email).in_(sorted(emails)))
    if numbers:
        clauses.append(User.person_sourcedid.in_(sorted(numbers)))
    others = db.scalars(select(User).where(User.issuer == issuer, or_(*clauses)))
    out += [
        Known(u.id, u.display_name, u.email, u.person_sourcedid, False)
        for u in others
        if u.id not in sourcedids
    ]
    return out


def preview(db: Session, inst: CourseInstance, sheet: Sheet) -> Preview:
    return check(sheet, known_people(db, inst, sheet), scores.manual_scores(db, inst))


def apply(db: Session, inst: CourseInstance, changes: list[Change], by: int) -> int:
    """Write the changes of a preview (the caller commits: all or nothing). A change
    already made is skipped, so applying twice changes nothing the second time; if a
    score changed since the preview in another way, ApplyError("stale") and nothing is
    written. Returns how many scores changed."""
    current = scores.manual_scores(db, inst)
    peserta = {p.id for p in roster.peserta(db, inst)}
    todo = []
    for c in changes:
        if c.component not in COMPONENTS or c.user_id not in peserta:
            raise ApplyError("stale")
        now = current.get((c.user_id, c.component))
        if now == c.new:
            continue
        if now != c.old:
            raise ApplyError("stale")
        todo.append(c)
    for c in todo:
        scores.set_manual(db, inst, c.user_id, c.component, c.new, by)
    return len(todo)


def dump_changes(changes: list[Change]) -> list[list[Any]]:
    """The changes as JSON values (for the signed form of the preview)."""
    return [
        [c.user_id, c.component, None if c.old is None else str(c.old), str(c.new)] for c in changes
    ]


def load_changes(data: Any) -> list[Change]:
    """The inverse of dump_changes; ValueError on anything else."""
    if not isinstance(data, list):
        raise ValueError("changes")
    out = []
    for item in data:
        if not (isinstance(item, list) and len(item) == 4):
            raise ValueError("change")
        user_id, component, old, new = item
        if not isinstance(user_id, int) or component not in COMPONENTS:
            raise ValueError("change")
        try:
            old_value = None if old is None else scores.parse_score(str(old))
            new_value = scores.parse_score(str(new))
        except (ValueError, InvalidOperation) as exc:
            raise ValueError("change") from exc
        if new_value is None:
            raise ValueError("change")
        out.append(Change(user_id, component, old_value, new_value))
    return out
