"""Final scores from component scores, as the course template defines them.

Pure Python (no Flask, no database): NA = 10% PD + 50% TS + 40% TA for Guru
Pembelajar, SP = 30% proses + 30% laporan + 40% presentasi for PLPG, or whatever
weights a template gives. Arithmetic is Decimal throughout; the one rounding rule is
half-up to the template's `precision` (2 decimals by default), applied to the final
score and to each component as shown, never to intermediate sums.

A component with no score yet is PENDING (not zero) while its activities are open;
once they are closed it counts as the template says (`missing_after_close`: zero, or
pending, e.g. a presentation scored after the online phase). A final score with any
pending component is pending too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

HUNDRED = Decimal(100)


class _Pending:
    """The value of a score that cannot be computed yet."""

    _instance: _Pending | None = None

    def __new__(cls) -> _Pending:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "PENDING"

    def __bool__(self) -> bool:
        return False


PENDING = _Pending()
Score = Decimal | _Pending


def quantize(value: Decimal, precision: int) -> Decimal:
    """Half-up rounding to `precision` decimals (2 -> 82.755 becomes 82.76)."""
    return value.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)


def _check(value: Decimal) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"scores are Decimal, got {type(value).__name__}")
    if value < 0 or value > HUNDRED:
        raise ValueError(f"a score is on a 0-100 scale, got {value}")
    return value


@dataclass(frozen=True)
class Component:
    key: str
    label: str
    weight: Decimal
    aggregate: str = "mean"
    manual: bool = False


@dataclass(frozen=True)
class Band:
    min: Decimal
    label: str


@dataclass(frozen=True)
class Rule:
    """The scoring part of a course template."""

    name: str
    label: str
    components: tuple[Component, ...]
    pass_mark: Decimal | None
    missing_after_close: str
    precision: int
    predikat: tuple[Band, ...]

    @classmethod
    def from_template(cls, scoring: Mapping[str, Any]) -> Rule:
        """From a template's `scoring` mapping (as stored: numbers may be strings)."""
        return cls(
            name=scoring["name"],
            label=scoring["label"],
            components=tuple(
                Component(
                    key=c["key"],
                    label=c["label"],
                    weight=Decimal(str(c["weight"])),
                    aggregate=c.get("aggregate", "mean"),
                    manual=bool(c.get("manual", False)),
                )
                for c in scoring["components"]
            ),
            pass_mark=(
                Decimal(str(scoring["pass_mark"])) if scoring.get("pass_mark") is not None else None
            ),
            missing_after_close=scoring.get("missing_after_close", "zero"),
            precision=int(scoring.get("precision", 2)),
            predikat=tuple(
                Band(Decimal(str(b["min"])), b["label"]) for b in scoring.get("predikat", [])
            ),
        )


def aggregate(values: Iterable[Decimal], how: str) -> Decimal | None:
    """Combine the scores of the activities feeding one component (None: no scores)."""
    scores = [_check(v) for v in values]
    if not scores:
        return None
    if how == "mean":
        return sum(scores, Decimal(0)) / len(scores)
    if how == "sum":
        return min(sum(scores, Decimal(0)), HUNDRED)
    if how == "max":
        return max(scores)
    if how == "last":
        return scores[-1]
    raise ValueError(f"unknown aggregate {how!r}")


def component_score(
    values: Iterable[Decimal], component: Component, *, closed: bool, rule: Rule
) -> Score:
    """One component's score: its activities combined, PENDING while missing and open."""
    combined = aggregate(values, component.aggregate)
    if combined is not None:
        return combined
    if closed and rule.missing_after_close == "zero":
        return Decimal(0)
    return PENDING


@dataclass(frozen=True)
class Result:
    """A final score: the value (rounded) or PENDING, the pass decision, the predikat."""

    value: Score
    passed: bool | None
    predikat: str | None
    components: dict[str, Score]


def predikat_of(value: Decimal, rule: Rule) -> str | None:
    for band in rule.predikat:  # listed from the highest minimum down
        if value >= band.min:
            return band.label
    return None


def final_score(components: Mapping[str, Score], rule: Rule) -> Result:
    """The weighted sum of the components (weights in percent, adding up to 100)."""
    missing = [c.key for c in rule.components if c.key not in components]
    if missing:
        raise KeyError(f"no value for component(s) {', '.join(missing)}")
    shown = {
        k: (quantize(v, rule.precision) if isinstance(v, Decimal) else v)
        for k, v in components.items()
    }
    if any(components[c.key] is PENDING for c in rule.components):
        return Result(PENDING, None, None, shown)
    total = sum(
        (_check(components[c.key]) * c.weight / HUNDRED for c in rule.components), Decimal(0)
    )
    value = quantize(total, rule.precision)
    passed = None if rule.pass_mark is None else value >= rule.pass_mark
    return Result(value, passed, predikat_of(value, rule), shown)
