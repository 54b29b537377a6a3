"""A class's gradebook as a file: CSV (for any spreadsheet) or XLSX (for Excel).

One row per peserta: number, name, email, nomor peserta, rombel, each component of the
template's rule in its order (PD, TS, TA for Guru Pembelajar; proses, laporan,
presentasi for PLPG), the final score (NA or SP), passed, predikat, and the initial UKG
score when any peserta in the file has one. A score not known yet is an empty cell,
never a zero; the notes (a sheet, or rows under the table of a CSV) say so, and give
the formula, the pass mark, the predikat bands, the rounding rule and the export time.

No Flask here: `gather` reads the class from the database, the other functions turn
it into bytes with the column labels (in the request's language) the caller passes.
Indonesian Excel reads a CSV with `;` between cells and a decimal comma; English
Excel `,` and a decimal point. Both CSVs start with a UTF-8 byte order mark, without
which Excel reads UTF-8 as a legacy code page.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from grading.formulas import PENDING, Rule, Score, quantize
from lti_tool.models import CourseInstance, User
from lti_tool.services import roster, scores

CSV_TYPE = "text/csv"  # Flask adds "; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UKG = "UKG"
#: Cells starting with these are formulas to a spreadsheet: text (a name from the LMS)
#: must never be run as one (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Characters an XLSX cell cannot hold (openpyxl refuses them).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_WIDTH = 50


@dataclass(frozen=True)
class Labels:
    """The words of the file, in the request's language (English by default)."""

    number: str = "No"
    name: str = "Name"
    email: str = "Email"
    nomor: str = "Participant number"
    rombel: str = "Rombel"
    passed: str = "Passed"
    predikat: str = "Predikat"
    ukg: str = "Initial UKG"
    yes: str = "Yes"
    no: str = "No"
    empty: str = "empty = no score yet"
    scores_sheet: str = "Scores"
    notes_sheet: str = "Notes"
    course: str = "Class"
    module: str = "Module"
    peserta: str = "Peserta"
    rombel_only: str = "only the peserta of your rombel"
    formula: str = "Formula"
    minimum: str = "Pass mark"
    no_minimum: str = "none"
    bands: str = "Predikat bands"
    rounding: str = "Rounding"
    rounding_rule: str | None = None  # None: "half up to <precision> decimals"
    unrounded: str = (
        "The final score is computed from the unrounded component scores; each score is "
        "rounded only as shown."
    )
    exported: str = "Exported"


@dataclass(frozen=True)
class Row:
    name: str
    email: str
    nomor: str
    rombel: str
    components: tuple[Score, ...]  # in the rule's order; rounded, or PENDING
    final: Score
    passed: bool | None
    predikat: str | None
    ukg: Decimal | None


@dataclass(frozen=True)
class Gradebook:
    rule: Rule
    rows: tuple[Row, ...]
    module_key: str
    module_title: str
    course_title: str
    exported_at: datetime  # aware, in the class's timezone
    rombel_only: bool = False

    @property
    def has_ukg(self) -> bool:
        return any(r.ukg is not None for r in self.rows)


def gather(
    db: Session,
    inst: CourseInstance,
    people: Sequence[roster.Person],
    *,
    course_title: str,
    now: datetime,
    rombel_only: bool = False,
) -> Gradebook:
    """The gradebook of these peserta of the class (the caller decides who may see whom)."""
    rule = scores.rule_of(inst)
    ids = [p.id for p in people]
    results = scores.finals(db, inst, ids)
    stored = scores.manual_scores(db, inst)
    numbers = dict(db.execute(select(User.id, User.person_sourcedid).where(User.id.in_(ids))).all())
    names = {r.id: r.name for r in roster.rombels(db, inst)}
    assigned = roster.assignments(db, inst)
    rows = []
    for p in people:
        result = results[p.id]
        ukg = stored.get((p.id, UKG))
        rows.append(
            Row(
                name=p.name,
                email=p.email or "",
                nomor=numbers.get(p.id) or "",
                rombel=names.get(assigned.get(p.id), ""),
                components=tuple(result.components[c.key] for c in rule.components),
                final=result.value,
                passed=result.passed,
                predikat=result.predikat,
                ukg=quantize(ukg, rule.precision) if ukg is not None else None,
            )
        )
    return Gradebook(
        rule=rule,
        rows=tuple(rows),
        module_key=inst.module_key,
        module_title=inst.module.title,
        course_title=course_title or "",
        exported_at=now.astimezone(ZoneInfo(inst.timezone or "Asia/Jakarta")),
        rombel_only=rombel_only,
    )


# -- the table ------------------------------------------------------------------------------

Cell = str | int | Decimal | None


def header(book: Gradebook, labels: Labels) -> list[str]:
    out = [labels.number, labels.name, labels.email, labels.nomor, labels.rombel]
    out += [c.key for c in book.rule.components]
    out += [book.rule.name, labels.passed, labels.predikat]
    if book.has_ukg:
        out.append(labels.ukg)
    return out


def _score(value: Score) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


def table(book: Gradebook, labels: Labels) -> list[list[Cell]]:
    """The rows under the header: numbers as Decimal (or int), a pending score None."""
    out: list[list[Cell]] = []
    for number, r in enumerate(book.rows, start=1):
        cells: list[Cell] = [number, r.name, r.email, r.nomor, r.rombel]
        cells += [_score(v) for v in r.components]
        cells.append(_score(r.final))
        cells.append("—" if r.passed is None else labels.yes if r.passed else labels.no)
        if r.predikat:
            cells.append(r.predikat)
        else:  # no score yet (empty), or a score in no band (the template has none)
            cells.append(None if r.final is PENDING else "—")
        if book.has_ukg:
            cells.append(r.ukg)
        out.append(cells)
    return out


def _number(value: Decimal, decimal_comma: bool) -> str:
    text = format(value, "f")
    return text.replace(".", ",") if decimal_comma else text


def _weight(value: Decimal, decimal_comma: bool) -> str:
    text = format(value.normalize(), "f")  # 10 -> "10", 12.50 -> "12.5"
    return text.replace(".", ",") if decimal_comma else text


def formula(rule: Rule, decimal_comma: bool = False) -> str:
    """ "NA = 10% PD + 50% TS + 40% TA"."""
    parts = [f"{_weight(c.weight, decimal_comma)}% {c.key}" for c in rule.components]
    return f"{rule.name} = " + " + ".join(parts)


def bands(rule: Rule, decimal_comma: bool = False) -> list[str]:
    """Each predikat with the scores it covers: "Baik: 76.00-90.99" (scores are rounded
    to the rule's precision, so the bands have no gaps)."""
    step = Decimal(1).scaleb(-rule.precision)
    out = []
    top = quantize(Decimal(100), rule.precision)
    for band in rule.predikat:  # from the highest minimum down
        low = quantize(band.min, rule.precision)
        out.append(f"{band.label}: {_number(low, decimal_comma)}-{_number(top, decimal_comma)}")
        top = low - step
    return out


def notes(book: Gradebook, labels: Labels, decimal_comma: bool = False) -> list[tuple[str, str]]:
    """(label, value) lines describing the file."""
    rule = book.rule
    peserta = str(len(book.rows))
    if book.rombel_only:
        peserta += f" ({labels.rombel_only})"
    lines = [
        (labels.course, book.course_title),
        (labels.module, f"{book.module_title} ({book.module_key})"),
        (labels.peserta, peserta),
        (labels.formula, formula(rule, decimal_comma)),
    ]
    lines += [(c.key, c.label) for c in rule.components]
    lines.append(
        (
            labels.minimum,
            _weight(rule.pass_mark, decimal_comma)
            if rule.pass_mark is not None
            else labels.no_minimum,
        )
    )
    if rule.predikat:
        lines.append((labels.bands, "; ".join(bands(rule, decimal_comma))))
    rounding = labels.rounding_rule or f"half up to {rule.precision} decimals"
    lines.append((labels.rounding, rounding))
    lines.append(("", labels.unrounded))
    lines.append(("", labels.empty))
    stamp = book.exported_at
    lines.append((labels.exported, f"{stamp:%Y-%m-%d %H:%M} ({stamp.tzinfo})"))
    return lines


# -- files ----------------------------------------------------------------------------------


def _text(value: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula."""
    value = _CONTROL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(book: Gradebook, labels: Labels, *, indonesian: bool) -> bytes:
    """UTF-8 with a byte order mark; `;` and decimal comma for Indonesian, else `,`."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";" if indonesian else ",")
    writer.writerow([_text(h) for h in header(book, labels)])
    precision = book.rule.precision
    for cells in table(book, labels):
        row = []
        for cell in cells:
            if cell is None:
                row.append("")
            elif isinstance(cell, Decimal):
                row.append(_number(quantize(cell, precision), indonesian))
            elif isinstance(cell, int):
                row.append(str(cell))
            else:
                row.append(_text(cell))
        writer.writerow(row)
    writer.writerow([])
    for label, value in notes(book, labels, indonesian):
        writer.writerow([_text(label), _text(value)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _set_text(cell, value: str) -> None:
    cell.value = _CONTROL.sub("", value)
    cell.data_type = "s"  # openpyxl would take "=..." for a formula


def to_xlsx(book: Gradebook, labels: Labels, *, indonesian: bool) -> bytes:
    """A workbook: the scores (numeric cells, bold frozen header, filter) and the notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(labels.scores_sheet)
    bold = Font(bold=True)
    decimals = "0." + "0" * book.rule.precision if book.rule.precision > 0 else "0"
    names = header(book, labels)
    widths = [len(h) for h in names]
    for col, name in enumerate(names, start=1):
        cell = sheet.cell(row=1, column=col)
        _set_text(cell, name)
        cell.font = bold
    for r, cells in enumerate(table(book, labels), start=2):
        for col, value in enumerate(cells, start=1):
            cell = sheet.cell(row=r, column=col)
            if value is None:
                continue
            if isinstance(value, Decimal):
                cell.value = quantize(value, book.rule.precision)
                cell.number_format = decimals
                shown = len(format(cell.value, "f"))
            elif isinstance(value, int):
                cell.value = value
                shown = len(str(value))
            else:
                _set_text(cell, value)
                shown = len(value)
            widths[col - 1] = max(widths[col - 1], shown)
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = min(width + 2, MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{len(book.rows) + 1}"

    info = workbook.create_sheet(_sheet_title(labels.notes_sheet))
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, (label, value) in enumerate(notes(book, labels, indonesian), start=1):
        head = info.cell(row=r, column=1)
        _set_text(head, label)
        head.font = bold
        head.alignment = wrap
        cell = info.cell(row=r, column=2)
        _set_text(cell, value)
        cell.alignment = wrap
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 80

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_title(text: str) -> str:
    """Excel's limits on a sheet name: 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "", text)[:31] or "Sheet"


def slug(text: str, limit: int = 60) -> str:
    """ "Kelas Pedagogik A — Angkatan 2" -> "kelas-pedagogik-a-angkatan-2"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].rstrip("-")


def filename(book: Gradebook, extension: str) -> str:
    """nilai-<module>-<class>-<YYYYMMDD>.<extension> (the date in the class's timezone)."""
    parts = ["nilai", slug(book.module_key), slug(book.course_title)]
    parts.append(f"{book.exported_at:%Y%m%d}")
    return "-".join(p for p in parts if p) + "." + extension
