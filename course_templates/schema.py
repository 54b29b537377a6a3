"""The typed shape of a course template (pydantic models).

A template is data a programme office writes and checks: the blocks (weeks) of a
module with their ordered activities, the face-to-face meetings, the score formula
with weights, pass mark and predikat bands, the completion gate, and the smiley
survey. An activity's `type` names the plugin that provides it; the loader refuses
a type no installed plugin provides and checks each activity's settings against
that plugin's settings model.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KEY = r"^[a-z0-9][a-z0-9_-]{0,99}$"
Mode = Literal["daring-model-1", "daring-model-2", "daring-kombinasi", "plpg-pembekalan"]
Component = Literal["PD", "TS", "TA", "proses", "laporan", "presentasi"]
BlockKind = Literal["pendahuluan", "sesi", "penutup", "pembekalan"]
CompletionRule = Literal["viewed", "submitted", "passed", "graded"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ActivitySpec(Strict):
    """One activity of a block, provided by the plugin named in `type`."""

    key: str = Field(pattern=KEY)
    type: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    instructions: str | None = None
    graded: bool = False
    component: Component | None = None
    max_score: int = Field(default=100, gt=0, le=1000)
    # When it counts as done; the plugin's default when left out.
    completion: CompletionRule | None = None
    # Days after the block's first day when it is due (default: the block's last day).
    due_day: int | None = Field(default=None, ge=0, le=400)
    settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _component_needs_grade(self) -> ActivitySpec:
        if self.component is not None and not self.graded:
            raise ValueError("an activity that feeds a score component must be graded")
        if self.completion in ("passed", "graded") and not self.graded:
            raise ValueError(f"completion {self.completion!r} needs a graded activity")
        return self


class BlockSpec(Strict):
    """A block of the module: Pendahuluan, Sesi 1-4, Penutup (PLPG: pembekalan phases)."""

    key: str = Field(pattern=KEY)
    kind: BlockKind
    title: str = Field(min_length=1)
    week: int = Field(ge=1, le=52)
    # Length in weeks (PLPG's preparatory phase runs over several).
    weeks: int = Field(default=1, ge=1, le=26)
    jp: int = Field(ge=0, le=200)
    # Of `jp`, the lesson hours spent face to face (kombinasi: TM inside the block).
    jp_tm: int = Field(default=0, ge=0, le=200)
    summary: str | None = None
    activities: list[ActivitySpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> BlockSpec:
        if self.jp_tm > self.jp:
            raise ValueError(f"jp_tm ({self.jp_tm}) cannot exceed jp ({self.jp})")
        seen: set[str] = set()
        for a in self.activities:
            if a.key in seen:
                raise ValueError(f"activity key {a.key!r} is used twice in this block")
            seen.add(a.key)
        return self


class MeetingSpec(Strict):
    """A face-to-face meeting (tatap muka) at the learning centre."""

    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1)
    week: int = Field(ge=1, le=52)
    # The block it belongs to, or sits after (TM-2: between sessions 2 and 3).
    block: str = Field(pattern=KEY)
    position: Literal["in", "after"] = "in"
    jp: int = Field(ge=1, le=40)
    agenda: list[str] = Field(default_factory=list)


class ComponentSpec(Strict):
    key: Component
    label: str = Field(min_length=1)
    weight: Decimal = Field(gt=0, le=100)
    # How the activities feeding it combine (TS: the mean of the session tests).
    aggregate: Literal["mean", "sum", "last", "max"] = "mean"
    # Entered by a mentor or pengampu rather than computed (PLPG proses, presentasi).
    manual: bool = False


class PredikatBand(Strict):
    min: Decimal = Field(ge=0, le=100)
    label: str = Field(min_length=1)


class ScoringSpec(Strict):
    """The final score: a weighted sum of components on a 0-100 scale."""

    name: Literal["NA", "SP"]
    label: str = Field(min_length=1)
    components: list[ComponentSpec] = Field(min_length=1)
    pass_mark: Decimal | None = Field(default=None, ge=0, le=100)
    # What a component with no score counts as once its activities are closed.
    missing_after_close: Literal["zero", "pending"] = "zero"
    precision: int = Field(default=2, ge=0, le=4)
    rounding: Literal["half-up"] = "half-up"
    predikat: list[PredikatBand] = Field(default_factory=list)

    @field_validator("components")
    @classmethod
    def _weights(cls, value: list[ComponentSpec]) -> list[ComponentSpec]:
        total = sum((c.weight for c in value), Decimal(0))
        if total != 100:
            raise ValueError(f"component weights must add up to 100, they add up to {total}")
        keys = [c.key for c in value]
        if len(set(keys)) != len(keys):
            raise ValueError("a score component is listed twice")
        return value

    @field_validator("predikat")
    @classmethod
    def _bands(cls, value: list[PredikatBand]) -> list[PredikatBand]:
        mins = [b.min for b in value]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("predikat bands must be listed from the highest minimum down")
        if value and mins[-1] != 0:
            raise ValueError("the lowest predikat band must start at 0")
        return value


class GateSpec(Strict):
    """Activities that must all be complete (e.g. before the exam registration opens)."""

    label: str = Field(min_length=1)
    # "block/activity" references.
    require: list[str] = Field(min_length=1)


class SmileySpec(Strict):
    """The reaction survey (Reaksi Peserta) at the end of even sessions."""

    sessions: list[str] = Field(min_length=1)
    scale: Literal[5] = 5
    items: list[str] = Field(min_length=1)
    comment: bool = True
    anonymous_to_mentor: bool = False


class RubricLevel(Strict):
    description: str = Field(min_length=1)
    points: Decimal = Field(ge=0, le=100)


class RubricCriterion(Strict):
    title: str = Field(min_length=1)
    levels: list[RubricLevel] = Field(min_length=2)

    @model_validator(mode="after")
    def _distinct_points(self) -> RubricCriterion:
        points = [lv.points for lv in self.levels]
        if len(set(points)) != len(points):
            raise ValueError("two levels of a criterion give the same points")
        return self


class RubricSpec(Strict):
    """A rubric for self-assessment (penilaian diri) and moderation of a deliverable."""

    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1)
    criteria: list[RubricCriterion] = Field(min_length=1)


class QuestionBankSpec(Strict):
    """A question bank shipped with the template (Moodle GIFT), e.g. for a session test."""

    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1)
    format: Literal["gift"] = "gift"
    # Relative to the template's `files/<id>/` folder.
    file: str = Field(min_length=1)
    # How many questions the file holds (checked by the quiz plugin when it imports it).
    questions: int = Field(ge=1)


class ResourcesSpec(Strict):
    rubrics: list[RubricSpec] = Field(default_factory=list)
    question_banks: list[QuestionBankSpec] = Field(default_factory=list)


class TemplateSpec(Strict):
    id: str = Field(pattern=KEY)
    version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")
    title: str = Field(min_length=1)
    mode: Mode
    language: Literal["id", "en"] = "id"
    description: str | None = None
    # Total lesson hours the blocks must add up to (60 for Guru Pembelajar).
    jp_total: int | None = Field(default=None, ge=1, le=1000)
    blocks: list[BlockSpec] = Field(min_length=1)
    meetings: list[MeetingSpec] = Field(default_factory=list)
    scoring: ScoringSpec
    completion_gate: GateSpec | None = None
    smiley: SmileySpec | None = None
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)

    @field_validator("blocks")
    @classmethod
    def _unique_blocks(cls, value: list[BlockSpec]) -> list[BlockSpec]:
        seen: set[str] = set()
        for b in value:
            if b.key in seen:
                raise ValueError(f"block key {b.key!r} is used twice")
            seen.add(b.key)
        weeks = [b.week for b in value]
        if weeks != sorted(weeks):
            raise ValueError("blocks must be listed in week order")
        return value

    def problems(self) -> list[tuple[tuple, str]]:
        """Checks across parts of the template, each with the location it concerns
        (the loader turns locations into file:line). Empty when consistent."""
        out: list[tuple[tuple, str]] = []
        blocks = {b.key: b for b in self.blocks}
        refs = {f"{b.key}/{a.key}": a for b in self.blocks for a in b.activities}
        if self.jp_total is not None:
            total = sum(b.jp for b in self.blocks)
            if total != self.jp_total:
                out.append((("jp_total",), f"the blocks add up to {total} JP, not {self.jp_total}"))
        seen: set[str] = set()
        for i, m in enumerate(self.meetings):
            if m.block not in blocks:
                out.append((("meetings", i, "block"), f"unknown block {m.block!r}"))
            if m.key in seen:
                out.append((("meetings", i, "key"), f"meeting key {m.key!r} is used twice"))
            seen.add(m.key)
        if self.mode == "daring-kombinasi" and not self.meetings:
            out.append((("mode",), "a daring-kombinasi template needs its face-to-face meetings"))
        tm_blocks = sum(b.jp_tm for b in self.blocks)
        tm_meetings = sum(m.jp for m in self.meetings)
        if self.meetings and tm_blocks != tm_meetings:
            out.append(
                (
                    ("meetings",),
                    f"the meetings add up to {tm_meetings} JP but the blocks' jp_tm to {tm_blocks}",
                )
            )
        if self.completion_gate is not None:
            for i, ref in enumerate(self.completion_gate.require):
                if ref not in refs:
                    out.append(
                        (
                            ("completion_gate", "require", i),
                            f"unknown activity {ref!r} (expected block/activity)",
                        )
                    )
        if self.smiley is not None:
            for i, key in enumerate(self.smiley.sessions):
                if key not in blocks:
                    out.append((("smiley", "sessions", i), f"unknown block {key!r}"))
                elif not any(a.type == "smiley" for a in blocks[key].activities):
                    out.append((("smiley", "sessions", i), f"block {key!r} has no smiley activity"))
        components = {c.key for c in self.scoring.components}
        for bi, b in enumerate(self.blocks):
            for ai, a in enumerate(b.activities):
                if a.component is not None and a.component not in components:
                    out.append(
                        (
                            ("blocks", bi, "activities", ai, "component"),
                            f"{a.component} is not a component of the scoring",
                        )
                    )
        return out

    def activity_types(self) -> set[str]:
        return {a.type for b in self.blocks for a in b.activities}
