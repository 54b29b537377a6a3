"""The 14-digit nomor peserta and the guideline's code tables."""

import csv
from pathlib import Path

import pytest

from lti_tool.reference import nomor_peserta as np
from lti_tool.reference.nomor_peserta import NomorPesertaError, parse

DATA = Path(np.__file__).parent / "data"


def test_the_guidelines_example():
    n = parse("16 22 04 156 1 0025")
    assert (n.year, n.province, n.regency, n.bidang, n.ministry, n.sequence) == (
        2016,
        "Bali",
        "Kabupaten Badung",
        "Bahasa Indonesia",
        "Kemdikbud",
        25,
    )
    assert n.grouped == "16 22 04 156 1 0025"
    assert parse("16-22-04-156-1-0025").number == "16220415610025"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1622041561002", "length"),
        ("162204156100255", "length"),
        ("", "length"),
        ("16 22 04 156 1 00A5", "digits"),
        ("16 99 04 156 1 0025", "province"),
        ("16 22 98 156 1 0025", "regency"),
        ("16 22 04 999 1 0025", "bidang"),
        ("16 22 04 156 7 0025", "ministry"),
        ("16 22 04 156 1 0000", "sequence"),
    ],
)
def test_bad_numbers_say_what_is_wrong(raw, code):
    with pytest.raises(NomorPesertaError) as err:
        parse(raw)
    assert err.value.code == code
    assert err.value.message  # a message for the user


def test_code_tables_as_shipped():
    with (DATA / "wilayah.csv").open() as f:
        rows = list(csv.DictReader(f))
    provinces = {r["province_code"]: r["province"] for r in rows}
    assert len(provinces) == 34 and provinces["01"] == "DKI Jakarta"
    assert provinces["02"] == "Jawa Barat" and provinces["07"] == "Sumatera Utara"
    assert len({(r["province_code"], r["regency_code"]) for r in rows}) == len(rows)
    with (DATA / "bidang_studi.csv").open() as f:
        bidang = {r["code"]: r["name"] for r in csv.DictReader(f)}
    for code, name in {
        "020": "Guru Kelas TK",
        "027": "Guru Kelas SD",
        "157": "Bahasa Inggris",
        "180": "Matematika",
        "184": "Fisika",
    }.items():
        assert bidang[code] == name
