"""The certificate (STTPP) as a one-page A4 landscape PDF, from its snapshot.

An official document: always in Bahasa Indonesia, whatever the interface language.
Text uses the PDF core font Helvetica, so nothing outside the repository is needed;
core fonts cover Latin-1 only, so other characters are transliterated (accents
dropped, typographic quotes and dashes made plain, anything else '?'). The
verification page shows the names exactly as stored. The QR code is drawn as
vector rectangles from segno's matrix (no image library).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fpdf import FPDF

log = logging.getLogger("lti_tool")

TITLE = "SURAT TANDA TAMAT PENDIDIKAN DAN PELATIHAN"
SHORT_TITLE = "(STTPP)"
BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": ",",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u0131": "i",
        "\u0142": "l",
        "\u0141": "L",
        "\u0111": "d",
        "\u0110": "D",
    }
)
QR_BORDER = 2  # quiet zone, in modules


def latin1(text: str | None) -> str:
    """Text the core fonts can print: Latin-1 kept, the rest transliterated."""
    out = []
    for ch in (text or "").translate(_PLAIN):
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


def tanggal(value: date | str | None) -> str:
    """A date the Indonesian way: 14 Juli 2026 ('-' when unknown)."""
    if not value:
        return "-"
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


def angka(value: str | None) -> str:
    """A score with a decimal comma (80.13 -> 80,13)."""
    return "-" if value is None else str(value).replace(".", ",")


def period_text(snap: Mapping[str, Any]) -> str:
    start, end = snap.get("period_start"), snap.get("period_end")
    jp = f"{snap['jp']} JP" if snap.get("jp") else ""
    if not (start and end):
        return jp or "-"
    dates = f"{tanggal(start)} s.d. {tanggal(end)}"
    return f"{dates} ({jp})" if jp else dates


def score_lines(snap: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of every score the certificate prints, the final score first."""
    lines = [(f"{snap['score_label']} ({snap['score_name']})", angka(snap["score"]))]
    lines += [(f"{c['label']} ({c['key']})", angka(c["value"])) for c in snap.get("components", [])]
    lines.append(("Predikat", snap.get("predikat") or "-"))
    return lines


def qr_runs(payload: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR code of `payload`: its size in modules and the dark runs of each row as
    (row, first column, length); one rectangle per run keeps the PDF small."""
    import segno  # imported when a certificate is drawn: it is not needed to serve pages

    matrix = segno.make(payload, error="m", micro=False).matrix
    runs = []
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return len(matrix), runs


def _draw_qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> None:
    n, runs = qr_runs(payload)
    unit = size / (n + 2 * QR_BORDER)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, c, length in runs:
        pdf.rect(
            x + (QR_BORDER + c) * unit, y + (QR_BORDER + r) * unit, length * unit, unit, style="F"
        )


def _line(pdf: FPDF, text: str, size: float, style: str = "", height: float | None = None) -> None:
    pdf.set_font("helvetica", style, size)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(w=pdf.epw, h=height or size * 0.5, text=latin1(text), align="C", new_x="LMARGIN")


def _field(pdf: FPDF, label: str, value: str, x: float = 62, label_w: float = 48) -> None:
    pdf.set_font("helvetica", "", 11)
    pdf.set_x(x)
    pdf.cell(w=label_w, h=6.5, text=latin1(label))
    pdf.cell(w=4, h=6.5, text=":")
    pdf.set_font("helvetica", "B", 11)
    pdf.multi_cell(
        w=pdf.w - pdf.r_margin - x - label_w - 4, h=6.5, text=latin1(value or "-"), new_x="LMARGIN"
    )


def render(
    snap: Mapping[str, Any],
    verify_url: str,
    *,
    logo_path: str | None = None,
    compress: bool = True,
) -> bytes:
    """The certificate's PDF: one A4 landscape page from the snapshot."""
    from fpdf import FPDF  # about 1 s and 20 MB: only the processes that draw pay it

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_compression(compress)
    pdf.set_auto_page_break(False)
    pdf.set_margins(18, 12, 18)
    number = snap["number"]
    pdf.set_title(latin1(f"STTPP {number}"))
    pdf.set_subject(latin1(f"{TITLE} {number}"))
    pdf.set_author(latin1(snap.get("unit") or ""))
    pdf.set_creator("Guru Pembelajar Daring")
    issued = date.fromisoformat(snap["issued_on"])
    pdf.set_creation_date(datetime(issued.year, issued.month, issued.day, tzinfo=UTC))
    pdf.add_page()

    # A frame, then the header: logo, ministry, unit, address.
    pdf.set_draw_color(40, 40, 40)
    pdf.set_line_width(0.8)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    pdf.set_line_width(0.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    top = 13
    if logo_path:
        try:
            pdf.image(logo_path, x="C", y=top, h=18)
            top += 20
        except Exception as exc:  # a broken logo must not stop a certificate
            log.warning("certificate logo %s not printed: %s", logo_path, exc)
    pdf.set_y(top)
    if snap.get("ministry"):
        _line(pdf, snap["ministry"].upper(), 12, "B")
    _line(pdf, (snap.get("unit") or "").upper(), 14, "B", height=7)
    if snap.get("unit_address"):
        _line(pdf, snap["unit_address"], 9, height=4.5)
    y = pdf.get_y() + 1.5
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin + 20, y, pdf.w - pdf.r_margin - 20, y)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin + 20, y + 1, pdf.w - pdf.r_margin - 20, y + 1)
    pdf.set_y(y + 4)

    # Title, number, the peserta.
    _line(pdf, TITLE, 17, "B", height=8)
    _line(pdf, SHORT_TITLE, 13, "B", height=6.5)
    _line(pdf, f"Nomor: {number}", 11, height=6.5)
    pdf.ln(1.5)
    _line(pdf, "diberikan kepada:", 11, height=6)
    _line(pdf, snap["name"], 18, "B", height=9)
    pdf.ln(1)
    _field(pdf, "Nomor Peserta", snap.get("nomor_peserta") or "-")
    _field(pdf, "Instansi", snap.get("institution") or "-")
    pdf.ln(1.5)
    _line(pdf, "yang telah mengikuti dan dinyatakan LULUS pada kegiatan", 11, height=6)
    _line(pdf, snap["activity"], 13, "B", height=6.5)
    pdf.ln(1)
    _field(pdf, "Periode", period_text(snap))
    for label, value in score_lines(snap):
        _field(pdf, label, value)

    # Bottom: the QR code (left), the place, date and signatory (right).
    bottom = max(pdf.get_y() + 3, 146)
    qr_size = min(38.0, pdf.h - 14 - bottom - 9)
    url = verify_url
    _draw_qr(pdf, url, pdf.l_margin + 4, bottom, qr_size)
    pdf.set_font("helvetica", "", 7.5)
    pdf.set_xy(pdf.l_margin, bottom + qr_size + 0.5)
    pdf.multi_cell(
        w=95,
        h=3.4,
        text=latin1(f"Periksa keaslian sertifikat ini: {url}"),
        align="L",
        new_x="LMARGIN",
    )

    x = pdf.w - pdf.r_margin - 95
    pdf.set_xy(x, bottom)
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(
        w=95,
        h=5.5,
        text=latin1(f"{snap.get('city') or '-'}, {tanggal(snap['issued_on'])}"),
        align="C",
        new_x="LEFT",
    )
    pdf.multi_cell(
        w=95,
        h=5.5,
        text=latin1(f"{snap.get('signatory_title') or ''}\n{snap.get('unit') or ''},"),
        align="C",
        new_x="LEFT",
    )
    sign_top = pdf.get_y()
    # Stamp area: a light dashed circle where the unit's stamp goes, left of the signature.
    pdf.set_draw_color(190, 190, 190)
    pdf.set_dash_pattern(dash=1.2, gap=1.2)
    pdf.ellipse(x + 8, sign_top, 24, 24)
    pdf.set_dash_pattern()
    pdf.set_draw_color(40, 40, 40)
    pdf.set_xy(x, sign_top + 22)
    pdf.set_font("helvetica", "BU", 11)
    pdf.multi_cell(
        w=95, h=5.5, text=latin1(snap.get("signatory_name") or "-"), align="C", new_x="LEFT"
    )
    if snap.get("signatory_id"):
        pdf.set_font("helvetica", "", 10)
        pdf.multi_cell(
            w=95, h=5, text=latin1(f"NIP {snap['signatory_id']}"), align="C", new_x="LEFT"
        )
    return bytes(pdf.output())
