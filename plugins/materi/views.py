"""Materi pages: rich text (sanitised), files as downloads, links and embedded video."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import bleach
from flask import Blueprint, abort, current_app, render_template, send_file, url_for
from sqlalchemy import select

from lti_tool.db import session as db_session
from lti_tool.models import Activity, CourseBlock, CourseModule
from lti_tool.web.auth import course_access

bp = Blueprint("materi", __name__, template_folder="templates")

ALLOWED_TAGS = [
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "h3",
    "h4",
    "h5",
    "blockquote",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "sup",
    "sub",
    "hr",
    "dl",
    "dt",
    "dd",
]
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan", "scope"],
}
_YOUTUBE = re.compile(r"^[\w-]{6,20}$")


def clean_html(html: str) -> str:
    """A safe subset of HTML: no scripts, styles, event handlers or javascript: links."""
    return bleach.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=["http", "https", "mailto"],
        strip=True,
    )


def video_embed(url: str) -> dict[str, str]:
    """How to show a video: a privacy-friendly YouTube embed, a <video>, or a link."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.").removeprefix("m.")
    video_id = None
    if host == "youtu.be":
        video_id = parts.path.strip("/")
    elif host in ("youtube.com", "youtube-nocookie.com"):
        if parts.path == "/watch":
            video_id = (parse_qs(parts.query).get("v") or [None])[0]
        elif parts.path.startswith(("/embed/", "/shorts/")):
            video_id = parts.path.split("/")[2]
    if video_id and _YOUTUBE.match(video_id):
        return {"kind": "youtube", "src": f"https://www.youtube-nocookie.com/embed/{video_id}"}
    if parts.path.lower().endswith((".mp4", ".webm")):
        return {"kind": "file", "src": url}
    return {"kind": "link", "src": url}


def render_page(page) -> str:
    from plugins.materi.plugin import MateriSettings

    settings = MateriSettings.model_validate(page.activity.settings)
    return render_template(
        "materi/view.html",
        pages=[{"title": p.title, "body": clean_html(p.body)} for p in settings.pages],
        files=[
            {
                "title": f.title,
                "name": Path(f.path).name,
                "url": url_for(
                    "materi.download", ctx=page.context_id, activity_id=page.activity.id, index=i
                ),
            }
            for i, f in enumerate(settings.files)
        ],
        links=settings.links,
        videos=[
            {"title": v.title, "caption": v.caption, **video_embed(str(v.url))}
            for v in settings.videos
        ],
    )


@bp.get("/c/<int:ctx>/materi/<int:activity_id>/file/<int:index>")
@course_access
def download(ctx: int, activity_id: int, index: int):
    """A file shipped with the template version, always as an attachment."""
    from course_templates.loader import installed_files_dir

    db = db_session()
    row = db.execute(
        select(Activity, CourseModule)
        .join(CourseBlock, Activity.block_id == CourseBlock.id)
        .join(CourseModule, CourseBlock.module_id == CourseModule.id)
        .where(Activity.id == activity_id, Activity.type == "materi")
    ).first()
    if row is None:
        abort(404)
    activity, module = row
    files = activity.settings.get("files") or []
    if not 0 <= index < len(files):
        abort(404)
    base = installed_files_dir(current_app.instance_path, module.key, module.version).resolve()
    path = (base / files[index]["path"]).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=path.name, max_age=3600)
