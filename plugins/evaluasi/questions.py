"""The nine questions of Juknis Lampiran 1, the answer scale, and the two indices.

Items 1-6 are answered on Sangat Baik .. Sangat Kurang, scored 5 .. 1. The indices
put a mean score on a 0-100 scale: index = (mean - 1) / 4 x 100, with
  relevance     = items 1 (content fits the participant's work) and 6 (can apply it),
  effectiveness = items 2 (access), 3 (material), 4 (supervisor's support), 5 (overall).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l

# The questions of Lampiran 1, word for word (Bahasa Indonesia).
LIKERT_ITEMS = (
    "Bagaimana Saudara menilai kesesuaian isi pembelajaran Guru Pembelajar moda daring ini "
    "dengan pekerjaan Saudara?",
    "Bagaimana Saudara menilai akses ke sistem pembelajaran daring?",
    "Bagaimana Saudara menilai kualitas materi pelatihan yang disediakan dalam pembelajaran "
    "Guru Pembelajar moda daring ini?",
    "Bagaimana Saudara menilai dukungan pengawas dalam pembelajaran daring?",
    "Bagaimana Saudara menilai pembelajaran Guru Pembelajar moda daring ini secara keseluruhan?",
    "Bagaimana Saudara menilai kegiatan ini berkaitan dengan kemampuan Saudara untuk "
    "menerapkannya pada pekerjaan Saudara?",
)
OPEN_ITEMS = (
    "Apa yang paling Saudara sukai dari pembelajaran Guru Pembelajar moda daring ini?",
    "Menurut pendapat Saudara, perubahan-perubahan apa saja yang perlu dilakukan agar "
    "pembelajaran Guru Pembelajar moda daring ini menjadi lebih baik?",
    "Jelaskan dengan singkat rencana apa yang akan Saudara lakukan di tempat kerja Saudara "
    "setelah mengikuti pembelajaran Guru Pembelajar moda daring ini.",
)
SCALE = (
    (5, _l("Very good")),
    (4, _l("Good")),
    (3, _l("Fair")),
    (2, _l("Poor")),
    (1, _l("Very poor")),
)
RELEVANCE = (0, 5)  # item indexes (0-based): items 1 and 6
EFFECTIVENESS = (1, 2, 3, 4)  # items 2-5


def index_of(values: list[int]) -> Decimal | None:
    """(mean - 1) / 4 x 100, half-up to one decimal; None without answers."""
    if not values:
        return None
    mean = Decimal(sum(values)) / len(values)
    return ((mean - 1) / 4 * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
