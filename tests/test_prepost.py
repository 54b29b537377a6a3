"""The pre/post analysis (Juknis V.C): initial UKG vs final test per peserta, the
paired t-test and effect size, checked against numbers computed by hand (and against
closed forms of the t distribution, not only against scipy: p and the CI, from
`student_t`, agree with scipy within 1e-12)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from grading.report import report_score
from lti_tool.analysis import prepost
from lti_tool.analysis.prepost import Pair, by_group, paired_test, pairs
from lti_tool.models import Context
from lti_tool.services import roster, scores
from lti_tool.services.instances import instance_for
from tests.conftest import add_member

D = Decimal


def _pairs(*values: tuple[float, float]) -> list[Pair]:
    return [Pair(i, D(str(a)), D(str(b))) for i, (a, b) in enumerate(values, start=1)]


# The brief's example: diffs 10, 10, 2, 15, 8.
EXAMPLE = _pairs((60, 70), (55, 65), (70, 72), (65, 80), (50, 58))


def test_hand_computed_example():
    r = paired_test(EXAMPLE)
    assert r.status == prepost.OK and r.n == 5 and r.df == 4
    # mean of the diffs: (10 + 10 + 2 + 15 + 8) / 5 = 9
    assert r.mean_diff == pytest.approx(9.0)
    # deviations 1, 1, -7, 6, -1: squares 1 + 1 + 49 + 36 + 1 = 88; s_d = sqrt(88 / 4)
    assert r.sd_diff == pytest.approx(math.sqrt(22)) and r.sd_diff == pytest.approx(
        4.6904, abs=1e-4
    )
    # t = 9 / (sqrt(22) / sqrt(5)) = 4.2906
    assert r.t == pytest.approx(9 / (math.sqrt(22) / math.sqrt(5)))
    assert r.t == pytest.approx(4.2906, abs=1e-4)
    # d_z = 9 / sqrt(22) = 1.9188
    assert r.d_z == pytest.approx(1.9188, abs=1e-4)
    # initial 60, 55, 70, 65, 50: mean 60, SD sqrt((0+25+100+25+100) / 4) = sqrt(62.5)
    assert r.mean_initial == pytest.approx(60) and r.sd_initial == pytest.approx(math.sqrt(62.5))
    # final 70, 65, 72, 80, 58: mean 69, SD sqrt((1+16+9+121+121) / 4) = sqrt(67)
    assert r.mean_final == pytest.approx(69) and r.sd_final == pytest.approx(math.sqrt(67))
    # d_av = 9 / ((sqrt(62.5) + sqrt(67)) / 2) = 1.1186
    assert r.d_av == pytest.approx(1.1186, abs=1e-4)
    assert r.effect == "large"


def test_p_value_of_the_example_by_a_closed_form_and_a_table():
    r = paired_test(EXAMPLE)
    # Student's t with 4 degrees of freedom has a closed-form CDF:
    #   F(t) = 1/2 + 3/8 * t / sqrt(1 + t²/4) * (1 - t² / (12 (1 + t²/4)))
    t = r.t
    u = 1 + t * t / 4
    cdf = 0.5 + 3 / 8 * t / math.sqrt(u) * (1 - t * t / (12 * u))
    assert r.p == pytest.approx(2 * (1 - cdf), rel=1e-9)
    assert r.p == pytest.approx(0.0127, abs=1e-4)
    # Table of t (df 4): t(0.99) = 3.747 < 4.2906 < t(0.995) = 4.604, so 0.01 < p < 0.02.
    assert 0.01 < r.p < 0.02
    from scipy import stats

    reference = stats.ttest_rel([70, 65, 72, 80, 58], [60, 55, 70, 65, 50])
    # student_t, not scipy, computes p and t(0.975, df): equal within 1e-12
    assert r.t == pytest.approx(reference.statistic, rel=1e-12)
    assert r.p == pytest.approx(reference.pvalue, rel=1e-12)
    assert r.ci_high - 9 == pytest.approx(stats.t.ppf(0.975, 4) * math.sqrt(22 / 5), rel=1e-12)


def test_confidence_interval_of_the_mean_difference():
    r = paired_test(EXAMPLE)
    # t(0.975, 4) = 2.7764 (table); SE = sqrt(22) / sqrt(5) = 2.0976; margin = 5.8239
    assert r.ci_low == pytest.approx(9 - 5.8239, abs=1e-3)
    assert r.ci_high == pytest.approx(9 + 5.8239, abs=1e-3)


def test_three_pairs_compute_with_a_warning_and_match_the_df2_closed_form():
    r = paired_test(_pairs((50, 52), (60, 65), (70, 71)))  # diffs 2, 5, 1
    assert r.status == prepost.FEW and r.computed and r.df == 2
    # mean 8/3; deviations -2/3, 7/3, -5/3: squares sum 78/9; s_d = sqrt(78/18)
    sd = math.sqrt(78 / 18)
    assert r.sd_diff == pytest.approx(sd)
    t = (8 / 3) / (sd / math.sqrt(3))
    assert r.t == pytest.approx(t) and r.t == pytest.approx(2.2188, abs=1e-4)
    # df 2: two-sided p = 1 - t / sqrt(2 + t²)
    assert r.p == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-9)
    assert r.p == pytest.approx(0.1567, abs=1e-4)


def test_fewer_than_two_pairs_is_too_small():
    none = paired_test([])
    assert none.status == prepost.TOO_SMALL and none.n == 0 and none.t is None
    one = paired_test(_pairs((60, 70)))
    assert one.status == prepost.TOO_SMALL and one.n == 1
    assert one.t is None and one.p is None and one.d_z is None and one.df is None
    assert one.mean_diff == pytest.approx(10)


@pytest.mark.parametrize("diff", [0, 5])
def test_equal_differences_leave_t_undefined_without_nan_or_warning(diff):
    r = paired_test(_pairs((50, 50 + diff), (60, 60 + diff), (72.5, 72.5 + diff)))
    assert r.status == prepost.NO_VARIATION
    assert r.sd_diff == 0 and r.mean_diff == pytest.approx(diff)
    assert r.t is None and r.p is None and r.d_z is None and r.ci_low is None
    assert not r.computed


def test_many_groups_at_once_equal_scipy_group_by_group():
    import random

    from scipy import stats

    rng = random.Random(7)
    groups = [
        [],
        _pairs((50, 60)),
        _pairs((50, 55), (61.25, 66.25)),  # equal differences
        _pairs((50, 52), (60, 65), (70, 71)),
        EXAMPLE,
        [Pair(i, D(rng.randint(20, 90)), D(rng.randint(20, 100))) for i in range(200)],
        _pairs((55.55, 60.55), (60.1, 65.1), (0.3, 5.3)),  # equal, with decimals
    ]
    results = prepost.paired_tests(groups)
    assert [r.status for r in results] == [
        prepost.TOO_SMALL, prepost.TOO_SMALL, prepost.NO_VARIATION, prepost.FEW,
        prepost.OK, prepost.OK, prepost.NO_VARIATION,
    ]  # fmt: skip
    for group, r in zip(groups, results, strict=True):
        assert r == paired_test(group)
        if r.computed:
            final = [float(p.final) for p in group]
            initial = [float(p.initial) for p in group]
            reference = stats.ttest_rel(final, initial)
            assert r.t == pytest.approx(reference.statistic, rel=1e-12)
            assert r.p == pytest.approx(reference.pvalue, rel=1e-12)
            assert r.sd_initial == pytest.approx(stats.tstd(initial), rel=1e-12)
            se = r.mean_diff / reference.statistic
            margin = stats.t.ppf(0.975, len(group) - 1) * se
            assert (r.ci_high - r.ci_low) / 2 == pytest.approx(margin, rel=1e-12)


@pytest.mark.parametrize(
    ("d", "label"),
    [(0.0, "negligible"), (0.19, "negligible"), (0.2, "small"), (-0.49, "small"),
     (0.5, "medium"), (0.79, "medium"), (0.8, "large"), (-1.9, "large"), (None, None)],
)  # fmt: skip
def test_effect_size_reading(d, label):
    assert prepost.effect_label(d) == label


def test_summary_quartiles():
    s = prepost.summarize([1, 2, 3, 4, 5])
    assert (s.minimum, s.q1, s.median, s.q3, s.maximum, s.mean) == (1, 2, 3, 4, 5, 3)
    assert s.sd == pytest.approx(math.sqrt(2.5))
    assert prepost.summarize([]) is None


def test_summary_equals_numpy_bit_for_bit():
    """summarize() adds, sorts and interpolates as numpy's mean, std(ddof=1) and
    percentile do (pairwise sums, blocks of 8 and 128): the same floats, any size."""
    import random

    np = pytest.importorskip("numpy")
    rng = random.Random(3)
    sizes = [*range(1, 140), 255, 256, 257, 1000, 8191, 8193, 20_011]
    for n in sizes:
        values = [rng.randint(0, 10_000) / 100 - rng.choice((0, 50)) for _ in range(n)]
        s = prepost.summarize(values)
        data = np.asarray(values, dtype=float)
        q = np.percentile(data, [0, 25, 50, 75, 100])
        expected = (
            n, *(float(x) for x in q), float(data.mean()),
            float(data.std(ddof=1)) if n > 1 else None,
        )  # fmt: skip
        got = (s.n, s.minimum, s.q1, s.median, s.q3, s.maximum, s.mean, s.sd)
        assert got == expected, n


# -- from the database --------------------------------------------------------------------


@pytest.fixture
def course(db):
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="c1", title="Kelas A")
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    people = [add_member(db, "https://lms", ctx.id, f"p{i}") for i in range(7)]
    pengampu = add_member(db, "https://lms", ctx.id, "bu", role="pengampu")
    db.flush()
    acts = {f"{b.key}/{a.key}": a for b in inst.module.blocks for a in b.activities}
    return db, ctx, inst, people, pengampu, acts


def _set(db, inst, user, component, value, by):
    scores.set_manual(db, inst, user.id, component, D(value), by=by.id)


def test_pairs_take_the_final_test_as_finals_does_and_skip_missing_scores(course):
    db, ctx, inst, people, bu, acts = course
    a, b, c, d, e = people[:5]
    for u, v in ((a, "50"), (b, "55.5"), (c, "60"), (e, "40")):
        _set(db, inst, u, "UKG", v, bu)
    # a: the Tes Akhir quiz reported 41.25 of 50 -> 82.50
    report_score(db, context_pk=ctx.id, activity=acts["penutup/tes-akhir"], user_id=a.id,
                 score=D("41.25"), max_score=D("50"), source="test")  # fmt: skip
    # b: quiz 60, but an imported TA (from the UKG system) replaces it
    report_score(db, context_pk=ctx.id, activity=acts["penutup/tes-akhir"], user_id=b.id,
                 score=D("60"), max_score=D("100"), source="test")  # fmt: skip
    _set(db, inst, b, "TA", "77", bu)
    # c: no final test; d: a final test but no initial score; e: an initial score only
    _set(db, inst, d, "TA", "90", bu)
    got = pairs(db, inst, [p.id for p in people] + [a.id])
    assert got == [Pair(a.id, D("50.00"), D("82.50")), Pair(b.id, D("55.50"), D("77.00"))]
    finals = scores.finals(db, inst, [a.id, b.id])
    assert [p.final for p in got] == [finals[a.id].components["TA"], finals[b.id].components["TA"]]


def test_another_module_instance_scores_do_not_count(course):
    db, _ctx, inst, people, bu, _acts = course
    other_ctx = Context(issuer="https://lms", deployment_id="d", context_id="c2", title="B")
    db.add(other_ctx)
    db.flush()
    other, _ = instance_for(db, other_ctx.id, "gp-pedagogik-a")
    _set(db, other, people[0], "UKG", "50", bu)
    _set(db, other, people[0], "TA", "70", bu)
    assert pairs(db, inst, [people[0].id]) == []
    assert len(pairs(db, other, [people[0].id])) == 1


def test_by_group_gives_the_class_and_each_rombel(course):
    db, _ctx, inst, people, bu, _acts = course
    red = roster.create_rombel(db, inst, "Rombel Merah", None)
    blue = roster.create_rombel(db, inst, "Rombel Biru", None)
    for (a, b), person in zip(
        [(60, 70), (55, 65), (70, 72), (65, 80), (50, 58)], people, strict=False
    ):
        _set(db, inst, person, "UKG", str(a), bu)
        _set(db, inst, person, "TA", str(b), bu)
    for person in people[:3]:
        roster.assign(db, inst, person.id, red.id, bu.id)
    for person in people[3:6]:  # people[5] has no scores
        roster.assign(db, inst, person.id, blue.id, bu.id)
    groups = by_group(db, inst)
    assert [(g.name, g.peserta, g.result.n) for g in groups] == [
        (None, 7, 5),
        ("Rombel Biru", 3, 2),
        ("Rombel Merah", 3, 3),
    ]
    whole = groups[0].result
    assert whole.t == pytest.approx(4.2906, abs=1e-4) and whole.df == 4
    merah = groups[2].result  # diffs 10, 10, 2: mean 22/3
    assert merah.mean_diff == pytest.approx(22 / 3) and merah.status == prepost.FEW
    assert groups[1].missing == 1
    # a mentor's view: their rombel only, no whole-class row
    mine = by_group(db, inst, rombel_ids=[blue.id])
    assert [(g.rombel_id, g.result.n) for g in mine] == [(blue.id, 2)]
    assert [g.rombel_id for g in by_group(db, inst, red.id)] == [red.id]
    assert by_group(db, inst, rombel_ids=[]) == []


def test_neither_scipy_nor_numpy_is_loaded_even_to_compute():
    """Importing scipy.special and numpy would cost a worker about 41 MB."""
    import subprocess
    import sys

    code = (
        "import sys; from decimal import Decimal as D; from lti_tool.analysis import prepost\n"
        "ps = [prepost.Pair(i, D(50 + i % 7), D(60 + i % 11)) for i in range(40)]\n"
        "r = prepost.paired_test(ps); s = prepost.summarize([float(p.final) for p in ps])\n"
        "assert r.p > 0 and r.ci_low < r.ci_high and s.sd > 0\n"
        "print('scipy' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
