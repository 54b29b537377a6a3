"""The learning plan (rencana belajar): drafts, refused submissions that lose nothing,
completion on submit, staff reading the class's plans."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import ActivityCompletion
from plugins.rencana.models import RencanaPlan
from tests.conftest import launch_as, make_browser

TARGET = "/course/gp-pedagogik-a/pendahuluan/rencana-belajar"


def _open(live_tool, lms, browser, roles, sub):
    return launch_as(live_tool, lms, browser, roles, sub, TARGET)


def _rows(live_tool, model):
    with get_db(live_tool.app).sessionmaker() as db:
        return list(db.scalars(select(model)))


def test_draft_refusal_and_submit(live_tool, lms, browser):
    page = _open(live_tool, lms, browser, ["Learner"], "siti")
    assert "Rencana belajar saya" in page.text
    action = live_tool.url(re.search(r'action="(/c/\d+/rencana/\d+)"', page.text).group(1))
    # opening does not complete it
    assert _rows(live_tool, ActivityCompletion) == []

    draft = browser.post(action, data={"week-0": "Membaca kebijakan PKB", "save": "1"})
    assert draft.status_code == 200 and "Draf tersimpan." in draft.text
    assert "Membaca kebijakan PKB" in draft.text
    assert _rows(live_tool, ActivityCompletion) == []

    # submitting with empty weeks is refused; what was typed comes back, nothing stored changes
    before = [(p.entries, p.submitted_at) for p in _rows(live_tool, RencanaPlan)]
    refused = browser.post(
        action, data={"week-0": "Membaca kebijakan PKB", "week-1": "Teori baru", "submit": "1"}
    )
    assert refused.status_code == 400
    assert "Tidak ada yang hilang" in refused.text
    assert re.search(
        r'<textarea id="week-1" name="week-1"[^>]*>Teori baru</textarea>', refused.text
    )
    assert "Isi minggu ini sebelum mengirim." in refused.text
    assert [(p.entries, p.submitted_at) for p in _rows(live_tool, RencanaPlan)] == before
    too_long = browser.post(action, data={"week-0": "x" * 301, "save": "1"})
    assert too_long.status_code == 400 and "Paling banyak 300 karakter." in too_long.text

    full = {f"week-{i}": f"Rencana minggu {i + 1}" for i in range(6)}
    done = browser.post(action, data={**full, "submit": "1"})
    assert "Rencana Anda telah dikirim" in done.text
    (plan,) = _rows(live_tool, RencanaPlan)
    assert plan.submitted_at is not None and plan.entries["5"] == "Rencana minggu 6"
    (row,) = _rows(live_tool, ActivityCompletion)
    assert row.state == "submitted" and row.completed_at is not None


def test_staff_read_plans_and_cannot_post(live_tool, lms):
    siti = make_browser()
    page = _open(live_tool, lms, siti, ["Learner"], "siti")
    action = live_tool.url(re.search(r'action="(/c/\d+/rencana/\d+)"', page.text).group(1))
    siti.post(action, data={"week-0": "Belajar pedagogik", "save": "1"})
    pengampu = make_browser()
    view = _open(live_tool, lms, pengampu, ["Instructor"], "pengampu-1")
    assert "Rencana belajar kelas" in view.text
    assert "Siti · draf" in view.text and "Belajar pedagogik" in view.text
    # a page of the pengampu with a form (the class settings), then the refused POST
    pengampu.get(
        live_tool.url(
            action.split("/rencana/")[0].replace(live_tool.base_url, "") + "/module/gp-pedagogik-a"
        )
    )
    assert pengampu.post(action, data={"week-0": "x", "save": "1"}).status_code == 403
