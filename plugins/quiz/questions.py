"""Questions as plain data: what GIFT and Moodle XML import to and export from.

Independent of the database: a bank stores each question's `to_dict()` and grades
attempts from a snapshot of it, so editing a bank never changes a finished attempt.
Fractions follow Moodle: the share of the mark an answer earns, -1 to 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

QType = Literal["multichoice", "multiresponse", "truefalse", "shortanswer", "numerical", "matching"]
QTYPES: tuple[str, ...] = (
    "multichoice",
    "multiresponse",
    "truefalse",
    "shortanswer",
    "numerical",
    "matching",
)
TextFormat = Literal["html", "plain", "markdown", "moodle"]


@dataclass
class Answer:
    """An option (multichoice, multiresponse), an accepted answer (shortanswer,
    numerical: `text` is the number) or "true"/"false" (truefalse)."""

    text: str
    fraction: Decimal
    feedback: str = ""
    tolerance: Decimal | None = None  # numerical only


@dataclass
class Pair:
    """A matching sub-question and its answer; an empty `question` is a distractor."""

    question: str
    answer: str


@dataclass
class Question:
    qtype: QType
    name: str
    text: str
    text_format: TextFormat = "html"
    category: str = ""  # "a/b/c", without Moodle's "$course$/" prefix
    default_mark: Decimal = Decimal(1)
    answers: list[Answer] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    general_feedback: str = ""
    case_sensitive: bool = False  # shortanswer
    shuffle: bool = True  # options / matching answers may be shuffled
    line: int = 0  # where it starts in the imported file (for messages), 0 if unknown

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (decimals as strings), without the source line."""
        data = asdict(self)
        data.pop("line")
        data["default_mark"] = str(self.default_mark)
        for a in data["answers"]:
            a["fraction"] = str(a["fraction"])
            a["tolerance"] = None if a["tolerance"] is None else str(a["tolerance"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        data = dict(data)
        data["default_mark"] = Decimal(data.get("default_mark", "1"))
        data["answers"] = [
            Answer(
                text=a["text"],
                fraction=Decimal(a["fraction"]),
                feedback=a.get("feedback", ""),
                tolerance=None if a.get("tolerance") is None else Decimal(a["tolerance"]),
            )
            for a in data.get("answers", [])
        ]
        data["pairs"] = [Pair(**p) for p in data.get("pairs", [])]
        return cls(**data)


class FormatError(ValueError):
    """A file that cannot be imported: every problem found, each with its line (0 for
    the whole file), by line. A message is a str or a `formats.common.Message`, kept
    as it is: it is worded when shown, in the language of the request that shows it
    (English outside a request); so is `str()` of the error."""

    def __init__(self, problems: list[tuple[int, object]]) -> None:
        self.problems = sorted(problems, key=lambda p: (p[0], str(p[1])))
        super().__init__(self.problems)

    def __str__(self) -> str:
        return (
            "; ".join(f"line {n}: {m}" if n else str(m) for n, m in self.problems) or "invalid file"
        )
