"""Reports as files: CSV streamed as it is produced, XLSX written row by row.

CSV: UTF-8 with a byte order mark (without it Excel reads UTF-8 as a legacy code
page); Indonesian Excel expects `;` between cells and a decimal comma, English Excel
`,` and a decimal point. A report of several tables puts them one under the other,
each under its title, separated by an empty row.

XLSX: XlsxWriter in constant-memory mode (each row goes to disk as it is written), one
sheet per table, numbers as numbers, a bold frozen header row with a filter, column
widths from the column's type (a streamed sheet cannot measure its data first).

Text that a spreadsheet would run as a formula (a name from the LMS starting with `=`)
is written as text (CSV: behind an apostrophe), never as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from lti_tool.reports.base import Column, Table

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
#: Rows of CSV text handed to the response at a time.
CSV_FLUSH_ROWS = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Excel's rows per sheet; a longer table continues on another sheet.
XLSX_MAX_ROWS = 1_048_576
_WIDTHS = {"int": 8, "number": 10, "date": 12, "datetime": 17}


class Formatter:
    """Cells as text (screen and CSV): numbers in the locale's style, times in the
    class's time zone."""

    def __init__(self, timezone: str | None, *, decimal_comma: bool) -> None:
        self.tz = ZoneInfo(timezone or "Asia/Jakarta")
        self.decimal_comma = decimal_comma

    def local(self, value: datetime) -> datetime:
        """A stored (naive UTC) time in the class's time zone, without tzinfo."""
        return value.replace(tzinfo=UTC).astimezone(self.tz).replace(tzinfo=None)

    def text(self, value: Any, column: Column) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, Decimal):
            text = format(value, "f")
            return text.replace(".", ",") if self.decimal_comma else text
        if isinstance(value, int):
            return str(value)
        if isinstance(value, datetime):
            return f"{self.local(value):%Y-%m-%d %H:%M}"
        if isinstance(value, date):
            return value.isoformat()
        return str(value)


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula."""
    value = _CONTROL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_chunks(
    tables: Sequence[Table], *, timezone: str | None, indonesian: bool
) -> Iterator[bytes]:
    """The report as CSV, in pieces of a few hundred rows (for a streamed response)."""
    fmt = Formatter(timezone, decimal_comma=indonesian)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";" if indonesian else ",")
    out.write(BOM)
    several = len(tables) > 1
    for n, table in enumerate(tables):
        if several:
            if n:
                writer.writerow([])
            writer.writerow([safe_text(str(table.title))])
        columns = table.columns
        writer.writerow([safe_text(str(c.label)) for c in columns])
        for count, row in enumerate(table.all(), start=1):
            writer.writerow(
                [
                    safe_text(fmt.text(v, c)) if isinstance(v, str) else fmt.text(v, c)
                    for v, c in zip(row, columns, strict=False)
                ]
            )
            if count % CSV_FLUSH_ROWS == 0:
                yield out.getvalue().encode("utf-8")
                out.seek(0)
                out.truncate()
        if table.note:
            writer.writerow([safe_text(str(table.note))])
    yield out.getvalue().encode("utf-8")


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel's limits on a sheet name (31 characters, none of []:*?/\\), unique."""
    base = re.sub(r"[\[\]:*?/\\]", "", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def write_xlsx(
    tables: Sequence[Table], target: str | BinaryIO, *, timezone: str | None, tmpdir: str
) -> None:
    """The report as a workbook at `target` (a path or a binary file); XlsxWriter keeps
    only the current row in memory and its temporary files in `tmpdir`."""
    import xlsxwriter

    fmt = Formatter(timezone, decimal_comma=False)
    book = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "tmpdir": tmpdir,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    number_formats: dict[str, Any] = {}

    def style(column: Column):
        if column.type == "number":
            pattern = "0." + "0" * column.decimals if column.decimals > 0 else "0"
        elif column.type == "date":
            pattern = "yyyy-mm-dd"
        elif column.type == "datetime":
            pattern = "yyyy-mm-dd hh:mm"
        else:
            return None
        if pattern not in number_formats:
            number_formats[pattern] = book.add_format({"num_format": pattern})
        return number_formats[pattern]

    used: set[str] = set()
    for table in tables:
        columns = list(table.columns)
        styles = [style(c) for c in columns]
        writers = [_cell_writer(c, fmt) for c in columns]
        sheet = None
        r = 1
        for row in _with_sentinel(table.all()):
            if sheet is None or (row is not None and r >= XLSX_MAX_ROWS):
                # a new sheet: the first (also for an empty table), or a continuation
                if sheet is not None:
                    sheet.autofilter(0, 0, r - 1, len(columns) - 1)
                sheet = book.add_worksheet(_sheet_name(str(table.title), used))
                _start_sheet(sheet, columns, bold)
                r = 1
            if row is None:
                break
            for c, value in enumerate(row[: len(columns)]):
                if value is not None:
                    writers[c](sheet, r, c, value, styles[c])
            r += 1
        if sheet is not None:
            sheet.autofilter(0, 0, max(r - 1, 1), len(columns) - 1)
            if table.note:
                sheet.write_string(r + 1, 0, _CONTROL.sub("", str(table.note)))
    book.close()


def _with_sentinel(rows: Iterator[tuple]) -> Iterator[tuple | None]:
    """The rows, then None (so an empty table still gets its sheet and header)."""
    yield from rows
    yield None


def _start_sheet(sheet, columns: list[Column], bold) -> None:
    for c, column in enumerate(columns):
        label = _CONTROL.sub("", str(column.label))
        width = column.width or max(_WIDTHS.get(column.type, 14), min(len(label) + 2, 40))
        sheet.set_column(c, c, width)
        sheet.write_string(0, c, label, bold)
    sheet.freeze_panes(1, 0)


def _cell_writer(column: Column, fmt: Formatter):
    """How a column's non-empty cells are written (numbers as numbers)."""

    def write(sheet, r: int, c: int, value: Any, style) -> None:
        if isinstance(value, (bool, str)):
            sheet.write_string(r, c, _CONTROL.sub("", str(value)))
        elif isinstance(value, (int, Decimal)):
            sheet.write_number(r, c, float(value), style)
        elif isinstance(value, datetime):
            sheet.write_datetime(r, c, fmt.local(value), style)
        elif isinstance(value, date):
            sheet.write_datetime(r, c, datetime.combine(value, datetime.min.time()), style)
        else:
            sheet.write_string(r, c, _CONTROL.sub("", str(value)))

    return write


def filename(kind: str, module_key: str, course_title: str, day: date, extension: str) -> str:
    """rekap-<kind>-<module>-<class>-<YYYYMMDD>.<extension>."""
    from lti_tool.services.gradebook_export import slug

    parts = ["rekap", slug(kind), slug(module_key), slug(course_title or ""), f"{day:%Y%m%d}"]
    return "-".join(p for p in parts if p) + "." + extension
