"""Initial UKG score vs final test (TA) per peserta, and the paired t-test on them.

Juknis V.C: the peserta's earlier UKG score for the competency group (imported as the
manual score component "UKG") is the initial score; the final test is the TA
component as `scores.finals` computes it: an entered or imported TA wins, otherwise
the scores the activities feeding TA reported, combined by the template's aggregate
and rounded half-up to its precision. A peserta with no TA score yet has no pair (the
"zero once closed" rule of the final score is not a test result).

The test (named on the analysis page):
  d_i = final_i - initial_i,  d̄ = mean(d),  s_d = SD(d) (sample, n - 1)
  paired t-test: t = d̄ / (s_d / √n), df = n - 1, p two-sided;
  effect size Cohen's d_z = d̄ / s_d (also d_av = d̄ / ((s_initial + s_final) / 2));
  95% CI of d̄: d̄ ± t(0.975, df) · s_d / √n.
Fewer than 2 pairs: nothing is computed; 2 to 4 pairs: computed with a warning that
so few pairs cannot support a conclusion; all differences equal (s_d = 0): t is
undefined and says so. Student's t distribution (p and t(0.975, df)) comes from
`student_t`, a few lines of pure Python equal to scipy.special's within 1e-12 (the
tests compare them): importing scipy.special and numpy cost a worker 41 MB.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from grading.formulas import aggregate, quantize
from lti_tool.analysis.student_t import stdtr, stdtrit
from lti_tool.models import (
    ActivityScore,
    CourseInstance,
    ManualScore,
    Membership,
    Rombel,
    RombelMember,
)
from lti_tool.services.roles import PESERTA

INITIAL = "UKG"
FINAL = "TA"


@dataclass(frozen=True, slots=True)
class Pair:
    user_id: int
    initial: Decimal
    final: Decimal


class Pairs(Sequence[Pair]):
    """A list of pairs kept as arrays: the user id and, for each score, its place in a
    table of the distinct Decimals (a class shares a few thousand). 16 bytes a pair
    instead of about 100 for `Pair` objects and their ids: a class of 100,000 stays
    small; `Pair`s are made as they are read."""

    __slots__ = ("_final", "_ids", "_initial", "_place", "_values")

    def __init__(self, items: Iterable[Pair] = ()) -> None:
        self._ids = array("q")
        self._initial = array("I")
        self._final = array("I")
        self._values: list[Decimal] = []
        self._place: dict[int, int] = {}  # id() of a Decimal -> its place (kept alive)
        for p in items:
            self.add(p.user_id, p.initial, p.final)

    def _slot(self, value: Decimal) -> int:
        place = self._place.get(id(value))
        if place is None:
            place = self._place[id(value)] = len(self._values)
            self._values.append(value)
        return place

    def add(self, user_id: int, initial: Decimal, final: Decimal) -> None:
        self._ids.append(user_id)
        self._initial.append(self._slot(initial))
        self._final.append(self._slot(final))

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        values = self._values
        return Pair(self._ids[index], values[self._initial[index]], values[self._final[index]])

    def __iter__(self) -> Iterator[Pair]:
        values = self._values
        for uid, i, f in zip(self._ids, self._initial, self._final, strict=True):
            yield Pair(uid, values[i], values[f])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Pairs, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return repr(list(self))


def _rows(db: Session, statement):
    """Rows straight from the database cursor (Core): the ORM would first build all
    rows of a 100,000-peserta class in memory. Pending changes are flushed first.
    Fetched in batches (PostgreSQL: a server-side cursor; its default cursor would
    hold every row in the client at once)."""
    db.flush()
    return db.connection().execute(statement.execution_options(yield_per=_BATCH))


#: Rows fetched at a time; a set of ids up to `_FEW` is read with an IN list.
_BATCH = 2000
_FEW = 2000


class _Scores(dict):
    """Score text -> Decimal (rounded to `precision` if given), made once per distinct
    text: a class's scores share a few thousand objects instead of one per row."""

    def __init__(self, precision: int | None = None) -> None:
        super().__init__()
        self.precision = precision

    def __missing__(self, text: str) -> Decimal:
        value = Decimal(text)
        if self.precision is not None:
            value = quantize(value, self.precision)
        self[text] = value
        return value


def _rule_bits(inst: CourseInstance) -> tuple[str, bool, int]:
    """The TA component's aggregate, whether it is manual only, and the precision."""
    scoring = inst.module.definition.get("scoring") or {}
    precision = int(scoring.get("precision", 2))
    for c in scoring.get("components", []):
        if c.get("key") == FINAL:
            return c.get("aggregate", "mean"), bool(c.get("manual", False)), precision
    return "mean", True, precision


def _among(column, user_ids: Collection[int] | None):
    """A condition reading only `user_ids` when they are few (None: everyone)."""
    if user_ids is not None and len(user_ids) <= _FEW:
        return column.in_(sorted(user_ids))
    return true()


def _reported_finals(
    db: Session, inst: CourseInstance, user_ids: Collection[int] | None = None
) -> Iterator[tuple[int, list[tuple[int, Decimal]]]]:
    """(user id, [(place in the template, percentage)] of the activities feeding TA),
    by user id; `_final` turns one into the score (for the peserta asked about only,
    as a score outside 0-100 makes it raise)."""
    _how, manual_only, _precision = _rule_bits(inst)
    if manual_only:
        return
    feeding = [a.id for b in inst.module.blocks for a in b.activities if a.component == FINAL]
    if not feeding:
        return
    order = {aid: i for i, aid in enumerate(feeding)}
    percent: dict[tuple[str, str], Decimal] = {}
    rows = _rows(
        db,
        select(
            ActivityScore.user_id,
            ActivityScore.activity_id,
            ActivityScore.score,
            ActivityScore.max_score,
        )
        .where(
            ActivityScore.context_pk == inst.context_pk,
            ActivityScore.activity_id.in_(feeding),
            _among(ActivityScore.user_id, user_ids),
        )
        .order_by(ActivityScore.user_id),
    )
    current: int | None = None
    values: list[tuple[int, Decimal]] = []
    for uid, aid, score, top in rows:
        if uid != current:
            if values:
                yield current, values
            current = uid
            values = []
        value = percent.get((score, top))
        if value is None:
            value = percent[(score, top)] = Decimal(score) * 100 / Decimal(top)
        values.append((order[aid], value))
    if values:
        yield current, values


class _Final:
    """Turns what `_finals` gives into the final test score: as the template combines
    the activities' scores (equal results share one Decimal), or the manual score."""

    def __init__(self, inst: CourseInstance) -> None:
        self.how, _manual_only, self.precision = _rule_bits(inst)
        self.shared: dict[Decimal, Decimal] = {}

    def __call__(self, found: Decimal | list[tuple[int, Decimal]]) -> Decimal:
        if isinstance(found, Decimal):
            return found
        found.sort()
        value = quantize(aggregate((v for _i, v in found), self.how), self.precision)
        return self.shared.setdefault(value, value)


def _manual(
    db: Session,
    inst: CourseInstance,
    component: str,
    values: _Scores,
    user_ids: Collection[int] | None = None,
) -> Iterator[tuple[int, Decimal]]:
    """(user id, manual score of `component`), by user id."""
    rows = _rows(
        db,
        select(ManualScore.user_id, ManualScore.value)
        .where(
            ManualScore.instance_id == inst.id,
            ManualScore.component == component,
            _among(ManualScore.user_id, user_ids),
        )
        .order_by(ManualScore.user_id),
    )
    for uid, value in rows:
        yield uid, values[value]


def _finals(
    db: Session, inst: CourseInstance, user_ids: Collection[int] | None = None
) -> Iterator[tuple[int, Decimal | list[tuple[int, Decimal]]]]:
    """(user id, what the final test score comes from: see `_Final`), by user id. An
    entered or imported TA wins over the activities' scores."""
    _how, _manual_only, precision = _rule_bits(inst)
    reported = _reported_finals(db, inst, user_ids)
    manual = _manual(db, inst, FINAL, _Scores(precision), user_ids)
    r = next(reported, None)
    m = next(manual, None)
    while r is not None or m is not None:
        if m is None or (r is not None and r[0] < m[0]):
            yield r
            r = next(reported, None)
        else:
            if r is not None and r[0] == m[0]:
                r = next(reported, None)
            yield m
            m = next(manual, None)


def final_scores(db: Session, inst: CourseInstance, user_ids: set[int]) -> dict[int, Decimal]:
    """user id -> final test (TA) score, for those of `user_ids` who have one."""
    final = _Final(inst)
    return {uid: final(found) for uid, found in _finals(db, inst, user_ids) if uid in user_ids}


def initial_scores(db: Session, inst: CourseInstance, user_ids: set[int]) -> dict[int, Decimal]:
    """user id -> the imported initial UKG score, for those of `user_ids` who have one."""
    rows = _manual(db, inst, INITIAL, _Scores(), user_ids)
    return {uid: value for uid, value in rows if uid in user_ids}


def pairs(db: Session, inst: CourseInstance, user_ids: Sequence[int]) -> Pairs:
    """The peserta among `user_ids` with both an initial UKG and a final TA score, in
    the order of `user_ids` (a `Pairs`: a sequence of `Pair`). A whole class in
    ascending ids (as `peserta_ids` gives it) is merged with the scores read in the
    same order, one row at a time; other lists go through dictionaries of the scores.
    Rows are filtered here, so 100,000 ids need no giant IN list."""
    ascending = all(a < b for a, b in zip(user_ids, islice(user_ids, 1, None), strict=False))
    if not ascending:
        wanted = set(user_ids)
        initial = initial_scores(db, inst, wanted)
        out = Pairs()
        if not initial:
            return out
        final = final_scores(db, inst, wanted & initial.keys())
        seen: set[int] = set()
        for uid in user_ids:
            if uid in final and uid not in seen:  # final only holds ids with an initial score
                seen.add(uid)
                out.add(uid, initial[uid], final[uid])
        return out
    few = user_ids if len(user_ids) <= _FEW else None
    initial_rows = _manual(db, inst, INITIAL, _Scores(), few)
    final_rows = _finals(db, inst, few)
    final = _Final(inst)
    out = Pairs()
    i = next(initial_rows, None)
    f = next(final_rows, None)
    for uid in user_ids:
        while i is not None and i[0] < uid:
            i = next(initial_rows, None)
        if i is None:
            break
        if i[0] != uid:
            continue
        while f is not None and f[0] < uid:
            f = next(final_rows, None)
        if f is None:
            break
        if f[0] == uid:
            out.add(uid, i[1], final(f[1]))
    return out


# -- the statistics ----------------------------------------------------------------------

#: Fewer pairs than this: the t-test is computed but flagged as not reliable.
MIN_RELIABLE = 5

TOO_SMALL = "too_small"  # n < 2: nothing computed
NO_VARIATION = "no_variation"  # every difference is the same: t undefined
FEW = "few"  # 2 <= n < MIN_RELIABLE: computed, with a warning
OK = "ok"

#: Conventional reading of |d| (Cohen 1988): below 0.2 negligible, then small, medium,
#: from 0.8 large.
EFFECT_BANDS = ((0.8, "large"), (0.5, "medium"), (0.2, "small"), (0.0, "negligible"))


def effect_label(d: float | None) -> str | None:
    """ "negligible", "small", "medium" or "large" for an effect size (None: none)."""
    if d is None:
        return None
    for bound, label in EFFECT_BANDS:
        if abs(d) >= bound:
            return label
    return "negligible"


@dataclass(frozen=True)
class PrePost:
    """The paired t-test of final vs initial scores; numbers are None where undefined."""

    n: int
    status: str  # OK, FEW, NO_VARIATION or TOO_SMALL
    mean_initial: float | None = None
    sd_initial: float | None = None
    mean_final: float | None = None
    sd_final: float | None = None
    mean_diff: float | None = None  # d̄ = mean(final - initial)
    sd_diff: float | None = None
    t: float | None = None
    df: int | None = None
    p: float | None = None  # two-sided
    d_z: float | None = None  # d̄ / s_d
    d_av: float | None = None  # d̄ / ((s_initial + s_final) / 2)
    ci_low: float | None = None  # 95% CI of d̄
    ci_high: float | None = None

    @property
    def computed(self) -> bool:
        return self.t is not None

    @property
    def effect(self) -> str | None:
        return effect_label(self.d_z)


def paired_test(pairs: Sequence[Pair]) -> PrePost:
    """The paired t-test (final - initial) with its effect sizes and 95% CI."""
    return paired_tests([pairs])[0]


def _moments(group: Sequence[Pair]) -> tuple:
    """(n, mean and SD of the initial, final and difference scores, lowest and highest
    difference) of one group, in two passes of plain floats: sums added one value at
    a time, in the group's order, as numpy's bincount added them before (so the
    numbers are the same to the last bit), without arrays the size of the class."""
    n = len(group)
    if isinstance(group, Pairs):
        table = [float(v) for v in group._values]
        values = group._values

        def floats():
            for i, f in zip(group._initial, group._final, strict=True):
                yield table[i], table[f], float(values[f] - values[i])
    else:

        def floats():
            for p in group:
                yield float(p.initial), float(p.final), float(p.final - p.initial)

    si = sf = sd = 0.0
    low = high = math.nan
    for x, y, d in floats():
        si += x
        sf += y
        sd += d
        if not (d >= low):  # also the first (nan)
            low = d
        if not (d <= high):
            high = d
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, low, high
    mi, mf, md = si / n, sf / n, sd / n
    qi = qf = qd = 0.0
    for x, y, d in floats():
        dev = x - mi
        qi += dev * dev
        dev = y - mf
        qf += dev * dev
        dev = d - md
        qd += dev * dev
    if n < 2:
        return n, mi, math.nan, mf, math.nan, md, math.nan, low, high
    return (
        n,
        mi,
        math.sqrt(qi / (n - 1)),
        mf,
        math.sqrt(qf / (n - 1)),
        md,
        math.sqrt(qd / (n - 1)),
        low,
        high,
    )


def paired_tests(groups: Sequence[Sequence[Pair]]) -> list[PrePost]:
    """The paired t-test of each group (the class, each rombel) with the formulas above:
    sums in plain floats (`_moments`), then p = 2 · P(T_df ≤ -|t|) and t(0.975, df)
    from `student_t` (stdtr, stdtrit: Student's t CDF and its inverse, as
    scipy.special's, which scipy.stats.t and ttest_rel use; the tests check the results
    agree within 1e-12 and that what is shown, rounded, is the same)."""
    k = len(groups)
    if k == 0:
        return []
    moments = [_moments(g) for g in groups]
    sizes = [m[0] for m in moments]
    mean_i = [m[1] for m in moments]
    sd_i = [m[2] for m in moments]
    mean_f = [m[3] for m in moments]
    sd_f = [m[4] for m in moments]
    mean_d = [m[5] for m in moments]
    sd_d = [m[6] for m in moments]
    low = [m[7] for m in moments]
    constant = [size > 0 and m[7] == m[8] for size, m in zip(sizes, moments, strict=True)]
    tested = [i for i in range(k) if sizes[i] >= 2 and not constant[i]]
    t = [math.nan] * k
    p = [math.nan] * k
    crit = [math.nan] * k
    for i in tested:
        t[i] = mean_d[i] / (sd_d[i] / math.sqrt(sizes[i]))
        df = float(sizes[i] - 1)
        p[i] = 2 * stdtr(df, -abs(t[i]))
        crit[i] = stdtrit(df, 0.975)
    out = []
    for i in range(k):
        size = sizes[i]
        if size == 0:
            out.append(PrePost(n=0, status=TOO_SMALL))
            continue
        two = size >= 2
        common = {
            "n": size,
            "mean_initial": float(mean_i[i]),
            "sd_initial": float(sd_i[i]) if two else None,
            "mean_final": float(mean_f[i]),
            "sd_final": float(sd_f[i]) if two else None,
            "mean_diff": float(low[i]) if constant[i] else float(mean_d[i]),
        }
        if not two:
            out.append(PrePost(status=TOO_SMALL, **common))
        elif constant[i]:
            out.append(PrePost(status=NO_VARIATION, sd_diff=0.0, df=size - 1, **common))
        else:
            md, sdd = float(mean_d[i]), float(sd_d[i])
            margin = float(crit[i]) * sdd / math.sqrt(size)
            sd_sum = float(sd_i[i] + sd_f[i])
            out.append(
                PrePost(
                    status=FEW if size < MIN_RELIABLE else OK,
                    sd_diff=sdd,
                    t=float(t[i]),
                    df=size - 1,
                    p=float(p[i]),
                    d_z=md / sdd,
                    d_av=md / (sd_sum / 2) if sd_sum > 0 else None,
                    ci_low=md - margin,
                    ci_high=md + margin,
                    **common,
                )
            )
    return out


@dataclass(frozen=True)
class Summary:
    """Five-number summary and mean of some scores (for box-like charts)."""

    n: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    mean: float
    sd: float | None  # sample SD (n - 1); None for one value


def _sum(values: Sequence[float]) -> float:
    """The sum of floats as numpy adds a float64 array (`np.sum`, `np.mean`): pairwise,
    so every statistic shown is the same to the last bit as when numpy computed it."""
    return 0.0 + _pairwise(values, 0, len(values))


def _pairwise(a: Sequence[float], start: int, n: int) -> float:
    """numpy's pairwise_sum: below 8 values one by one; up to 128 in 8 running sums
    (every 8th value) joined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)),
    then the rest one by one; above 128 the two halves (the first a multiple of 8)."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    if n <= 128:
        whole = n - n % 8
        r = []
        for j in range(start, start + 8):
            acc = a[j]
            for i in range(j + 8, start + whole, 8):
                acc += a[i]
            r.append(acc)
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(start + whole, start + n):
            res += a[i]
        return res
    half = n // 2
    half -= half % 8
    return _pairwise(a, start, half) + _pairwise(a, start + half, n - half)


def _percentile(ordered: Sequence[float], q: float) -> float:
    """numpy's percentile (method "linear") of sorted values, q in [0, 1]: the same
    index arithmetic and interpolation (from the upper value when the fraction is
    1/2 or more)."""
    n = len(ordered)
    virtual = (n - 1) * q
    below = math.floor(virtual)
    if virtual >= n - 1:
        return ordered[-1]
    gamma = virtual - below
    a, b = ordered[below], ordered[below + 1]
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)
    return a + diff * gamma


def summarize(values) -> Summary | None:
    """min, quartiles (linear interpolation), max, mean and SD; None without values.
    Plain floats, computed as numpy's percentile, mean and std(ddof=1) do (the tests
    check the same bits) without importing it."""
    data = [float(v) for v in values]
    n = len(data)
    if n == 0:
        return None
    ordered = sorted(data)
    mean = _sum(data) / n
    sd = None
    if n > 1:
        squares = []
        for x in data:
            dev = x - mean
            squares.append(dev * dev)
        sd = math.sqrt(_sum(squares) / (n - 1))
    return Summary(
        n=n,
        minimum=ordered[0],
        q1=_percentile(ordered, 0.25),
        median=_percentile(ordered, 0.5),
        q3=_percentile(ordered, 0.75),
        maximum=ordered[-1],
        mean=mean,
        sd=sd,
    )


# -- per class and per rombel -------------------------------------------------------------


@dataclass(frozen=True)
class GroupResult:
    """The test for one group: the whole class (rombel_id None) or one rombel."""

    rombel_id: int | None
    name: str | None  # the rombel's name; None for the whole class
    peserta: int  # peserta in the group
    result: PrePost
    pairs: tuple[Pair, ...] = field(repr=False, default=())

    @property
    def missing(self) -> int:
        """Peserta of the group without both scores."""
        return self.peserta - self.result.n


def peserta_ids(db: Session, inst: CourseInstance) -> Sequence[int]:
    """The class's peserta in ascending ids (one query, ids only: cheap for very large
    classes), as an array of 8-byte integers: a list of 100,000 ids would take 3.6 MB."""
    return array(
        "q",
        _rows(
            db,
            select(Membership.user_id)
            .where(Membership.context_pk == inst.context_pk, Membership.role == PESERTA)
            .order_by(Membership.user_id),
        ).scalars(),
    )


def by_group(
    db: Session,
    inst: CourseInstance,
    rombel_id: int | None = None,
    *,
    rombel_ids: Collection[int] | None = None,
) -> list[GroupResult]:
    """The whole class, then one row per rombel (by name). Given `rombel_id` or
    `rombel_ids` (a mentor's rombel), only those rombel's rows: no whole-class row,
    so nothing about other rombel shows. Linear in the class size: pairs are bucketed
    by rombel once and the rombel's tests are computed together (`paired_tests`)."""
    wanted = set(rombel_ids or ()) | ({rombel_id} if rombel_id is not None else set())
    limited = rombel_id is not None or rombel_ids is not None
    everyone = peserta_ids(db, inst)
    all_pairs = pairs(db, inst, everyone)
    groups = [
        (rid, name)
        for rid, name in _rows(
            db,
            select(Rombel.id, Rombel.name)
            .where(Rombel.instance_id == inst.id)
            .order_by(Rombel.name, Rombel.id),
        )
        if not limited or rid in wanted
    ]
    out: list[GroupResult] = []
    if not limited:
        out.append(GroupResult(None, None, len(everyone), paired_test(all_pairs), tuple(all_pairs)))
    if not groups:
        return out
    ids = {rid for rid, _n in groups}
    on_roster = set(everyone)
    rombel_of = {
        uid: rid
        for uid, rid in _rows(
            db,
            select(RombelMember.user_id, RombelMember.rombel_id).where(
                RombelMember.instance_id == inst.id
            ),
        )
        if rid in ids and uid in on_roster
    }
    size: dict[int, int] = defaultdict(int)
    for rid in rombel_of.values():
        size[rid] += 1
    bucket: dict[int, list[Pair]] = {rid: [] for rid in ids}
    for p in all_pairs:
        rid = rombel_of.get(p.user_id)
        if rid is not None:
            bucket[rid].append(p)
    results = paired_tests([bucket[rid] for rid, _n in groups])
    for (rid, name), result in zip(groups, results, strict=True):
        out.append(GroupResult(rid, name, size[rid], result, tuple(bucket[rid])))
    return out
