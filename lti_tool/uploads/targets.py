"""What a resumable upload is for: an activity of a plugin and a slot inside it.

A target reads `plugin:activity_id[:slot]` ("tugas:12", "laporan:7:2", "forum:9").
The core never names a plugin: it asks the activity's plugin, through the optional
hook `upload_limit(activity, slot, role) -> int | None`, how large a file that
activity takes in that slot from that role (None: it takes none there). The same
limit is checked again when the plugin's form stores the finished file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app

_TARGET = re.compile(r"^([a-z][a-z0-9_]{0,40}):([0-9]{1,12})(?::([A-Za-z0-9_-]{1,64}))?$")


@dataclass(frozen=True)
class Target:
    plugin: str
    activity_id: int
    slot: str = ""

    def __str__(self) -> str:
        return name(self.plugin, self.activity_id, self.slot)


def name(plugin: str, activity_id: int, slot: str = "") -> str:
    """The target string of a plugin's form (templates put it in `data-target`)."""
    return f"{plugin}:{activity_id}" + (f":{slot}" if slot else "")


def parse(text: str | None) -> Target | None:
    match = _TARGET.match(text or "")
    if match is None:
        return None
    plugin, activity_id, slot = match.groups()
    return Target(plugin, int(activity_id), slot or "")


def limit_of(ctx: int, target: Target, role: str) -> int | None:
    """The largest file (bytes) the target takes from `role` in course `ctx`; None
    when it takes none. 404 (abort) for an activity not placed in this course."""
    from lti_tool.activities.forms import activity_in_course

    plugin = current_app.extensions["lti_activities"].get(target.plugin)
    hook = getattr(plugin, "upload_limit", None) if plugin is not None else None
    if hook is None:
        return None
    activity, _module, _instance = activity_in_course(ctx, target.activity_id, target.plugin)
    limit = hook(activity, target.slot, role)
    if limit is None:
        return None
    ceiling = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(int(limit), int(ceiling)) if ceiling else int(limit)
