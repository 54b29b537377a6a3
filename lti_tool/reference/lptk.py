"""The LPTK (teacher-education universities) that ran PPG in 2019, for institution fields.

`data/lptk.csv` holds the 61 institutions of the Kemenristekdikti list (seed 004) with
their number in that list, which is the code stored where a peserta picks one. The
list gives names only: the city and province are each institution's seat, added so an
office can look for the LPTK of its region (province codes are those of Buku 1).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "lptk.csv"


@dataclass(frozen=True)
class Lptk:
    code: str  # the number in the 2019 list, two digits ("01".."61")
    name: str
    city: str
    province_code: str
    province: str

    @property
    def label(self) -> str:
        """Universitas Negeri Padang (Padang)"""
        return f"{self.name} ({self.city})"


@cache
def _load() -> tuple[Lptk, ...]:
    with DATA.open(encoding="utf-8") as f:
        return tuple(
            Lptk(
                code=row["number"],
                name=row["name"],
                city=row["city"],
                province_code=row["province_code"],
                province=row["province"],
            )
            for row in csv.DictReader(f)
        )


def all_lptk() -> tuple[Lptk, ...]:
    """Every LPTK, in the order of the list (alphabetical by name)."""
    return _load()


@cache
def _by_code() -> dict[str, Lptk]:
    return {lptk.code: lptk for lptk in _load()}


def get(code: str | None) -> Lptk | None:
    """The LPTK with this code, or None (also for None or an unknown code)."""
    return _by_code().get(code or "")


def in_province(province_code: str) -> list[Lptk]:
    return [lptk for lptk in _load() if lptk.province_code == province_code]
