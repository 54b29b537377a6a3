"""Mentor and pengampu reports (Lampiran 4 and 5): pre-filled from the tool's data,
saved as drafts, frozen on submission, read by the right roles, printable."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import StaffReport
from tests.conftest import make_browser, open_a_form
from tests.test_meetings import _launch, _setup


def test_mentor_report_from_draft_to_submitted(live_tool, lms):
    admin, mentor, siti, pertemuan, ids, rid = _setup(live_tool, lms)
    # a recorded TM fills the meeting table
    mentor.get(pertemuan + f"/tm-1?rombel={rid}")  # the form, as a browser opens it
    mentor.post(
        pertemuan + f"/tm-1?rombel={rid}",
        data={
            "held_on": "2026-07-14",
            "time": "08:30",
            "place": "SMPN 1 Denpasar",
            "resume": "Orientasi",
            f"hadir-{ids['siti']}": "hadir",
            f"hadir-{ids['budi']}": "alpa",
        },
    )
    laporan = pertemuan.replace("/pertemuan", "/laporan")
    listing = mentor.get(laporan)
    assert "Laporan baru" in listing.text
    r = mentor.post(laporan, data={"rombel_id": rid, "week": "1"})
    assert "Laporan mentor" in r.text and "Rombel A" in r.text
    report_url = r.url
    # pre-filled: the TM with 1 present, and the rombel's two peserta
    row = re.search(r"<tr><td>1</td>(.*?)</tr>", r.text, re.S)
    assert row, r.text[-3000:]
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    expected = ["TM-1: Orientasi di Pusat Belajar", "1", "2026-07-14 08:30, SMPN 1 Denpasar"]
    assert cells == [*expected, "Resume: Orientasi"], cells
    assert "Siti" in r.text and "Budi" in r.text
    # submitting needs the three parts; what was typed is kept
    refused = mentor.post(report_url, data={"constraints": "Sinyal lemah", "submit": "1"})
    assert refused.status_code == 400 and "Tidak ada yang hilang" in refused.text
    assert "Sinyal lemah</textarea>" in refused.text
    draft = mentor.post(
        report_url, data={"constraints": "Sinyal lemah", "lessons": "", "save": "1"}
    )
    assert "Tersimpan." in draft.text
    done = mentor.post(
        report_url,
        data={
            "constraints": "Sinyal lemah",
            "lessons": "Belajar berkelompok membantu",
            "recommendations": "Jadwal TM di sore hari",
            "submit": "1",
        },
    )
    assert "Dikirim" in done.text and "<textarea" not in done.text and "window.print()" in done.text
    with get_db(live_tool.app).sessionmaker() as db:
        (report,) = db.scalars(select(StaffReport))
        assert report.snapshot["meetings"][0]["present"] == 1
    # frozen: a later meeting does not change the submitted report
    admin.post(
        pertemuan + "/web-new",
        data={
            "title": "WC sesi 2",
            "held_on": "2026-07-28",
            f"hadir-{ids['siti']}": "hadir",
            f"hadir-{ids['budi']}": "hadir",
        },
    )
    assert "WC sesi 2" not in mentor.get(report_url).text
    assert mentor.post(report_url, data={"constraints": "x", "save": "1"}).status_code == 403
    # the pengampu and admin read it; a peserta cannot
    assert "Jadwal TM di sore hari" in admin.get(report_url).text
    open_a_form(siti, live_tool, laporan.split("/module/")[0].replace(live_tool.base_url, ""))
    assert siti.get(laporan).status_code == 403
    assert siti.get(report_url).status_code == 404


def test_pengampu_report_covers_the_whole_class(live_tool, lms):
    _admin, _mentor, _siti, pertemuan, _ids, _rid = _setup(live_tool, lms)
    pengampu = make_browser()
    _launch(live_tool, lms, pengampu, ["Instructor"], "pengampu-1")
    laporan = pertemuan.replace("/pertemuan", "/laporan")
    pengampu.get(laporan)
    r = pengampu.post(laporan, data={"week": "6"})
    assert "Laporan pengampu" in r.text and "Minggu ke-6" in r.text
    assert "Siti" in r.text and "Budi" in r.text
    assert pengampu.post(laporan, data={"week": "0"}).url.endswith("error=week")
    other_mentor = make_browser()
    _launch(live_tool, lms, other_mentor, ["Mentor"], "mentor-2")
    # a mentor without the report's rombel cannot read the pengampu's report
    assert other_mentor.get(r.url).status_code == 404
