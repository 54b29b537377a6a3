"""Evaluasi Penyelenggaraan: the nine questions of Juknis Lampiran 1 (plus template
extras), every answer required, and the recap with both indices and the open answers."""

from __future__ import annotations

import re
from decimal import Decimal

from plugins.evaluasi.questions import index_of
from tests.conftest import launch_as, make_browser

TARGET = "/course/gp-pedagogik-a/penutup/evaluasi"


def _open(live_tool, lms, browser, roles, sub):
    return launch_as(live_tool, lms, browser, roles, sub, TARGET)


def _full(
    scores: list[int], texts=("Forum diskusi", "Jadwal lebih longgar", "Menerapkan di kelas")
):
    data = {f"l{i}": str(v) for i, v in enumerate(scores)}
    data.update({f"o{i}": t for i, t in enumerate(texts)})
    return data


def test_questionnaire_and_recap(live_tool, lms):
    siti, budi, pengampu = make_browser(), make_browser(), make_browser()
    page = _open(live_tool, lms, siti, ["Learner"], "siti")
    text = page.text
    assert "1. Bagaimana Saudara menilai kesesuaian isi pembelajaran Guru Pembelajar" in text
    assert "7. Bagaimana Saudara menilai jadwal pembelajaran?" in text  # the template's extra
    assert "8. Apa yang paling Saudara sukai" in text
    assert text.count('type="radio" name="l0"') == 5 and "Sangat Baik" in text
    action = live_tool.url(re.search(r'action="(/c/\d+/evaluasi/\d+)"', text).group(1))

    # missing answers are refused and nothing typed is lost
    partial = {"l0": "5", "o0": "Materinya relevan"}
    refused = siti.post(action, data=partial)
    assert refused.status_code == 400 and "Tidak ada yang hilang" in refused.text
    assert re.search(r'name="l0" value="5" checked', refused.text)
    assert ">Materinya relevan</textarea>" in refused.text

    assert siti.post(action, data=_full([5, 4, 5, 3, 4, 5, 4])).status_code == 200
    budi_page = _open(live_tool, lms, budi, ["Learner"], "budi")
    budi.post(
        live_tool.url(re.search(r'action="(/c/\d+/evaluasi/\d+)"', budi_page.text).group(1)),
        data=_full([3, 2, 3, 3, 3, 4, 2], texts=("Materi", "Akses internet", "Berbagi di KKG")),
    )

    recap = _open(live_tool, lms, pengampu, ["Instructor"], "pengampu-1").text
    assert "2 dari 2 peserta menjawab" in recap
    # relevance: items 1 and 6 -> 5, 5, 3, 4 -> mean 4.25 -> (4.25 - 1) / 4 x 100 = 81.3
    assert "Indeks relevansi: <strong>81.3</strong>" in recap
    # effectiveness: items 2-5 -> 4,5,3,4, 2,3,3,3 -> mean 3.375 -> 59.4 (half-up of 59.375)
    assert "Indeks efektivitas: <strong>59.4</strong>" in recap
    assert "<li>Akses internet</li>" in recap and "<li>Jadwal lebih longgar</li>" in recap


def test_index_formula():
    assert index_of([]) is None
    assert index_of([5, 5]) == Decimal("100.0")
    assert index_of([1]) == Decimal("0.0")
    assert index_of([3]) == Decimal("50.0")
    assert index_of([4, 4, 4, 3]) == Decimal("68.8")  # (3.75 - 1) / 4 = 0.6875 -> 68.75 -> 68.8
