"""Reports as files: CSV streamed as it is produced, XLSX written row by row.

CSV: UTF-8 with a byte order mark (without it Excel reads UTF-8 as a legacy code
page); Indonesian Excel expects `;` between cells and a decimal comma, English Excel
`,` and a decimal point. A report of several tables puts them one under the other,
each under its title, separated by an empty row.

XLSX: XlsxWriter in constant-memory mode, one sheet per table, numbers as numbers, a
bold frozen header row with a filter, column widths from the column's type (a streamed
sheet cannot measure its data first). The data rows are written as the XML XlsxWriter
writes for them, straight to a file (`_SheetRows`: XlsxWriter's API costs about 10 µs a
cell, 12 s for a class of 100,000), and the package is packed at zlib level 1.

Text that a spreadsheet would run as a formula (a name from the LMS starting with `=`)
is written as text (CSV: behind an apostrophe), never as a formula.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
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


def _csv_cell(fmt: Formatter):
    """value -> CSV text, as `Formatter.text` (and `safe_text` for str cells) make it:
    the common types first, everything else through the formatter."""
    comma = fmt.decimal_comma
    text = fmt.text
    control = _CONTROL.search

    def cell(value: Any) -> str:
        cls = value.__class__
        if cls is str:
            if control(value) is None:
                return "'" + value if value.startswith(_FORMULA_START) else value
            return safe_text(value)
        if value is None:
            return ""
        if cls is Decimal:
            out = str(value)  # as format(value, "f") unless in exponent form; 3 times faster
            if "E" in out:
                out = format(value, "f")
            return out.replace(".", ",") if comma else out
        if cls is int:
            return str(value)
        if isinstance(value, str):
            return safe_text(text(value, None))
        return text(value, None)

    return cell


def csv_chunks(
    tables: Sequence[Table], *, timezone: str | None, indonesian: bool
) -> Iterator[bytes]:
    """The report as CSV, in pieces of a few hundred rows (for a streamed response)."""
    fmt = Formatter(timezone, decimal_comma=indonesian)
    cell = _csv_cell(fmt)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";" if indonesian else ",")
    writerow = writer.writerow
    out.write(BOM)
    several = len(tables) > 1
    for n, table in enumerate(tables):
        if several:
            if n:
                writerow([])
            writerow([safe_text(str(table.title))])
        columns = table.columns
        width = len(columns)
        writerow([safe_text(str(c.label)) for c in columns])
        rows = table.all()
        while chunk := list(islice(rows, CSV_FLUSH_ROWS)):
            for row in chunk:
                writerow(map(cell, row[:width] if len(row) > width else row))
            if len(chunk) == CSV_FLUSH_ROWS:
                yield out.getvalue().encode("utf-8")
                out.seek(0)
                out.truncate()
        if table.note:
            writerow([safe_text(str(table.note))])
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
    """The report as a workbook at `target` (a path or a binary file), with temporary
    files in `tmpdir`.

    XlsxWriter (constant-memory mode) writes the workbook: sheets, header rows,
    formats, filters, notes, and the last data row of each sheet. The data rows in
    between, where a class of 100,000 spends its time, are written by `_SheetRows`
    straight to a temporary file as the XML XlsxWriter would write for them (1-2 µs a
    cell instead of about 10 through its API; `tests/test_rekap.py` compares the two
    cell by cell and byte by byte) and put into the sheet when the file is packed."""
    import xlsxwriter

    fmt = Formatter(timezone, decimal_comma=False)
    with tempfile.TemporaryDirectory(dir=tmpdir, prefix="xlsx-") as work:
        skeleton = os.path.join(work, "workbook.xlsx")
        book = xlsxwriter.Workbook(
            skeleton,
            {
                "constant_memory": True,
                "tmpdir": work,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        spliced = _fill(book, tables, fmt, work, fast=True)
        book.close()
        _pack(skeleton, spliced, target, work)


def _fill(book, tables: Sequence[Table], fmt: Formatter, work: str, *, fast: bool) -> dict:
    """Every table into `book`, one sheet each (more past Excel's rows per sheet).
    With `fast`, data rows but the last of a sheet go to `_SheetRows` files; returns
    {sheet's file in the package: its rows}. Without, every cell goes through
    XlsxWriter's API (the reference the fast rows are tested against)."""
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
    spliced: dict[str, _SheetRows] = {}
    for table in tables:
        columns = list(table.columns)
        styles = [style(c) for c in columns]
        writers = [_cell_writer(c, fmt) for c in columns]
        sheet = None
        rows: _SheetRows | None = None
        r = 1
        for row in _with_sentinel(table.all()):
            if sheet is None or (row is not None and r >= XLSX_MAX_ROWS):
                # a new sheet: the first (also for an empty table), or a continuation
                if sheet is not None:
                    if rows is not None:
                        rows.close(sheet, writers)
                    sheet.autofilter(0, 0, r - 1, len(columns) - 1)
                sheet = book.add_worksheet(_sheet_name(str(table.title), used))
                _start_sheet(sheet, columns, bold)
                if fast:
                    name = f"xl/worksheets/sheet{len(book.worksheets())}.xml"
                    rows = spliced[name] = _SheetRows(work, name, columns, styles, bold, fmt)
                r = 1
            if row is None:
                break
            if rows is not None:
                rows.add(r, row)
            else:
                for c, value in enumerate(row[: len(columns)]):
                    if value is not None:
                        writers[c](sheet, r, c, value, styles[c])
            r += 1
        if sheet is not None:
            if rows is not None:
                rows.close(sheet, writers)
            sheet.autofilter(0, 0, max(r - 1, 1), len(columns) - 1)
            if table.note:
                sheet.write_string(r + 1, 0, _CONTROL.sub("", str(table.note)))
    return spliced


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


# -- data rows as XML, the way XlsxWriter writes them in constant-memory mode -------------

#: Characters XlsxWriter changes in a string cell (control characters as _xHHHH_,
#: markup escaped): a string without any of them, without "_x" and without outer
#: whitespace (xml:space) is copied as it is.
_XML_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]")
_XL_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
_XL_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_XL_MARKUP = re.compile(r"[\"&<>\n]")
_XL_STRMAX = 32767  # UTF-16 units in a cell
_EXCEL_EPOCH = datetime(1899, 12, 31)
#: Data rows collected before they are written to their file.
_XML_FLUSH_ROWS = 2000


def _string_tail(text: str) -> str:
    """A string cell after its reference (`<c r="B2` + this), step by step as
    XlsxWriter writes one."""
    if len(text) > _XL_STRMAX // 2 and len(text.encode("utf-16-le", "surrogatepass")) // 2 > (
        _XL_STRMAX
    ):
        length = 0
        for index, char in enumerate(text):
            length += 2 if ord(char) > 0xFFFF else 1
            if length > _XL_STRMAX:
                text = text[:index]
                break
    text = _XL_ESCAPED.sub(r"_x005F\1", text)
    text = _XL_CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    if text.startswith("<r>") and text.endswith("</r>"):
        return f'" t="inlineStr"><is>{text}</is></c>'
    space = ' xml:space="preserve"' if re.search(r"^\s", text) or re.search(r"\s$", text) else ""
    if _XL_MARKUP.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _plain_tail(text: str) -> str:
    """`_string_tail` of text with nothing to change (the common case) or any text."""
    if (
        _XML_SPECIAL.search(text) is None
        and "_x" not in text
        and not text[:1].isspace()
        and not text[-1:].isspace()
        and len(text) <= _XL_STRMAX // 2
    ):
        return f'" t="inlineStr"><is><t>{text}</t></is></c>'
    return _string_tail(text)


def _excel_time(value: datetime) -> float:
    """A naive datetime as Excel's serial number (1900 epoch, its leap-year bug)."""
    delta = value - _EXCEL_EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / (60 * 60 * 24)
    if value.isocalendar() == (1900, 1, 1):
        serial -= 1
    if serial > 59:
        serial += 1
    return serial


def _number_text(number: float) -> str:
    if number != number or number in (math.inf, -math.inf):
        raise TypeError(
            "NAN/INF not supported in write_number() without 'nan_inf_to_errors' Workbook() option"
        )
    return f"{number:.16G}"


class _SheetRows:
    """The data rows of one sheet as XML, in a file of their own. The last row with a
    cell is held back and written through XlsxWriter when the sheet is finished, so
    that the sheet's dimensions, and everything else XlsxWriter writes, are its own;
    the rows before it are put in front of that row when the package is assembled.
    Format indices are taken in the order XlsxWriter would take them (header first,
    then each format as a cell first uses it). A cell is `<c r="` + column + row +
    its tail."""

    def __init__(
        self, work: str, name: str, columns: list[Column], styles: list, header, fmt: Formatter
    ) -> None:
        from xlsxwriter.utility import xl_col_to_name

        self.width = min(len(columns), 16384)  # Excel's columns; XlsxWriter drops the rest
        self.heads = [f'<c r="{xl_col_to_name(c)}' for c in range(self.width)]
        self.styles = styles
        self.header = header
        self.fmt = fmt
        self.path = os.path.join(work, name.replace("/", "_") + ".rows")
        self.file = open(self.path, "wb")  # noqa: SIM115 (closed in close())
        self.pending: list[str] = []
        self.held: tuple[int, tuple] | None = None
        self.last = 0  # the held row's number (0: none)
        self._s: list[str | None] = [None] * self.width  # ' s="N"' of a column's format
        self._started = False

    def add(self, r: int, row: tuple) -> None:
        if len(row) > self.width:
            row = row[: self.width]
        for value in row:
            if value is not None:
                break
        else:
            return  # no cell: XlsxWriter writes no row either
        if self.held is not None:
            self._write(*self.held)
        self.held = (r, row)

    def close(self, sheet, writers: list) -> None:
        """Flush the rows, then write the held row through XlsxWriter."""
        self._flush()
        self.file.close()
        if self.held is not None:
            r, row = self.held
            self.last = r + 1
            for c, value in enumerate(row):
                if value is not None:
                    writers[c](sheet, r, c, value, self.styles[c])
            self.held = None

    def _flush(self) -> None:
        if self.pending:
            self.file.write("".join(self.pending).encode("utf-8"))
            self.pending.clear()

    def _style(self, c: int) -> str:
        style = self.styles[c]
        attr = self._s[c] = f' s="{style._get_xf_index()}"' if style is not None else ""
        return attr

    def _write(self, r: int, row: tuple) -> None:
        if not self._started:  # XlsxWriter writes the header row (its formats) now
            self._started = True
            self.header._get_xf_index()
        n = str(r + 1)
        parts = [f'<row r="{n}">']
        append = parts.append
        heads = self.heads
        styles = self._s
        special = _XML_SPECIAL.search
        for c, value in enumerate(row):
            if value is None:
                continue
            cls = value.__class__
            if cls is str:
                if (
                    special(value) is None
                    and "_x" not in value
                    and not value[:1].isspace()
                    and not value[-1:].isspace()
                    and len(value) <= _XL_STRMAX // 2
                ):  # nothing to change (see `_plain_tail`): most strings
                    append(f'{heads[c]}{n}" t="inlineStr"><is><t>{value}</t></is></c>')
                else:
                    append(heads[c] + n + _plain_tail(_CONTROL.sub("", value)))
            elif cls is Decimal or cls is int:
                number = float(value)
                if number - number != 0:  # NaN or infinite
                    _number_text(number)  # raises as XlsxWriter does
                s = styles[c]
                if s is None:
                    s = self._style(c)
                append(f'{heads[c]}{n}"{s}><v>{number:.16G}</v></c>')
            else:
                append(heads[c] + n + self._other(c, value))
        append("</row>")
        self.pending.append("".join(parts))
        if len(self.pending) >= _XML_FLUSH_ROWS:
            self._flush()

    def _number(self, c: int, number: str) -> str:
        s = self._s[c]
        if s is None:
            s = self._style(c)
        return f'"{s}><v>{number}</v></c>'

    def _other(self, c: int, value: Any) -> str:
        """A cell of another type, as `_cell_writer` would have it written."""
        if isinstance(value, (bool, str)):
            return _string_tail(_CONTROL.sub("", str(value)))
        if isinstance(value, (int, Decimal)):
            return self._number(c, _number_text(float(value)))
        if isinstance(value, datetime):
            return self._number(c, f"{_excel_time(self.fmt.local(value)):.16G}")
        if isinstance(value, date):
            return self._number(
                c, f"{_excel_time(datetime.combine(value, datetime.min.time())):.16G}"
            )
        return _string_tail(_CONTROL.sub("", str(value)))


#: zlib level of the package. XlsxWriter's (zipfile's) default is 6; level 1 packs a
#: sheet of 100,000 rows about 3.5 times faster into a file about a quarter larger.
XLSX_COMPRESSLEVEL = 1


def _pack(skeleton: str, spliced: dict[str, _SheetRows], target: str | BinaryIO, work: str) -> None:
    """The final package: XlsxWriter's files, each sheet with its data rows put in
    front of the row XlsxWriter wrote last (its rows files carry the same time stamp
    and attributes XlsxWriter gives its files)."""
    stamp = time.mktime((1980, 1, 31, 0, 0, 0, 0, 0, -1))
    with (
        zipfile.ZipFile(skeleton) as source,
        zipfile.ZipFile(
            target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=XLSX_COMPRESSLEVEL
        ) as out,
    ):
        for info in source.infolist():
            data = source.read(info)
            rows = spliced.get(info.filename)
            if rows is None or not os.path.getsize(rows.path):
                out.writestr(info, data, compresslevel=XLSX_COMPRESSLEVEL)
                continue
            marker = f'<row r="{rows.last}"'.encode()
            at = data.find(marker, data.find(b"<sheetData>"))
            if rows.last == 0 or at < 0:
                raise RuntimeError(f"no row {rows.last} in {info.filename}")
            whole = os.path.join(work, "sheet.xml")
            with open(whole, "wb") as sheet, open(rows.path, "rb") as body:
                sheet.write(data[:at])
                shutil.copyfileobj(body, sheet, 1 << 20)
                sheet.write(data[at:])
            os.utime(whole, (stamp, stamp))
            out.write(whole, info.filename)
            os.remove(whole)


def filename(kind: str, module_key: str, course_title: str, day: date, extension: str) -> str:
    """rekap-<kind>-<module>-<class>-<YYYYMMDD>.<extension>."""
    from lti_tool.services.gradebook_export import slug

    parts = ["rekap", slug(kind), slug(module_key), slug(course_title or ""), f"{day:%Y%m%d}"]
    return "-".join(p for p in parts if p) + "." + extension
