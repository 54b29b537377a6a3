"""Student's t CDF and its inverse in pure Python (`lti_tool.analysis.student_t`)
against scipy.special (stdtr, stdtrit) over a grid of df from 1 to 10^6: relative
error at most 1e-12 for p-values from 1e-300 and for the inverse. Where scipy itself
is off (t near 0 for df 1, an underflow at df 1, its inverse below p = 1e-100 and near
1/2), against closed forms of the t distribution or mpmath at 40 digits."""

from __future__ import annotations

import math
import random

import pytest

from lti_tool.analysis.student_t import stdtr, stdtrit

special = pytest.importorskip("scipy.special")

DFS = [1, 2, 3, 4, 5, 6, 7, 9, 10, 14, 15, 19, 20, 29, 30, 31, 49, 50, 99, 100, 500,
       1_000, 5_000, 10_000, 30_000, 87_220, 100_000, 500_000, 1_000_000]  # fmt: skip
TS = [1e-5, 1e-3, 0.01, 0.1, 0.5, 1, 1.5, 1.96, 2, 2.5, 3, 4, 5, 7, 10, 15, 20, 30,
      37, 40, 50, 100, 1e3, 1e4, 1e6, 1e10, 1e50, 1e100, 1e150, 1e154, 1e300]  # fmt: skip
PS = [1e-100, 1e-50, 1e-20, 1e-10, 1e-5, 1e-3, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25,
      0.3, 0.4, 0.45, 0.49, 0.51, 0.55, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 0.975, 0.99,
      0.995, 0.999, 1 - 1e-5, 1 - 1e-10, 1 - 1e-15]  # fmt: skip


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def test_cdf_equals_scipy_over_the_grid():
    compared = 0
    for df in DFS:
        for t in TS:
            for x in (-t, t):
                expected = float(special.stdtr(df, x))
                got = stdtr(df, x)
                if expected >= 1e-300:
                    assert rel(got, expected) <= 1e-12, (df, x, got, expected)
                    compared += 1
                else:  # below 1e-300: tiny too (or 0.0), never an error
                    assert 0.0 <= got < 1e-290 or df == 1, (df, x, got, expected)
    assert compared > 1_500


def test_two_sided_p_values_as_the_analysis_takes_them():
    rng = random.Random(9)
    compared = 0
    for _ in range(5_000):
        df = rng.choice((rng.randint(1, 60), rng.randint(60, 100_000)))
        t = rng.expovariate(1 / 4)
        expected = 2 * float(special.stdtr(df, -t))
        if expected >= 1e-300:
            assert rel(2 * stdtr(df, -abs(t)), expected) <= 1e-12, (df, t)
            compared += 1
    assert compared > 4_000


def test_critical_values_equal_scipy_for_every_class_size():
    for df in [*range(1, 2_001), 5_000, 87_220, 99_999, 1_000_000]:
        assert rel(stdtrit(df, 0.975), float(special.stdtrit(df, 0.975))) <= 1e-12, df


def test_inverse_equals_scipy_over_the_grid():
    for df in DFS:
        for p in PS:
            got, expected = stdtrit(df, p), float(special.stdtrit(df, p))
            assert rel(got, expected) <= 1e-12, (df, p, got, expected)
            assert (got < 0) == (p < 0.5)


def test_inverse_undoes_the_cdf():
    for df in (1, 4, 29, 30, 87_220):
        for p in (1e-200, 1e-9, 0.025, 0.3, 0.7, 0.975):
            assert rel(stdtr(df, stdtrit(df, p)), p) <= 1e-12, (df, p)


def test_closed_forms_where_scipy_rounds_or_underflows():
    # df 1 (Cauchy): P(T <= t) = 1/2 + atan(t) / pi, P(T < -s) = atan(1 / s) / pi
    for t in (1e-10, 1e-5, 0.3):
        assert rel(stdtr(1, t), 0.5 + math.atan(t) / math.pi) <= 1e-15
    for s in (1e-10, 2.0, 1e5, 1e200, 1e300):
        assert rel(stdtr(1, -s), math.atan2(1, s) / math.pi) <= 1e-13, s
    # df 2: P(T < -s) = (1 - s / r) / 2 = 1 / (r (r + s)), r = sqrt(2 + s²)
    for s in (1e-3, 0.5, 3.0, 1e10, 1e100):
        r = math.sqrt(2 + s * s)
        assert rel(stdtr(2, -s), 1 / (r * (r + s))) <= 1e-13, s
    # and the inverses: t = tan(pi (p - 1/2)) = -1 / tan(pi p); for df 2,
    # t = (2p - 1) / sqrt(2 p (1 - p))
    for p in (1e-300, 1e-10, 0.025, 0.5 - 1e-9, 0.975):
        cauchy = math.tan(math.pi * (p - 0.5)) if p > 0.25 else -1 / math.tan(math.pi * p)
        assert rel(stdtrit(1, p), cauchy) <= 1e-13, p
        assert rel(stdtrit(2, p), (2 * p - 1) / math.sqrt(2 * p * (1 - p))) <= 1e-12, p


def test_far_tails_where_scipy_is_off():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40

    def tail(df, s):  # P(T > s) = I_x(df/2, 1/2) / 2
        df, s = mpmath.mpf(df), mpmath.mpf(s)
        return mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, df / (df + s * s), regularized=True) / 2

    for df, q in [(3, 1e-300), (3, 1e-200), (4, 1e-100), (30, 1e-250), (500, 1e-300)]:
        s = -stdtrit(df, q)
        assert float(abs(tail(df, s) - q) / q) <= 1e-12, (df, q)
    for df in (5, 30, 31, 1_000, 87_220, 1_000_000):  # p near 1/2: t near 0
        for p in (0.5 + 1e-7, 0.5 + 1e-12, 0.6):
            s = stdtrit(df, p)
            target = mpmath.mpf(p) - mpmath.mpf(1) / 2
            density = mpmath.gamma((df + 1) / mpmath.mpf(2)) / (
                mpmath.sqrt(df * mpmath.pi) * mpmath.gamma(df / mpmath.mpf(2))
            )  # d t = d p / density near 0
            missed = (mpmath.mpf(1) / 2 - tail(df, s)) - target
            assert float(abs(missed / density) / s) <= 1e-12, (df, p)


def test_extremes_give_numbers_not_errors():
    for df in (1, 2, 5, 30, 87_220, 1_000_000, 2.5):
        assert stdtr(df, 0.0) == 0.5 and stdtr(df, -0.0) == 0.5
        assert stdtr(df, -math.inf) == 0.0 and stdtr(df, math.inf) == 1.0
        assert stdtr(df, 1e-300) == 0.5
        for t in (40.0, 1e10, 1e154, 1e200, 1.7e308):
            low, high = stdtr(df, -t), stdtr(df, t)
            assert 0.0 <= low < 0.01 and high == 1.0 - low, (df, t)
        assert stdtrit(df, 0.5) == 0.0
        assert stdtrit(df, 0.0) == -math.inf and stdtrit(df, 1.0) == math.inf
        smallest = stdtrit(df, 5e-324)  # the smallest float: -inf only for df 1
        assert smallest < -30 and (math.isfinite(smallest) or df == 1), df
    # p-values far below the floats are 0.0
    assert stdtr(87_220, -50.0) == 0.0 and stdtr(1_000_000, -40.0) == 0.0
    assert stdtr(30, -1e300) == 0.0 and stdtr(5, -1e100) == 0.0
    for bad in ((0, 1.0), (-1, 1.0), (math.nan, 1.0), (5, math.nan)):
        assert math.isnan(stdtr(*bad))
    for bad in ((5, -0.1), (5, 1.1), (5, math.nan), (0, 0.5)):
        assert math.isnan(stdtrit(*bad))
