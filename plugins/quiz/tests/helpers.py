"""Driving a quiz through real launches: find the forms, answer right or wrong."""

from __future__ import annotations

import re
from decimal import Decimal

from lti_tool.db import session
from plugins.quiz.models import QuizAttempt
from plugins.quiz.questions import Question
from tests.conftest import launch_as

TES_AKHIR = "/course/gp-pedagogik-a/penutup/tes-akhir"


def start_url(page_text: str) -> str:
    return re.search(r'action="(/c/\d+/quiz/\d+/start)"', page_text).group(1)


def attempt_id(url: str) -> int:
    return int(re.search(r"/quiz/attempt/(\d+)", url).group(1))


def ctx_of(url_or_text: str) -> int:
    return int(re.search(r"/c/(\d+)/", url_or_text).group(1))


def open_quiz(live_tool, lms, browser, sub="guru1", roles=("Learner",)):
    page = launch_as(live_tool, lms, browser, list(roles), sub, TES_AKHIR)
    assert page.status_code == 200
    return page


def start(live_tool, browser, page_text: str):
    return browser.post(live_tool.url(start_url(page_text)))


def load_attempt(app, aid: int) -> QuizAttempt:
    with app.app_context():
        row = session().get(QuizAttempt, aid)
        session().expunge(row)
        return row


def right_answer(slot: dict) -> dict[str, str | list[str]]:
    """The form fields that answer a slot fully right."""
    q = Question.from_dict(slot["snap"])
    n = None  # filled by caller
    if q.qtype == "multichoice":
        best = max(range(len(q.answers)), key=lambda i: q.answers[i].fraction)
        return {n: str(best)}
    if q.qtype == "multiresponse":
        return {n: [str(i) for i, a in enumerate(q.answers) if a.fraction > 0]}
    if q.qtype == "truefalse":
        return {n: max(q.answers, key=lambda a: a.fraction).text}
    if q.qtype in ("shortanswer", "numerical"):
        return {n: max(q.answers, key=lambda a: a.fraction).text}
    if q.qtype == "matching":
        return {
            f"-{i}": str(slot["choices"].index(p.answer))
            for i, p in enumerate(q.pairs)
            if p.question
        }
    raise AssertionError(q.qtype)


def form_for(attempt: QuizAttempt, right: set[int] | None = None) -> dict:
    """Answers for every slot: right for those in `right` (all when None), else a
    wrong or empty answer."""
    data: dict = {}
    for n, slot in enumerate(attempt.slots):
        if right is not None and n not in right:
            q = Question.from_dict(slot["snap"])
            if q.qtype == "multichoice":
                worst = min(range(len(q.answers)), key=lambda i: q.answers[i].fraction)
                data[f"s{n}"] = str(worst)
            continue
        for key, value in right_answer(slot).items():
            data[f"s{n}" if key is None else f"s{n}{key}"] = value
    return data


def percent(value) -> Decimal:
    return Decimal(str(value))
