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
undefined and says so. scipy (scipy.special only) is imported when a test is
computed, not when the module loads: web workers that never show it do not pay for it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from grading.formulas import aggregate, quantize
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


def _rows(db: Session, statement):
    """Rows straight from the database cursor (Core): the ORM would first build all
    rows of a 100,000-peserta class in memory. Pending changes are flushed first."""
    db.flush()
    return db.connection().execute(statement)


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


def final_scores(db: Session, inst: CourseInstance, user_ids: set[int]) -> dict[int, Decimal]:
    """user id -> final test (TA) score, for those of `user_ids` who have one."""
    how, manual_only, precision = _rule_bits(inst)
    out: dict[int, Decimal] = {}
    if not manual_only:
        feeding = [a.id for b in inst.module.blocks for a in b.activities if a.component == FINAL]
        if feeding:
            order = {aid: i for i, aid in enumerate(feeding)}
            found: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
            rows = _rows(
                db,
                select(
                    ActivityScore.user_id,
                    ActivityScore.activity_id,
                    ActivityScore.score,
                    ActivityScore.max_score,
                ).where(
                    ActivityScore.context_pk == inst.context_pk,
                    ActivityScore.activity_id.in_(feeding),
                ),
            )
            for uid, aid, score, top in rows:
                if uid in user_ids:
                    found[uid].append((order[aid], Decimal(score) * 100 / Decimal(top)))
            for uid, values in found.items():
                values.sort()
                combined = aggregate((v for _i, v in values), how)
                if combined is not None:
                    out[uid] = quantize(combined, precision)
    rows = _rows(
        db,
        select(ManualScore.user_id, ManualScore.value).where(
            ManualScore.instance_id == inst.id, ManualScore.component == FINAL
        ),
    )
    values = _Scores(precision)
    for uid, value in rows:
        if uid in user_ids:
            out[uid] = values[value]
    return out


def initial_scores(db: Session, inst: CourseInstance, user_ids: set[int]) -> dict[int, Decimal]:
    """user id -> the imported initial UKG score, for those of `user_ids` who have one."""
    rows = _rows(
        db,
        select(ManualScore.user_id, ManualScore.value).where(
            ManualScore.instance_id == inst.id, ManualScore.component == INITIAL
        ),
    )
    values = _Scores()
    return {uid: values[value] for uid, value in rows if uid in user_ids}


def pairs(db: Session, inst: CourseInstance, user_ids: list[int]) -> list[Pair]:
    """The peserta among `user_ids` with both an initial UKG and a final TA score, in
    the order of `user_ids`. Two queries for the whole class (rows filtered here, so
    100,000 ids need no giant IN list)."""
    wanted = set(user_ids)
    initial = initial_scores(db, inst, wanted)
    if not initial:
        return []
    final = final_scores(db, inst, wanted & initial.keys())
    out: list[Pair] = []
    seen: set[int] = set()
    for uid in user_ids:
        if uid in final and uid not in seen:  # final only holds ids with an initial score
            seen.add(uid)
            out.append(Pair(uid, initial[uid], final[uid]))
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


def paired_tests(groups: Sequence[Sequence[Pair]]) -> list[PrePost]:
    """The paired t-test of each group (the class, each rombel) with the formulas above,
    vectorised over all groups: a few numpy calls for the 10,000 rombel of a
    100,000-peserta module. p = 2 · P(T_df ≤ -|t|) and t(0.975, df) come from
    scipy.special (stdtr, stdtrit: Student's t CDF and its inverse, what scipy.stats.t
    and ttest_rel use; the tests check equal results): scipy.stats would add 0.7 s and
    about 45 MB to every worker that imports it."""
    import numpy as np

    k = len(groups)
    if k == 0:
        return []
    sizes = np.fromiter((len(g) for g in groups), dtype=np.int64, count=k)
    total = int(sizes.sum())
    flat = [p for g in groups for p in g]
    gid = np.repeat(np.arange(k), sizes)
    initial = np.fromiter((float(p.initial) for p in flat), dtype=float, count=total)
    final = np.fromiter((float(p.final) for p in flat), dtype=float, count=total)
    # Exact (Decimal) differences: equal ones become equal floats, so "all equal" is exact.
    diff = np.fromiter((float(p.final - p.initial) for p in flat), dtype=float, count=total)
    n = sizes.astype(float)

    def mean_sd(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.bincount(gid, weights=x, minlength=k) / n
            dev = x - mean[gid]
            sd = np.sqrt(np.bincount(gid, weights=dev * dev, minlength=k) / (n - 1))
        return mean, sd

    mean_i, sd_i = mean_sd(initial)
    mean_f, sd_f = mean_sd(final)
    mean_d, sd_d = mean_sd(diff)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    filled = sizes > 0
    low = np.full(k, np.nan)
    high = np.full(k, np.nan)
    if total:
        low[filled] = np.minimum.reduceat(diff, offsets[filled])
        high[filled] = np.maximum.reduceat(diff, offsets[filled])
    constant = filled & (low == high)
    tested = (sizes >= 2) & ~constant
    t = np.full(k, np.nan)
    p = np.full(k, np.nan)
    crit = np.full(k, np.nan)
    if tested.any():
        from scipy.special import stdtr, stdtrit

        df = n[tested] - 1
        t[tested] = mean_d[tested] / (sd_d[tested] / np.sqrt(n[tested]))
        p[tested] = 2 * stdtr(df, -np.abs(t[tested]))
        crit[tested] = stdtrit(df, 0.975)
    out = []
    for i in range(k):
        size = int(sizes[i])
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


def summarize(values) -> Summary | None:
    """min, quartiles (linear interpolation), max, mean and SD; None without values."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return None
    q = np.percentile(data, [0, 25, 50, 75, 100])
    return Summary(
        n=int(data.size),
        minimum=float(q[0]),
        q1=float(q[1]),
        median=float(q[2]),
        q3=float(q[3]),
        maximum=float(q[4]),
        mean=float(data.mean()),
        sd=float(data.std(ddof=1)) if data.size > 1 else None,
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


def peserta_ids(db: Session, inst: CourseInstance) -> list[int]:
    """The class's peserta (one query, ids only: cheap for very large classes)."""
    return list(
        _rows(
            db,
            select(Membership.user_id)
            .where(Membership.context_pk == inst.context_pk, Membership.role == PESERTA)
            .order_by(Membership.user_id),
        ).scalars()
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
