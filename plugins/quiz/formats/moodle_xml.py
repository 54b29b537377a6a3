"""Moodle XML (`<quiz><question type="...">`), as Moodle 4.x imports and exports it.

Read with defusedxml: no DTD, no entity declarations, so no external entities and
no billion laughs. Every element remembers its line so that each problem is
reported where it is; all problems of a file come in one FormatError.

Kept: names, texts and their format, general and answer feedback, marks, answer
grades, single/multiple, shuffling, case sensitivity, tolerances, matching pairs.
Ignored (they do not change what a student sees or how an answer is graded here):
penalty, hidden, idnumber, answer numbering, combined feedback, hints and tags.
Refused: question types other than ours, embedded files and numerical units.
Texts lose leading and trailing white space (Moodle trims them too), and a numerical
"any other answer" (`*`) its tolerance, which means nothing for it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers.expat import ErrorString

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from plugins.quiz.formats.common import (
    WS,
    Problem,
    check,
    clean_category,
    default_name,
    fraction_from_percent,
    number,
    percent,
    plain,
    tidy,
)
from plugins.quiz.formats.common import lazy_gettext as _l
from plugins.quiz.questions import Answer, FormatError, Pair, Question

_FORMAT_IN = {"html": "html", "moodle_auto_format": "moodle", "plain_text": "plain"}
_FORMAT_IN |= {"markdown": "markdown"}
_FORMAT_OUT = {v: k for k, v in _FORMAT_IN.items()}
_UNSUPPORTED = {  # whole sentences: translations word them each their own way
    "essay": _l("essay questions are not supported"),
    "description": _l("description items are not supported"),
    "multianswer": _l("embedded answers (Cloze) questions are not supported"),
    "calculated": _l("calculated questions are not supported"),
    "calculatedsimple": _l("simple calculated questions are not supported"),
    "calculatedmulti": _l("calculated multichoice questions are not supported"),
    "ddwtos": _l("drag and drop into text questions are not supported"),
    "ddimageortext": _l("drag and drop onto image questions are not supported"),
    "ddmarker": _l("drag and drop markers questions are not supported"),
    "gapselect": _l("select missing words questions are not supported"),
    "randomsamatch": _l("random short-answer matching questions are not supported"),
    "random": _l("random questions are not supported"),
    "ordering": _l("ordering questions are not supported"),
}
_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# -- reading ------------------------------------------------------------------------


class _LineBuilder(TreeBuilder):
    """A tree builder that notes the line each element starts on."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[Element, int] = {}
        self.parser: DefusedXMLParser | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        element = super().start(tag, attrs)
        self.lines[element] = self.parser.parser.CurrentLineNumber
        return element


def _read(data: bytes | str) -> tuple[Element, dict[Element, int]]:
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    if isinstance(data, str):
        data = data.removeprefix("\ufeff")
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as exc:
        line, column = exc.position
        raise FormatError(
            [
                (
                    line,
                    _l(
                        "malformed XML: %(error)s (column %(column)s)",
                        error=ErrorString(exc.code),
                        column=column + 1,
                    ),
                )
            ]
        ) from None
    except DefusedXmlException:
        line = parser.parser.CurrentLineNumber
        raise FormatError([(line, _l("DOCTYPE and entity declarations are not allowed"))]) from None
    return root, builder.lines


def parse(data: bytes | str) -> list[Question]:
    """The questions of a Moodle XML file; FormatError listing every problem if any."""
    root, lines = _read(data)
    if root.tag != "quiz":
        msg = _l(
            "this is not a Moodle XML question file (<%(tag)s> instead of <quiz>)", tag=root.tag
        )
        raise FormatError([(lines[root], msg)])
    questions: list[Question] = []
    problems: list[Problem] = []
    category = ""
    for el in root.findall("question"):
        qtype = el.get("type", "")
        if qtype == "category":
            category = clean_category(_text(el, "category"))
            continue
        q, found = _Reader(el, lines).question(qtype, category)
        problems += found
        if q is not None:
            questions.append(q)
    if problems:
        raise FormatError(problems)
    return questions


def _text(el: Element, path: str) -> str:
    """The trimmed `<text>` of a child (or of `el` itself when path is "")."""
    found = el.find(f"{path}/text" if path else "text")
    return "" if found is None else (found.text or "").strip(WS)


class _Reader:
    """One `<question>`: its fields, and its problems with their lines."""

    def __init__(self, el: Element, lines: dict[Element, int]) -> None:
        self.el, self.lines = el, lines
        self.line = lines[el]
        self.problems: list[Problem] = []
        self.item_lines: list[int] = []

    def question(self, qtype: str, category: str) -> tuple[Question | None, list[Problem]]:
        el = self.el
        if qtype not in ("multichoice", "truefalse", "shortanswer", "numerical", "matching"):
            if not qtype:
                msg = _l("a question has no type")
            else:
                msg = _UNSUPPORTED.get(qtype) or _l(
                    '"%(type)s" questions are not supported', type=qtype
                )
            return None, [(self.line, msg)]
        files = list(el.iter("file"))
        for f in files:
            self.problems.append((self.lines[f], _l("embedded files are not supported")))
        if not files and any("@@PLUGINFILE@@" in (t.text or "") for t in el.iter("text")):
            msg = _l("embedded files (@@PLUGINFILE@@) are not supported")
            self.problems.append((self.line, msg))
        if el.find("name") is None:  # Moodle refuses it too; an empty name is named
            self.problems.append((self.line, _l("the question has no <name>")))
        text_el = el.find("questiontext")
        fmt = "moodle" if text_el is None else _FORMAT_IN.get(text_el.get("format", ""), "moodle")
        text = _text(el, "questiontext")
        q = Question(
            qtype=qtype,  # type: ignore[arg-type]  (checked above)
            name=_text(el, "name") or default_name(text),
            text=text,
            text_format=fmt,  # type: ignore[arg-type]
            category=category,
            default_mark=self._decimal("defaultgrade", Decimal(1)),
            general_feedback=_text(el, "generalfeedback"),
            line=self.line,
        )
        if qtype == "matching":
            q.shuffle = self._boolean("shuffleanswers", True)
            for sub in el.findall("subquestion"):
                q.pairs.append(Pair(_text(sub, ""), _text(sub, "answer")))
                self.item_lines.append(self.lines[sub])
        else:
            self._answers(q)
        if self.problems:
            return None, self.problems
        problems = check(q, self.item_lines)
        return (None if problems else q), problems

    def _answers(self, q: Question) -> None:
        el = self.el
        if q.qtype == "multichoice":
            if not self._boolean("single", True):
                q.qtype = "multiresponse"
            q.shuffle = self._boolean("shuffleanswers", True)
        elif q.qtype == "shortanswer":
            q.case_sensitive = self._boolean("usecase", False)
        elif q.qtype == "numerical" and el.find("units/unit") is not None:
            self.problems.append((self.lines[el.find("units/unit")], _l("units are not supported")))
        for a in el.findall("answer"):
            line = self.lines[a]
            raw = a.get("fraction", "0")
            fraction = fraction_from_percent(raw)
            if fraction is None:
                self.problems.append((line, _l('the grade "%(text)s" is not a number', text=raw)))
                continue
            text = _text(a, "") if a.find("text") is not None else (a.text or "").strip(WS)
            answer = Answer(text, fraction, _text(a, "feedback"))
            if q.qtype == "truefalse":
                answer.text = text.lower()
            if q.qtype == "numerical" and text != "*" and a.find("tolerance") is not None:
                raw = (a.findtext("tolerance") or "").strip(WS)
                answer.tolerance = number(raw)
                if answer.tolerance is None:
                    self.problems.append(
                        (line, _l('the tolerance "%(text)s" is not a number', text=raw))
                    )
            q.answers.append(answer)
            self.item_lines.append(line)
        if q.qtype == "truefalse":  # true first, whatever the file's order
            order = sorted(range(len(q.answers)), key=lambda i: q.answers[i].text != "true")
            q.answers = [q.answers[i] for i in order]
            self.item_lines = [self.item_lines[i] for i in order]

    def _boolean(self, tag: str, default: bool) -> bool:
        child = self.el.find(tag)
        if child is None:
            return default
        value = _BOOLEAN.get((child.text or "").strip(WS).lower())
        if value is None:
            self.problems.append(
                (self.lines[child], _l("<%(tag)s> must be true or false", tag=tag))
            )
            return default
        return value

    def _decimal(self, tag: str, default: Decimal) -> Decimal:
        child = self.el.find(tag)
        if child is None:
            return default
        value = number(child.text or "")
        if value is None:
            self.problems.append((self.lines[child], _l("<%(tag)s> must be a number", tag=tag)))
            return default
        return tidy(value)


# -- writing ------------------------------------------------------------------------


def dump(questions: list[Question]) -> str:
    """Moodle XML as Moodle 4.x writes it, which `parse` (and Moodle) reads back as the
    same questions; ValueError for a text XML cannot hold (control characters)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    category = None
    for q in questions:
        if q.category != category:
            category = q.category
            path = "$course$/top" + (f"/{category}" if category else "")
            out.append(
                '  <question type="category">\n'
                f"    <category>\n      <text>{_cdata(path, q)}</text>\n    </category>\n"
                "  </question>\n\n"
            )
        out.append(_write(q))
    out.append("</quiz>\n")
    return "".join(out)


def _cdata(text: str, q: Question) -> str:
    """A text as Moodle writes it: in CDATA when it holds markup characters."""
    if _NOT_XML.search(text):
        raise ValueError(f"question {q.name!r}: a text has characters XML cannot hold")
    if not any(c in text for c in "<>&"):
        return text
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _write(q: Question) -> str:
    fmt = _FORMAT_OUT.get(q.text_format, "html")
    xml_type = "multichoice" if q.qtype == "multiresponse" else q.qtype
    if xml_type not in ("multichoice", "truefalse", "shortanswer", "numerical", "matching"):
        raise ValueError(f"question {q.name!r}: unknown type {q.qtype!r}")
    lines = [
        f'  <question type="{xml_type}">',
        f"    <name>\n      <text>{_cdata(q.name, q)}</text>\n    </name>",
        f'    <questiontext format="{fmt}">\n      <text>{_cdata(q.text, q)}</text>',
        "    </questiontext>",
        f'    <generalfeedback format="{fmt}">',
        f"      <text>{_cdata(q.general_feedback, q)}</text>\n    </generalfeedback>",
        f"    <defaultgrade>{plain(q.default_mark)}</defaultgrade>",
        f"    <penalty>{'1' if q.qtype == 'truefalse' else '0.3333333'}</penalty>",
        "    <hidden>0</hidden>",
        "    <idnumber></idnumber>",
    ]
    shuffle = "true" if q.shuffle else "false"
    if xml_type == "multichoice":
        single = "true" if q.qtype == "multichoice" else "false"
        lines += [
            f"    <single>{single}</single>",
            f"    <shuffleanswers>{shuffle}</shuffleanswers>",
            "    <answernumbering>abc</answernumbering>",
        ]
    elif q.qtype == "shortanswer":
        lines.append(f"    <usecase>{1 if q.case_sensitive else 0}</usecase>")
    elif q.qtype == "matching":
        lines.append(f"    <shuffleanswers>{shuffle}</shuffleanswers>")
        for p in q.pairs:
            lines += [
                f'    <subquestion format="{fmt}">',
                f"      <text>{_cdata(p.question, q)}</text>",
                f"      <answer>\n        <text>{_cdata(p.answer, q)}</text>\n      </answer>",
                "    </subquestion>",
            ]
    answer_format = fmt if xml_type == "multichoice" else "moodle_auto_format"
    for a in q.answers:
        lines += [
            f'    <answer fraction="{percent(a.fraction)}" format="{answer_format}">',
            f"      <text>{_cdata(a.text, q)}</text>",
            f'      <feedback format="{fmt}">',
            f"        <text>{_cdata(a.feedback, q)}</text>\n      </feedback>",
        ]
        if q.qtype == "numerical" and a.tolerance is not None:
            lines.append(f"      <tolerance>{format(a.tolerance, 'f')}</tolerance>")
        lines.append("    </answer>")
    if q.qtype == "numerical":
        lines += [
            "    <unitgradingtype>0</unitgradingtype>",
            "    <unitpenalty>0.1000000</unitpenalty>",
            "    <showunits>3</showunits>",
            "    <unitsleft>0</unitsleft>",
        ]
    return "\n".join(lines) + "\n  </question>\n\n"
