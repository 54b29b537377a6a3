"""The 14-digit certification participant number (nomor peserta, Buku 1 Lampiran 2-3).

YY PP KK BBB M NNNN: year, province, regency/city, bidang studi, ministry, sequence;
e.g. 16 22 04 156 1 0025 is a 2016 participant from Bali, Badung, teaching Bahasa
Indonesia, under Kemdikbud, number 25. The code tables are the guideline's, as data.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

DATA = Path(__file__).parent / "data"
MINISTRIES = {
    "1": "Kemdikbud",
    "2": "Kemenag",
    "3": "KKP",
    "4": "Kemenperin",
    "5": "Kementan",
}
ERRORS = {
    "length": _l("A participant number has 14 digits."),
    "digits": _l("A participant number has digits only."),
    "province": _l("Digits 3-4 are not a province code of the guideline."),
    "regency": _l("Digits 5-6 are not a regency/city code of that province."),
    "bidang": _l("Digits 7-9 are not a bidang studi code of the guideline."),
    "ministry": _l("Digit 10 must be a ministry code (1-5)."),
    "sequence": _l("Digits 11-14 (the sequence) cannot be 0000."),
}


class NomorPesertaError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(ERRORS[self.code])


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
        n = self.number
        return f"{n[0:2]} {n[2:4]} {n[4:6]} {n[6:9]} {n[9]} {n[10:14]}"


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


def parse(raw: str) -> NomorPeserta:
    """Parse a participant number (spaces and dashes allowed); NomorPesertaError otherwise."""
    number = re.sub(r"[\s.-]", "", raw or "")
    if not number.isdigit():
        raise NomorPesertaError("digits" if number else "length")
    if len(number) != 14:
        raise NomorPesertaError("length")
    provinces, regencies = _regions()
    pp, kk, bbb, m, seq = number[2:4], number[4:6], number[6:9], number[9], number[10:14]
    if pp not in provinces:
        raise NomorPesertaError("province")
    if (pp, kk) not in regencies:
        raise NomorPesertaError("regency")
    if bbb not in _bidang():
        raise NomorPesertaError("bidang")
    if m not in MINISTRIES:
        raise NomorPesertaError("ministry")
    if seq == "0000":
        raise NomorPesertaError("sequence")
    return NomorPeserta(
        number=number,
        year=2000 + int(number[0:2]),
        province_code=pp,
        province=provinces[pp],
        regency_code=kk,
        regency=regencies[(pp, kk)],
        bidang_code=bbb,
        bidang=_bidang()[bbb],
        ministry_code=m,
        ministry=MINISTRIES[m],
        sequence=int(seq),
    )
