"""The deliverable a self-assessment is about: the `tugas` activity named in the settings.

The `tugas` plugin (a sibling, built separately) offers `plugins.tugas.submissions`
with `files_of`, `download_url` and `submitted_at`. It is imported lazily; while it is
missing (or incomplete) the pages link to the deliverable's activity page instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import url_for

log = logging.getLogger(__name__)
NEEDED = ("files_of", "download_url", "submitted_at")


def submissions_api() -> Any | None:
    """`plugins.tugas.submissions`, or None while it is not available (the `tugas`
    plugin is not installed with its views and tables, or the module is missing)."""
    from flask import current_app

    if "tugas" not in current_app.blueprints:
        return None
    try:
        from plugins.tugas import submissions
    except ImportError:
        return None
    except Exception:  # a sibling half-written must not take these pages down
        log.exception("plugins.tugas.submissions cannot be imported")
        return None
    if not all(callable(getattr(submissions, name, None)) for name in NEEDED):
        return None
    return submissions


def activity_of(module, ref: str | None):
    """The Activity row named "<block>/<activity>" in the module, or None."""
    if not ref or "/" not in ref:
        return None
    block_key, activity_key = ref.split("/", 1)
    for block in module.blocks:
        if block.key == block_key:
            for a in block.activities:
                if a.key == activity_key:
                    return a
    return None


@dataclass
class FileView:
    id: Any
    filename: str
    size: int | None
    uploaded_at: datetime | None
    late: bool
    url: str | None


@dataclass
class Deliverable:
    """What the pages show about the deliverable of one peserta."""

    activity: Any  # the tugas Activity, or None when none is configured
    page_url: str | None  # the deliverable's activity page
    available: bool  # whether the tugas plugin could be asked
    submitted_at: datetime | None = None
    files: list[FileView] = field(default_factory=list)

    @property
    def configured(self) -> bool:
        return self.activity is not None


def deliverable_of(db, ctx: int, module, ref: str | None, user_id: int) -> Deliverable:
    activity = activity_of(module, ref)
    if activity is None:
        return Deliverable(activity=None, page_url=None, available=False)
    page_url = url_for(
        "web.activity",
        ctx=ctx,
        module_key=module.key,
        block_key=activity.block.key,
        activity_key=activity.key,
    )
    api = submissions_api()
    if api is None:
        return Deliverable(activity=activity, page_url=page_url, available=False)
    try:
        files = [
            FileView(
                id=f.id,
                filename=f.filename,
                size=getattr(f, "size", None),
                uploaded_at=getattr(f, "uploaded_at", None),
                late=bool(getattr(f, "late", False)),
                url=api.download_url(ctx, f.id),
            )
            for f in api.files_of(db, ctx, activity.id, user_id)
        ]
        submitted = api.submitted_at(db, ctx, activity.id, user_id)
    except (AttributeError, TypeError, LookupError, ValueError):
        # an interface not (yet) as agreed: degrade to the link rather than fail the page
        log.exception("plugins.tugas.submissions failed for activity %s", activity.id)
        return Deliverable(activity=activity, page_url=page_url, available=False)
    return Deliverable(
        activity=activity,
        page_url=page_url,
        available=True,
        submitted_at=submitted,
        files=files,
    )


def has_submitted(d: Deliverable) -> bool | None:
    """Whether the peserta uploaded the deliverable (None: cannot be known)."""
    if not d.configured or not d.available:
        return None
    return d.submitted_at is not None or bool(d.files)
