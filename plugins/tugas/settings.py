"""The settings of a task in a course template, and the file types it may accept."""

from __future__ import annotations

from decimal import Decimal
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The file types a task may accept: name in templates -> (MIME type recognised from
#: the content, extension given to stored files, extensions a peserta's file may carry).
FILE_TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", "pdf", ("pdf",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        ("docx",),
    ),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
        ("pptx",),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        ("xlsx",),
    ),
    "odt": ("application/vnd.oasis.opendocument.text", "odt", ("odt",)),
    "jpg": ("image/jpeg", "jpg", ("jpg", "jpeg", "jpe")),
    "png": ("image/png", "png", ("png",)),
    "mp4": ("video/mp4", "mp4", ("mp4", "m4v")),
    "txt": ("text/plain", "txt", ("txt", "text")),
    "zip": ("application/zip", "zip", ("zip",)),
}
TypeName = Literal["pdf", "docx", "pptx", "xlsx", "odt", "jpg", "png", "mp4", "txt", "zip"]

#: The largest file a task may accept: the app refuses any request over 64 MiB, and a
#: form carries a little more than its file.
MAX_MB = 60


class TugasSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: Accepted file types, recognised from the file's content.
    types: list[TypeName] = Field(
        default_factory=lambda: ["pdf", "docx", "pptx", "xlsx", "odt", "jpg", "png"],
        min_length=1,
    )
    #: The largest file accepted, in MB (MiB).
    max_mb: int = Field(default=10, ge=1, le=MAX_MB)
    #: How many files one peserta may have in the submission at once.
    max_files: int = Field(default=3, ge=1, le=20)
    #: After the due date: accept (the submission is marked late) or refuse changes.
    late: Literal["accept", "refuse"] = "accept"
    #: A worksheet or brief shipped with the template (relative to its files folder).
    instructions_file: str | None = None
    #: Percent of the maximum score from which the task counts as passed (completion
    #: rule "passed"); none: the rule is never met.
    pass_mark: Decimal | None = Field(default=None, ge=0, le=100)

    @field_validator("types")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a file type is listed twice")
        return value

    @field_validator("instructions_file")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is None:
            return None
        p = PurePosixPath(value)
        if not value or p.is_absolute() or ".." in p.parts or "\\" in value:
            raise ValueError("must be a relative path inside the template's files folder")
        return value

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024

    def allowed(self) -> dict[str, str]:
        """{MIME type: stored extension} of the accepted types (Storage.save)."""
        return {FILE_TYPES[t][0]: FILE_TYPES[t][1] for t in self.types}

    def accept_attribute(self) -> str:
        """The file input's `accept` (a hint to the browser; the server checks content)."""
        exts = [f".{e}" for t in self.types for e in FILE_TYPES[t][2]]
        return ",".join(exts + [FILE_TYPES[t][0] for t in self.types])


def type_of_extension(ext: str) -> str | None:
    """The known type a file name's extension claims ("JPEG" -> "jpg"), if any."""
    ext = ext.lower()
    return next((name for name, (_m, _s, exts) in FILE_TYPES.items() if ext in exts), None)


def type_of_mime(mime: str) -> str | None:
    return next((name for name, (m, _s, _e) in FILE_TYPES.items() if m == mime), None)
