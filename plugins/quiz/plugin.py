"""The `quiz` activity type: Tes Sumatif Sesi and Tes Akhir, graded automatically."""

from __future__ import annotations

from pathlib import Path

from lti_tool.activities import ActivityType
from plugins.quiz import attempts, cli, models, views
from plugins.quiz.settings import QuizSettings

_ = models  # the tables register with the metadata on import


class Quiz(ActivityType):
    """Tes (kuis)"""

    name = "quiz"
    graded = True
    settings_model = QuizSettings
    completion_rules = ("graded", "passed", "submitted")
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"
    translations_dir = Path(__file__).parent / "translations"
    cli = cli.questions

    @classmethod
    def on_view(cls, page) -> str | None:
        return None  # complete when an attempt is submitted (and graded)

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)

    @classmethod
    def staff_url(cls, context_id: int, module_key: str, activity) -> str | None:
        from flask import url_for

        return url_for("quiz.results", ctx=context_id, activity_id=activity.id)

    @classmethod
    def review_url(cls, context_id: int, module_key: str, activity, user_id: int) -> str | None:
        """The peserta's latest attempt (the latest finished one if any), else the results."""
        from flask import url_for

        from lti_tool.db import session

        mine = attempts.attempts_of(session(), context_id, activity.id, user_id)
        finished = [a for a in mine if a.state == "finished"]
        latest = (finished or mine)[-1:]
        if latest:
            return url_for("quiz.attempt", ctx=context_id, attempt_id=latest[0].id)
        return cls.staff_url(context_id, module_key, activity)

    @classmethod
    def regrade(cls, db, context_pk: int, activity, user_id: int):
        return attempts.update_grade(db, context_pk, activity, user_id)

    @classmethod
    def check_template(cls, spec, files_dir: Path) -> list[tuple[tuple, str]]:
        """Shipped banks must parse and hold the number of questions the template says,
        and a quiz drawing from one must not ask for more questions than it holds."""
        from plugins.quiz.banks import parse_file
        from plugins.quiz.questions import FormatError

        problems: list[tuple[tuple, str]] = []
        counts: dict[str, list] = {}
        for qi, bank in enumerate(spec.resources.question_banks):
            loc = ("resources", "question_banks", qi)
            try:
                qs = parse_file(bank.format, (files_dir / bank.file).read_bytes())
            except FormatError as exc:
                problems += [
                    (
                        (*loc, "file"),
                        f"{bank.file}:{line}: {text}" if line else f"{bank.file}: {text}",
                    )
                    for line, text in exc.problems
                ]
                continue
            counts[bank.key] = qs
            if len(qs) != bank.questions:
                problems.append(
                    (
                        (*loc, "questions"),
                        f"{bank.file} holds {len(qs)} questions, not {bank.questions}",
                    )
                )
        for bi, block in enumerate(spec.blocks):
            for ai, a in enumerate(block.activities):
                if a.type != cls.name:
                    continue
                s = QuizSettings.model_validate(a.settings)
                pool = counts.get(s.bank)
                if pool is None or s.questions is None:
                    continue
                if s.category:
                    pool = [
                        q
                        for q in pool
                        if q.category == s.category or q.category.startswith(s.category + "/")
                    ]
                if len(pool) < s.questions:
                    problems.append(
                        (
                            ("blocks", bi, "activities", ai, "settings", "questions"),
                            f"bank {s.bank!r} has only {len(pool)} questions to draw from",
                        )
                    )
        return problems

    @classmethod
    def housekeeping(cls, db, now) -> dict[str, int]:
        """Finish (and grade) attempts whose time ran out while nobody looked."""
        return {"attempts finished when time was up": attempts.finish_all_overdue(db, now)}
