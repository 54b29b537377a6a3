"""Synthetic Evaluasi Penyelenggaraan answers for demo classes (`lti-tool demo seed`).

Items 1-6 lean to Baik and Sangat Baik; item 4 (support from the supervisor) is rated
lower, as programme evaluations usually find. Every open question gets a short answer
drawn from plausible ones.
"""

from __future__ import annotations

from random import Random

from sqlalchemy import insert

from lti_tool.demo.seed import moment_in_block
from plugins.evaluasi.models import EvaluasiResponse
from plugins.evaluasi.views import items_of

VALUES = (5, 4, 3, 2, 1)  # Sangat Baik .. Sangat Kurang
WEIGHTS = (0.30, 0.45, 0.18, 0.05, 0.02)
SUPERVISOR = 3  # item 4, 0-based
SUPERVISOR_WEIGHTS = (0.15, 0.35, 0.30, 0.15, 0.05)
ANSWERS = (
    (
        "Materi yang langsung dapat dipraktikkan di kelas.",
        "Belajar dapat dilakukan kapan saja sesuai waktu luang.",
        "Diskusi dengan rekan guru dari daerah lain di forum.",
        "Umpan balik pengampu atas tugas yang saya unggah.",
    ),
    (
        "Jadwal tugas disesuaikan dengan kalender sekolah.",
        "Video materi dibuat lebih ringan agar mudah diakses.",
        "Perlu lebih banyak contoh praktik baik dari guru lain.",
        "Pendampingan pengawas perlu ditingkatkan.",
    ),
    (
        "Menerapkan pembelajaran berbasis proyek di kelas saya.",
        "Berbagi hasil belajar kepada rekan di KKG/MGMP.",
        "Menyusun perangkat asesmen sesuai hasil pelatihan.",
        "Membimbing rekan guru memanfaatkan kelas daring.",
    ),
)
FALLBACK = ("Cukup baik.", "Tidak ada.", "Akan saya terapkan di sekolah.")


def seed(db, inst, activity, user_ids: list[int], rng: Random) -> int:
    likert, open_items = items_of(activity)
    rows = []
    for uid in user_ids:
        answers: dict[str, int | str] = {}
        for i in range(len(likert)):
            weights = SUPERVISOR_WEIGHTS if i == SUPERVISOR else WEIGHTS
            answers[f"l{i}"] = rng.choices(VALUES, weights)[0]
        for i in range(len(open_items)):
            pool = ANSWERS[i] if i < len(ANSWERS) else FALLBACK
            answers[f"o{i}"] = rng.choice(pool)
        at = moment_in_block(inst, activity, rng)
        rows.append(
            {
                "context_pk": inst.context_pk,
                "activity_id": activity.id,
                "user_id": uid,
                "answers": answers,
                "submitted_at": at,
                "updated_at": at,
            }
        )
    if rows:
        db.execute(insert(EvaluasiResponse.__table__), rows)
    return len(rows)
