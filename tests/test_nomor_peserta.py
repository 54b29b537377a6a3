"""The 14-digit nomor peserta, the guideline's code tables (Buku 1 Lampiran 2-3) and
the LPTK list, as shipped."""

import csv
from datetime import date
from pathlib import Path

import pytest

from lti_tool.reference import lptk
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
    assert (n.province_code, n.regency_code, n.bidang_code, n.ministry_code) == (
        "22",
        "04",
        "156",
        "1",
    )
    assert n.grouped == "16 22 04 156 1 0025"
    assert n.summary == "2016 · Bali · Kab. Badung · Bahasa Indonesia · Kemdikbud · #25"
    assert n.ministry_name == "Kementerian Pendidikan dan Kebudayaan"
    assert parse("16-22-04-156-1-0025").number == "16220415610025"
    assert parse(" 16.22.04.156.1.0025 ").number == "16220415610025"


def test_the_format_a1_example():
    """Lampiran 4 (Format A1): 16220118010429, a mathematics teacher in Buleleng."""
    n = parse("16220118010429")
    assert (n.year, n.province, n.regency, n.bidang, n.ministry, n.sequence) == (
        2016,
        "Bali",
        "Kabupaten Buleleng",
        "Matematika",
        "Kemdikbud",
        429,
    )


def test_every_ministry_and_other_years():
    names = {parse(f"16 22 04 156 {m} 0001").ministry for m in "12345"}
    assert names == {"Kemdikbud", "Kemenag", "KKP", "Kemenperin", "Kementan"}
    assert parse("06 01 60 027 2 0001", today=date(2016, 1, 1)).year == 2006
    assert parse("17 34 60 810 1 9999", today=date(2016, 6, 1)).sequence == 9999  # next year


@pytest.mark.parametrize(
    ("raw", "code", "value"),
    [
        # wrong length
        ("1622041561002", "length", None),
        ("162204156100255", "length", None),
        ("", "length", None),
        (None, "length", None),
        ("16 22 04", "length", None),
        # not digits
        ("16 22 04 156 1 00A5", "digits", None),
        ("16/22/04/156/1/0025", "digits", None),
        ("١٦٢٢٠٤١٥٦١٠٠٢٥", "digits", None),  # Arabic-Indic digits are not the number
        # year: certification began in 2006, and no number comes from the future
        ("05 22 04 156 1 0025", "year", "05"),
        ("99 22 04 156 1 0025", "year", "99"),
        # unknown province
        ("16 99 04 156 1 0025", "province", "99"),
        ("16 00 04 156 1 0025", "province", "00"),
        ("16 35 01 156 1 0025", "province", "35"),
        # regency not in that province
        ("16 22 98 156 1 0025", "regency", "98"),
        ("16 22 09 156 1 0025", "regency", "09"),
        ("16 01 05 156 1 0025", "regency", "05"),  # 05 is Kabupaten Bogor, in Jawa Barat
        # unknown bidang studi
        ("16 22 04 999 1 0025", "bidang", "999"),
        ("16 22 04 000 1 0025", "bidang", "000"),
        # unknown ministry digit
        ("16 22 04 156 0 0025", "ministry", "0"),
        ("16 22 04 156 6 0025", "ministry", "6"),
        ("16 22 04 156 9 0025", "ministry", "9"),
        # sequence 0000
        ("16 22 04 156 1 0000", "sequence", None),
    ],
)
def test_bad_numbers_say_which_part_is_wrong(raw, code, value):
    with pytest.raises(NomorPesertaError) as err:
        parse(raw, today=date(2016, 6, 1))
    assert err.value.code == code
    message = err.value.message
    assert message and "%(" not in message
    if value is not None:
        assert f"({value})" in message


def test_messages_name_the_part():
    def message(raw):
        with pytest.raises(NomorPesertaError) as err:
            parse(raw)
        return err.value.message

    assert message("1622") == "A participant number has 14 digits; this one has 4."
    assert "province code" in message("16 99 04 156 1 0025")
    assert "of Bali" in message("16 22 98 156 1 0025")
    assert "bidang studi" in message("16 22 04 999 1 0025")
    assert "ministry" in message("16 22 04 156 7 0025")
    assert "0000" in message("16 22 04 156 1 0000")
    assert np.try_parse("16 22 04 156 1 0000") is None
    assert np.try_parse("16 22 04 156 1 0025").sequence == 25


def test_province_and_regency_codes_as_the_seed_gives_them():
    with (DATA / "wilayah.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    provinces = {r["province_code"]: r["province"] for r in rows}
    assert len(provinces) == 34 and provinces["01"] == "DKI Jakarta"
    assert provinces["02"] == "Jawa Barat" and provinces["07"] == "Sumatera Utara"
    assert provinces["34"] == "Kalimantan Utara"
    # every row of Lampiran 3, including those the PDF's page breaks left without indent
    assert len(rows) == 510
    assert len({(r["province_code"], r["regency_code"]) for r in rows}) == len(rows)
    regency = {(r["province_code"], r["regency_code"]): r["regency"] for r in rows}
    for key, name in {
        ("02", "66"): "Kota Depok",
        ("03", "61"): "Kota Surakarta",
        ("06", "64"): "Kota Subulussalam",
        ("16", "63"): "Kota Bontang",
        ("24", "60"): "Kota Kupang",  # the seed's row has the code but lost the name
        ("25", "36"): "Kabupaten Intan Jaya",
        ("34", "60"): "Kota Tarakan",
    }.items():
        assert regency[key] == name
    assert all(r["regency"] for r in rows)
    assert np.regencies("04") == {
        "01": "Kabupaten Bantul",
        "02": "Kabupaten Sleman",
        "03": "Kabupaten Gunung Kidul",
        "04": "Kabupaten Kulonprogo",
        "60": "Kota Yogyakarta",
    }


def test_bidang_studi_codes_as_the_seed_gives_them():
    with (DATA / "bidang_studi.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    bidang = {r["code"]: r for r in rows}
    assert len(rows) == len(bidang) == 159  # 32 general + 127 SMK paket keahlian
    assert sum(bool(r["program_keahlian"]) for r in rows) == 127
    for code, name in {
        "020": "Guru Kelas TK",
        "027": "Guru Kelas SD",
        "156": "Bahasa Indonesia",
        "157": "Bahasa Inggris",
        "180": "Matematika",
        "184": "Fisika",
        "224": "TIK",
        "810": "Bimbingan dan Konseling (Konselor)",
        "524": "Rekayasa Perangkat Lunak",
        "575": "Keperawatan",
        "682": "Teknik Produksi dan Penyiaran Program Radio dan Pertelevisian",
        "692": "Teknik Produksi Hasil Hutan",
        "467": "Pemesinan Pesawat Udara (Aircraft Machining)",
    }.items():
        assert bidang[code]["name"] == name
    assert bidang["525"]["program_keahlian"] == "Teknik Komputer dan Informatika"
    assert bidang["540"]["bidang_keahlian"] == "Bisnis dan Manajemen"
    assert not any("<" in r["name"] for r in rows)


def test_the_lptk_list():
    rows = lptk.all_lptk()
    assert len(rows) == 61
    assert [r.code for r in rows] == [f"{i:02d}" for i in range(1, 62)]
    assert len({r.name for r in rows}) == 61
    assert rows[0].name == "Institut Agama Kristen Negeri Ambon"
    assert rows[-1].name == "Universitas Veteran Bangun Nusantara"
    upi = lptk.get("45")
    assert upi.name == "Universitas Pendidikan Indonesia" and upi.province == "Jawa Barat"
    assert upi.label == "Universitas Pendidikan Indonesia (Bandung)"
    provinces = np.provinces()
    assert all(provinces[r.province_code] == r.province for r in rows)
    assert lptk.get(None) is None and lptk.get("99") is None and lptk.get("") is None
    assert {r.name for r in lptk.in_province("22")} == {"Universitas Pendidikan Ganesha"}
