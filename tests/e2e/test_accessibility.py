"""Accessibility in real Chromium inside the LMS iframe, beyond axe-core (which runs on
every page of every E2E path, frame.py): the smiley and evaluation scales are named for
screen readers (Chromium's computed accessible names) and the survey can be completed
with the keyboard alone; Tab reaches every control of the test attempt and the task
upload page in DOM order, with a visible focus ring; the test's countdown submits the
attempt when time is up; a materi video loads its player only on a click."""

from __future__ import annotations

from datetime import timedelta

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from lti_tool.db import get_db, utcnow
from tests.e2e import harness

pytestmark = pytest.mark.e2e

MODULE = "/course/gp-pedagogik-a"

# The controls Tab stops at, in DOM order: a radio group is one stop (its checked radio,
# else its first), as in every browser.
_TAB_STOPS = """
var all = Array.from(document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]'));
var stops = all.filter(function (e) {
  if (e.disabled || e.tabIndex < 0 || !e.getClientRects().length) return false;
  var s = getComputedStyle(e);
  return s.visibility !== 'hidden' && s.display !== 'none';
});
return stops.filter(function (e) {
  if (e.type !== 'radio') return true;
  var group = stops.filter(function (r) {
    return r.type === 'radio' && r.name === e.name && r.form === e.form;
  });
  return e === (group.find(function (r) { return r.checked; }) || group[0]);
});
"""
# Why the focused element's focus cannot be seen, or '' (a visually hidden input, such
# as a smiley face's radio, shows its ring on its label).
_FOCUS_SHOWN = """
var e = document.activeElement;
function ring(x) {
  var s = getComputedStyle(x);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none';
}
var r = e.getBoundingClientRect(), hidden = getComputedStyle(e).opacity === '0' || r.width <= 1;
var shown = hidden ? e.closest('label') : e;
if (!e.matches(':focus-visible')) return 'not :focus-visible';
return shown && ring(shown) ? '' : 'no focus ring on ' + (shown || e).outerHTML.slice(0, 80);
"""


def _db(tool):
    return get_db(tool.app).sessionmaker()


def _keys(b, *keys: str) -> None:
    ActionChains(b.driver).send_keys(*keys).perform()


def _describe(el) -> str:
    return (el.get_attribute("outerHTML") or "")[:100]


def _tab_to(b, wanted, limit: int = 60):
    """Press Tab until `wanted(active element)` holds; the element."""
    for _ in range(limit):
        _keys(b, Keys.TAB)
        active = b.driver.switch_to.active_element
        if wanted(active):
            return active
    raise AssertionError("Tab never reached the control")


def _check_tab_order(b, page: str) -> int:
    """From the top of the page, Tab goes through every control in DOM order and each
    shows its focus; the number of stops."""
    stops = b.js(_TAB_STOPS)
    assert stops, f"{page}: no controls"
    assert not b.js(
        "return Array.from(document.querySelectorAll('[tabindex]'))"
        ".some(function (e) { return e.tabIndex > 0; });"
    ), f"{page}: a positive tabindex changes the order"
    b.find("header.bar .brand").click()  # the sequential focus starting point: the top
    problems = []
    for n, expected in enumerate(stops):
        _keys(b, Keys.TAB)
        active = b.driver.switch_to.active_element
        if active != expected:
            problems.append(f"stop {n}: focus on {_describe(active)}, not {_describe(expected)}")
            break
        if why := b.js(_FOCUS_SHOWN):
            problems.append(f"stop {n} {_describe(active)}: {why}")
    assert not problems, f"{page}: {problems}"
    return len(stops)


@pytest.mark.parametrize("locale", ["id", "en"])
def test_scales_are_named_and_the_smiley_survey_works_by_keyboard(lms_browser, locale):
    from lti_tool.models import User
    from plugins.smiley.models import SmileyResponse

    b = lms_browser
    b.lang = locale
    sub = f"guru-a11y-{locale}"
    b.open_course(
        "smiley survey",
        roles=["Learner"],
        user={"sub": sub, "name": "Guru Tunanetra"},
        context={"id": f"kelas-a11y-{locale}", "title": "Kelas A11y"},
        target_link_uri=b.tool.url(f"{MODULE}/sesi-2/reaksi"),
        locale=f"{locale}-ID" if locale == "id" else "en-US",
    )
    groups = b.finds(".smiley fieldset.faces")
    assert groups
    unnamed = []
    for group in groups:
        legend = group.find_element("css selector", "legend").text.strip()
        if (group.aria_role, group.accessible_name) != ("group", legend) or not legend:
            unnamed.append(f"group {legend!r}: {group.aria_role} {group.accessible_name!r}")
        for n, radio in enumerate(group.find_elements("css selector", "input[type=radio]"), 1):
            name = radio.accessible_name.strip()
            # "1 — Very dissatisfied" ... "5 — Very satisfied": the face is hidden
            if radio.aria_role != "radio" or not name.startswith(f"{n} — ") or len(name) < 6:
                unnamed.append(f"{legend!r} face {n}: {radio.aria_role} {name!r}")
    assert not unnamed, unnamed
    assert len(b.finds(".smiley label.face svg[aria-hidden=true]")) == 5 * len(groups)

    # keyboard only: Tab into each statement, Space picks face 1, arrows move to 5
    b.find(".smiley h2").click()
    for g, group in enumerate(groups):
        radios = group.find_elements("css selector", "input[type=radio]")
        _tab_to(b, lambda el, first=radios[0]: el == first)
        assert not b.js(_FOCUS_SHOWN), b.js(_FOCUS_SHOWN)
        _keys(b, Keys.SPACE)
        assert radios[0].is_selected(), f"statement {g}: Space did not pick face 1"
        _keys(b, *[Keys.ARROW_RIGHT] * 4)
        assert radios[4].is_selected() and b.driver.switch_to.active_element == radios[4]
    send = b.find(".smiley form button[type=submit]")
    _tab_to(b, lambda el: el == send)
    assert not b.js(_FOCUS_SHOWN), b.js(_FOCUS_SHOWN)
    b.act("smiley sent by keyboard", lambda: _keys(b, Keys.ENTER))
    assert b.finds(".smiley p.ok")
    with _db(b.tool) as db:
        uid = db.scalars(select(User.id).where(User.sub == sub)).one()
        row = db.scalars(select(SmileyResponse).where(SmileyResponse.user_id == uid)).one()
        assert set(row.answers.values()) == {5} and len(row.answers) == len(groups)

    # the programme evaluation's scale (Very good ... Very poor) is named the same way
    b.visit(b.path().replace("/sesi-2/reaksi", "/penutup/evaluasi"), "evaluation")
    scales = b.finds("fieldset.scale")
    assert scales
    for group in scales:
        legend = group.find_element("css selector", "legend").text.strip()
        assert group.accessible_name == legend and legend
        names = [r.accessible_name.strip() for r in group.find_elements("css selector", "input")]
        assert len(names) == 5 and all(names) and len(set(names)) == 5, (legend, names)


def test_tab_reaches_every_control_in_order_and_time_up_submits(lms_browser, tmp_path):
    from lti_tool.models import User
    from plugins.quiz.models import QuizAttempt
    from plugins.tugas.models import TugasSubmission

    b = lms_browser
    b.lang = "en"
    sub = "guru-keyboard"
    b.open_course(
        "task",
        roles=["Learner"],
        user={"sub": sub, "name": "Guru Keyboard"},
        context={"id": "kelas-keyboard", "title": "Kelas Keyboard"},
        target_link_uri=b.tool.url(f"{MODULE}/sesi-1/tugas"),
        locale="en-US",
    )
    # the task page: choose the file with the keyboard's focus on the file input, then
    # Enter on the focused upload button
    _check_tab_order(b, "task upload")
    work = tmp_path / "lembar-kerja.txt"
    work.write_text("Hasil lembar kerja.\n")
    b.find("main h1").click()
    picker = _tab_to(b, lambda el: el.get_attribute("type") == "file")
    picker.send_keys(str(work))
    _tab_to(b, lambda el: el.tag_name == "button" and el.get_attribute("type") == "submit")
    b.act("task uploaded by keyboard", lambda: _keys(b, Keys.ENTER))
    assert work.name in b.text()
    with _db(b.tool) as db:
        uid = db.scalars(select(User.id).where(User.sub == sub)).one()
        assert db.scalars(select(TugasSubmission).where(TugasSubmission.user_id == uid)).all()

    # the test attempt: every question's controls, then the two buttons
    b.visit(b.path().replace("/sesi-1/tugas", "/penutup/tes-akhir"), "test intro")
    b.submit(".quiz form button[type=submit]", "test attempt")
    attempt_url = b.path()
    stops = _check_tab_order(b, "test attempt")
    assert stops >= len(b.finds("fieldset.question")) + 2

    # time is up: the countdown submits the page (its answers, no confirm), before the
    # server would finish the attempt itself ("timeout", after a 30 s grace)
    with _db(b.tool) as db:
        attempt = db.scalars(select(QuizAttempt).where(QuizAttempt.user_id == uid)).one()
        attempt.deadline = utcnow() + timedelta(seconds=6)
        db.commit()
    b.visit(attempt_url, "test attempt, 6 s left")
    first = b.finds("form.quiz-attempt fieldset.question input[type=radio]")[0]
    name, value = first.get_attribute("name"), first.get_attribute("value")
    b.driver.execute_script("arguments[0].click();", first)
    b.act("test submitted by the countdown", lambda: None)
    with _db(b.tool) as db:
        done = db.get(QuizAttempt, attempt.id)
        assert (done.state, done.finished_by) == ("finished", "submitted")
        assert str(done.answers.get(name.removeprefix("s"))).lower() == value.lower()
    assert not [
        e
        for e in b.driver.get_log("browser")
        if e["level"] == "SEVERE" and "quiz.js" in e["message"]
    ]


def test_a_video_player_loads_only_when_asked_for(lms_browser):
    b = lms_browser
    b.lang = "en"
    b.open_course(
        "materi with a video",
        roles=["Learner"],
        user={"sub": "guru-video", "name": "Guru Video"},
        target_link_uri=b.tool.url(f"{MODULE}/pendahuluan/kebijakan"),
        locale="en-US",
    )
    assert not b.finds("iframe")
    play = b.find("a.video-play")
    assert play.get_attribute("href") == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    title = play.find_element("xpath", "ancestor::section//h2").text
    assert play.accessible_name.endswith(title) and play.get_attribute("data-title") == title
    b.find("main h1").click()
    _tab_to(b, lambda el: el == play)
    _keys(b, Keys.ENTER)
    player = harness.wait_until(lambda: b.finds(".video iframe"), 5, "the player")[0]
    assert player.get_attribute("src").startswith(
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"
    )
    assert player.get_attribute("title") and len(b.driver.window_handles) == 1


def _tool_links(b, ctx_prefix: str) -> list[str]:
    """The page's links to other pages of the course (no downloads, no fragments)."""
    return b.js(
        "var prefix = arguments[0];"
        "return Array.from(document.querySelectorAll('main a[href]')).filter(function (a) {"
        "  return a.origin === location.origin && a.pathname.indexOf(prefix) === 0"
        "    && !a.hasAttribute('download') && a.target !== '_blank'"
        "    && !/(export|download|xlsx|csv|pdf|file|print)/i.test(a.pathname + a.search);"
        "}).map(function (a) { return a.origin + a.pathname + a.search; });",
        ctx_prefix,
    )


def test_every_staff_page_a_pengampu_reaches_passes_axe(lms_browser):
    """axe-core on the staff side too: every page a pengampu reaches by links from the
    module page, two clicks deep (each page is checked as it loads)."""
    b = lms_browser
    b.lang = "en"
    b.open_course(
        "module (pengampu)",
        roles=["Instructor"],
        user={"sub": "pengampu-a11y", "name": "Pengampu A11y"},
        context={"id": "kelas-staff-a11y", "title": "Kelas Staf"},
        target_link_uri=b.tool.url(MODULE),
        locale="en-US",
    )
    prefix = "/".join(b.path().split("/")[:3]) + "/"  # /c/<ctx>/
    seen = {b.js("return location.origin + location.pathname;")}
    frontier = _tool_links(b, prefix)
    for _depth in range(2):
        found: list[str] = []
        for url in frontier:
            page = url.split("?")[0]
            if page in seen:
                continue
            seen.add(page)
            b.visit(url, page.removeprefix(b.tool.base_url))
            found += _tool_links(b, prefix)
        frontier = found
    harness.write_weights(b.test_name, b.loads)  # the staff pages' weights, for the team
    assert len(seen) > 30, sorted(seen)  # the activities, overview, reports, biodata ...
