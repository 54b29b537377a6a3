"""A module placed in an LMS course: the pengampu sets its start date, a peserta follows
the weeks (dates, ticks, progress, next activity, due this week, the gate)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import CourseInstance, CourseModule
from lti_tool.services import instances, schedule
from tests.conftest import launch_as, open_a_form

MODULE = "/course/gp-pedagogik-a"


def _open(live_tool, lms, browser, roles, sub, target=MODULE):
    return launch_as(live_tool, lms, browser, roles, sub, target, name=sub)


def _set_start(browser, page, live_tool, start: str, tz: str = "Asia/Jakarta"):
    action = re.search(r'action="([^"]+/dates)"', page.text).group(1)
    return browser.post(live_tool.url(action), data={"start_date": start, "timezone": tz})


def test_pengampu_sets_start_and_peserta_follows_the_weeks(live_tool, lms, browser):
    from tests.conftest import make_browser

    page = _open(live_tool, lms, browser, ["Instructor"], "pengampu-1")
    assert "Tanggal mulai belum ditetapkan" in page.text
    today = schedule.today_in("Asia/Jakarta")
    start = today - timedelta(days=8)  # we are in week 2 (Sesi 1)
    saved = _set_start(browser, page, live_tool, start.isoformat())
    assert saved.status_code == 200 and "Tersimpan." in saved.text

    peserta = make_browser()
    view = _open(live_tool, lms, peserta, ["Learner"], "guru-1").text
    assert "Kemajuan: 0%" in view
    assert "sekarang minggu ke-2" in view
    # the week of Sesi 1 is the current one and shows its dates
    sesi1 = schedule.block_span(start, 2)
    assert 'class="card block current" id="b-sesi-1"' in view
    assert str(sesi1.first.day) in view
    assert "Selanjutnya:" in view
    # opening the first materi ticks it and moves "next"
    first = re.search(r'Selanjutnya: <a href="([^"]+)"', view).group(1)
    assert peserta.get(live_tool.url(first)).status_code == 200
    module_url = first.rsplit("/", 2)[0]  # /c/<ctx>/module/<key>/<block>/<activity>
    view = peserta.get(live_tool.url(module_url)).text
    assert "Kemajuan: " in view and "Kemajuan: 0%" not in view
    assert view.count("✓") == 1
    # the completion gate is reported
    assert "Memenuhi syarat Tes Akhir:" in view and "aktivitas lagi" in view


def test_the_instance_keeps_its_version(live_tool, lms, browser):
    _open(live_tool, lms, browser, ["Instructor"], "p1")
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        pinned = inst.module_id
        old = db.get(CourseModule, pinned)
        newer = CourseModule(
            key=old.key, version="9.9", title="Versi baru", mode=old.mode, definition=old.definition
        )
        db.add(newer)
        db.commit()
        assert instances.newest_module(db, old.key).id == newer.id
    page = _open(live_tool, lms, browser, ["Learner"], "g1")
    assert "versi 1.0" in page.text and "Versi baru" not in page.text


def test_peserta_cannot_change_dates_and_bad_input_is_refused(live_tool, lms, browser):
    from tests.conftest import make_browser

    page = _open(live_tool, lms, browser, ["Instructor"], "p1")
    bad = _set_start(browser, page, live_tool, "13/07/2026")
    assert "Masukkan tanggal mulai sebagai tanggal" in bad.text
    bad_tz = _set_start(browser, page, live_tool, "2026-07-13", tz="Europe/Paris")
    assert "Pilih salah satu zona waktu" in bad_tz.text
    with get_db(live_tool.app).sessionmaker() as db:
        assert db.scalars(select(CourseInstance)).one().start_date is None
    peserta = make_browser()
    view = _open(live_tool, lms, peserta, ["Learner"], "g1")
    assert "/dates" not in view.text
    action = re.search(r'action="([^"]+/dates)"', page.text).group(1)
    open_a_form(peserta, live_tool, action.split("/module/")[0])
    assert peserta.post(live_tool.url(action), data={"start_date": "2026-07-13"}).status_code == 403


def test_started_class_keeps_its_start_date(live_tool, lms, browser):
    page = _open(live_tool, lms, browser, ["Instructor"], "p1")
    assert _set_start(browser, page, live_tool, "2026-07-13").status_code == 200
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        inst.started_at = inst.created_at
        db.commit()
    refused = _set_start(browser, page, live_tool, "2026-07-20")
    assert "Kelas sudah dimulai" in refused.text
    with get_db(live_tool.app).sessionmaker() as db:
        assert db.scalars(select(CourseInstance)).one().start_date == date(2026, 7, 13)


def test_completion_gate_opens_when_every_required_activity_is_done(live_tool, lms, browser):
    """The fixture's gate requires the four session tests (completion rule: graded)."""
    from lti_tool.models import Activity, User
    from lti_tool.services import completion

    _open(live_tool, lms, browser, ["Learner"], "guru-1")
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        user = db.scalars(select(User).where(User.sub == "guru-1")).one()
        tests = db.scalars(select(Activity).where(Activity.key == "tes-sumatif")).all()
        assert len(tests) == 4
        for i, activity in enumerate(tests):
            before = instances.progress(db, inst, user.id)
            assert before.gate_open is False and len(before.gate_missing) == 4 - i
            # "submitted" is not enough for a rule of "graded"
            assert completion.record(db, inst.context_pk, activity, user.id, "submitted") is False
            assert completion.record(db, inst.context_pk, activity, user.id, "graded") is True
        db.commit()
        after = instances.progress(db, inst, user.id)
        assert after.gate_open is True and after.gate_missing == []
    view = browser.get(
        live_tool.url(
            re.search(
                r'history.replaceState\(null, "", "([^"]+)"\)',
                _open(live_tool, lms, browser, ["Learner"], "guru-1").text,
            ).group(1)
        )
    ).text
    assert "Memenuhi syarat Tes Akhir: <strong>ya</strong>" in view
