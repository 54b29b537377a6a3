"""The light markup and the bleach allow-list, without a server."""

from __future__ import annotations

import pytest

from plugins.refleksi import text
from plugins.refleksi.settings import RefleksiSettings


def test_markup_becomes_the_small_html_subset():
    source = text.clean_source(
        "Hal **baru** dan *penting*\nbaris kedua\n\n- satu\n- dua\n\n1. pertama\n2. kedua\n\n"
        "[Juknis](https://gtk.kemdikbud.go.id/juknis) dan https://bebras.or.id."
    )
    html = str(text.render(source))
    assert "<p>Hal <strong>baru</strong> dan <em>penting</em><br>\nbaris kedua</p>" in html
    assert "<ul><li>satu</li><li>dua</li></ul>" in html
    assert "<ol><li>pertama</li><li>kedua</li></ol>" in html
    assert (
        '<a href="https://gtk.kemdikbud.go.id/juknis" rel="nofollow noopener" '
        'target="_blank">Juknis</a>' in html
    )
    assert '<a href="https://bebras.or.id" rel="nofollow noopener" target="_blank">' in html
    assert html.endswith("</a>.</p>")  # the full stop is not part of the address


def test_the_html_subset_typed_directly_is_kept_and_the_rest_stripped():
    source = text.clean_source(
        '<p>Satu <strong>dua</strong> <b>tiga</b></p><a href="mailto:guru@sekolah.id" '
        'rel="opener" title="x">surel</a><h1>judul</h1>'
    )
    assert source == (
        '<p>Satu <strong>dua</strong> tiga</p><a href="mailto:guru@sekolah.id">surel</a>\njudul'
    )
    assert 'rel="nofollow noopener"' in str(text.render(source))


def test_text_round_trips_through_the_textarea():
    typed = "Nilai < 70 & tugas > 2 **tebal** [t](https://a.id/?x=1&y=2)"
    source = text.clean_source(typed)
    assert text.for_editing(source) == typed
    assert text.clean_source(text.for_editing(source)) == source
    assert "Nilai &lt; 70 &amp; tugas &gt; 2" in str(text.render(source))
    assert 'href="https://a.id/?x=1&amp;y=2"' in str(text.render(source))


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", 0),
        ("satu dua tiga", 3),
        ("- satu\n- dua\n\n**tiga** *empat* lima-enam", 5),
        ('<p>satu</p><p>dua</p> <a href="https://x.id">tiga</a> — , .', 3),
        ("https://bebras.or.id adalah situs", 3),
    ],
)
def test_word_count(typed, words):
    assert text.word_count(text.clean_source(typed)) == words


def test_settings_defaults_are_the_four_session_prompts():
    s = RefleksiSettings.model_validate({})
    assert [p.key for p in s.prompts] == ["baru", "faktor", "antisipasi", "tindak-lanjut"]
    assert s.editable_until == "week_end" and s.visible_to_peers is False and s.min_words == 0
    with pytest.raises(ValueError, match="used twice"):
        RefleksiSettings.model_validate({"prompts": [{"key": "a", "label": "A"}] * 2})
    with pytest.raises(ValueError):
        RefleksiSettings.model_validate({"editable_until": "never"})
    with pytest.raises(ValueError):
        RefleksiSettings.model_validate({"prompt": []})  # extra keys are refused
