"""A peserta's week in real Chromium, inside the LMS's iframe, in both languages: open
the module and a session, post in the forum, reflect, upload the task, self-assess,
answer the test (autosaved, then submitted) and give the smiley survey. Every page is
checked as it loads (no horizontal scroll at 360 px, its language, under the page
weight budget); the key screens are saved as screenshots.

Twice: with cookies allowed, and with third-party cookies blocked (the LMS offering
its platform storage, as Canvas or Sakai do). Blocked, Chromium still keeps the
tool's cookies, which are Partitioned (CHIPS): the whole path works on them. Safari's
way, refusing those too, is tests/e2e/test_blocked_cookies.py."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lti_tool.db import get_db
from tests.e2e import harness

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize(
        "browser_options",
        [harness.BrowserOptions(), harness.BrowserOptions(block_third_party_cookies=True)],
        indirect=True,
        ids=["cookies", "3p-blocked"],
    ),
]

MODULE = "/course/gp-pedagogik-a"
# one label of the module page per language (lti_tool/translations/id: "Progress")
PROGRESS = {"id": "Kemajuan", "en": "Progress"}
SAVED_AT = re.compile(r"\d{1,2}[:.]\d{2}[:.]\d{2}")


def _db(tool):
    return get_db(tool.app).sessionmaker()


@pytest.mark.parametrize("locale", ["id", "en"])
def test_a_peserta_week_in_the_lms_iframe(lms_browser, browser_options, tmp_path, locale):
    b = lms_browser
    b.lang = locale
    blocked = browser_options.block_third_party_cookies
    run = locale + ("-3p" if blocked else "")  # each run its own user and class
    sub = f"guru-{run}"
    b.open_course(
        "module page",
        roles=["Learner"],
        user={"sub": sub, "name": f"Guru {locale.upper()}"},
        context={"id": f"kelas-{run}", "title": f"Kelas PPG {locale}"},
        target_link_uri=b.tool.url(MODULE),
        locale=f"{locale}-ID" if locale == "id" else "en-US",
        storage_target="_parent" if blocked else None,
    )
    assert PROGRESS[locale] in b.text()
    assert not b.finds("#cookies-notice")  # the session cookie was kept
    b.shoot("module")
    module_url = b.path()  # /c/<ctx>/module/gp-pedagogik-a

    # open the session: its introduction
    b.click(f"#b-sesi-1 a[href$='{module_url}/sesi-1/pengantar']", "session introduction")
    assert "Pengantar Sesi" in b.text()

    # the forum: start a thread
    b.visit(f"{module_url}/sesi-1/forum", "forum")
    b.fill("#new-title", f"Peserta didik yang menantang ({locale})")
    b.fill("#new-body", "Seorang siswa sering diam di kelas; saya mengajaknya bekerja berpasangan.")
    b.submit("form.forum-form button[type=submit]", "forum thread")
    assert "saya mengajaknya bekerja berpasangan" in b.text()
    b.shoot("forum")

    # the reflection: every prompt answered, then submitted
    b.visit(f"{module_url}/sesi-1/refleksi", "reflection")
    for area in b.finds(".refleksi-form textarea"):
        area.send_keys("Saya belajar mengenali karakteristik peserta didik dan akan mencobanya.")
    b.submit(".refleksi-form button[value=submit]", "reflection submitted")
    assert b.finds(".refleksi .state-submitted")
    b.shoot("reflection")

    # the task: upload a file
    task = tmp_path / f"lembar-kerja-{locale}.txt"
    task.write_text("Hasil lembar kerja: enam aspek karakteristik peserta didik.\n")
    b.visit(f"{module_url}/sesi-1/tugas", "task")
    b.find("#tugas-file").send_keys(str(task))
    b.submit("form:has(#tugas-file) button[type=submit]", "task uploaded")
    assert task.name in b.text()
    b.shoot("upload")

    # the self-assessment of that task with the rubric
    b.visit(f"{module_url}/sesi-1/penilaian-diri", "self-assessment")
    assert task.name in b.text()  # the deliverable it assesses
    for criterion in b.finds("fieldset.criterion"):
        criterion.find_element("css selector", "label.level").click()
    b.submit(".penilaian form button[type=submit]", "self-assessment saved")
    assert b.finds(".penilaian p.ok") and b.finds(".penilaian p.score")
    b.shoot("self-assessment")

    # the test: answers are saved as they are given, then submitted
    b.visit(f"{module_url}/penutup/tes-akhir", "test intro")
    b.submit(".quiz form button[type=submit]", "test attempt")
    attempt_url = b.path()
    first = b.finds("form.quiz-attempt fieldset.question input[type=radio]")[0]
    name, value = first.get_attribute("name"), first.get_attribute("value")
    b.js("document.querySelector('.quiz-saved').textContent = '';")
    b.driver.execute_script("arguments[0].click();", first)
    harness.wait_until(
        lambda: SAVED_AT.search(b.find(".quiz-saved").text), 10, "the autosave message"
    )
    with _db(b.tool) as db:
        from lti_tool.models import User
        from plugins.quiz.models import QuizAttempt

        uid = db.scalars(select(User.id).where(User.sub == sub)).one()
        attempt = db.scalars(select(QuizAttempt).where(QuizAttempt.user_id == uid)).one()
        assert attempt.state == "inprogress" and attempt.answers  # saved by the page's fetch
    b.shoot("quiz-attempt")
    b.visit(attempt_url, "test attempt reopened")  # as after a dropped connection
    assert b.find(f"input[name='{name}'][value='{value}']").is_selected()
    b.submit("form.quiz-attempt button[name=submit]", "test submitted", confirm=True)
    with _db(b.tool) as db:
        assert db.get(QuizAttempt, attempt.id).state == "finished"

    # the smiley survey at the end of session 2
    b.visit(f"{module_url}/sesi-2/reaksi", "smiley survey")
    for item in b.finds("fieldset.faces"):
        item.find_elements("css selector", "label.face")[-1].click()
    b.submit(".smiley form button[type=submit]", "smiley saved")
    assert b.finds(".smiley p.ok")
    b.shoot("smiley")

    # back on the module page: the work shows as progress
    b.visit(module_url, "module page again")
    assert int(b.find("progress").get_attribute("value")) > 0
    if blocked:  # the path ran on partitioned cookies only, keyed to the LMS's site
        cookies = b.driver.execute_cdp_cmd("Storage.getCookies", {})["cookies"]
        tool = [c for c in cookies if c["domain"] == "localhost"]
        assert tool and all(c.get("partitionKey") for c in tool), tool

    report = harness.write_weights(b.test_name, b.loads)
    heavy = [
        f"{load.name}: {load.total} B" for load in b.loads if load.total > harness.BUDGET_BYTES
    ]
    assert not heavy, f"pages over {harness.BUDGET_BYTES} B (see {report}): {heavy}"
