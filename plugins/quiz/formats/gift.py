"""Moodle's GIFT format, read the way Moodle's own qformat_gift reads it.

A file that imports here imports the same way into Moodle, but for the differences
below (and names made from the text may be cut a little differently). Where Moodle
would import something else than the author meant, or drop it, we refuse the file and
say why, with the line: every problem of the file at once, in one FormatError.
Deliberate differences: a missing word is marked in the text as " _____ "; `=%50%`
in a multiple-choice answer is an error (Moodle would show "%50%" as the answer);
`$CATEGORY:` must stand alone in its block (Moodle would swallow the question).

GIFT cannot say a question's mark, whether a short answer is case sensitive or
whether options may be shuffled, nor give answers their own text format: they
import as 1, not case sensitive, shuffled, and the question's format, and `dump`
leaves them out. Texts lose leading and trailing white space (Moodle trims); a
numerical "any other answer" (`*`, written `~#feedback`) has no tolerance. `dump`
refuses (ValueError) `->` in a short answer or a matching sub-question: GIFT would
read the question back as a matching one.
"""

from __future__ import annotations

import bisect
import re
from decimal import Decimal

from plugins.quiz.formats.common import (
    ONE,
    WS,
    ZERO,
    Problem,
    check,
    clean_category,
    default_name,
    fraction_from_percent,
    number,
    percent,
    tidy,
)
from plugins.quiz.formats.common import lazy_gettext as _l
from plugins.quiz.questions import Answer, FormatError, Pair, Question

# Escaped characters are swapped for private-use placeholders before parsing (as
# Moodle swaps them for "&&058;" and the like) and swapped back in finished texts.
_PLACEHOLDER = {c: chr(0xE000 + i) for i, c in enumerate("\\:#={}~n")}
_UNESCAPED = str.maketrans({p: ("\n" if c == "n" else c) for c, p in _PLACEHOLDER.items()})
_ESCAPE_IN = re.compile(r"\\([\\:#={}~n])")
_ESCAPE_OUT = str.maketrans(
    {"\\": "\\\\", "~": "\\~", "=": "\\=", "#": "\\#", "{": "\\{", "}": "\\}", ":": "\\:"}
    | {"\n": "\\n", "\r": ""}
)
_FORMAT = re.compile(r"\[(html|plain|markdown|moodle)\]")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d*)?)%")  # Moodle: /^%\-*([0-9]{1,2})\.?([0-9]*)%/
_TRUEFALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


# -- reading ------------------------------------------------------------------------


def parse(text: str | bytes) -> list[Question]:
    """The questions of a GIFT file; FormatError listing every problem if any."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            raise FormatError([(line, _l("the file is not UTF-8 text"))]) from exc
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    questions: list[Question] = []
    problems: list[Problem] = []
    category = ""
    for block in _blocks(text):
        line = block.lines[0][1]
        if line.startswith("$CATEGORY:"):
            category = clean_category(line[len("$CATEGORY:") :].translate(_UNESCAPED))
            if len(block.lines) > 1:
                problems.append(
                    (block.lines[1][0], _l("a blank line must follow the $CATEGORY: line"))
                )
            continue
        q, found = _question(block, category)
        problems += found
        if q is not None:
            questions.append(q)
    if problems:
        raise FormatError(problems)
    return questions


class _Block:
    """The lines of one question (comments left out) joined into one text, and the
    line each character of it comes from."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = lines
        self.text = "\n".join(s for _n, s in lines)
        self.starts: list[int] = []
        pos = 0
        for _n, s in lines:
            self.starts.append(pos)
            pos += len(s) + 1

    def line(self, pos: int) -> int:
        return self.lines[bisect.bisect_right(self.starts, pos) - 1][0]


def _blocks(text: str) -> list[_Block]:
    """Questions are separated by blank lines; lines are trimmed and `//` lines are
    comments, as Moodle reads them."""
    blocks, current = [], []
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(WS)
        if not line:
            if current:
                blocks.append(_Block(current))
            current = []
        elif not line.startswith("//"):
            current.append((n, _ESCAPE_IN.sub(lambda m: _PLACEHOLDER[m[1]], line)))
    if current:
        blocks.append(_Block(current))
    return blocks


def _question(block: _Block, category: str) -> tuple[Question | None, list[Problem]]:
    src, first = block.text, block.lines[0][0]
    name = ""
    pos = 0
    if src.startswith("::"):
        end = src.find("::", 2)
        if end < 0:
            return None, [(first, _l("the question name is not closed with ::"))]
        name = src[2:end].translate(_UNESCAPED).strip(WS)
        pos = end + 2
    start, end = src.find("{", pos), src.find("}", pos)
    if start < 0 and end < 0:
        return None, [(first, _l("description items (text without answers) are not supported"))]
    if end >= 0 and (start < 0 or end < start):
        return None, [(block.line(end), _l("closing brace without an opening brace"))]
    end = src.find("}", start)
    if end < 0:
        return None, [(block.line(start), _l("no closing brace"))]
    problems = _misplaced_braces(block, start, end)
    if problems:
        return None, problems

    before, after = src[pos:start].strip(WS), src[end + 1 :].strip(WS)
    fmt, text = _with_format(
        " ".join(p for p in (before, "_____", after) if p) if after else before
    )
    answers = src[start + 1 : end]
    feedback = ""
    cut = answers.rfind("####")
    if cut >= 0:
        feedback = _with_format(answers[cut + 4 :], fmt)[1]
        answers = answers[:cut]
    offset = start + 1 + len(answers) - len(answers.lstrip(WS))
    answers = answers.strip(WS)
    q = Question(
        qtype="shortanswer",
        name=name or default_name(text),
        text=text,
        text_format=fmt,
        category=category,
        general_feedback=feedback,
        line=first,
    )
    if not answers:
        return None, [(first, _l("essay questions are not supported"))]
    reader = _Answers(block, offset, fmt)
    if answers[0] == "#":
        q.qtype = "numerical"
        reader.numerical(q, answers)
    elif "~" in answers:
        q.qtype = "multichoice" if "=" in answers else "multiresponse"
        reader.choices(q, answers)
    elif "=" in answers and "->" in answers:
        q.qtype = "matching"
        reader.matching(q, answers)
    elif answers.split("#", 1)[0].strip(WS) in _TRUEFALSE:
        q.qtype = "truefalse"
        reader.truefalse(q, answers)
    else:
        reader.shortanswer(q, answers)
    if reader.problems:
        return None, reader.problems
    if q.qtype == "multiresponse" and all(a.fraction <= 0 for a in q.answers):
        msg = _l("a multiple-choice question needs a correct answer (mark it with =)")
        return None, [(first, msg)]  # rather than "multiple-response": "=" was forgotten
    problems = check(q, reader.lines)
    return (None if problems else q), problems


def _misplaced_braces(block: _Block, start: int, end: int) -> list[Problem]:
    """Braces Moodle would not read as the author meant: a `{` inside the answers, a
    second question run on without a blank line, a second answer block."""
    src = block.text
    inner = src.find("{", start + 1, end)
    if inner >= 0:
        msg = _l("an answer block cannot contain {; write \\{ for a brace in a text")
        return [(block.line(inner), msg)]
    for (n, line), begin in zip(block.lines, block.starts, strict=True):
        if begin > end and line.startswith(("::", "$CATEGORY:")):
            return [(n, _l("a blank line must separate questions"))]
    stray = min((i for i in (src.find("{", end + 1), src.find("}", end + 1)) if i >= 0), default=-1)
    if stray >= 0:
        return [(block.line(stray), _l("a question can have only one answer block {...}"))]
    return []


def _with_format(raw: str, default: str = "moodle") -> tuple[str, str]:
    """A leading [html]/[plain]/[markdown]/[moodle] marker read off a text."""
    raw = raw.strip(WS)
    m = _FORMAT.match(raw)
    if m:
        return m[1], raw[m.end() :].translate(_UNESCAPED).strip(WS)
    return default, raw.translate(_UNESCAPED).strip(WS)


def _pieces(answers: str, seps: str) -> list[tuple[int, str, str]]:
    """(offset of its separator, separator, text) for each answer; the text before
    the first separator comes first, with separator ""."""
    out, begin, sep = [], 0, ""
    for i, c in enumerate(answers):
        if c in seps:
            out.append((begin - 1 if sep else begin, sep, answers[begin:i]))
            begin, sep = i + 1, c
    out.append((begin - 1 if sep else begin, sep, answers[begin:]))
    if not out[0][2].strip(WS):
        out.pop(0)  # nothing before the first separator
    return out


def _weight(text: str, default: Decimal) -> tuple[Decimal, str]:
    m = _WEIGHT.match(text)
    if m is None:
        return default, text
    return fraction_from_percent(m[1]) or ZERO, text[m.end() :]


class _Answers:
    """Reads the answers of one question type, with the line of each answer."""

    def __init__(self, block: _Block, offset: int, fmt: str) -> None:
        self.block, self.offset, self.fmt = block, offset, fmt
        self.lines: list[int] = []
        self.problems: list[Problem] = []

    def _line(self, pos: int) -> int:
        return self.block.line(self.offset + pos)

    def _comment(self, text: str) -> tuple[str, str]:
        """An answer and its `#feedback`."""
        head, _sep, feedback = text.partition("#")
        return _with_format(head, self.fmt)[1], _with_format(feedback, self.fmt)[1]

    def choices(self, q: Question, answers: str) -> None:
        for pos, sep, piece in _pieces(answers, "=~"):
            piece = piece.strip(WS)
            if sep == "=":
                if _WEIGHT.match(piece):
                    self.problems.append(
                        (
                            self._line(pos),
                            _l("= marks the correct answer; write ~%50%answer for partial credit"),
                        )
                    )
                    continue
                fraction = ONE
            else:
                fraction, piece = _weight(piece, ZERO)
            text, feedback = self._comment(piece)
            q.answers.append(Answer(text, fraction, feedback))
            self.lines.append(self._line(pos))

    def shortanswer(self, q: Question, answers: str) -> None:
        for pos, _sep, piece in _pieces(answers, "="):
            fraction, piece = _weight(piece.strip(WS), ONE)
            text, feedback = self._comment(piece)
            q.answers.append(Answer(text, fraction, feedback))
            self.lines.append(self._line(pos))

    def truefalse(self, q: Question, answers: str) -> None:
        head, *feedbacks = answers.split("#", 2)
        wrong, right = ([_with_format(f, self.fmt)[1] for f in feedbacks] + ["", ""])[:2]
        correct = _TRUEFALSE[head.strip(WS)]
        q.answers = [
            Answer("true", ONE if correct else ZERO, right if correct else wrong),
            Answer("false", ZERO if correct else ONE, wrong if correct else right),
        ]
        self.lines = [self._line(0)] * 2

    def matching(self, q: Question, answers: str) -> None:
        for pos, _sep, piece in _pieces(answers, "="):
            if "->" not in piece:
                msg = _l("a matching pair needs -> between the sub-question and its answer")
                self.problems.append((self._line(pos), msg))
                continue
            question, _arrow, answer = piece.partition("->")
            q.pairs.append(
                Pair(_with_format(question, self.fmt)[1], answer.translate(_UNESCAPED).strip(WS))
            )
            self.lines.append(self._line(pos))

    def numerical(self, q: Question, answers: str) -> None:
        body, tilde, other = answers[1:].partition("~")  # "~#feedback": any other answer
        for pos, _sep, piece in _pieces(body, "="):
            line = self._line(pos + 1)
            fraction, piece = _weight(piece.strip(WS), ONE)
            value, feedback = self._comment(piece)
            answer = self._number(value, line)
            if answer is not None:
                answer.fraction, answer.feedback = fraction, feedback
                q.answers.append(answer)
                self.lines.append(line)
        if tilde:
            q.answers.append(Answer("*", ZERO, self._comment(other)[1]))
            self.lines.append(self._line(len(body) + 1))

    def _number(self, value: str, line: int) -> Answer | None:
        """`3.14`, `3.14:0.01` (tolerance) or `1..5` (a range: midpoint and half-width)."""
        if value.find("..") > 0:
            low, _dots, high = (number(v) for v in value.partition(".."))
            if low is None or high is None:
                self.problems.append((line, _l('"%(text)s" is not a range of numbers', text=value)))
                return None
            if low > high:
                self.problems.append(
                    (line, _l('the range "%(text)s" ends below its start', text=value))
                )
                return None
            middle = tidy((low + high) / 2)
            return Answer(format(middle, "f"), ONE, tolerance=tidy(high - middle))
        text, colon, margin = value.partition(":") if value.find(":") > 0 else (value, "", "")
        text = text.strip(WS)
        tolerance = number(margin) if colon else None
        if text != "*" and number(text) is None:
            self.problems.append((line, _l('"%(text)s" is not a number', text=text)))
            return None
        if colon and tolerance is None:
            self.problems.append(
                (line, _l('the tolerance "%(text)s" is not a number', text=margin.strip(WS)))
            )
            return None
        return Answer(text, ONE, tolerance=None if text == "*" else tolerance)


# -- writing ------------------------------------------------------------------------


def dump(questions: list[Question]) -> str:
    """GIFT that `parse` (and Moodle) reads back as the same questions; ValueError for a
    question GIFT cannot hold (see the module docstring)."""
    out = []
    category = ""
    for q in questions:
        if q.category != category:
            if "\n" in q.category:
                raise ValueError(f"category {q.category!r} has a line break")
            out.append(f"$CATEGORY: {q.category}\n")
            category = q.category
        out.append(_write(q))
    return "\n".join(out)


def _esc(text: str) -> str:
    return text.translate(_ESCAPE_OUT)


def _text(text: str, fmt: str) -> str:
    """A text whose start parse could mistake for a format marker or a weight gets
    an explicit marker of its own format (parse reads off only the first)."""
    return (f"[{fmt}]" if text.startswith(("[", "%")) else "") + _esc(text)


def _write(q: Question) -> str:
    fmt = q.text_format
    marker = f"[{fmt}]" if fmt != "moodle" or q.text.startswith("[") else ""
    head = f"::{_esc(q.name)}::{marker}{_esc(q.text)}"
    feedback = f"####{_text(q.general_feedback, fmt)}" if q.general_feedback else ""
    writer = _WRITERS.get(q.qtype)
    if writer is None:
        raise ValueError(f"question {q.name!r}: unknown type {q.qtype!r}")
    body = writer(q, fmt)
    if isinstance(body, str):  # a one-line answer block
        return f"{head} {{{body}{feedback}}}\n"
    opener = "{#" if body[:1] == ["#"] else "{"  # numerical: "{#" then its answers
    lines = [f"\t{line}" for line in body[len(opener) - 1 :]]
    lines += [f"\t{feedback}"] if feedback else []
    return f"{head} {opener}\n" + "\n".join(lines) + "\n}\n"


def _feedback(text: str, fmt: str) -> str:
    return f"#{_text(text, fmt)}" if text else ""


def _weighted(fraction: Decimal) -> str:
    return "" if fraction == ONE else f"%{percent(fraction)}%"


def _choices(q: Question, fmt: str) -> list[str]:
    lines, correct = [], False
    for a in q.answers:
        if q.qtype == "multichoice" and a.fraction == ONE and not correct:
            prefix, correct = "=", True
        elif a.fraction == ZERO:
            prefix = "~"
        else:  # also a second 100% option: "~" keeps the question multiple-choice
            prefix = f"~%{percent(a.fraction)}%"
        lines.append(prefix + _text(a.text, fmt) + _feedback(a.feedback, fmt))
    return lines


def _truefalse(q: Question, fmt: str) -> str:
    right = next((a for a in q.answers if a.fraction == ONE), None)
    wrong = next((a for a in q.answers if a is not right), None)
    if right is None or wrong is None or {right.text, wrong.text} != {"true", "false"}:
        raise ValueError(f"question {q.name!r}: true/false answers must be true and false")
    out = "TRUE" if right.text == "true" else "FALSE"
    if wrong.feedback or right.feedback:
        out += _feedback(wrong.feedback, fmt) or "#"
    return out + _feedback(right.feedback, fmt)


def _shortanswer(q: Question, fmt: str) -> list[str]:
    for a in q.answers:
        if "->" in a.text or "->" in a.feedback:
            raise ValueError(f"question {q.name!r}: GIFT cannot hold -> in a short answer")
    return [
        f"={_weighted(a.fraction)}{_text(a.text, fmt)}{_feedback(a.feedback, fmt)}"
        for a in q.answers
    ]


def _numerical(q: Question, fmt: str) -> str | list[str]:
    def value(a: Answer) -> str:
        text = a.text.strip(WS)
        if text != "*" and number(text) is None:
            raise ValueError(f"question {q.name!r}: {a.text!r} is not a number")
        if text == "*" or a.tolerance is None:
            return text
        return f"{text}:{format(a.tolerance, 'f')}"

    if len(q.answers) == 1 and q.answers[0].fraction == ONE and not q.answers[0].feedback:
        return f"#{value(q.answers[0])}"
    answers, other = q.answers, []
    last = answers[-1] if answers else None
    if last is not None and last.text.strip(WS) == "*" and last.fraction == ZERO:
        answers, other = answers[:-1], [f"~{_feedback(last.feedback, fmt)}"]  # as Moodle does
    lines = [f"={_weighted(a.fraction)}{value(a)}{_feedback(a.feedback, fmt)}" for a in answers]
    return ["#", *lines, *other]


def _matching(q: Question, fmt: str) -> list[str]:
    lines = []
    for p in q.pairs:
        if "->" in p.question:
            raise ValueError(f"question {q.name!r}: GIFT cannot hold -> in a sub-question")
        question = _text(p.question, fmt) + " " if p.question else ""
        lines.append(f"={question}-> {_esc(p.answer)}")
    return lines


_WRITERS = {
    "multichoice": _choices,
    "multiresponse": _choices,
    "truefalse": _truefalse,
    "shortanswer": _shortanswer,
    "numerical": _numerical,
    "matching": _matching,
}
