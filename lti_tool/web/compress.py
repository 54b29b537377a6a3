"""Gzip of text responses (pages, CSS, JS, JSON) for browsers that accept it.

Teachers open the tool on slow mobile connections: a page of 20 KB of HTML travels
as 4 KB. In production nginx usually compresses too (`gzip on; gzip_types text/css
application/javascript application/json;`); it leaves a response that is already
compressed alone, so the two do not clash. Set COMPRESS_RESPONSES=0 to leave all of
it to the proxy. Static files (fingerprinted, cached for a year) are compressed once
per version and kept in memory; downloads (attachments, user files) are sent as they are.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/plain",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    }
)
MIN_BYTES = 1024  # below this the gzip header and the CPU are not worth it
MAX_STATIC_BYTES = 512 * 1024
LEVEL = 6


def init_app(app: Flask) -> None:
    if not app.config.get("COMPRESS_RESPONSES", True):
        return
    static_cache: dict[str, bytes] = {}  # weak ETag of a static file -> its gzip bytes

    @app.after_request
    def gzip_response(response: Response) -> Response:
        return _compress(response, static_cache)


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def _compress(response: Response, static_cache: dict[str, bytes]) -> Response:
    if (
        request.method == "HEAD"
        or response.status_code != 200
        or response.mimetype not in COMPRESSIBLE
        or "Content-Encoding" in response.headers
        or response.headers.get("Content-Disposition", "").startswith("attachment")
    ):
        return response
    static = _is_static()
    if response.direct_passthrough:
        # send_file: only our own static files, small ones (never user files)
        if not static or (response.content_length or MAX_STATIC_BYTES + 1) > MAX_STATIC_BYTES:
            return response
    elif response.is_streamed:
        return response
    length = response.content_length
    if length is not None and length < MIN_BYTES:
        return response
    response.vary.add("Accept-Encoding")
    if request.accept_encodings["gzip"] <= 0:
        return response
    etag, weak = response.get_etag()
    if etag and not weak:  # another representation: the same resource, a weak validator
        response.set_etag(etag, weak=True)
    body = static_cache.get(etag) if static and etag else None
    if body is None:
        response.direct_passthrough = False
        data = response.get_data()
        if len(data) < MIN_BYTES:
            return response
        body = gzip.compress(data, compresslevel=LEVEL, mtime=0)
        if static and etag and len(static_cache) < 512:
            static_cache[etag] = body
    else:
        response.direct_passthrough = False
        response.get_data()  # read and close the file
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # byte ranges of the compressed body: no
    return response
