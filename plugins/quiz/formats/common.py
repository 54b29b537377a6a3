"""What GIFT and Moodle XML share: Moodle's rules for a question worth importing,
its numbers and its category paths.

Both readers check a parsed question with `check`, so a file is refused for the same
reasons whichever format it came in.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask import has_request_context
from flask_babel import gettext

from plugins.quiz.questions import Question


class Message:
    """A problem's text, worded only when it is shown: in a request, in the request's
    language (Flask-Babel's catalog); anywhere else (the CLI, plain tests) in English,
    the msgid. Equal to the string it shows, so tests compare it with English text.

    Not Flask-Babel's LazyString: that one raises in an app context without a request
    (the CLI: the locale selector reads the session), and it has `__html__`, so Jinja
    would print the piece of the file quoted in a message without escaping it."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: object) -> None:
        self.msgid, self.params = msgid, params

    def __str__(self) -> str:
        if has_request_context():
            return gettext(self.msgid, **self.params)
        return self.msgid % self.params if self.params else self.msgid

    def __repr__(self) -> str:
        return repr(str(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return (self.msgid, self.params) == (other.msgid, other.params)
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


def lazy_gettext(msgid: str, **params: object) -> Message:
    """Like Flask-Babel's: `_l('"%(text)s" is not a number', text=value)`, translated
    when shown (see `Message`). Imported as `_l`, which `pybabel extract -k _l` finds."""
    return Message(msgid, **params)


_l = lazy_gettext
Problem = tuple[int, Message]

ZERO, ONE = Decimal(0), Decimal(1)
WS = " \t\n\r\0\x0b"  # what PHP's trim() strips: Moodle trims texts with it
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_CONTEXT = re.compile(r"^\$[a-z0-9_]*\$(?:/|$)")
_TAG = re.compile(r"<[^>]*>")


def number(text: str) -> Decimal | None:
    """A number as Moodle's is_numeric() accepts it (no commas, no inf/nan), else None."""
    text = text.strip(WS)
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def tidy(value: Decimal) -> Decimal:
    """Without trailing zeros or exponent: 1 not 1.0000000, 0.5 not 0.50."""
    try:
        if value == value.to_integral_value():
            return value.quantize(ONE)
    except InvalidOperation:  # too many digits to quantize: keep as it is
        return value
    return value.normalize()


def plain(value: Decimal) -> str:
    """A decimal written out in full ("100", "0.0000001"), never as 1E+2."""
    return format(tidy(value), "f")


def fraction_from_percent(text: str) -> Decimal | None:
    """Moodle's percent ("33.33333") as a fraction (0.3333333); None if not a number."""
    value = number(text)
    return None if value is None else tidy(value / 100)


def percent(fraction: Decimal) -> str:
    return plain(fraction * 100)


def clean_category(path: str) -> str:
    """A category path without Moodle's context (`$course$/`) and `top/` prefixes."""
    path = _CONTEXT.sub("", path.strip(WS))
    if path == "top":
        return ""
    return path.removeprefix("top/")


def default_name(text: str) -> str:
    """A name from the start of the text, as Moodle names GIFT questions without one
    (shorten_text to 80 characters on a word boundary, tags removed)."""
    words = " ".join(_TAG.sub(" ", text).split())
    if len(words) <= 80:
        return words or "Question"
    cut = words[:77]
    space = cut.rfind(" ")
    return (cut[:space] if space > 40 else cut).rstrip() + "..."


def check(q: Question, item_lines: list[int]) -> list[Problem]:
    """Every reason Moodle (or our grading) could not use the question.

    `item_lines` gives the line of each answer (or pair, for matching); problems
    about the whole question are reported at `q.line`."""

    def at(i: int) -> int:
        return item_lines[i] if i < len(item_lines) else q.line

    problems: list[Problem] = []
    if not q.text.strip(WS):
        problems.append((q.line, _l("the question has no text")))
    if q.default_mark < 0:
        problems.append((q.line, _l("the mark of a question cannot be negative")))
    for i, a in enumerate(q.answers):
        if not -1 <= a.fraction <= 1:
            problems.append(
                (
                    at(i),
                    _l(
                        "a grade of %(grade)s%% is out of range (-100%% to 100%%)",
                        grade=percent(a.fraction),
                    ),
                )
            )
        if not a.text.strip(WS):
            problems.append((at(i), _l("an answer is empty")))
    problems += _CHECKS[q.qtype](q, at) if q.qtype in _CHECKS else []
    return problems


def _has_right(q: Question) -> bool:
    """Moodle wants an answer worth exactly 100% (one over 100% is reported apart)."""
    return any(a.fraction == ONE for a in q.answers)


def _multichoice(q: Question, at) -> list[Problem]:
    if len(q.answers) < 2:
        return [(q.line, _l("a multiple-choice question needs at least two answers"))]
    if not _has_right(q):
        return [(q.line, _l("a multiple-choice question needs a correct answer"))]
    return []


def _multiresponse(q: Question, at) -> list[Problem]:
    if len(q.answers) < 2:
        return [(q.line, _l("a multiple-response question needs at least two answers"))]
    total = sum((a.fraction for a in q.answers if a.fraction > 0), ZERO)
    if not total:
        return [(q.line, _l("a multiple-response question needs a correct answer"))]
    if round(total, 2) != ONE:  # as Moodle: 3 x 33.33333% is 100%
        return [
            (
                q.line,
                _l(
                    "the correct answers of a multiple-response question must add up to"
                    " 100%% (they add up to %(total)s%%)",
                    total=percent(total),
                ),
            )
        ]
    return []


def _truefalse(q: Question, at) -> list[Problem]:
    texts = sorted(a.text for a in q.answers)
    fractions = sorted(a.fraction for a in q.answers)
    if texts != ["false", "true"] or fractions != [ZERO, ONE]:
        return [
            (q.line, _l("a true/false question needs the answers true and false, one worth 100%"))
        ]
    return []


def _shortanswer(q: Question, at) -> list[Problem]:
    if not q.answers:
        return [(q.line, _l("a short-answer question needs an answer"))]
    if not _has_right(q):
        return [(q.line, _l("a short-answer question needs an answer worth 100%"))]
    return []


def _numerical(q: Question, at) -> list[Problem]:
    if not q.answers:
        return [(q.line, _l("a numerical question needs an answer"))]
    problems: list[Problem] = []
    for i, a in enumerate(q.answers):
        if a.text.strip(WS) != "*" and number(a.text) is None:
            problems.append((at(i), _l('"%(text)s" is not a number', text=a.text)))
        if a.tolerance is not None and a.tolerance < 0:
            problems.append((at(i), _l("a tolerance cannot be negative")))
    if not _has_right(q):
        problems.append((q.line, _l("a numerical question needs an answer worth 100%")))
    return problems


def _matching(q: Question, at) -> list[Problem]:
    problems: list[Problem] = []
    for i, p in enumerate(q.pairs):
        if not p.answer.strip(WS):
            problems.append((at(i), _l("a matching pair has no answer")))
    if sum(1 for p in q.pairs if p.question.strip(WS)) < 2:
        problems.append((q.line, _l("a matching question needs at least two sub-questions")))
    return problems


_CHECKS = {
    "multichoice": _multichoice,
    "multiresponse": _multiresponse,
    "truefalse": _truefalse,
    "shortanswer": _shortanswer,
    "numerical": _numerical,
    "matching": _matching,
}
