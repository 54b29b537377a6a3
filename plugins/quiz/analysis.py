"""Item analysis of a quiz, as Moodle's quiz statistics report defines it.

Computed over each peserta's first finished attempt (so later attempts, which have
seen the questions, do not flatter them):
- facility index: the mean score on the question, as a percent of its mark;
- discrimination index: the correlation (x 100) between the score on the question
  and the score on the rest of the attempt; None when it cannot be computed (fewer
  than two attempts, or no spread in the scores).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from math import sqrt


@dataclass(frozen=True)
class ItemStats:
    question_id: int
    name: str
    qtype: str
    n: int
    facility: Decimal | None
    discrimination: Decimal | None


def _round(x: float) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _correlation(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / sqrt(sxx * syy)


def item_analysis(attempts) -> list[ItemStats]:
    """`attempts`: finished attempts (with `slots` and `fractions`), one per peserta."""
    per_q: dict[int, dict] = {}
    for a in attempts:
        marks = [float(s["snap"].get("default_mark", "1")) for s in a.slots]
        got = [float(f) * m for f, m in zip(a.fractions or [], marks, strict=False)]
        total = sum(got)
        for slot, score, mark in zip(a.slots, got, marks, strict=False):
            entry = per_q.setdefault(
                slot["q"],
                {"name": slot["snap"]["name"], "qtype": slot["snap"]["qtype"], "rows": []},
            )
            entry["rows"].append((score, mark, total - score))
    out = []
    for qid, entry in per_q.items():
        rows = entry["rows"]
        facility = _round(100 * sum(s / m for s, m, _r in rows if m) / len(rows))
        r = _correlation([s for s, _m, _r in rows], [rest for _s, _m, rest in rows])
        out.append(
            ItemStats(
                question_id=qid,
                name=entry["name"],
                qtype=entry["qtype"],
                n=len(rows),
                facility=facility,
                discrimination=None if r is None else _round(100 * r),
            )
        )
    out.sort(key=lambda s: s.name)
    return out
