"""Synthetic Reaksi Peserta answers for demo classes (`lti-tool demo seed`).

Satisfaction surveys lean positive: most faces are 4 and 5, each peserta has a mood
that shifts all their answers a little, and about a quarter leave a comment.
"""

from __future__ import annotations

from random import Random

from sqlalchemy import insert

from lti_tool.demo.seed import moment_in_block
from plugins.smiley.models import SmileyResponse
from plugins.smiley.views import survey_of

#: Faces 1..5 and how often they are chosen.
FACES = (1, 2, 3, 4, 5)
WEIGHTS = (0.03, 0.07, 0.20, 0.42, 0.28)
COMMENTS = (
    "Materinya bermanfaat untuk pembelajaran di kelas saya.",
    "Mohon contoh soal dan pembahasannya diperbanyak.",
    "Forum diskusi sangat membantu, terima kasih atas umpan balik pengampu.",
    "Jaringan internet di sekolah kami lambat sehingga video sulit dibuka.",
    "Waktu pengerjaan tugas terasa singkat karena bersamaan dengan kegiatan sekolah.",
    "Penjelasan pengampu jelas dan cepat menanggapi pertanyaan.",
    "Lembar kerja mudah diikuti dan langsung bisa dipraktikkan.",
    "Semoga ada pertemuan daring (video) untuk membahas tugas.",
)


def seed(db, inst, activity, user_ids: list[int], rng: Random) -> int:
    survey = survey_of(activity, inst.module)
    items = len(survey.items)
    rows = []
    for uid in user_ids:
        mood = rng.choice((-1, 0, 0, 0, 1))
        answers = {
            str(i): min(5, max(1, rng.choices(FACES, WEIGHTS)[0] + mood)) for i in range(items)
        }
        comment = rng.choice(COMMENTS) if survey.comment and rng.random() < 0.25 else None
        at = moment_in_block(inst, activity, rng)
        rows.append(
            {
                "context_pk": inst.context_pk,
                "activity_id": activity.id,
                "user_id": uid,
                "answers": answers,
                "comment": comment,
                "submitted_at": at,
                "updated_at": at,
            }
        )
    if rows:
        db.execute(insert(SmileyResponse.__table__), rows)
    return len(rows)
