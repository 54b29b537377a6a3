"""The sanitiser, file-name rules and the settings model, without a server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugins.forum.settings import ForumSettings
from plugins.forum.text import bad_file_name, clean_text, excerpt, plain, to_html


def test_plain_text_becomes_paragraphs_and_line_breaks():
    assert to_html("Satu\ndua\n\nTiga") == "<p>Satu<br>\ndua</p><p>Tiga</p>"
    assert to_html("<p>Sudah</p>\n<p>HTML</p>") == "<p>Sudah</p>\n<p>HTML</p>"


def test_only_the_allow_list_survives():
    html = to_html(
        "<strong>tebal</strong> <em>miring</em> <ul><li>a</li></ul> <ol><li>b</li></ol>"
        "<blockquote>k</blockquote> <code>x</code> <h1>judul</h1> <b>b</b>"
    )
    for tag in ("strong", "em", "ul", "li", "ol", "blockquote", "code"):
        assert f"<{tag}>" in html
    assert "&lt;h1&gt;" in html and "&lt;b&gt;" in html  # shown as typed, not rendered


def test_links_keep_safe_protocols_and_get_rel():
    html = to_html(
        '<a href="https://kemdikbud.go.id">a</a> <a href="mailto:g@x.id">b</a> '
        '<a href="javascript:alert(1)">c</a> <a href="ftp://x">d</a> www.gtk.id'
    )
    assert html.count('rel="nofollow noopener"') == 5
    assert 'href="https://kemdikbud.go.id"' in html and 'href="mailto:g@x.id"' in html
    assert "javascript" not in html and "ftp:" not in html
    assert 'href="http://www.gtk.id"' in html  # bare addresses become links


def test_control_and_invisible_characters_are_removed():
    assert clean_text("a\x00b\x07c\u202ed\r\ne") == "abcd\ne"
    assert clean_text("  judul \n dua  ", multiline=False) == "judul dua"


def test_plain_and_excerpt():
    assert plain(to_html("<p>a &amp; b &lt;c&gt;</p>")) == "a & b <c>"
    assert excerpt(to_html("x" * 400), 10) == "xxxxxxxxx…"


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "a/b.pdf",
        "..\\b.pdf",
        "C:evil.pdf",
        "a\nb.pdf",
        "a\x00.pdf",
        "fdp.exe\u202e.pdf",
        "zero\u200bwidth.pdf",
        "x" * 201,
    ],
)
def test_bad_file_names(name):
    assert bad_file_name(name)


@pytest.mark.parametrize("name", ["laporan 1.pdf", "Tugas: bab 2.docx", "foto-kelas_ké.jpg"])
def test_good_file_names(name):
    assert not bad_file_name(name)


def test_settings():
    s = ForumSettings.model_validate({})
    assert s.scope == "class" and s.files() is None and s.peserta_threads
    s = ForumSettings.model_validate({"scope": "rombel", "attachments": False})
    assert s.files() is None
    s = ForumSettings.model_validate({"attachments": {"types": ["pdf", "jpg"], "max_mb": 3}})
    assert s.files().allowed() == {"application/pdf": "pdf", "image/jpeg": "jpg"}
    for bad in (
        {"scope": "kelas"},
        {"attachments": {"types": []}},
        {"attachments": {"types": ["exe"]}},
        {"attachments": {"max_mb": 0}},
        {"attachments": True},
        {"completion": "viewed"},
        {"unknown": 1},
    ):
        with pytest.raises(ValidationError):
            ForumSettings.model_validate(bad)
