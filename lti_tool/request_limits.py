"""Request body limits beyond Flask's own.

Flask refuses a request over MAX_CONTENT_LENGTH (64 MB: uploads), a multipart form
with more than MAX_FORM_PARTS parts, and a multipart text field over
MAX_FORM_MEMORY_SIZE, all with 413. Werkzeug reads any other body (url-encoded
forms, JSON) whole into memory, limited only by MAX_CONTENT_LENGTH: such bodies may
be no larger than MAX_FORM_MEMORY_SIZE. The check runs before the CSRF check reads
the form, so an oversized body is refused before it is read.
"""

from __future__ import annotations

from flask import Flask, current_app, request


def cap_in_memory_bodies() -> None:
    if request.mimetype == "multipart/form-data":
        return  # streamed: files to disk, each text field limited by Werkzeug
    cap = current_app.config.get("MAX_FORM_MEMORY_SIZE")
    if cap is None:
        return
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    request.max_content_length = cap if limit is None else min(cap, limit)


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, cap_in_memory_bodies)
