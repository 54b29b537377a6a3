"""Drawing, shuffling and grading questions: pure functions over question snapshots.

An attempt keeps, per slot, a snapshot of its question and the order its options are
shown in; answers refer to options by their index in the snapshot, never by their
position on screen, so shuffling cannot change a grade. Fractions follow Moodle.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from plugins.quiz.questions import Question

ZERO, ONE = Decimal(0), Decimal(1)


class AnswerError(ValueError):
    """A posted answer that no form of ours could have sent (a tampered field)."""


# -- drawing an attempt ------------------------------------------------------------------


def draw(
    questions: list[tuple[int, dict]],
    count: int | None,
    rng: random.Random,
    *,
    shuffle_questions: bool,
    shuffle_answers: bool,
) -> list[dict]:
    """The slots of a new attempt from (question id, question dict) pairs.

    `count` questions are drawn at random (all when None); options are shuffled when
    both the quiz and the question allow it. Matching answers are always offered in
    a shuffled order of their distinct texts (sorted when shuffling is off)."""
    chosen = list(questions)
    if count is not None:
        if count > len(chosen):
            raise ValueError(f"the bank has {len(chosen)} questions, {count} are needed")
        chosen = rng.sample(chosen, count)
        if not shuffle_questions:
            order = {qid: i for i, (qid, _q) in enumerate(questions)}
            chosen.sort(key=lambda item: order[item[0]])
    elif shuffle_questions:
        rng.shuffle(chosen)
    slots = []
    for qid, data in chosen:
        q = Question.from_dict(data)
        slot: dict[str, Any] = {"q": qid, "snap": data}
        if q.qtype in ("multichoice", "multiresponse"):
            order = list(range(len(q.answers)))
            if shuffle_answers and q.shuffle:
                rng.shuffle(order)
            slot["order"] = order
        elif q.qtype == "matching":
            choices = sorted({p.answer for p in q.pairs})
            if shuffle_answers and q.shuffle:
                rng.shuffle(choices)
            slot["choices"] = choices
            slot["order"] = [i for i, p in enumerate(q.pairs) if p.question]
        slots.append(slot)
    return slots


# -- reading posted answers ----------------------------------------------------------------

MAX_TEXT = 500


def clean_answer(slot: dict, raw: Any) -> Any:
    """The stored form of a posted answer, or None for no answer; AnswerError when the
    value is not one the slot's form offers."""
    q = Question.from_dict(slot["snap"])
    if raw in (None, "", [], {}):
        return None
    if q.qtype == "multichoice":
        return _index(raw, len(q.answers))
    if q.qtype == "multiresponse":
        values = raw if isinstance(raw, list) else [raw]
        picked = sorted({_index(v, len(q.answers)) for v in values if v != ""})
        return picked or None
    if q.qtype == "truefalse":
        if raw not in ("true", "false"):
            raise AnswerError(f"{raw!r} is neither true nor false")
        return raw
    if q.qtype in ("shortanswer", "numerical"):
        if not isinstance(raw, str):
            raise AnswerError("a text answer must be text")
        return raw.strip()[:MAX_TEXT] or None
    if q.qtype == "matching":
        if not isinstance(raw, dict):
            raise AnswerError("a matching answer must map sub-questions to answers")
        out = {}
        for key, value in raw.items():
            sub = _index(key, len(q.pairs))
            if not q.pairs[sub].question:
                raise AnswerError("a distractor is not a sub-question")
            if value in ("", None):
                continue
            out[str(sub)] = _index(value, len(slot["choices"]))
        return out or None
    raise AnswerError(f"unknown question type {q.qtype}")


def _index(raw: Any, size: int) -> int:
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise AnswerError(f"{raw!r} is not an option") from exc
    if not 0 <= value < size or str(value) != str(raw).strip():
        raise AnswerError(f"{raw!r} is not an option")
    return value


# -- grading ----------------------------------------------------------------------------


def normalise(text: str, case_sensitive: bool) -> str:
    """Compare short answers as a person would: Unicode-normalised, spaces collapsed,
    case ignored unless the question says otherwise."""
    text = unicodedata.normalize("NFKC", text)
    text = " ".join(text.split())
    return text if case_sensitive else text.casefold()


def _pattern(answer: str, case_sensitive: bool) -> re.Pattern[str]:
    """Moodle short answers: `*` matches anything, `\\*` is a literal asterisk."""
    parts = re.split(r"(\\\*|\*)", normalise(answer, case_sensitive))
    regex = "".join(
        ".*" if p == "*" else re.escape("*") if p == "\\*" else re.escape(p) for p in parts
    )
    return re.compile(regex, re.DOTALL)


def parse_number(text: str) -> Decimal | None:
    """A typed number: decimal comma or point, optional thousands spaces; None if not
    a number."""
    t = text.strip().replace(" ", "").replace("\u00a0", "")
    if t.count(",") == 1 and "." not in t:
        t = t.replace(",", ".")
    try:
        value = Decimal(t)
    except InvalidOperation:
        return None
    # "1e9999999" is a Decimal, but past the exponents arithmetic allows (Emax
    # 999999): comparing it would raise. Far beyond any answer, it is no number.
    if not value.is_finite() or abs(value.adjusted()) > 99_999:
        return None
    return value


def fraction(slot: dict, answer: Any) -> Decimal:
    """The share of the question's mark an answer earns, 0 to 1."""
    if answer is None:
        return ZERO
    q = Question.from_dict(slot["snap"])
    if q.qtype in ("multichoice",):
        got = q.answers[answer].fraction
    elif q.qtype == "multiresponse":
        got = sum((q.answers[i].fraction for i in answer), ZERO)
    elif q.qtype == "truefalse":
        got = next((a.fraction for a in q.answers if a.text == answer), ZERO)
    elif q.qtype == "shortanswer":
        typed = normalise(answer, q.case_sensitive)
        got = next(
            (a.fraction for a in q.answers if _pattern(a.text, q.case_sensitive).fullmatch(typed)),
            ZERO,
        )
    elif q.qtype == "numerical":
        value = parse_number(answer)
        got = ZERO
        if value is not None:
            for a in q.answers:
                if a.text.strip() == "*" or abs(value - Decimal(a.text)) <= (a.tolerance or ZERO):
                    got = a.fraction
                    break
    elif q.qtype == "matching":
        subs = [i for i, p in enumerate(q.pairs) if p.question]
        right = sum(
            1
            for i in subs
            if str(i) in answer and slot["choices"][answer[str(i)]] == q.pairs[i].answer
        )
        got = Decimal(right) / len(subs) if subs else ZERO
    else:
        got = ZERO
    return min(max(got, ZERO), ONE)


def is_right(slot: dict, answer: Any) -> bool | None:
    """True (full marks), False (none) or None (partly right)."""
    f = fraction(slot, answer)
    return True if f == ONE else False if f == ZERO else None


@dataclass(frozen=True)
class Graded:
    points: Decimal  # sum of fraction x mark
    max_points: Decimal
    per_slot: tuple[Decimal, ...]  # fractions

    @property
    def percent(self) -> Decimal:
        if not self.max_points:
            return ZERO
        return (self.points * 100 / self.max_points).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )


def grade(slots: list[dict], answers: dict[str, Any]) -> Graded:
    fractions = []
    points = top = ZERO
    for n, slot in enumerate(slots):
        mark = Decimal(slot["snap"].get("default_mark", "1"))
        f = fraction(slot, answers.get(str(n)))
        fractions.append(f)
        points += f * mark
        top += mark
    return Graded(points=points, max_points=top, per_slot=tuple(fractions))


def correct_answer(slot: dict) -> str:
    """The right answer in words, for the review page."""
    q = Question.from_dict(slot["snap"])
    if q.qtype in ("multichoice", "multiresponse", "shortanswer"):
        best = [a for a in q.answers if a.fraction > 0]
        if q.qtype == "multichoice":
            best = [max(q.answers, key=lambda a: a.fraction)] if q.answers else []
        return "; ".join(a.text for a in best)
    if q.qtype == "truefalse":
        right = max(q.answers, key=lambda a: a.fraction)
        return right.text
    if q.qtype == "numerical":
        a = max(q.answers, key=lambda a: a.fraction)
        return a.text + (f" ± {a.tolerance}" if a.tolerance else "")
    if q.qtype == "matching":
        return "; ".join(f"{p.question} → {p.answer}" for p in q.pairs if p.question)
    return ""


def combine(percents: list[Decimal], method: str) -> Decimal | None:
    """The quiz grade from its finished attempts' percentages (in attempt order)."""
    if not percents:
        return None
    if method == "highest":
        return max(percents)
    if method == "last":
        return percents[-1]
    if method == "first":
        return percents[0]
    if method == "mean":
        return (sum(percents, ZERO) / len(percents)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    raise ValueError(f"unknown grading method {method!r}")
