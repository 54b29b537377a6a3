"""Rubrics and scores: the class's rubric, reading a scoring form, the score formula.

A rubric has criteria, each with levels (a description and points). The score of a
scoring is

    score = (sum of the points of the chosen levels)
            / (sum of each criterion's highest points) x the activity's maximum score

as a Decimal rounded half up to 2 decimals. A form names a criterion by its position
(`c-0`, `c-1`, ...) and a level by its position in the criterion (`0`, `1`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

CENT = Decimal("0.01")
MAX_COMMENT = 2000
MAX_CRITERIA = 20
MAX_LEVELS = 10
MAX_TITLE = 300
MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class Level:
    description: str
    points: Decimal


@dataclass(frozen=True)
class Criterion:
    title: str
    levels: tuple[Level, ...]

    @property
    def max_points(self) -> Decimal:
        return max(lv.points for lv in self.levels)


@dataclass(frozen=True)
class Rubric:
    key: str
    title: str
    criteria: tuple[Criterion, ...]
    #: The class's own edited copy (not the template's).
    edited: bool = False

    @property
    def max_points(self) -> Decimal:
        return sum((c.max_points for c in self.criteria), Decimal(0))

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "criteria": criteria_json(self.criteria),
        }

    def same_shape(self, other: Rubric) -> bool:
        return self.to_json() == other.to_json()


def criteria_json(criteria) -> list[dict]:
    return [
        {
            "title": c.title,
            "levels": [
                {"description": lv.description, "points": _plain(lv.points)} for lv in c.levels
            ],
        }
        for c in criteria
    ]


def _plain(value: Decimal) -> str:
    """12.50 -> "12.5", 25 -> "25" (points as typed, without trailing zeros)."""
    text = format(value.normalize(), "f")
    return text


def from_json(data: dict[str, Any], edited: bool = False) -> Rubric:
    return Rubric(
        key=data.get("key", ""),
        title=data.get("title", ""),
        criteria=tuple(
            Criterion(
                title=c["title"],
                levels=tuple(
                    Level(lv["description"], Decimal(str(lv["points"]))) for lv in c["levels"]
                ),
            )
            for c in data.get("criteria", [])
        ),
        edited=edited,
    )


def template_rubric(module, key: str) -> Rubric | None:
    """The rubric as the module's template defines it."""
    for r in ((module.definition or {}).get("resources") or {}).get("rubrics", []):
        if r.get("key") == key:
            return from_json(r)
    return None


def class_copy(db: Session, instance_id: int | None, key: str):
    from plugins.penilaian.models import PenilaianRubric

    if instance_id is None:
        return None
    return db.scalars(
        select(PenilaianRubric).where(
            PenilaianRubric.instance_id == instance_id, PenilaianRubric.rubric_key == key
        )
    ).first()


def rubric_for(db: Session, module, instance_id: int | None, key: str) -> Rubric | None:
    """The rubric the class uses: its pengampu's edited copy, else the template's."""
    row = class_copy(db, instance_id, key)
    if row is not None:
        return from_json({"key": key, "title": row.title, "criteria": row.criteria}, True)
    return template_rubric(module, key)


# -- scoring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    points: Decimal  # sum of the chosen levels' points
    max_points: Decimal  # sum of each criterion's highest points
    score: Decimal  # out of `max_score`, half up to 2 decimals
    max_score: Decimal

    @property
    def percent(self) -> Decimal:
        return (self.points * 100 / self.max_points).quantize(CENT, rounding=ROUND_HALF_UP)


def score(rubric: Rubric, choices: dict[str, int], max_score: int | Decimal) -> Scored:
    """The score of a complete set of choices (criterion index -> level index)."""
    top = Decimal(max_score)
    points = sum((rubric.criteria[int(i)].levels[j].points for i, j in choices.items()), Decimal(0))
    total = rubric.max_points
    value = (points * top / total).quantize(CENT, rounding=ROUND_HALF_UP)
    return Scored(points=points, max_points=total, score=value, max_score=top)


@dataclass
class Reading:
    """What a scoring form held: the valid choices, and what was wrong."""

    choices: dict[str, int]
    missing: list[str]  # criterion indexes with no level chosen
    invalid: list[str]  # criterion indexes (or field names) with a level that does not exist

    @property
    def ok(self) -> bool:
        return not self.missing and not self.invalid


def read_choices(rubric: Rubric, form) -> Reading:
    """The level chosen for every criterion (`c-<i>` = `<j>`); nothing else is trusted."""
    choices: dict[str, int] = {}
    missing: list[str] = []
    invalid: list[str] = []
    for i, criterion in enumerate(rubric.criteria):
        raw = (form.get(f"c-{i}") or "").strip()
        if not raw:
            missing.append(str(i))
        elif raw.isdigit() and raw.isascii() and int(raw) < len(criterion.levels):
            choices[str(i)] = int(raw)
        else:
            invalid.append(str(i))
    for name in form:
        if name.startswith("c-"):
            index = name[2:]
            if not (index.isdigit() and index.isascii() and int(index) < len(rubric.criteria)):
                invalid.append(name)
    return Reading(choices=choices, missing=missing, invalid=invalid)


def fits(rubric: Rubric, choices: dict) -> bool:
    """Whether stored choices name a level of every criterion of `rubric`."""
    if set(choices) != {str(i) for i in range(len(rubric.criteria))}:
        return False
    return all(
        isinstance(j, int) and 0 <= j < len(rubric.criteria[int(i)].levels)
        for i, j in choices.items()
    )


# -- the pengampu's edit form --------------------------------------------------------------


@dataclass
class Draft:
    """A rubric as typed into the edit form (strings), with the problems found."""

    title: str
    criteria: list[dict]  # {"title": str, "levels": [{"description": str, "points": str}]}
    errors: list[tuple[str, dict]]  # (code, numbers for the message)
    bad: set[str]  # field names to mark invalid

    def rubric(self, key: str) -> Rubric:
        return from_json(
            {
                "key": key,
                "title": self.title,
                "criteria": [
                    {
                        "title": c["title"],
                        "levels": [
                            {"description": lv["description"], "points": lv["points"]}
                            for lv in c["levels"]
                        ],
                    }
                    for c in self.criteria
                ],
            },
            True,
        )


def draft_of(rubric: Rubric) -> Draft:
    return Draft(title=rubric.title, criteria=criteria_json(rubric.criteria), errors=[], bad=set())


def _count(form, name: str, limit: int) -> int:
    raw = (form.get(name) or "").strip()
    return min(int(raw), limit) if raw.isdigit() and raw.isascii() else 0


def read_draft(form) -> Draft:
    """Read the edit form. Rows left blank are dropped; a criterion needs a title and at
    least two levels, each with a description and distinct points from 0 to 100."""
    errors: list[tuple[str, dict]] = []
    bad: set[str] = set()
    title = (form.get("title") or "").strip()
    if not title:
        errors.append(("rubric_title", {}))
        bad.add("title")
    elif len(title) > MAX_TITLE:
        errors.append(("too_long", {"n": MAX_TITLE}))
        bad.add("title")
    criteria: list[dict] = []
    for i in range(_count(form, "criteria", MAX_CRITERIA + 1)):
        ctitle = (form.get(f"t-{i}") or "").strip()
        levels: list[dict] = []
        for j in range(_count(form, f"levels-{i}", MAX_LEVELS + 1)):
            desc = (form.get(f"d-{i}-{j}") or "").strip()
            pts = (form.get(f"p-{i}-{j}") or "").strip()
            if desc or pts:
                levels.append({"description": desc, "points": pts, "field": f"{i}-{j}"})
        if not ctitle and not levels:
            continue  # a blank criterion row
        n = len(criteria) + 1
        if not ctitle:
            errors.append(("criterion_title", {"n": n}))
            bad.add(f"t-{i}")
        elif len(ctitle) > MAX_TITLE:
            errors.append(("too_long", {"n": MAX_TITLE}))
            bad.add(f"t-{i}")
        seen: set[Decimal] = set()
        for lv in levels:
            field = lv.pop("field")
            if not lv["description"]:
                errors.append(("level_description", {"n": n}))
                bad.add(f"d-{field}")
            elif len(lv["description"]) > MAX_DESCRIPTION:
                errors.append(("too_long", {"n": MAX_DESCRIPTION}))
                bad.add(f"d-{field}")
            value = _points(lv["points"])
            if value is None:
                errors.append(("level_points", {"n": n}))
                bad.add(f"p-{field}")
            elif value in seen:
                errors.append(("same_points", {"n": n}))
                bad.add(f"p-{field}")
            else:
                seen.add(value)
                lv["points"] = _plain(value)
        if len(levels) < 2:
            errors.append(("two_levels", {"n": n}))
            bad.add(f"t-{i}")
        if len(levels) > MAX_LEVELS:
            errors.append(("too_many_levels", {"n": MAX_LEVELS}))
            bad.add(f"t-{i}")
        criteria.append({"title": ctitle, "levels": levels})
    if not criteria:
        errors.append(("no_criteria", {}))
    if len(criteria) > MAX_CRITERIA:
        errors.append(("too_many_criteria", {"n": MAX_CRITERIA}))
    if not errors:
        from course_templates.schema import RubricSpec

        # The template's own rules, as a last check (they never disagree with the above).
        RubricSpec.model_validate({"key": "x", "title": title, "criteria": criteria})
    return Draft(title=title, criteria=criteria, errors=errors, bad=bad)


def _points(text: str) -> Decimal | None:
    """Points from 0 to 100 with at most 2 decimals ("12,5" is accepted as 12.5)."""
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > 100:
        return None
    if value != value.quantize(CENT):
        return None
    return value
