"""Item analysis on prepared attempts, checked to the digit."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from plugins.quiz.analysis import item_analysis


def attempt(fractions):
    slots = [
        {"q": i + 1, "snap": {"name": f"Q{i + 1}", "qtype": "truefalse", "default_mark": "1"}}
        for i in range(len(fractions))
    ]
    return SimpleNamespace(slots=slots, fractions=[str(f) for f in fractions])


def test_facility_and_discrimination_to_the_digit():
    stats = item_analysis(
        [attempt([1, 1, 1]), attempt([1, 1, 0]), attempt([1, 0, 0]), attempt([0, 0, 0])]
    )
    by_name = {s.name: s for s in stats}
    assert by_name["Q1"].facility == Decimal("75.00")
    assert by_name["Q2"].facility == Decimal("50.00")
    assert by_name["Q3"].facility == Decimal("25.00")
    # correlation of the item with the rest of the test: .75/sqrt(.75*2.75), 1/sqrt(2)
    assert by_name["Q1"].discrimination == Decimal("52.22")
    assert by_name["Q2"].discrimination == Decimal("70.71")
    assert by_name["Q3"].discrimination == Decimal("52.22")
    assert all(s.n == 4 for s in stats)


def test_no_spread_or_one_attempt_gives_no_discrimination():
    (single,) = [s for s in item_analysis([attempt([1, 0])]) if s.name == "Q1"]
    assert single.facility == Decimal("100.00") and single.discrimination is None
    same = item_analysis([attempt([1, 1]), attempt([1, 0])])
    q1 = next(s for s in same if s.name == "Q1")
    assert q1.facility == Decimal("100.00") and q1.discrimination is None


def test_partial_credit_and_marks_count_in_the_facility():
    a = attempt([Decimal("0.5"), 1])
    a.slots[0]["snap"]["default_mark"] = "2"
    b = attempt([1, 0])
    b.slots[0]["snap"]["default_mark"] = "2"
    q1 = next(s for s in item_analysis([a, b]) if s.name == "Q1")
    assert q1.facility == Decimal("75.00")  # (0.5 + 1) / 2


def test_empty():
    assert item_analysis([]) == []
