"""A quiz through real LTI launches: start, autosave, resume, submit, review, the
score reported to grading/, and every refusal (time up, tampered ids, double submit,
too many attempts, closed)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from grading.report import scores_in
from lti_tool.db import session, utcnow
from lti_tool.models import ActivityCompletion, CourseInstance
from lti_tool.services import scores
from plugins.quiz.models import QuizAttempt
from plugins.quiz.tests.helpers import (
    attempt_id,
    ctx_of,
    form_for,
    load_attempt,
    open_quiz,
    start,
)
from tests.conftest import make_browser

AUTOSAVE = {"X-Requested-With": "fetch"}


def test_peserta_takes_the_test_with_autosave_resume_and_review(live_tool, lms, browser):
    app = live_tool.app
    page = open_quiz(live_tool, lms, browser)
    assert "Mulai tes" in page.text or "Start the test" in page.text
    begun = start(live_tool, browser, page.text)
    assert begun.status_code == 200
    aid = attempt_id(begun.url)
    ctx = ctx_of(begun.url)
    attempt = load_attempt(app, aid)
    assert len(attempt.slots) == 6 and attempt.deadline is not None  # 10-minute limit
    # every question of the bank appears, each as a field
    for n in range(6):
        assert f'name="s{n}' in begun.text

    # autosave half the answers: JSON back, stored at once
    answers = form_for(attempt)
    first_half = {k: v for k, v in answers.items() if int(k[1:].split("-")[0]) < 3}
    saved = browser.post(
        live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/save"), data=first_half, headers=AUTOSAVE
    )
    assert saved.status_code == 200 and "saved_at" in saved.json()
    stored = load_attempt(app, aid).answers
    assert set(stored) == {"0", "1", "2"}

    # the connection drops; later the peserta launches again (a new browser session)
    with make_browser() as again:
        page = open_quiz(live_tool, lms, again)
        assert "Lanjutkan" in page.text or "Continue" in page.text
        resumed = start(live_tool, again, page.text)
        assert attempt_id(resumed.url) == aid  # the same attempt, not a new one
        for key, value in first_half.items():  # every saved answer is on the page again
            for v in value if isinstance(value, list) else [value]:
                if "-" in key:
                    assert re.search(
                        rf'name="{key}">(?:(?!</select>).)*?value="{v}" selected',
                        resumed.text,
                        re.S,
                    )
                elif re.search(rf'type="(radio|checkbox)" name="{key}"', resumed.text):
                    assert f'name="{key}" value="{v}" checked' in resumed.text
                else:
                    assert (
                        f'name="{key}" maxlength' in resumed.text and f'value="{v}"' in resumed.text
                    )
        # submitting the whole form finishes and grades it
        done = again.post(live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/submit"), data=answers)
        assert done.status_code == 200
        assert "100.00" in done.text

    with app.app_context():
        db = session()
        att = db.get(QuizAttempt, aid)
        assert att.state == "finished" and att.finished_by == "submitted"
        assert Decimal(att.percent) == Decimal("100.00")
        (score,) = scores_in(db, ctx).values()
        assert (score.score, score.max_score, score.source) == ("100.00", "100", "quiz")
        states = {c.state for c in db.scalars(select(ActivityCompletion))}
        assert "passed" in states  # pass mark 70 reached
        inst = db.scalars(select(CourseInstance)).one()
        result = scores.finals(db, inst, [att.user_id])[att.user_id]
        assert result.components["TA"] == Decimal("100.00")


def test_partial_credit_reaches_the_grade(live_tool, lms, browser):
    app = live_tool.app
    page = open_quiz(live_tool, lms, browser)
    begun = start(live_tool, browser, page.text)
    aid, ctx = attempt_id(begun.url), ctx_of(begun.url)
    attempt = load_attempt(app, aid)
    kinds = [s["snap"]["qtype"] for s in attempt.slots]
    right = {kinds.index("truefalse"), kinds.index("numerical"), kinds.index("matching")}
    browser.post(
        live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/submit"), data=form_for(attempt, right)
    )
    att = load_attempt(app, aid)
    assert att.percent == "50.00"  # 3 of 6 equally weighted questions right
    with app.app_context():
        (score,) = scores_in(session(), ctx).values()
        assert score.score == "50.00"


def test_time_limit_is_enforced_on_the_server(live_tool, lms, browser):
    app = live_tool.app
    page = open_quiz(live_tool, lms, browser)
    begun = start(live_tool, browser, page.text)
    aid, ctx = attempt_id(begun.url), ctx_of(begun.url)
    attempt = load_attempt(app, aid)
    answers = form_for(attempt)
    one = {k: v for k, v in answers.items() if k.startswith("s0")}
    assert browser.post(
        live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/save"), data=one, headers=AUTOSAVE
    ).ok
    with app.app_context():
        db = session()
        db.get(QuizAttempt, aid).deadline = utcnow() - timedelta(minutes=2)
        db.commit()
    late = browser.post(
        live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/save"), data=answers, headers=AUTOSAVE
    )
    assert late.status_code == 409
    assert late.json()["error"] == "time_up" and late.json()["state"] == "finished"
    att = load_attempt(app, aid)
    assert att.state == "finished" and att.finished_by == "timeout"
    assert set(att.answers) == {"0"}  # what was saved in time is kept, the late rest is not
    assert Decimal(att.percent) == Decimal("16.67")
    # a late submit without script gets the review with the message, nothing changes
    late_submit = browser.post(live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/submit"), data=answers)
    assert late_submit.status_code == 200 and "16.67" in late_submit.text
    assert load_attempt(app, aid).answers == att.answers


def test_tampered_fields_are_refused_and_saved_answers_kept(live_tool, lms, browser):
    app = live_tool.app
    page = open_quiz(live_tool, lms, browser)
    begun = start(live_tool, browser, page.text)
    aid, ctx = attempt_id(begun.url), ctx_of(begun.url)
    attempt = load_attempt(app, aid)
    good = {k: v for k, v in form_for(attempt).items() if k.startswith("s1")}
    url = live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/save")
    assert browser.post(url, data=good, headers=AUTOSAVE).ok
    before = load_attempt(app, aid).answers
    mc = next(n for n, s in enumerate(attempt.slots) if s["snap"]["qtype"] == "multichoice")
    for bad in ({"s99": "0"}, {f"s{mc}": "9"}, {f"s{mc}-1": "0"}, {"sx": "1"}):
        refused = browser.post(url, data={**good, **bad}, headers=AUTOSAVE)
        assert refused.status_code == 400, bad
        assert refused.json()["error"] == "tampered"
        assert load_attempt(app, aid).answers == before
    # without script: back to the attempt page with the message, answers still there
    page = browser.post(url, data={**good, "s99": "0"})
    assert page.status_code == 200 and "s1" in page.text
    assert load_attempt(app, aid).answers == before and load_attempt(app, aid).state == "inprogress"


def test_double_submit_changes_nothing(live_tool, lms, browser):
    app = live_tool.app
    page = open_quiz(live_tool, lms, browser)
    begun = start(live_tool, browser, page.text)
    aid, ctx = attempt_id(begun.url), ctx_of(begun.url)
    attempt = load_attempt(app, aid)
    url = live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/submit")
    first = browser.post(url, data=form_for(attempt, right=set()))
    assert first.ok
    done = load_attempt(app, aid)
    second = browser.post(url, data=form_for(attempt))  # all right this time: too late
    assert second.status_code == 200
    after = load_attempt(app, aid)
    assert (after.percent, after.finished_at, after.answers) == (
        done.percent,
        done.finished_at,
        done.answers,
    )
    assert after.percent == "0.00"


def test_attempts_beyond_the_allowed_number_are_refused(live_tool, lms, browser):
    app = live_tool.app
    page = open_quiz(live_tool, lms, browser)
    start_url = re.search(r'action="(/c/\d+/quiz/\d+/start)"', page.text).group(1)
    grades = []
    for n, right in enumerate((set(), None)):
        begun = start(live_tool, browser, page.text)
        aid, ctx = attempt_id(begun.url), ctx_of(begun.url)
        attempt = load_attempt(app, aid)
        assert attempt.number == n + 1
        browser.post(
            live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/submit"), data=form_for(attempt, right)
        )
        grades.append(load_attempt(app, aid).percent)
        page = browser.get(live_tool.url(f"/c/{ctx}/module/gp-pedagogik-a/penutup/tes-akhir"))
    assert grades == ["0.00", "100.00"]
    assert "/start" not in page.text  # no button once every attempt is used
    third = browser.post(live_tool.url(start_url))
    assert third.status_code == 409
    assert "2" in third.text and ("percobaan" in third.text or "attempts" in third.text)
    with app.app_context():
        db = session()
        assert len(db.scalars(select(QuizAttempt)).all()) == 2
        (score,) = scores_in(db, ctx).values()
        assert score.score == "100.00"  # highest of the two


def test_closed_and_not_yet_open_tests_cannot_start(live_tool, lms, browser):
    app = live_tool.app
    page = open_quiz(live_tool, lms, browser)
    with app.app_context():
        db = session()
        inst = db.scalars(select(CourseInstance)).one()
        inst.start_date = date.today() - timedelta(days=70)  # long over
        db.commit()
    refused = start(live_tool, browser, page.text)
    assert refused.status_code == 409
    with app.app_context():
        db = session()
        inst = db.scalars(select(CourseInstance)).one()
        inst.start_date = date.today() + timedelta(days=3)  # the class has not begun
        db.commit()
    refused = start(live_tool, browser, page.text)
    assert refused.status_code == 409
    with app.app_context():
        assert session().scalars(select(QuizAttempt)).all() == []


def test_a_double_click_on_start_makes_one_attempt(live_tool, lms, browser):
    page = open_quiz(live_tool, lms, browser)
    a = start(live_tool, browser, page.text)
    b = start(live_tool, browser, page.text)
    assert attempt_id(a.url) == attempt_id(b.url)


def test_roles_and_ownership(live_tool, lms, browser):
    page = open_quiz(live_tool, lms, browser)
    begun = start(live_tool, browser, page.text)
    aid, ctx = attempt_id(begun.url), ctx_of(begun.url)
    with make_browser() as other:
        open_quiz(live_tool, lms, other, sub="guru2")
        assert other.get(live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}")).status_code == 404
        assert (
            other.post(live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/save"), data={}).status_code
            == 404
        )
        assert other.get(live_tool.url(f"/c/{ctx}/quiz/banks/gp-pedagogik-a")).status_code == 403
    with make_browser() as mentor:
        page = open_quiz(live_tool, lms, mentor, sub="mentor1", roles=("Mentor",))
        assert "quiz/" in page.text and "/start" not in page.text
        assert mentor.get(live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}")).status_code == 200
        assert mentor.get(live_tool.url(f"/c/{ctx}/quiz/banks/gp-pedagogik-a")).status_code == 403


def test_racing_submits_finish_an_attempt_once(live_tool, lms, browser):
    """Double clicks and an autosave racing a submit: graded once, answers as graded."""
    from concurrent.futures import ThreadPoolExecutor

    from lti_tool.models import ActivityScore

    app = live_tool.app
    page = open_quiz(live_tool, lms, browser)
    begun = start(live_tool, browser, page.text)
    aid, ctx = attempt_id(begun.url), ctx_of(begun.url)
    attempt = load_attempt(app, aid)
    right, wrong = form_for(attempt), form_for(attempt, right=set())
    submit = live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/submit")
    save = live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/save")
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(browser.post, submit, data=right) for _ in range(3)]
        futures += [pool.submit(browser.post, save, data=wrong, headers=AUTOSAVE) for _ in range(3)]
        statuses = [f.result().status_code for f in futures]
    assert all(s in (200, 409) for s in statuses), statuses
    att = load_attempt(app, aid)
    assert att.state == "finished"
    # what is stored is what was graded
    from plugins.quiz import engine

    assert engine.grade(att.slots, att.answers).percent == Decimal(att.percent)
    with app.app_context():
        (score,) = session().scalars(select(ActivityScore)).all()
        assert score.version == 1 and score.score == att.percent
