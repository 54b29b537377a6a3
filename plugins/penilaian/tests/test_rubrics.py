"""The score formula, to the digit, and reading the forms (no app needed)."""

from __future__ import annotations

from decimal import Decimal

from werkzeug.datastructures import MultiDict

from plugins.penilaian import rubrics


def rubric(*maxima_levels) -> rubrics.Rubric:
    return rubrics.Rubric(
        key="r",
        title="R",
        criteria=tuple(
            rubrics.Criterion(
                title=f"C{i}",
                levels=tuple(rubrics.Level(f"L{p}", Decimal(str(p))) for p in points),
            )
            for i, points in enumerate(maxima_levels)
        ),
    )


SIXTEEN = rubric((16, 8, 1, 0), (16, 8, 1, 0))  # 32 points in all
THREE = rubric((3, 2, 1), (3, 2, 1), (3, 2, 1))  # 9 points in all


def test_score_is_the_share_of_the_maximum_points_half_up_to_2_decimals():
    full = rubrics.score(SIXTEEN, {"0": 0, "1": 0}, 100)
    assert (full.points, full.max_points, full.score) == (
        Decimal(32),
        Decimal(32),
        Decimal("100.00"),
    )
    # 1/32 x 100 = 3.125: half up gives 3.13 (banker's rounding would give 3.12)
    edge = rubrics.score(SIXTEEN, {"0": 2, "1": 3}, 100)
    assert edge.points == Decimal(1) and str(edge.score) == "3.13"
    # 9/32 x 100 = 28.125 -> 28.13
    assert str(rubrics.score(SIXTEEN, {"0": 1, "1": 2}, 100).score) == "28.13"
    # 5/9 x 10 = 5.5555... -> 5.56 (max score 10)
    five = rubrics.score(THREE, {"0": 1, "1": 1, "2": 2}, 10)
    assert str(five.score) == "5.56" and five.max_score == Decimal(10)
    assert str(five.percent) == "55.56"
    # nothing above the lowest levels: 0 points
    assert str(rubrics.score(SIXTEEN, {"0": 3, "1": 3}, 100).score) == "0.00"


def test_decimal_points_are_exact():
    r = rubric(("2.5", "1.25", 0), (1, 0))  # 3.5 in all
    s = rubrics.score(r, {"0": 1, "1": 0}, 100)
    assert s.points == Decimal("2.25")
    assert str(s.score) == "64.29"  # 2.25/3.5 = 0.642857...


def test_reading_choices_names_missing_and_made_up_levels():
    ok = rubrics.read_choices(SIXTEEN, MultiDict({"c-0": "1", "c-1": "0"}))
    assert ok.ok and ok.choices == {"0": 1, "1": 0}
    missing = rubrics.read_choices(SIXTEEN, MultiDict({"c-0": "1"}))
    assert missing.missing == ["1"] and missing.choices == {"0": 1}
    for bad in ("4", "-1", "x", "1.0", "٣", "99999999999999999999"):
        reading = rubrics.read_choices(SIXTEEN, MultiDict({"c-0": bad, "c-1": "0"}))
        assert reading.invalid == ["0"], bad
    extra = rubrics.read_choices(SIXTEEN, MultiDict({"c-0": "0", "c-1": "0", "c-7": "0"}))
    assert extra.invalid == ["c-7"]


def test_stored_choices_fit_only_their_rubric():
    assert rubrics.fits(SIXTEEN, {"0": 3, "1": 0})
    assert not rubrics.fits(SIXTEEN, {"0": 4, "1": 0})
    assert not rubrics.fits(SIXTEEN, {"0": 1})
    assert not rubrics.fits(THREE, {"0": 1, "1": 1})


def form(title="Rubrik", rows=()):
    data = {"title": title, "criteria": str(len(rows))}
    for i, (ctitle, levels) in enumerate(rows):
        data[f"t-{i}"] = ctitle
        data[f"levels-{i}"] = str(len(levels))
        for j, (desc, pts) in enumerate(levels):
            data[f"d-{i}-{j}"] = desc
            data[f"p-{i}-{j}"] = pts
    return MultiDict(data)


def test_the_edit_form_drops_blank_rows_and_checks_every_rule():
    good = rubrics.read_draft(
        form(rows=[("Isi", [("Baik", "4"), ("Cukup", "2,5"), ("", "")]), ("", [("", "")])])
    )
    assert good.errors == []
    r = good.rubric("k")
    assert [lv.points for lv in r.criteria[0].levels] == [Decimal(4), Decimal("2.5")]
    assert len(r.criteria) == 1

    def codes(f):
        return {code for code, _info in rubrics.read_draft(f).errors}

    assert codes(form(title="", rows=[("A", [("x", "1"), ("y", "2")])])) == {"rubric_title"}
    assert codes(form(rows=[("", [("x", "1"), ("y", "2")])])) == {"criterion_title"}
    assert codes(form(rows=[("A", [("x", "1"), ("y", "1")])])) == {"same_points"}
    assert codes(form(rows=[("A", [("x", "1")])])) == {"two_levels"}
    assert codes(form(rows=[("A", [("x", "101"), ("y", "2")])])) == {"level_points"}
    assert codes(form(rows=[("A", [("x", "1.005"), ("y", "2")])])) == {"level_points"}
    assert codes(form(rows=[("A", [("x", "abc"), ("y", "2")])])) == {"level_points"}
    assert codes(form(rows=[("A", [("", "1"), ("y", "2")])])) == {"level_description"}
    assert codes(form(rows=[])) == {"no_criteria"}
