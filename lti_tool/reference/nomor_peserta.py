"""The 14-digit certification participant number (nomor peserta, Buku 1 III.D).

YY PP KK BBB M NNNN: year, province, regency/city, bidang studi, ministry, sequence;
e.g. 16 22 04 156 1 0025 is a 2016 participant from Bali, Badung, teaching Bahasa
Indonesia, under Kemdikbud, number 25. The code tables are the guideline's (Lampiran 2:
bidang studi, Lampiran 3: provinces and regencies), shipped as CSV files in `data/`.
A wrong number is refused with the part that is wrong, so a peserta can correct it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

DATA = Path(__file__).parent / "data"
#: Digit 10 (Buku 1 III.D.e): short names as offices write them, and full names.
MINISTRIES = {
    "1": "Kemdikbud",
    "2": "Kemenag",
    "3": "KKP",
    "4": "Kemenperin",
    "5": "Kementan",
}
MINISTRY_NAMES = {
    "1": "Kementerian Pendidikan dan Kebudayaan",
    "2": "Kementerian Agama",
    "3": "Kementerian Kelautan dan Perikanan",
    "4": "Kementerian Perindustrian",
    "5": "Kementerian Pertanian",
}
#: Teacher certification began in 2006 (UU 14/2005); digits 1-2 are its year.
FIRST_YEAR = 2006
#: The parts in order: (name, first digit index, last digit index + 1).
PARTS = (
    ("year", 0, 2),
    ("province", 2, 4),
    ("regency", 4, 6),
    ("bidang", 6, 9),
    ("ministry", 9, 10),
    ("sequence", 10, 14),
)
ERRORS = {
    "length": _l("A participant number has 14 digits; this one has %(n)s."),
    "digits": _l("A participant number has digits only (spaces and dashes may separate them)."),
    "year": _l(
        "Digits 1-2 (%(value)s) are not the year of a teacher certification "
        "(%(first)s or later, not in the future)."
    ),
    "province": _l(
        "Digits 3-4 (%(value)s) are not a province code of the guideline (Buku 1, Lampiran 3)."
    ),
    "regency": _l(
        "Digits 5-6 (%(value)s) are not a regency/city code of %(province)s (Buku 1, Lampiran 3)."
    ),
    "bidang": _l(
        "Digits 7-9 (%(value)s) are not a bidang studi code of the guideline (Buku 1, Lampiran 2)."
    ),
    "ministry": _l(
        "Digit 10 (%(value)s) is not a ministry code: 1 Kemdikbud, 2 Kemenag, 3 KKP, "
        "4 Kemenperin, 5 Kementan."
    ),
    "sequence": _l("Digits 11-14 (the sequence number) start at 0001; 0000 is not a number."),
}


class NomorPesertaError(ValueError):
    """A participant number that is not valid; `code` names the wrong part (see ERRORS)."""

    def __init__(self, code: str, **params: str | int) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        """The explanation for the user, in the current language."""
        return str(ERRORS[self.code]) % self.params


@dataclass(frozen=True)
class NomorPeserta:
    number: str
    year: int
    province_code: str
    province: str
    regency_code: str
    regency: str
    bidang_code: str
    bidang: str
    ministry_code: str
    ministry: str
    sequence: int

    @property
    def grouped(self) -> str:
        """As printed in the guideline: 16 22 04 156 1 0025."""
        return group(self.number)

    @property
    def regency_short(self) -> str:
        """Kabupaten Badung -> Kab. Badung (Kota stays Kota)."""
        return short_regency(self.regency)

    @property
    def ministry_name(self) -> str:
        return MINISTRY_NAMES[self.ministry_code]

    @property
    def summary(self) -> str:
        """2016 · Bali · Kab. Badung · Bahasa Indonesia · Kemdikbud · #25"""
        return " · ".join(
            (
                str(self.year),
                self.province,
                self.regency_short,
                self.bidang,
                self.ministry,
                f"#{self.sequence}",
            )
        )


def group(number: str) -> str:
    """Fourteen digits in the guideline's groups: 16 22 04 156 1 0025."""
    return " ".join(number[a:b] for _part, a, b in PARTS)


def short_regency(name: str) -> str:
    return "Kab. " + name[len("Kabupaten ") :] if name.startswith("Kabupaten ") else name


@cache
def _regions() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    provinces: dict[str, str] = {}
    regencies: dict[tuple[str, str], str] = {}
    with (DATA / "wilayah.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            provinces[row["province_code"]] = row["province"]
            regencies[(row["province_code"], row["regency_code"])] = row["regency"]
    return provinces, regencies


@cache
def _bidang() -> dict[str, str]:
    with (DATA / "bidang_studi.csv").open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


def provinces() -> dict[str, str]:
    """Province code -> name (Lampiran 3)."""
    return dict(_regions()[0])


def regencies(province_code: str) -> dict[str, str]:
    """Regency/city code -> name of one province (Lampiran 3)."""
    return {k: name for (p, k), name in _regions()[1].items() if p == province_code}


def bidang_studi() -> dict[str, str]:
    """Bidang studi code -> name (Lampiran 2)."""
    return dict(_bidang())


def clean(raw: str | None) -> str:
    """The number without the spaces, dots and dashes people write between the groups."""
    return re.sub(r"[\s.-]", "", raw or "")


def parse(raw: str | None, today: date | None = None) -> NomorPeserta:
    """Parse a participant number (spaces and dashes allowed); NomorPesertaError otherwise."""
    number = clean(raw)
    if not number:
        raise NomorPesertaError("length", n=0)
    if not number.isdigit() or not number.isascii():
        raise NomorPesertaError("digits")
    if len(number) != 14:
        raise NomorPesertaError("length", n=len(number))
    yy, pp, kk, bbb, m, seq = (number[a:b] for _part, a, b in PARTS)
    year = 2000 + int(yy)
    if not FIRST_YEAR <= year <= (today or date.today()).year + 1:
        raise NomorPesertaError("year", value=yy, first=FIRST_YEAR)
    province_names, regency_names = _regions()
    if pp not in province_names:
        raise NomorPesertaError("province", value=pp)
    if (pp, kk) not in regency_names:
        raise NomorPesertaError("regency", value=kk, province=province_names[pp])
    if bbb not in _bidang():
        raise NomorPesertaError("bidang", value=bbb)
    if m not in MINISTRIES:
        raise NomorPesertaError("ministry", value=m)
    if seq == "0000":
        raise NomorPesertaError("sequence")
    return NomorPeserta(
        number=number,
        year=year,
        province_code=pp,
        province=province_names[pp],
        regency_code=kk,
        regency=regency_names[(pp, kk)],
        bidang_code=bbb,
        bidang=_bidang()[bbb],
        ministry_code=m,
        ministry=MINISTRIES[m],
        sequence=int(seq),
    )


def try_parse(raw: str | None) -> NomorPeserta | None:
    """The parsed number, or None when it is not a valid one."""
    try:
        return parse(raw)
    except NomorPesertaError:
        return None
