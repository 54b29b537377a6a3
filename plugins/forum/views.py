"""Forum pages: the thread list (the activity's page), a thread with its reply form,
editing a post, removing and hiding posts, files, and the printable record.

Every route finds the activity in this course (404 otherwise) and the thread in the
viewer's scope (404 otherwise: a thread of another rombel does not exist for them).
A refused form comes back with what was typed, any file already accepted, and a
message saying why; nothing is stored from it.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lti_tool.activities.forms import activity_in_course, back_to, refuse
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.models import CourseInstance, User
from lti_tool.services import completion
from lti_tool.services.roles import PESERTA, STAFF
from lti_tool.uploads.handoff import UploadUnavailableError, completed_file
from lti_tool.uploads.targets import name as upload_target
from lti_tool.web.auth import course_access
from lti_tool.web.params import int_param
from plugins.forum import service, text
from plugins.forum.models import ForumAttachment, ForumAudit, ForumPost, ForumThread
from plugins.forum.settings import FILE_TYPES

bp = Blueprint(
    "forum",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/forum",
)

ERRORS = {
    "title": _l("Give the thread a title."),
    "title_long": _l("The title is too long: at most 200 characters."),
    "body": _l("The post is empty: write something first."),
    "body_long": _l("The post is too long: at most 20000 characters."),
    "rombel": _l("Choose the rombel this thread is for."),
    "edit_window": _l(
        "A post can only be changed in the first 30 minutes after it was sent. It was not changed."
    ),
    "reason_long": _l("The reason is too long: at most 500 characters."),
    "off": _l("This forum does not accept files. Your text is kept: send it without the file."),
    "too_many": _l("A post can carry at most 5 files."),
    "name": _l(
        "The file name must not contain folders, control characters or invisible characters. "
        "Rename the file and choose it again."
    ),
    "empty": _l("The file is empty. Choose another file."),
    "too_large": _l("The file is too large: the limit is %(mb)s MB per file."),
    "type": _l("This kind of file is not accepted here. Allowed: %(types)s."),
    "storage_unavailable": _l(
        "The file store cannot be reached right now, so the file was not added. Your text "
        "is kept: try again in a few minutes."
    ),
    "upload_missing": _l(
        "The uploaded file is no longer available. Your text is kept: choose the file and "
        "send it again."
    ),
    "upload_incomplete": _l(
        "The file has not finished uploading. Your text is kept: send it again once the "
        "upload is complete."
    ),
}
NOTICES = {
    "posted": _l("Your post was published."),
    "resent": _l("This post had already been sent: it was published once."),
    "edited": _l("Your post was changed."),
    "deleted": _l("Your post was removed."),
    "hidden": _l("The post was hidden from peserta."),
    "unhidden": _l("The post is visible again."),
    "pinned": _l("The thread is pinned on top of the list."),
    "unpinned": _l("The thread is no longer pinned."),
}
MAX_REASON = 500
_EXTENSIONS = {"jpg": ("jpg", "jpeg")}


def _error(code: str, settings=None) -> str:
    files = settings.files() if settings is not None else None
    if code == "too_large" and files is not None:
        return str(ERRORS[code]) % {"mb": files.max_mb}
    if code == "type" and files is not None:
        return str(ERRORS[code]) % {"types": ", ".join(t.upper() for t in files.types)}
    return str(ERRORS[code])


def _notice() -> str | None:
    code = request.args.get("notice", "")
    return str(NOTICES[code]) if code in NOTICES else None


_asset_versions: dict[str, str] = {}


def asset_url(filename: str) -> str:
    """The plugin's static file with a content fingerprint (cached a year)."""
    v = _asset_versions.get(filename)
    if v is None:
        data = (Path(bp.static_folder) / filename).read_bytes()
        v = _asset_versions[filename] = hashlib.sha256(data).hexdigest()[:12]
    return url_for("forum.static", filename=filename, v=v)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{max(n // 1024, 1)} KB"


@bp.app_context_processor
def _helpers():
    return {
        "forum_asset": asset_url,
        "forum_html": text.safe,
        "forum_excerpt": text.excerpt,
        "forum_size": _size,
    }


def storage_of(app):
    from lti_tool.storage import storage_for

    return storage_for("forum", app)


def _storage():
    return storage_of(current_app)


def _page_number() -> int:
    return int_param(request.args.get("page"), 5) or 1


class Forum:
    """One forum activity in this course, as the current viewer may use it."""

    def __init__(self, ctx: int, activity_id: int) -> None:
        self.ctx = ctx
        self.activity, self.module, self.instance = activity_in_course(ctx, activity_id, "forum")
        self.settings = service.settings_of(self.activity)
        self.db = db_session()
        self.user_id = g.viewer.user_id
        self.role = g.role
        self.staff = g.role in STAFF
        self.scope = service.scope_of(
            self.db, self.instance, self.settings, self.user_id, self.role
        )

    @classmethod
    def of_page(cls, page) -> Forum:
        self = cls.__new__(cls)
        self.ctx = page.context_id
        self.activity, self.module = page.activity, page.module
        self.db = db_session()
        self.instance = self.db.get(CourseInstance, page.instance_id)
        self.settings = service.settings_of(self.activity)
        self.user_id, self.role = page.user_id, page.role
        self.staff = page.role in STAFF
        self.scope = service.scope_of(
            self.db, self.instance, self.settings, self.user_id, self.role
        )
        return self

    def thread(self, thread_id: int) -> ForumThread:
        """A thread of this forum the viewer may see; 404 for any other id."""
        t = self.db.get(ForumThread, thread_id)
        if (
            t is None
            or t.context_pk != self.ctx
            or t.activity_id != self.activity.id
            or not self.scope.sees(t)
        ):
            abort(404)
        return t

    def post(self, post_id: int) -> tuple[ForumPost, ForumThread]:
        p = self.db.get(ForumPost, post_id)
        if p is None:
            abort(404)
        return p, self.thread(p.thread_id)

    def thread_url(self, thread_id: int, **args) -> str:
        return url_for(
            "forum.thread", ctx=self.ctx, activity_id=self.activity.id, thread_id=thread_id, **args
        )

    def to_post(self, post: ForumPost, notice: str):
        page = service.page_of_post(self.db, post.thread_id, post.id)
        return redirect(
            self.thread_url(post.thread_id, page=page, notice=notice, _anchor=f"p{post.id}")
        )

    def framed(self, html: str, status: int = 200):
        return refuse(html, self.activity, self.module, status)


@bp.errorhandler(413)
def too_large(_exc):
    """A request over the tool's own size limit (the form cannot be read at all): say
    what this forum's file limit is."""
    message = None
    args = request.view_args or {}
    if "activity_id" in args:
        from lti_tool.models import Activity

        activity = db_session().get(Activity, args["activity_id"])
        if activity is not None and activity.type == "forum":
            files = service.settings_of(activity).files()
            if files is not None:
                message = str(ERRORS["too_large"]) % {"mb": files.max_mb}
    message = message or str(ERRORS["too_large"]) % {
        "mb": current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    }
    return render_template("error.html", title=message, message=message, code=413), 413


# -- the thread list ---------------------------------------------------------------------


def _new_form(pending=()) -> dict:
    return {
        "title": "",
        "body": "",
        "rombel": "",
        "submit_key": secrets.token_hex(16),
        "pending": list(pending),
    }


def render_page(page, form: dict | None = None, error: str | None = None) -> str:
    forum = Forum.of_page(page)
    return _render_list(forum, form, error)


def _render_list(forum: Forum, form: dict | None = None, error: str | None = None) -> str:
    db = forum.db
    page_no = _page_number()
    rows, total = service.thread_rows(
        db, forum.ctx, forum.activity.id, forum.scope, forum.user_id, forum.staff, page_no
    )
    pages = service.last_page(total, service.THREADS_PER_PAGE)
    s = forum.settings
    return render_template(
        "forum/forum.html",
        forum=forum,
        settings=s,
        prompt=text.safe(text.to_html(s.prompt)) if s.prompt else None,
        rows=rows,
        total=total,
        number=page_no,
        pages=pages,
        unread=service.unread_total(
            db, forum.ctx, forum.activity.id, forum.scope, forum.user_id, forum.staff
        ),
        can_open=service.can_open_thread(forum.role, s, forum.scope),
        no_rombel=forum.scope.kind == "rombel" and not forum.scope.post_to and not forum.staff,
        form=form or _new_form(),
        error=error,
        notice=_notice(),
        files=s.files(),
        accept=_accept_attr(s),
        list_url=lambda n: url_for(
            "web.activity",
            ctx=forum.ctx,
            module_key=forum.module.key,
            block_key=forum.activity.block.key,
            activity_key=forum.activity.key,
            page=n,
        ),
    )


def _accept_attr(settings) -> str:
    files = settings.files()
    if files is None:
        return ""
    exts = []
    for t in files.types:
        exts += [f".{e}" for e in _EXTENSIONS.get(t, (t,))]
    return ",".join(exts)


# -- reading and checking forms ------------------------------------------------------------


def _posted_form() -> dict:
    pending = [n for v in request.form.getlist("pending") if (n := int_param(v)) is not None]
    key = request.form.get("submit_key", "")
    return {
        "title": text.clean_text(request.form.get("title"), multiline=False),
        "body": text.clean_text(request.form.get("body")),
        "rombel": request.form.get("rombel", ""),
        "quote": request.form.get("quote", ""),
        "submit_key": key if len(key) == 32 and key.isalnum() else secrets.token_hex(16),
        "pending": pending,
    }


def _body_errors(body: str) -> list[str]:
    if len(body) > service.MAX_BODY:
        return ["body_long"]
    if not body or not text.plain(text.to_html(body)):
        return ["body"]
    return []


def _accept_files(forum: Forum, form: dict) -> tuple[list[ForumAttachment], str | None, list[str]]:
    """The files the form brings: the ones accepted before (pending) and a new one.
    Returns (files, error code, names stored now). A refused file stores nothing."""
    from lti_tool.storage import StorageError

    db = forum.db
    files = service.pending_files(db, forum.ctx, forum.activity.id, forum.user_id, form["pending"])
    upload = request.files.get("file")
    token = request.form.get("upload_id", "")  # a finished resumable upload (lti_tool/uploads)
    if (upload is None or upload.filename in (None, "")) and not token:
        return files, None, []
    settings = forum.settings.files()
    if settings is None:
        return files, "off", []
    if len(files) >= service.MAX_FILES:
        return files, "too_many", []
    if token:
        target = upload_target("forum", forum.activity.id)
        try:
            name, stream = completed_file(db, token, forum.user_id, forum.ctx, target=target)
        except UploadUnavailableError as exc:
            return files, f"upload_{exc.code}", []
    else:
        name, stream = upload.filename, upload.stream
    if text.bad_file_name(name):
        return files, "name", []
    try:
        stored = _storage().save(
            stream, max_bytes=settings.max_mb * 1024 * 1024, allowed=settings.allowed()
        )
    except StorageError as exc:
        return files, exc.code, []
    row = ForumAttachment(
        context_pk=forum.ctx,
        activity_id=forum.activity.id,
        user_id=forum.user_id,
        stored_name=stored.name,
        original_name=name,
        mime=stored.mime,
        size=stored.size,
        sha256=stored.sha256,
    )
    db.add(row)
    db.flush()
    return [*files, row], None, [stored.name]


def _status(codes: list[str]) -> int:
    if "storage_unavailable" in codes:
        return 503
    return 413 if "too_large" in codes else 400


def _publish(forum: Forum, form: dict, stored_now: list[str], build):
    """Store what `build` adds and go to the new post. A concurrent resend of the same
    form (one-time key taken) leads to the post that one made; this request's files
    are forgotten."""
    db = forum.db
    try:
        post = build()
        _submitted(forum)
        db.commit()
    except IntegrityError:
        db.rollback()
        for name in stored_now:
            _storage().delete(name)
        earlier = service.resend_of(db, forum.user_id, form["submit_key"], None, form["body"])
        if earlier is None:
            raise
        return forum.to_post(earlier, "resent")
    except Exception:
        db.rollback()
        for name in stored_now:
            _storage().delete(name)
        raise
    service.mark_read(db, post.thread_id, forum.user_id, post.id)
    return forum.to_post(post, "posted")


def _errors_text(codes: list[str], settings) -> str:
    return " ".join(_error(c, settings) for c in codes)


def _new_post(forum: Forum, thread: ForumThread, form: dict, quote_id=None) -> ForumPost:
    post = ForumPost(
        thread_id=thread.id,
        author_id=forum.user_id,
        author_role=forum.role,
        source=form["body"],
        html=text.to_html(form["body"]),
        quote_id=quote_id,
        submit_key=form["submit_key"],
    )
    forum.db.add(post)
    forum.db.flush()
    return post


def _submitted(forum: Forum) -> None:
    if forum.role == PESERTA:
        completion.record(forum.db, forum.ctx, forum.activity, forum.user_id, "submitted")


# -- opening a thread ---------------------------------------------------------------------


@bp.post("/c/<int:ctx>/forum/<int:activity_id>/threads")
@course_access
def new_thread(ctx: int, activity_id: int):
    """Open a thread: a title, the first post, optional files (and, in rombel scope,
    the rombel it is for when the author has several)."""
    forum = Forum(ctx, activity_id)
    if not service.can_open_thread(forum.role, forum.settings, forum.scope):
        abort(403)
    db = forum.db
    form = _posted_form()
    earlier = service.resend_of(db, forum.user_id, form["submit_key"], None, form["body"])
    if earlier is None:
        again = service.recent_thread(
            db, ctx, forum.activity.id, forum.user_id, form["title"], form["body"]
        )
        if again is not None:
            earlier = db.get(ForumPost, again.first_post_id)
    if earlier is not None and forum.scope.sees(db.get(ForumThread, earlier.thread_id)):
        return forum.to_post(earlier, "resent")
    made = service.by_key(db, forum.user_id, form["submit_key"])
    if made is not None and made.source == form["body"]:
        return forum.to_post(made, "resent")  # a resend that crossed the first request
    if made is not None:  # a page kept by the Back button, written anew: a new key
        form["submit_key"] = secrets.token_hex(16)
    codes = []
    if not form["title"]:
        codes.append("title")
    elif len(form["title"]) > service.MAX_TITLE:
        codes.append("title_long")
    codes += _body_errors(form["body"])
    rombel_id = None
    if forum.scope.kind == "rombel":
        allowed = {rid for rid, _n in forum.scope.post_to}
        if len(allowed) == 1:
            rombel_id = next(iter(allowed))
        elif (chosen := int_param(form["rombel"])) in allowed:
            rombel_id = chosen
        elif form["rombel"]:
            abort(404)
        else:
            codes.append("rombel")
    files, file_error, stored_now = _accept_files(forum, form)
    if file_error:
        codes.append(file_error)
    if codes:
        form["pending"] = files
        db.commit()  # files accepted with a refused form wait for its resend
        html = _render_list(forum, form, _errors_text(codes, forum.settings))
        return forum.framed(html, _status(codes))
    pin = forum.staff and request.form.get("pinned") == "1"

    def build() -> ForumPost:
        thread = ForumThread(
            context_pk=ctx,
            activity_id=forum.activity.id,
            rombel_id=rombel_id,
            author_id=forum.user_id,
            author_role=forum.role,
            title=form["title"],
            pinned=pin,
        )
        db.add(thread)
        db.flush()
        post = _new_post(forum, thread, form)
        thread.first_post_id = post.id
        for f in files:
            f.post_id = post.id
        return post

    return _publish(forum, form, stored_now, build)


# -- a thread -----------------------------------------------------------------------------


def _render_thread(
    forum: Forum,
    thread: ForumThread,
    number: int,
    form: dict | None = None,
    error: str | None = None,
    mark: bool = False,
) -> str:
    db = forum.db
    upto = service.read_upto(db, thread.id, forum.user_id)
    posts, total = service.posts_page(db, thread, number, forum.user_id, upto)
    pages = service.last_page(total, service.POSTS_PER_PAGE)
    if mark and posts:
        service.mark_read(db, thread.id, forum.user_id, max(v.post.id for v in posts))
    author = db.get(User, thread.author_id)
    form = form or _new_form()
    quoting = None
    quote_arg = form.get("quote") or request.args.get("quote", "")
    if (quote_id := int_param(quote_arg)) is not None:
        q = db.get(ForumPost, quote_id)
        if q is not None and q.thread_id == thread.id and _readable(forum, q):
            quoting = (db.get(User, q.author_id).display_name, q)
            form["quote"] = str(q.id)
    first = db.get(ForumPost, thread.first_post_id) if thread.first_post_id else None
    now = utcnow()
    return render_template(
        "forum/thread.html",
        forum=forum,
        thread=thread,
        thread_author=author.display_name if author else "",
        title_hidden=first is not None and _title_withheld(forum, first),
        rombel=forum.scope.names.get(thread.rombel_id) if thread.rombel_id else None,
        posts=posts,
        number=number,
        pages=pages,
        form=form,
        quoting=quoting,
        error=error,
        notice=_notice(),
        files=forum.settings.files(),
        accept=_accept_attr(forum.settings),
        editable=lambda p: service.editable(p, forum.user_id, now),
        moderates=lambda p: forum.staff and service.can_moderate(forum.role, p),
        readable=lambda p: _readable(forum, p),
        page_url=lambda n: forum.thread_url(thread.id, page=n),
        back_url=url_for(
            "web.activity",
            ctx=forum.ctx,
            module_key=forum.module.key,
            block_key=forum.activity.block.key,
            activity_key=forum.activity.key,
        ),
    )


def _readable(forum: Forum, post: ForumPost) -> bool:
    """Whether the viewer may read a post's text and files."""
    if post.deleted_at is not None:
        return False
    return post.hidden_at is None or forum.staff


def _title_withheld(forum: Forum, first: ForumPost) -> bool:
    return first.deleted_at is not None or (first.hidden_at is not None and not forum.staff)


@bp.get("/c/<int:ctx>/forum/<int:activity_id>/t/<int:thread_id>")
@course_access
def thread(ctx: int, activity_id: int, thread_id: int):
    """A thread's posts in order (50 a page), the reply form at the bottom; viewing a
    page marks its posts read."""
    forum = Forum(ctx, activity_id)
    t = forum.thread(thread_id)
    return forum.framed(_render_thread(forum, t, _page_number(), mark=True))


@bp.post("/c/<int:ctx>/forum/<int:activity_id>/t/<int:thread_id>/reply")
@course_access
def reply(ctx: int, activity_id: int, thread_id: int):
    forum = Forum(ctx, activity_id)
    t = forum.thread(thread_id)
    db = forum.db
    form = _posted_form()
    earlier = service.resend_of(db, forum.user_id, form["submit_key"], t.id, form["body"])
    if earlier is not None:
        return forum.to_post(earlier, "resent")
    made = service.by_key(db, forum.user_id, form["submit_key"])
    if made is not None and made.source == form["body"]:
        return forum.to_post(made, "resent")  # a resend that crossed the first request
    if made is not None:  # a page kept by the Back button, written anew: a new key
        form["submit_key"] = secrets.token_hex(16)
    quote_id = None
    if form["quote"]:
        quote = int_param(form["quote"])
        q = db.get(ForumPost, quote) if quote is not None else None
        if q is None or q.thread_id != t.id or not _readable(forum, q):
            abort(404)
        quote_id = q.id
    codes = _body_errors(form["body"])
    files, file_error, stored_now = _accept_files(forum, form)
    if file_error:
        codes.append(file_error)
    if codes:
        form["pending"] = files
        db.commit()
        last = service.last_page(service.count_posts(db, t.id), service.POSTS_PER_PAGE)
        html = _render_thread(forum, t, last, form, _errors_text(codes, forum.settings))
        return forum.framed(html, _status(codes))

    def build() -> ForumPost:
        post = _new_post(forum, t, form, quote_id)
        for f in files:
            f.post_id = post.id
        t.last_post_at = utcnow()
        return post

    return _publish(forum, form, stored_now, build)


@bp.post("/c/<int:ctx>/forum/<int:activity_id>/t/<int:thread_id>/pin")
@course_access
def pin(ctx: int, activity_id: int, thread_id: int):
    """Staff pin a thread on top of the list (or unpin it)."""
    forum = Forum(ctx, activity_id)
    if not forum.staff:
        abort(403)
    t = forum.thread(thread_id)
    t.pinned = not t.pinned
    forum.db.commit()
    return back_to(ctx, forum.module, forum.activity, notice="pinned" if t.pinned else "unpinned")


# -- changing posts -----------------------------------------------------------------------


@bp.route("/c/<int:ctx>/forum/<int:activity_id>/p/<int:post_id>/edit", methods=["GET", "POST"])
@course_access
def edit(ctx: int, activity_id: int, post_id: int):
    """The author changes a post (and the title, for a thread's first post) within 30
    minutes of sending it."""
    forum = Forum(ctx, activity_id)
    post, t = forum.post(post_id)
    if post.author_id != forum.user_id:
        abort(404 if not _readable(forum, post) else 403)
    if post.deleted_at is not None:
        abort(404)
    first = t.first_post_id == post.id
    form = {"title": t.title, "body": post.source}
    codes: list[str] = []
    status = 200
    if request.method == "POST":
        form = {
            "title": text.clean_text(request.form.get("title"), multiline=False)
            if first
            else t.title,
            "body": text.clean_text(request.form.get("body")),
        }
        if not service.editable(post, forum.user_id, utcnow()):
            codes.append("edit_window")
        else:
            if first and not form["title"]:
                codes.append("title")
            elif first and len(form["title"]) > service.MAX_TITLE:
                codes.append("title_long")
            codes += _body_errors(form["body"])
        if not codes:
            if form["body"] != post.source or form["title"] != t.title:
                forum.db.add(
                    ForumAudit(
                        post_id=post.id,
                        actor_id=forum.user_id,
                        actor_role=forum.role,
                        action="edit",
                        detail=post.source if not first else f"{t.title}\n\n{post.source}",
                    )
                )
                post.source = form["body"]
                post.html = text.to_html(form["body"])
                post.edited_at = utcnow()
                t.title = form["title"]
                forum.db.commit()
            return forum.to_post(post, "edited")
        status = 409 if "edit_window" in codes else 400
    elif not service.editable(post, forum.user_id, utcnow()):
        codes.append("edit_window")
        status = 409
    html = render_template(
        "forum/edit.html",
        forum=forum,
        post=post,
        thread=t,
        first=first,
        form=form,
        error=_errors_text(codes, forum.settings) if codes else None,
        can_edit="edit_window" not in codes,
        cancel_url=forum.thread_url(t.id, _anchor=f"p{post.id}"),
    )
    return forum.framed(html, status)


@bp.post("/c/<int:ctx>/forum/<int:activity_id>/p/<int:post_id>/delete")
@course_access
def delete(ctx: int, activity_id: int, post_id: int):
    """The author removes a post: it stays in place as "post removed"."""
    forum = Forum(ctx, activity_id)
    post, _t = forum.post(post_id)
    if post.author_id != forum.user_id:
        abort(404 if not _readable(forum, post) else 403)
    if post.deleted_at is None:
        post.deleted_at = utcnow()
        forum.db.add(
            ForumAudit(
                post_id=post.id, actor_id=forum.user_id, actor_role=forum.role, action="delete"
            )
        )
        forum.db.commit()
    return forum.to_post(post, "deleted")


@bp.post("/c/<int:ctx>/forum/<int:activity_id>/p/<int:post_id>/<any(hide, unhide):action>")
@course_access
def moderate(ctx: int, activity_id: int, post_id: int, action: str):
    """Staff hide a post from peserta (with a reason), or show it again; logged."""
    forum = Forum(ctx, activity_id)
    if not forum.staff:
        abort(403)
    post, t = forum.post(post_id)
    if not service.can_moderate(forum.role, post):
        abort(403)
    reason = text.clean_text(request.form.get("reason"), multiline=False)
    if len(reason) > MAX_REASON:
        html = _render_thread(
            forum, t, service.page_of_post(forum.db, t.id, post.id), error=_error("reason_long")
        )
        return forum.framed(html, 400)
    changed = (action == "hide") != (post.hidden_at is not None)
    if changed:
        if action == "hide":
            post.hidden_at, post.hidden_by, post.hidden_reason = utcnow(), forum.user_id, reason
        else:
            post.hidden_at, post.hidden_by, post.hidden_reason = None, None, None
        forum.db.add(
            ForumAudit(
                post_id=post.id,
                actor_id=forum.user_id,
                actor_role=forum.role,
                action=action,
                detail=reason or None,
            )
        )
        forum.db.commit()
    return forum.to_post(post, "hidden" if action == "hide" else "unhidden")


# -- files --------------------------------------------------------------------------------


def _download_name(row: ForumAttachment) -> str:
    """The uploader's file name, with the extension of what the file really is."""
    ext = next((t for t, m in FILE_TYPES.items() if m == row.mime), None)
    name = row.original_name
    if ext is not None and name.lower().rsplit(".", 1)[-1] not in _EXTENSIONS.get(ext, (ext,)):
        name = f"{name}.{ext}"
    return name


@bp.get("/c/<int:ctx>/forum/<int:activity_id>/file/<int:file_id>")
@course_access
def download(ctx: int, activity_id: int, file_id: int):
    """A post's file, always as a download; 404 unless the viewer may read the post
    (a file waiting for its post: only for its uploader)."""
    forum = Forum(ctx, activity_id)
    row = forum.db.get(ForumAttachment, file_id)
    if row is None or row.context_pk != ctx or row.activity_id != forum.activity.id:
        abort(404)
    if row.post_id is None:
        if row.user_id != forum.user_id:
            abort(404)
    else:
        post, _t = forum.post(row.post_id)
        if not _readable(forum, post):
            abort(404)
    response = _storage().send(
        row.stored_name, mimetype=row.mime, download_name=_download_name(row), max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- the record ---------------------------------------------------------------------------


@bp.get("/c/<int:ctx>/forum/<int:activity_id>/record")
@course_access
def record(ctx: int, activity_id: int):
    """Every thread and post of the forum, printable, for the programme's reports
    (staff; a mentor sees the record of their rombels)."""
    forum = Forum(ctx, activity_id)
    if not forum.staff:
        abort(403)
    db = forum.db
    rows = service.record_rows(db, ctx, forum.activity.id, forum.scope)
    threads: list[dict] = []
    for t, p, u in rows:
        if not threads or threads[-1]["thread"].id != t.id:
            threads.append({"thread": t, "posts": []})
        threads[-1]["posts"].append((p, u.display_name))
    post_ids = [p.id for _t, p, _u in rows]
    audits = []
    if post_ids:
        audits = db.execute(
            select(ForumAudit, User)
            .outerjoin(User, User.id == ForumAudit.actor_id)
            .where(ForumAudit.post_id.in_(post_ids), ForumAudit.action.in_(("hide", "unhide")))
            .order_by(ForumAudit.at, ForumAudit.id)
        ).all()
    people = {uid for _t, p, _u in rows for uid in [p.author_id]}
    return render_template(
        "forum/record.html",
        forum=forum,
        module=forum.module,
        activity=forum.activity,
        threads=threads,
        files=service.files_of(db, post_ids),
        audits=audits,
        posts=len(rows),
        people=len(people),
        rombel_names=forum.scope.names,
        generated=utcnow(),
        viewer=g.viewer,
        context=g.context,
        back_url=url_for(
            "web.activity",
            ctx=ctx,
            module_key=forum.module.key,
            block_key=forum.activity.block.key,
            activity_key=forum.activity.key,
        ),
    )
