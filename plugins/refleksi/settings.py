"""The `settings` of a refleksi activity in a course template."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Prompt(BaseModel):
    """One guiding question; the peserta answers each in its own text box."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: Stable name of the answer (kept when the label is reworded).
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    label: str = Field(min_length=1, max_length=500)
    #: A longer explanation shown under the label.
    hint: str | None = Field(default=None, max_length=2000)
    #: Words this answer needs before the reflection can be submitted.
    min_words: int = Field(default=0, ge=0, le=5000)
    #: Whether it must be answered before submitting (an optional "saran", say).
    required: bool = True


#: The session reflection of the Juknis (III.E.2.d) and the sample modules' guidance.
SESSION_PROMPTS = (
    Prompt(
        key="baru",
        label="Hal-hal baru yang Anda peroleh",
        hint="Apa yang baru Anda pelajari di sesi ini, dan apa yang ternyata sudah Anda lakukan?",
    ),
    Prompt(
        key="faktor",
        label="Faktor pendukung dan penghambat",
        hint="Apa yang membantu dan apa yang menghambat Anda belajar di sesi ini?",
    ),
    Prompt(
        key="antisipasi",
        label="Langkah antisipasi",
        hint="Bagaimana Anda mengatasi penghambat itu di sesi berikutnya dan di kelas Anda?",
    ),
    Prompt(
        key="tindak-lanjut",
        label="Rencana aksi tindak lanjut",
        hint="Satu langkah konkret yang akan Anda coba di kelas dalam dua minggu ke depan.",
    ),
)


class RefleksiSettings(BaseModel):
    """Prompts, when it can still be edited, who reads it, and how long it must be."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    prompts: list[Prompt] = Field(
        default_factory=lambda: [p.model_copy() for p in SESSION_PROMPTS],
        min_length=1,
        max_length=20,
    )
    #: Until when the peserta may change it: the end of the block's last week
    #: (`week_end`), the end of its due day (`due`, the pengampu's overrides included),
    #: or for the whole course (`always`). Without a start date it stays open.
    editable_until: Literal["week_end", "due", "always"] = "week_end"
    #: Whether peserta read each other's submitted reflections (their rombel, or the
    #: class when they have none). Reflections are personal: keep it off unless asked.
    visible_to_peers: bool = False
    #: Words the whole reflection needs before it can be submitted.
    min_words: int = Field(default=0, ge=0, le=20000)

    @field_validator("prompts")
    @classmethod
    def _unique_keys(cls, value: list[Prompt]) -> list[Prompt]:
        keys = [p.key for p in value]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"prompt key {twice[0]!r} is used twice")
        return value


def settings_of(activity) -> RefleksiSettings:
    return RefleksiSettings.model_validate(activity.settings or {})
