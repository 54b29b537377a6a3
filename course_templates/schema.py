"""The typed shape of a course template (pydantic models).

A template is data a programme office writes: blocks (weeks) with ordered
activities. The activity `type` names the plugin that provides it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KEY = r"^[a-z0-9][a-z0-9_-]{0,99}$"
Mode = Literal["daring-model-1", "daring-model-2", "daring-kombinasi", "plpg-pembekalan"]
Component = Literal["PD", "TS", "TA", "proses", "laporan", "presentasi"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ActivitySpec(Strict):
    key: str = Field(pattern=KEY)
    type: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    instructions: str | None = None
    graded: bool = False
    component: Component | None = None
    max_score: int = Field(default=100, gt=0, le=1000)
    settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _component_needs_grade(self) -> ActivitySpec:
        if self.component is not None and not self.graded:
            raise ValueError("an activity that feeds a score component must be graded")
        return self


class BlockSpec(Strict):
    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1)
    week: int = Field(ge=1, le=52)
    jp: int = Field(ge=0, le=200)
    summary: str | None = None
    activities: list[ActivitySpec] = Field(default_factory=list)

    @field_validator("activities")
    @classmethod
    def _unique_keys(cls, value: list[ActivitySpec]) -> list[ActivitySpec]:
        seen: set[str] = set()
        for a in value:
            if a.key in seen:
                raise ValueError(f"activity key {a.key!r} is used twice in this block")
            seen.add(a.key)
        return value


class TemplateSpec(Strict):
    id: str = Field(pattern=KEY)
    version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")
    title: str = Field(min_length=1)
    mode: Mode
    language: Literal["id", "en"] = "id"
    description: str | None = None
    blocks: list[BlockSpec] = Field(min_length=1)

    @field_validator("blocks")
    @classmethod
    def _unique_blocks(cls, value: list[BlockSpec]) -> list[BlockSpec]:
        seen: set[str] = set()
        for b in value:
            if b.key in seen:
                raise ValueError(f"block key {b.key!r} is used twice")
            seen.add(b.key)
        return value
