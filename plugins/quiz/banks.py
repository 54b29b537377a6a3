"""Question banks: find or create, import (all or nothing), export, and the banks a
course template ships (imported the first time a quiz needs them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.db import begin_write
from plugins.quiz import formats
from plugins.quiz.formats.common import lazy_gettext as _l
from plugins.quiz.models import QuizBank, QuizQuestion
from plugins.quiz.questions import FormatError, Question

MAX_FILE_BYTES = 5 * 1024 * 1024
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    retired: int

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


def get_bank(db: Session, module_key: str, name: str) -> QuizBank | None:
    return db.scalars(
        select(QuizBank).where(QuizBank.module_key == module_key, QuizBank.name == name)
    ).first()


def banks_of(db: Session, module_key: str) -> list[tuple[QuizBank, int]]:
    """The module's banks with their number of questions in use."""
    counts = dict(
        db.execute(
            select(QuizQuestion.bank_id, func.count())
            .where(QuizQuestion.retired.is_(False))
            .group_by(QuizQuestion.bank_id)
        ).all()
    )
    banks = db.scalars(
        select(QuizBank).where(QuizBank.module_key == module_key).order_by(QuizBank.name)
    )
    return [(b, counts.get(b.id, 0)) for b in banks]


def questions_of(db: Session, bank: QuizBank, category: str | None = None) -> list[QuizQuestion]:
    """The bank's questions in use, in file order; `category` includes its sub-categories."""
    query = select(QuizQuestion).where(
        QuizQuestion.bank_id == bank.id, QuizQuestion.retired.is_(False)
    )
    if category:
        query = query.where(
            (QuizQuestion.category == category)
            | (QuizQuestion.category.startswith(category + "/", autoescape=True))
        )
    return list(db.scalars(query.order_by(QuizQuestion.position, QuizQuestion.id)))


def import_questions(
    db: Session,
    module_key: str,
    name: str,
    questions: list[Question],
    *,
    title: str | None = None,
    replace: bool = False,
) -> ImportResult:
    """Add the questions to the bank (created if new): one of the same category and
    name is updated in place; with `replace`, the bank's other questions are retired.
    The caller commits; nothing is written when this raises."""
    seen: dict[tuple[str, str], int] = {}
    problems = []
    for q in questions:
        key = (q.category, q.name)
        if key in seen:
            problems.append(
                (
                    q.line,
                    _l(
                        'question "%(name)s" appears twice in category "%(category)s"',
                        name=q.name,
                        category=q.category or "/",
                    ),
                )
            )
        seen[key] = q.line
    if problems:
        raise FormatError(problems)
    bank = get_bank(db, module_key, name)
    if bank is None:
        bank = QuizBank(module_key=module_key, name=name, title=title or name)
        db.add(bank)
        db.flush()
    elif title:
        bank.title = title
    existing = {
        (r.category, r.name): r
        for r in db.scalars(select(QuizQuestion).where(QuizQuestion.bank_id == bank.id))
    }
    added = updated = unchanged = retired = 0
    for pos, q in enumerate(questions):
        data = q.to_dict()
        row = existing.pop((q.category, q.name), None)
        if row is None:
            db.add(
                QuizQuestion(
                    bank_id=bank.id,
                    category=q.category,
                    name=q.name,
                    qtype=q.qtype,
                    data=data,
                    position=pos,
                )
            )
            added += 1
        elif row.data != data or row.retired or row.position != pos:
            if row.data == data and not row.retired:
                unchanged += 1
            else:
                updated += 1
            row.data, row.qtype, row.position, row.retired = data, q.qtype, pos, False
        else:
            unchanged += 1
    if replace:
        for row in existing.values():
            if not row.retired:
                row.retired = True
                retired += 1
    db.flush()
    return ImportResult(added, updated, unchanged, retired)


def parse_file(fmt: str, data: bytes) -> list[Question]:
    """Questions from an uploaded file; FormatError (with line numbers) if unusable."""
    if len(data) > MAX_FILE_BYTES:
        size = MAX_FILE_BYTES // 1024 // 1024
        raise FormatError([(0, _l("the file is larger than %(size)s MB", size=size))])
    if not data.strip():
        raise FormatError([(0, _l("the file is empty"))])
    if fmt == "gift":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise FormatError([(line, _l("the file is not UTF-8 text"))]) from exc
        questions = formats.parse("gift", text)
    else:
        questions = formats.parse(fmt, data)
    if not questions:
        raise FormatError([(0, _l("the file holds no questions"))])
    return questions


def export(db: Session, bank: QuizBank, fmt: str) -> str:
    qs = [Question.from_dict(r.data) for r in questions_of(db, bank)]
    return formats.dump(fmt, qs)


def ensure_template_bank(db: Session, module, files_dir: Path, name: str) -> QuizBank | None:
    """The module's bank `name`; if the template ships it and it does not exist yet, it
    is imported now (two workers racing here both end up with the one bank)."""
    bank = get_bank(db, module.key, name)
    if bank is not None:
        return bank
    declared = {
        b["key"]: b for b in (module.definition.get("resources") or {}).get("question_banks", [])
    }
    spec = declared.get(name)
    if spec is None:
        return None
    path = files_dir / spec["file"]
    questions = parse_file(spec.get("format", "gift"), path.read_bytes())
    begin_write(db)  # SQLite: the import reads before it writes (see begin_write)
    try:
        with db.begin_nested():
            import_questions(db, module.key, name, questions, title=spec["title"])
    except IntegrityError:
        pass  # another request imported it first
    db.commit()
    return get_bank(db, module.key, name)
