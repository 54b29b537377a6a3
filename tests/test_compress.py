"""Gzip of text responses: pages and static files travel compressed to browsers that
accept it, with Vary and a weak ETag; small answers, user files and other clients are
left alone."""

from __future__ import annotations

import gzip

from flask import Response, send_file

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def _css_url(app) -> str:
    with app.test_request_context():
        from flask import render_template_string

        return render_template_string("{{ static_url('app.css') }}")


def test_static_css_is_gzipped_once_with_a_weak_etag_and_revalidates(app):
    client = app.test_client()
    url = _css_url(app)
    plain = client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    first = client.get(url, headers=GZIP)
    assert first.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in first.headers["Vary"]
    assert gzip.decompress(first.data) == plain.data
    assert int(first.headers["Content-Length"]) == len(first.data) < len(plain.data)
    assert "max-age=31536000" in first.headers["Cache-Control"]
    assert "Accept-Ranges" not in first.headers
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get(url, headers=GZIP)  # from the in-memory copy, same bytes
    assert again.data == first.data
    revalidated = client.get(url, headers={**GZIP, "If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.data == b""


def test_pages_are_gzipped_and_small_or_binary_answers_are_not(app):
    @app.get("/_t/page")
    def page():
        return "<!doctype html><p>" + "Guru belajar. " * 200 + "</p>"

    @app.get("/_t/small")
    def small():
        return "<p>ok</p>"

    @app.get("/_t/file")
    def user_file():
        from io import BytesIO

        return send_file(BytesIO(b"x" * 5000), mimetype="text/plain", download_name="a.txt")

    @app.get("/_t/export")
    def export():
        return Response(
            "nama;nilai\n" * 500,
            mimetype="text/plain",
            headers={"Content-Disposition": "attachment; filename=nilai.txt"},
        )

    @app.get("/_t/stream")
    def stream():
        return Response((b"<p>" * 1000 for _ in range(2)), mimetype="text/html")

    client = app.test_client()
    big = client.get("/_t/page", headers=GZIP)
    assert big.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(big.data).decode().count("Guru belajar.") == 200
    assert "Content-Encoding" not in client.get("/_t/small", headers=GZIP).headers
    assert "Content-Encoding" not in client.get("/_t/file", headers=GZIP).headers
    assert "Content-Encoding" not in client.get("/_t/stream", headers=GZIP).headers
    assert "Content-Encoding" not in client.get("/_t/export", headers=GZIP).headers
    refused = client.get("/_t/page", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers
    assert "Accept-Encoding" in refused.headers["Vary"]


def test_compression_can_be_left_to_the_proxy(tmp_path):
    from tests.conftest import build_app

    app = build_app(tmp_path, templates=[], COMPRESS_RESPONSES=False)
    response = app.test_client().get(_css_url(app), headers=GZIP)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
