"""Materi pages: rich text (sanitised), files as downloads, links and embedded video."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import bleach
from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool.activities.forms import activity_in_course, back_to
from lti_tool.db import session as db_session
from lti_tool.models import Activity, CourseBlock, CourseModule
from lti_tool.web.auth import course_access

bp = Blueprint(
    "materi",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/materi",
)
_asset_versions: dict[str, str] = {}


def asset_url(filename: str) -> str:
    """The plugin's static file with a content fingerprint (cached a year)."""
    v = _asset_versions.get(filename)
    if v is None:
        data = (Path(bp.static_folder) / filename).read_bytes()
        v = _asset_versions[filename] = hashlib.sha256(data).hexdigest()[:12]
    return url_for("materi.static", filename=filename, v=v)


@bp.app_context_processor
def _helpers():
    return {"materi_asset": asset_url}


UPLOAD_ERRORS = {
    "missing": _l("Choose a file and give it a title."),
    "empty": _l("The file is empty."),
    "too_large": _l("The file is too large."),
    "type": _l(
        "This kind of file is not accepted: use PDF, Word, PowerPoint, Excel, "
        "OpenDocument text, PNG, JPEG, MP4 or plain text."
    ),
    "storage_unavailable": _l(
        "The file store cannot be reached right now, so the file was not uploaded. "
        "Nothing was changed: try again in a few minutes."
    ),
}

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
    """How to show a video: a privacy-friendly YouTube embed (loaded on a click, `watch`
    without JavaScript), a <video>, or a link."""
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
        return {
            "kind": "youtube",
            "src": f"https://www.youtube-nocookie.com/embed/{video_id}",
            "watch": f"https://www.youtube.com/watch?v={video_id}",
        }
    if parts.path.lower().endswith((".mp4", ".webm")):
        return {"kind": "file", "src": url}
    return {"kind": "link", "src": url}


def _storage():
    from lti_tool.storage import storage_for

    return storage_for("materi")


def _uploads(instance_id: int | None, activity_id: int):
    from plugins.materi.models import MateriUpload

    if instance_id is None:
        return []
    return list(
        db_session().scalars(
            select(MateriUpload)
            .where(MateriUpload.instance_id == instance_id, MateriUpload.activity_id == activity_id)
            .order_by(MateriUpload.uploaded_at)
        )
    )


def render_page(page) -> str:
    from plugins.materi.plugin import MateriSettings

    settings = MateriSettings.model_validate(page.activity.settings)
    can_upload = page.role in ("pengampu", "admin") and page.instance_id is not None
    return render_template(
        "materi/view.html",
        uploads=_uploads(page.instance_id, page.activity.id),
        page_ctx=page.context_id,
        can_upload=can_upload,
        upload_action=url_for("materi.upload", ctx=page.context_id, activity_id=page.activity.id),
        upload_error=UPLOAD_ERRORS.get(request.args.get("upload_error", "")),
        max_mb=current_app.config["MATERI_MAX_UPLOAD"] // (1024 * 1024),
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


@bp.post("/c/<int:ctx>/materi/<int:activity_id>/upload")
@course_access
def upload(ctx: int, activity_id: int):
    """A pengampu adds a file to the material of this course (streamed, checked)."""
    from lti_tool.storage import MATERIAL_TYPES, StorageError
    from plugins.materi.models import MateriUpload

    if g.role not in ("pengampu", "admin"):
        abort(403)
    activity, module, instance = activity_in_course(ctx, activity_id, "materi")
    file = request.files.get("file")
    title = (request.form.get("title") or "").strip()[:300]
    if file is None or not file.filename or not title:
        return back_to(ctx, module, activity, upload_error="missing")
    storage = _storage()
    try:
        stored = storage.save(
            file.stream, max_bytes=current_app.config["MATERI_MAX_UPLOAD"], allowed=MATERIAL_TYPES
        )
    except StorageError as exc:
        return back_to(ctx, module, activity, upload_error=exc.code)
    db = db_session()
    db.add(
        MateriUpload(
            instance_id=instance.id,
            activity_id=activity.id,
            title=title,
            stored_name=stored.name,
            original_name=Path(file.filename).name[:300],
            mime=stored.mime,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by=g.viewer.user_id,
        )
    )
    try:
        db.commit()
    except Exception:
        storage.delete(stored.name)  # no file without its record
        raise
    return back_to(ctx, module, activity, uploaded=1)


@bp.get("/c/<int:ctx>/materi/<int:activity_id>/upload/<int:upload_id>")
@course_access
def uploaded_file(ctx: int, activity_id: int, upload_id: int):
    from plugins.materi.models import MateriUpload

    _activity, _module, instance = activity_in_course(ctx, activity_id, "materi")
    row = db_session().get(MateriUpload, upload_id)
    if row is None or row.instance_id != instance.id or row.activity_id != activity_id:
        abort(404)
    return _storage().send(
        row.stored_name, mimetype=row.mime, download_name=row.original_name, max_age=3600
    )


@bp.post("/c/<int:ctx>/materi/<int:activity_id>/upload/<int:upload_id>/delete")
@course_access
def delete_upload(ctx: int, activity_id: int, upload_id: int):
    from plugins.materi.models import MateriUpload

    if g.role not in ("pengampu", "admin"):
        abort(403)
    activity, module, instance = activity_in_course(ctx, activity_id, "materi")
    db = db_session()
    row = db.get(MateriUpload, upload_id)
    if row is None or row.instance_id != instance.id or row.activity_id != activity_id:
        abort(404)
    name = row.stored_name
    db.delete(row)
    db.commit()
    _storage().delete(name)
    return back_to(ctx, module, activity, deleted=1)
