"""Grading of every question type, partial credit, tampered answers, attempt drawing
and the grading methods: pure functions, no database."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from plugins.quiz import engine
from plugins.quiz.questions import Answer, Pair, Question


def slot(q: Question, **extra) -> dict:
    s = {"q": 1, "snap": q.to_dict()}
    if q.qtype in ("multichoice", "multiresponse"):
        s["order"] = list(range(len(q.answers)))
    if q.qtype == "matching":
        s["choices"] = sorted({p.answer for p in q.pairs})
        s["order"] = [i for i, p in enumerate(q.pairs) if p.question]
    s.update(extra)
    return s


MC = Question(
    "multichoice",
    "mc",
    "Ibu kota?",
    answers=[
        Answer("Jakarta", Decimal(1)),
        Answer("Bandung", Decimal(0)),
        Answer("Nusantara", Decimal("0.5")),
    ],
)
MR = Question(
    "multiresponse",
    "mr",
    "Bilangan prima?",
    answers=[
        Answer("2", Decimal("0.5")),
        Answer("3", Decimal("0.5")),
        Answer("4", Decimal("-0.5")),
        Answer("9", Decimal("-0.5")),
    ],
)
TF = Question(
    "truefalse",
    "tf",
    "Bumi bulat.",
    answers=[Answer("true", Decimal(1)), Answer("false", Decimal(0))],
)
SA = Question(
    "shortanswer",
    "sa",
    "Nama bahasa pemrograman visual dari MIT?",
    answers=[Answer("Scratch", Decimal(1)), Answer("scratch jr*", Decimal("0.5"))],
)
SA_CASE = Question(
    "shortanswer", "sac", "Simbol?", answers=[Answer("NaCl", Decimal(1))], case_sensitive=True
)
NUM = Question(
    "numerical",
    "num",
    "Pi?",
    answers=[
        Answer("3.14", Decimal(1), tolerance=Decimal("0.01")),
        Answer("3", Decimal("0.5"), tolerance=Decimal("0.2")),
    ],
)
MATCH = Question(
    "matching",
    "match",
    "Pasangkan",
    pairs=[
        Pair("CPU", "prosesor"),
        Pair("RAM", "memori"),
        Pair("SSD", "penyimpanan"),
        Pair("", "printer"),
    ],
)


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        (MC, 0, Decimal(1)),
        (MC, 1, Decimal(0)),
        (MC, 2, Decimal("0.5")),
        (MC, None, Decimal(0)),
        (MR, [0, 1], Decimal(1)),
        (MR, [0], Decimal("0.5")),
        (MR, [0, 2], Decimal(0)),
        (MR, [0, 1, 2], Decimal("0.5")),
        (MR, [2, 3], Decimal(0)),  # negative sums are clamped at zero
        (TF, "true", Decimal(1)),
        (TF, "false", Decimal(0)),
        (SA, "Scratch", Decimal(1)),
        (SA, "  scratch  ", Decimal(1)),  # spaces and case do not matter
        (SA, "SCRATCH", Decimal(1)),
        (SA, "scratch jr 3", Decimal("0.5")),  # wildcard
        (SA, "scratc", Decimal(0)),
        (SA_CASE, "NaCl", Decimal(1)),
        (SA_CASE, "nacl", Decimal(0)),
        (NUM, "3.14", Decimal(1)),
        (NUM, "3,15", Decimal(1)),  # decimal comma, within tolerance
        (NUM, "3.16", Decimal("0.5")),  # outside the first, inside the second
        (NUM, "2.7", Decimal(0)),
        (NUM, "tiga", Decimal(0)),
        # past Decimal's exponent range: the subtraction would overflow (a 500 at submit)
        (NUM, "1e9999999", Decimal(0)),
        (NUM, "-1E-9999999", Decimal(0)),
        (NUM, "314e-2", Decimal(1)),
    ],
)
def test_fraction_of_each_type(question, answer, expected):
    assert engine.fraction(slot(question), answer) == expected


def test_matching_gives_partial_credit_per_subquestion():
    s = slot(MATCH)
    choices = s["choices"]
    right = {str(i): choices.index(p.answer) for i, p in enumerate(MATCH.pairs) if p.question}
    assert engine.fraction(s, right) == Decimal(1)
    two = dict(right)
    two["2"] = choices.index("printer")
    assert engine.fraction(s, two) == Decimal(2) / Decimal(3)
    assert engine.fraction(s, {"0": right["0"]}) == Decimal(1) / Decimal(3)


def test_clean_answer_refuses_values_no_form_offers():
    with pytest.raises(engine.AnswerError):
        engine.clean_answer(slot(MC), "7")
    with pytest.raises(engine.AnswerError):
        engine.clean_answer(slot(MC), "-1")
    with pytest.raises(engine.AnswerError):
        engine.clean_answer(slot(MC), "01")
    with pytest.raises(engine.AnswerError):
        engine.clean_answer(slot(TF), "maybe")
    with pytest.raises(engine.AnswerError):
        engine.clean_answer(slot(MATCH), {"3": "0"})  # the distractor is no sub-question
    with pytest.raises(engine.AnswerError):
        engine.clean_answer(slot(MATCH), {"0": "9"})
    assert engine.clean_answer(slot(MR), ["1", "0", "1"]) == [0, 1]
    assert engine.clean_answer(slot(SA), "  x  ") == "x"
    assert engine.clean_answer(slot(SA), "y" * 900) == "y" * engine.MAX_TEXT
    assert engine.clean_answer(slot(MC), "") is None


def test_grade_sums_marks_and_rounds_the_percent_half_up():
    heavy = Question(**{**MC.__dict__, "default_mark": Decimal(2)})
    slots = [slot(heavy), slot(MR), slot(TF)]
    graded = engine.grade(slots, {"0": 0, "1": [0], "2": "false"})
    assert graded.points == Decimal("2.5")
    assert graded.max_points == Decimal(4)
    assert graded.percent == Decimal("62.50")
    third = engine.grade([slot(MATCH)], {"0": {"0": slot(MATCH)["choices"].index("prosesor")}})
    assert third.percent == Decimal("33.33")


def test_draw_picks_the_count_and_keeps_snapshots():
    pool = [
        (i, Question("truefalse", f"q{i}", "t", answers=TF.answers).to_dict()) for i in range(30)
    ]
    slots = engine.draw(pool, 20, random.Random(1), shuffle_questions=True, shuffle_answers=True)
    assert len(slots) == 20
    assert len({s["q"] for s in slots}) == 20
    assert all(s["snap"]["name"] == f"q{s['q']}" for s in slots)
    ordered = engine.draw(pool, 5, random.Random(2), shuffle_questions=False, shuffle_answers=False)
    assert [s["q"] for s in ordered] == sorted(s["q"] for s in ordered)
    with pytest.raises(ValueError):
        engine.draw(pool, 31, random.Random(3), shuffle_questions=True, shuffle_answers=True)


def test_shuffled_options_do_not_change_the_grade():
    pool = [(1, MC.to_dict())]
    seen_orders = set()
    for seed in range(20):
        (s,) = engine.draw(
            pool, None, random.Random(seed), shuffle_questions=True, shuffle_answers=True
        )
        seen_orders.add(tuple(s["order"]))
        assert engine.fraction(s, 0) == Decimal(1)  # index into the snapshot, not the screen
    assert len(seen_orders) > 1


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("highest", Decimal(80)),
        ("last", Decimal(60)),
        ("first", Decimal(40)),
        ("mean", Decimal("60.00")),
    ],
)
def test_grading_methods(method, expected):
    assert engine.combine([Decimal(40), Decimal(80), Decimal(60)], method) == expected
    assert engine.combine([], method) is None


def test_mean_rounds_half_up():
    assert engine.combine([Decimal("70.00"), Decimal("70.01")], "mean") == Decimal(
        "70.01"
    )  # 70.005 -> 70.01


def test_points_fit_the_attempt_column_with_endless_partial_credit():
    from decimal import Decimal

    from plugins.quiz.attempts import stored

    assert stored(Decimal(8) / Decimal(3)) == "2.6666667"
    assert stored(Decimal("10")) == "10"
    assert stored(Decimal("2.50")) == "2.5"
    assert stored(Decimal(0)) == "0"
    assert len(stored(Decimal(200) / Decimal(3))) <= 20
