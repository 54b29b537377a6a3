"""Due-date overrides (class and personal), and issue 3's "done when": a pengampu deep
links a module, sets its start date, and a peserta follows the six weeks."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import Activity, User
from tests.conftest import launch_as, make_browser, open_a_form

MODULE = "/course/gp-pedagogik-a"


def _launch(live_tool, lms, browser, roles, sub, target=MODULE):
    return launch_as(live_tool, lms, browser, roles, sub, target)


def test_due_date_overrides(live_tool, lms):
    pengampu, siti, budi = make_browser(), make_browser(), make_browser()
    page = _launch(live_tool, lms, pengampu, ["Instructor"], "pengampu-1")
    dates = live_tool.url(re.search(r'action="([^"]+/dates)"', page.text).group(1))
    kelas = dates.replace("/dates", "/kelas")
    _launch(live_tool, lms, siti, ["Learner"], "siti")
    _launch(live_tool, lms, budi, ["Learner"], "budi")
    with get_db(live_tool.app).sessionmaker() as db:
        ids = {u.sub: u.id for u in db.scalars(select(User))}
        act = db.scalars(select(Activity).where(Activity.key == "tes-sumatif")).first()
        act_id, act_title = act.id, act.title
    # before a start date there is nothing to move
    refused = pengampu.post(kelas + "/due", data={"activity_id": act_id, "due_date": "2026-08-01"})
    assert "Tetapkan tanggal mulai sebelum memulai kelas." in refused.text
    pengampu.post(dates, data={"start_date": "2026-07-13", "timezone": "Asia/Jakarta"})
    # Sesi 1 (week 2) ends on 2026-07-26 by the template
    assert "26 Jul 2026" in siti.get(live_tool.url(_module_path(page))).text
    r = pengampu.post(kelas + "/due", data={"activity_id": act_id, "due_date": "2026-07-28"})
    assert "Tersimpan." in r.text and "dipindah" in r.text
    r = pengampu.post(
        kelas + "/due",
        data={"activity_id": act_id, "user_id": ids["siti"], "due_date": "2026-07-30"},
    )
    assert "Siti: 30 Jul 2026" in r.text
    siti_view = siti.get(live_tool.url(_module_path(page))).text
    budi_view = budi.get(live_tool.url(_module_path(page))).text
    assert _due_of(siti_view, act_title) == "30 Jul 2026"
    assert _due_of(budi_view, act_title) == "28 Jul 2026"
    # bad input changes nothing
    bad = pengampu.post(kelas + "/due", data={"activity_id": act_id, "due_date": "2026-07-01"})
    assert "tidak boleh sebelum kelas dimulai" in bad.text
    bad = pengampu.post(kelas + "/due", data={"activity_id": act_id, "due_date": "31/07/2026"})
    assert "Masukkan batas waktu sebagai tanggal" in bad.text
    assert _due_of(siti.get(live_tool.url(_module_path(page))).text, act_title) == "30 Jul 2026"
    # clearing the personal override falls back to the class's date
    pengampu.post(
        kelas + "/due", data={"activity_id": act_id, "user_id": ids["siti"], "due_date": ""}
    )
    assert _due_of(siti.get(live_tool.url(_module_path(page))).text, act_title) == "28 Jul 2026"
    # peserta cannot move dates
    open_a_form(siti, live_tool, kelas.split("/module/")[0].replace(live_tool.base_url, ""))
    assert (
        siti.post(kelas + "/due", data={"activity_id": act_id, "due_date": ""}).status_code == 403
    )


def _module_path(page) -> str:
    return re.search(r'history.replaceState\(null, "", "([^"]+)"\)', page.text).group(1)


def _due_of(html: str, title: str) -> str:
    """The due date shown next to the first activity with this title."""
    m = re.search(re.escape(title) + r"</a>.*?batas ([0-9]{1,2} \w{3} [0-9]{4})", html, re.S)
    assert m, title
    return m.group(1)


def test_done_when_deep_link_start_date_and_six_weeks(live_tool, lms):
    pengampu = make_browser()
    result = lms.launch(pengampu, roles=["Instructor"], message_type="LtiDeepLinkingRequest")
    picker = result.final_response
    page = pengampu.post(picker.url, data={"item": ["m:gp-pedagogik-a"]})
    assert lms.submit_deep_link_form(pengampu, page).status_code == 200
    placed = lms.deep_link_responses[0].items[0]
    assert placed["lineItem"]["tag"] == "NA"
    # the pengampu opens the placed link and sets the start date
    module_page = _launch(live_tool, lms, pengampu, ["Instructor"], "pengampu-1", placed["url"])
    dates = re.search(r'action="([^"]+/dates)"', module_page.text).group(1)
    r = pengampu.post(
        live_tool.url(dates), data={"start_date": "2026-07-13", "timezone": "Asia/Makassar"}
    )
    assert "Mulai 13 Juli 2026" in r.text
    # a peserta launching from the same link sees the six weeks with their dates
    peserta = make_browser()
    view = _launch(live_tool, lms, peserta, ["Learner"], "guru-1", placed["url"]).text
    for week in range(1, 7):
        assert f"Minggu ke-{week} ·" in view
    dash = "\u2013"  # the en dash between the first and last day of a week
    assert f"13 Jul 2026 {dash} 19 Jul 2026" in view and f"17 Agu 2026 {dash} 23 Agu 2026" in view
    assert "Kemajuan: 0%" in view
    first = re.search(r'Selanjutnya: <a href="([^"]+)"', view).group(1)
    assert peserta.get(live_tool.url(first)).status_code == 200
    assert "Kemajuan: 0%" not in peserta.get(live_tool.url(_module_path(module_page))).text
