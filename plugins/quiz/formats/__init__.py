"""The question file formats a bank imports from and exports to, by name.

Every format reads a whole file into `Question`s or raises one FormatError listing
every problem with its line, and writes files it reads back as the same questions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from plugins.quiz.formats import gift, moodle_xml
from plugins.quiz.questions import Question


@dataclass(frozen=True)
class Format:
    name: str  # the key in FORMATS
    label: str  # for people
    extension: str  # of exported files, without the dot
    media_type: str
    parse: Callable[[bytes | str], list[Question]]
    dump: Callable[[list[Question]], str]


FORMATS: dict[str, Format] = {
    "gift": Format("gift", "GIFT", "gift", "text/plain; charset=utf-8", gift.parse, gift.dump),
    "moodle-xml": Format(
        "moodle-xml",
        "Moodle XML",
        "xml",
        "application/xml; charset=utf-8",
        moodle_xml.parse,
        moodle_xml.dump,
    ),
}


def get(fmt: str) -> Format:
    try:
        return FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown question format {fmt!r}") from None


def parse(fmt: str, data: bytes | str) -> list[Question]:
    """The questions of a file in format `fmt`; FormatError if it has problems."""
    return get(fmt).parse(data)


def dump(fmt: str, questions: list[Question]) -> str:
    return get(fmt).dump(questions)


def guess(filename: str) -> str | None:
    """The format a file name suggests (Moodle exports GIFT as .txt), None if none."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {"gift": "gift", "txt": "gift", "xml": "moodle-xml"}.get(ext)
