"""The `materi` activity type."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from lti_tool.activities import ActivityType
from plugins.materi import models, views

_ = models  # the table registers with the metadata on import


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(_Strict):
    """A page of rich text: a safe subset of HTML (sanitised again when shown)."""

    title: str = Field(min_length=1)
    body: str = Field(min_length=1)


class FileRef(_Strict):
    """A file shipped with the template, relative to the template's `files/<id>/` folder."""

    title: str = Field(min_length=1)
    path: str = Field(min_length=1)

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        p = PurePosixPath(value)
        if p.is_absolute() or ".." in p.parts or "\\" in value:
            raise ValueError("must be a relative path inside the template's files folder")
        return value


class Link(_Strict):
    title: str = Field(min_length=1)
    url: HttpUrl


class Video(_Strict):
    """An embeddable video (YouTube or a direct MP4/WebM URL) with a caption."""

    title: str = Field(min_length=1)
    url: HttpUrl
    caption: str | None = None


class MateriSettings(_Strict):
    pages: list[Page] = Field(default_factory=list)
    files: list[FileRef] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    videos: list[Video] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> MateriSettings:
        if not (self.pages or self.files or self.links or self.videos):
            raise ValueError("give at least one page, file, link or video")
        return self


class Materi(ActivityType):
    """Materi pembelajaran"""

    name = "materi"
    blueprint = views.bp
    migrations_dir = Path(__file__).parent / "migrations"
    graded = False
    settings_model = MateriSettings
    completion_rules = ("viewed",)

    @classmethod
    def render(cls, page) -> str:
        return views.render_page(page)

    @classmethod
    def asset_paths(cls, settings: dict[str, Any]) -> list[tuple[tuple, str]]:
        """(location in settings, relative path) of every file the activity ships."""
        return [(("files", i, "path"), f["path"]) for i, f in enumerate(settings.get("files", []))]
