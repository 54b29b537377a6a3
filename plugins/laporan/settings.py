"""The `settings` of a laporan activity in a course template.

One activity holds every progress report of the PLPG preparatory phase: by default
the four of the 2017 guideline (report 1 on pedagogy, reports 2-4 on the subject,
shared/seeds/000_*), each with its own deadline set by the mentor for the rombel.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The file types a report may be: name in templates -> (MIME type recognised from the
#: content, extension of the stored file, extensions the peserta's file name may carry).
FILE_TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", "pdf", ("pdf",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        ("docx",),
    ),
    "doc": ("application/msword", "doc", ("doc",)),
    "odt": ("application/vnd.oasis.opendocument.text", "odt", ("odt",)),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
        ("pptx",),
    ),
    "jpg": ("image/jpeg", "jpg", ("jpg", "jpeg")),
    "png": ("image/png", "png", ("png",)),
}
TypeName = Literal["pdf", "docx", "doc", "odt", "pptx", "jpg", "png"]

#: The app refuses any request over 64 MiB; a form carries a little more than its file.
MAX_MB = 60


class Report(BaseModel):
    """One progress report: its key (in URLs and exports), title and description."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


def default_reports() -> list[Report]:
    """The four reports of the PLPG guideline (1 pedagogik, 2-4 bidang studi)."""
    return [
        Report(
            key="1",
            title="Laporan Kemajuan 1: Pedagogik",
            description="Laporan hasil studi mandiri materi pedagogik.",
        ),
        Report(
            key="2",
            title="Laporan Kemajuan 2: Bidang Studi Bagian 1",
            description="Laporan hasil studi mandiri materi bidang studi, bagian 1.",
        ),
        Report(
            key="3",
            title="Laporan Kemajuan 3: Bidang Studi Bagian 2",
            description="Laporan hasil studi mandiri materi bidang studi, bagian 2.",
        ),
        Report(
            key="4",
            title="Laporan Kemajuan 4: Bidang Studi Bagian 3",
            description="Laporan hasil studi mandiri materi bidang studi, bagian 3.",
        ),
    ]


class LaporanSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: The reports every peserta uploads, in order.
    reports: list[Report] = Field(default_factory=default_reports, min_length=1, max_length=12)
    #: Accepted file types, recognised from the file's content (not its name).
    types: list[TypeName] = Field(
        default_factory=lambda: ["pdf", "docx", "doc", "odt"], min_length=1
    )
    #: The largest file accepted, in MB (MiB).
    max_mb: int = Field(default=10, ge=1, le=MAX_MB)
    #: How the report scores (0-100 each) make the activity score: `mean` of all
    #: reports, reported once every report is scored; `mean_scored`: the mean of the
    #: reports scored so far, reported (and updated) after every score.
    aggregate: Literal["mean", "mean_scored"] = "mean"

    @field_validator("reports")
    @classmethod
    def _unique_keys(cls, value: list[Report]) -> list[Report]:
        keys = [r.key for r in value]
        if len(set(keys)) != len(keys):
            raise ValueError("every report needs its own key")
        return value

    @field_validator("types")
    @classmethod
    def _unique_types(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def report(self, key: str) -> Report | None:
        return next((r for r in self.reports if r.key == key), None)

    def allowed(self) -> dict[str, str]:
        """MIME type -> stored extension, for lti_tool.storage (Storage.save)."""
        return {FILE_TYPES[t][0]: FILE_TYPES[t][1] for t in self.types}

    def type_names(self) -> str:
        return ", ".join(t.upper() for t in self.types)
