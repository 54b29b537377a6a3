"""The `settings` of a forum activity in a course template."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: File kinds a template may allow, by the name authors know, with their MIME type
#: (recognised from the content, never from the file name).
FILE_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "png": "image/png",
    "jpg": "image/jpeg",
    "txt": "text/plain",
}
FileType = Literal["pdf", "docx", "pptx", "xlsx", "odt", "png", "jpg", "txt"]


class AttachmentSettings(BaseModel):
    """Which files a post may carry, and how large each may be."""

    model_config = ConfigDict(extra="forbid")

    types: list[FileType] = Field(default_factory=lambda: ["pdf", "docx", "png", "jpg"])
    max_mb: int = Field(default=5, ge=1, le=50)

    @field_validator("types")
    @classmethod
    def _some(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one file type, or set attachments to off")
        return list(dict.fromkeys(value))

    def allowed(self) -> dict[str, str]:
        """MIME type -> extension, for lti_tool.storage."""
        return {FILE_TYPES[t]: t for t in self.types}


class ForumSettings(BaseModel):
    """A discussion per session (class) or per rombel (the PLPG mentoring forum).

    Completion (`viewed`, or `submitted` = posted at least once) is the activity's
    own `completion:` key, as for every activity type.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: class: everyone in the course shares the threads; rombel: peserta and their
    #: mentor see only their rombel's threads, the pengampu sees all.
    scope: Literal["class", "rombel"] = "class"
    #: The session's discussion question, shown above the threads (simple HTML allowed).
    prompt: str | None = Field(default=None, max_length=5000)
    #: Files on posts (`off` or left out: none).
    attachments: AttachmentSettings | Literal[False] | None = None
    #: Whether peserta may open threads (otherwise they reply to the staff's).
    peserta_threads: bool = True

    def files(self) -> AttachmentSettings | None:
        return self.attachments or None
