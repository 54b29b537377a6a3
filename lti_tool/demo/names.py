"""Name lists for synthetic peserta: common Indonesian given and family names.

Many Indonesians carry one or two names without a family name in the European sense;
a given name followed by a second name reads naturally on a class list. Bali uses
birth-order names (Wayan, Made, Nyoman, Ketut) after I (men) or Ni (women).
"""

from __future__ import annotations

from random import Random

MALE = (
    "Agus", "Ahmad", "Andi", "Arif", "Bambang", "Budi", "Dedi", "Dwi", "Eko", "Fajar",
    "Hadi", "Hendra", "Heru", "Imam", "Irfan", "Joko", "Kurniawan", "Lukman", "Muhammad",
    "Nur", "Rahmat", "Rizki", "Rudi", "Slamet", "Sugeng", "Suharto", "Sutrisno", "Teguh",
    "Tri", "Wahyu", "Yusuf", "Zainal", "Asep", "Ujang", "Dadang", "Yohanes", "Markus",
    "Paulus", "Daniel", "Hasan", "Ilham", "Taufik", "Syaiful", "Robert", "Fransiskus",
    "Gregorius", "Hamzah", "Jefri", "Maruli", "Togar",
)  # fmt: skip
FEMALE = (
    "Siti", "Sri", "Dewi", "Ani", "Endang", "Fitri", "Indah", "Lestari", "Nurul", "Puji",
    "Ratna", "Rina", "Rini", "Sari", "Tuti", "Wulan", "Yuni", "Yulia", "Dian", "Eka",
    "Evi", "Heni", "Ida", "Kartini", "Lina", "Maria", "Mega", "Nia", "Novi", "Putri",
    "Ratih", "Retno", "Rosita", "Suci", "Susanti", "Titin", "Umi", "Wati", "Yanti",
    "Agustina", "Christina", "Elisabeth", "Fatimah", "Hartati", "Juliana", "Kristina",
    "Maya", "Nining", "Oktaviani", "Purwanti",
)  # fmt: skip
#: Second names that read as a man's (Javanese, Sundanese, Malay ...).
SECOND_MALE = (
    "Santoso", "Wijaya", "Saputra", "Setiawan", "Hidayat", "Kusuma", "Pratama", "Susanto",
    "Gunawan", "Nugroho", "Purnomo", "Wibowo", "Hartono", "Permana", "Ramadhan", "Hakim",
    "Syahputra", "Effendi", "Firmansyah", "Maulana", "Mulyadi", "Prasetyo", "Rachman",
    "Sulistyo", "Supriyadi", "Suwarno", "Triyono", "Zulkarnain", "Sudrajat", "Suherman",
    "Hermawan", "Mulyana",
)  # fmt: skip
#: Second names that read as a woman's.
SECOND_FEMALE = (
    "Rahayu", "Handayani", "Suryani", "Lestari", "Utami", "Wulandari", "Kurniasih",
    "Nurhayati", "Safitri", "Yulianti", "Kartika", "Anggraini", "Puspitasari", "Susilowati",
    "Rahmawati", "Setyaningsih", "Kusumawati", "Fitriani", "Maharani", "Permatasari",
)  # fmt: skip
#: Family (clan) names of North Sumatra, North Sulawesi and Maluku, for either.
CLAN = (
    "Siregar", "Nasution", "Harahap", "Lubis", "Simanjuntak", "Sitompul", "Panjaitan",
    "Situmorang", "Sinaga", "Tambunan", "Manurung", "Pohan", "Daulay", "Sembiring",
    "Ginting", "Tarigan", "Hutapea", "Rangkuti", "Tanjung", "Pane", "Matondang",
    "Lumbantobing", "Sihombing", "Pangaribuan", "Hasibuan", "Batubara", "Simatupang",
    "Wenas", "Lengkong", "Sumampouw", "Rumondor", "Latuconsina", "Tuasikal", "Manuhutu",
)  # fmt: skip
BALI_ORDER = ("Wayan", "Made", "Nyoman", "Ketut", "Putu", "Kadek", "Komang", "Gede")
BALI_NAME = (
    "Sudarma", "Suardana", "Sukadana", "Artawan", "Widiana", "Astawa", "Budiarta",
    "Sutama", "Mahendra", "Ariani", "Suarini", "Sriasih", "Wahyuni", "Yuliantari",
    "Puspita", "Darmayanti", "Antari", "Suastika", "Adnyana", "Wirawan",
)  # fmt: skip
BALI = "22"


def person(rng: Random, province_code: str) -> tuple[str, str]:
    """(given name, family name) of a synthetic teacher from the province."""
    female = rng.random() < 0.55  # most teachers are women
    if province_code == BALI and rng.random() < 0.8:
        title = "Ni" if female else "I"
        return f"{title} {rng.choice(BALI_ORDER)}", rng.choice(BALI_NAME)
    given = rng.choice(FEMALE if female else MALE)
    if rng.random() < 0.25:  # two given names: Sri Wahyuni, Muhammad Rizki ...
        given = f"{given} {rng.choice(FEMALE if female else MALE)}"
    if rng.random() < 0.3:
        return given, rng.choice(CLAN)
    return given, rng.choice(SECOND_FEMALE if female else SECOND_MALE)
