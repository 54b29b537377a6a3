"""Charts as inline SVG for pages that must stay light and work on a 360 px phone.

Every chart is `<svg viewBox=... width="100%" role="img">` with a `<title>` and a
`<desc>` (`aria-labelledby`), so it scales to its column and a screen reader names it;
the page shows the same numbers in a table beside it. Drawn with presentation
attributes only (`fill=`, `font-size=`: not CSS, so a strict `style-src 'self'` policy
allows them), the system font, no script. Every label is escaped. Meaning never rests
on colour alone: bars carry their numbers or keys, lines differ in dash pattern, and
legends name every colour.

Sizes: the drawing is W = 400 units wide. On a 360 px phone the chart column is at
least MIN_RENDERED_PX = 294 px wide (the page's paddings and borders taken off), so
text of FONT = 17 units shows at 17 * 294 / 400 ≈ 12.5 px, never below 12 px.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from flask_babel import gettext as _
from markupsafe import Markup, escape

W = 400
PAD = 6
FONT = 17
MIN_RENDERED_PX = 294
FAMILY = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"

FG = "#1b1f23"
MUTED = "#57606a"
ACCENT = "#0b5cad"
LIGHT = "#cfe0f3"
GRID = "#8c959f"
BAD = "#b42318"
#: Characters of FONT-sized text that fit in the drawing's width (about 0.55 em each).
LINE_CHARS = 40

_ids = itertools.count(1)


@dataclass(frozen=True)
class Category:
    """One answer of a scale in a stacked chart: `key` is drawn on the bar (so the
    colour is not the only cue), `label` is named in the legend."""

    key: str
    label: str
    colour: str


class FiveNumbers(Protocol):
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    mean: float


# -- small pieces -------------------------------------------------------------------------


def _n(x: float) -> str:
    """A coordinate: at most one decimal, no trailing zeros."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def percent(part: float, whole: float) -> int:
    """part / whole in whole percent, half-up (0 when whole is 0)."""
    if not whole:
        return 0
    return int((Decimal(str(part)) * 100 / Decimal(str(whole))).quantize(1, ROUND_HALF_UP))


def number(value: float) -> str:
    """A count as an integer, anything else with one decimal."""
    if float(value).is_integer():
        return str(int(value))
    return f"{float(value):.1f}"


def fit(text: str, chars: int = LINE_CHARS) -> str:
    """The text cut to `chars` characters with an ellipsis (the table has it whole)."""
    text = " ".join(str(text).split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    fill: str = FG,
    bold: bool = False,
    size: int = FONT,
) -> str:
    extra = "" if anchor == "start" else f' text-anchor="{anchor}"'
    if bold:
        extra += ' font-weight="700"'
    if size != FONT:
        extra += f' font-size="{size}"'
    return f'<text x="{_n(x)}" y="{_n(y)}" fill="{fill}"{extra}>{escape(content)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> str:
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(h)}" '
        f'fill="{fill}"{extra}/>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, extra: str = "") -> str:
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}"{extra}/>'
    )


def _frame(title: str, description: str, height: float, body: str) -> Markup:
    n = next(_ids)
    tid, did = f"chart{n}-title", f"chart{n}-desc"
    return Markup(  # noqa: S704 - every piece of text in `body` went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" '
        f'viewBox="0 0 {W} {_n(height)}" width="100%" role="img" '
        f'aria-labelledby="{tid} {did}" font-family="{FAMILY}" font-size="{FONT}">'
        f'<title id="{tid}">{escape(title)}</title><desc id="{did}">{escape(description)}</desc>'
        f"{body}</svg>"
    )


def no_data(title: str, message: str | None = None) -> Markup:
    """A small chart that says there is nothing to draw (instead of an empty frame)."""
    message = message or _("No data yet.")
    return _frame(title, message, 40, _text(W / 2, 26, message, anchor="middle", fill=MUTED))


# -- horizontal bars: a distribution ------------------------------------------------------


def bars(
    title: str,
    description: str,
    rows: Sequence[tuple[str, float]],
    *,
    total: float | None = None,
    colours: Sequence[str] | None = None,
) -> Markup:
    """One bar per row (label above it), length proportional to the value, with the
    value and its share of `total` (default: the sum) written after the bar."""
    values = [float(v) for _label, v in rows]
    if not rows or not any(values):
        return no_data(title)
    whole = float(total) if total is not None else sum(values)
    top = max(values)
    width = W - 2 * PAD - 112  # room for "1000 (100%)" after the longest bar
    step = 56
    parts = []
    for i, ((label, value), v) in enumerate(zip(rows, values, strict=True)):
        y = i * step
        length = width * v / top if top else 0
        colour = colours[i] if colours else ACCENT
        parts.append(_text(PAD, y + 18, fit(label)))
        parts.append(_rect(PAD, y + 25, length, 22, colour, ' class="bar"'))
        parts.append(_text(PAD + length + 6, y + 42, f"{number(value)} ({percent(v, whole)}%)"))
    return _frame(title, description, len(rows) * step + 4, "".join(parts))


# -- 100% stacked bars: one bar per item of a scale ---------------------------------------


def stacked(
    title: str,
    description: str,
    categories: Sequence[Category],
    rows: Sequence[tuple[str, Sequence[int]]],
) -> Markup:
    """Per row a full-width bar split by the categories' shares; each wide enough
    segment shows its key and percentage; a legend names the keys."""
    if not rows or not any(sum(counts) for _label, counts in rows):
        return no_data(title)
    full = W - 2 * PAD
    step = 66
    parts = []
    for i, (label, counts) in enumerate(rows):
        y = i * step
        parts.append(_text(PAD, y + 18, fit(label)))
        total = sum(counts)
        if not total:
            parts.append(
                _rect(PAD, y + 25, full, 30, "#ffffff", f' stroke="{GRID}" stroke-dasharray="4 3"')
            )
            parts.append(
                _text(PAD + full / 2, y + 46, _("no answers"), anchor="middle", fill=MUTED)
            )
            continue
        x = PAD
        for cat, count in zip(categories, counts, strict=True):
            if not count:
                continue
            w = full * count / total
            share = percent(count, total)
            tip = f"{cat.label}: {count} ({share}%)"
            seg = f"<g><title>{escape(tip)}</title>{_rect(x, y + 25, w, 30, cat.colour)}"
            if w >= 66:
                seg += _text(
                    x + w / 2,
                    y + 46,
                    f"{cat.key} · {share}%",
                    anchor="middle",
                    fill="#ffffff",
                    bold=True,
                )
            elif w >= 20:
                seg += _text(x + w / 2, y + 46, cat.key, anchor="middle", fill="#ffffff", bold=True)
            parts.append(seg + "</g>")
            x += w
    y = len(rows) * step + 4
    for j, cat in enumerate(categories):
        parts.append(_rect(PAD, y + j * 26, 18, 18, cat.colour))
        parts.append(_text(PAD + 26, y + j * 26 + 15, fit(f"{cat.key} = {cat.label}", 36)))
    return _frame(title, description, y + len(categories) * 26 + 4, "".join(parts))


# -- columns: a value per week ------------------------------------------------------------


def columns(
    title: str,
    description: str,
    points: Sequence[tuple[str, float | None]],
    *,
    maximum: float = 100.0,
    unit: str = "%",
    axis_label: str | None = None,
) -> Markup:
    """One column per point on a 0..maximum scale, its value written above it (a point
    with no value, e.g. a week not begun, gets a dash and no column)."""
    if not points or all(v is None for _label, v in points):
        return no_data(title)
    left, top, plot_h = 44.0, 30.0, 160.0
    right = W - PAD
    slot = (right - left) / len(points)
    bottom = top + plot_h
    parts = []
    for level in (0.0, 0.5, 1.0):
        y = bottom - plot_h * level
        dash = "" if level == 0 else ' stroke-dasharray="3 4"'
        parts.append(_line(left, y, right, y, GRID, dash))
        parts.append(_text(left - 6, y + 6, number(maximum * level), anchor="end", fill=MUTED))
    for i, (label, value) in enumerate(points):
        cx = left + slot * (i + 0.5)
        if value is None:
            parts.append(_text(cx, bottom - 6, "—", anchor="middle", fill=MUTED))
        else:
            v = min(max(float(value), 0.0), maximum)
            h = plot_h * v / maximum if maximum else 0
            parts.append(_rect(cx - slot * 0.3, bottom - h, slot * 0.6, h, ACCENT, ' class="bar"'))
            if slot >= 44:
                parts.append(
                    _text(
                        cx, bottom - h - 6, f"{number(round(float(value)))}{unit}", anchor="middle"
                    )
                )
        parts.append(_text(cx, bottom + 22, fit(label, max(int(slot // 9), 2)), anchor="middle"))
    height = bottom + 30
    if axis_label:
        parts.append(
            _text((left + right) / 2, height + 18, axis_label, anchor="middle", fill=MUTED)
        )
        height += 26
    return _frame(title, description, height, "".join(parts))


# -- histogram: a score distribution ------------------------------------------------------

DEFAULT_EDGES: tuple[float, ...] = tuple(range(0, 101, 10))


def bin_counts(values: Sequence[float], edges: Sequence[float] = DEFAULT_EDGES) -> list[int]:
    """How many values fall in each bin [edge_i, edge_i+1); the last bin includes its
    upper edge; values outside the edges count in the nearest bin."""
    bins = len(edges) - 1
    if bins < 1:
        raise ValueError("a histogram needs at least two edges")
    counts = [0] * bins
    for v in values:
        i = bisect_right(edges, float(v)) - 1
        counts[min(max(i, 0), bins - 1)] += 1
    return counts


def bin_labels(edges: Sequence[float] = DEFAULT_EDGES) -> list[str]:
    """'0-10', '10-20', ... (each bin holds its lower edge; the last its upper edge too)."""
    return [f"{number(a)}\u2013{number(b)}" for a, b in itertools.pairwise(edges)]


def histogram(
    title: str,
    description: str,
    values: Sequence[float],
    *,
    edges: Sequence[float] = DEFAULT_EDGES,
    mark: float | None = None,
    mark_label: str | None = None,
) -> Markup:
    """Adjacent columns counting the values per bin, counts written above them, and
    an optional dashed, labelled vertical line (the pass mark)."""
    if not values:
        return no_data(title)
    counts = bin_counts(values, edges)
    lo, hi = float(edges[0]), float(edges[-1])
    left, right, top, plot_h = PAD + 14.0, W - PAD - 14.0, 52.0, 150.0
    bottom = top + plot_h
    plot_w = right - left

    def x_of(v: float) -> float:
        return left + (float(v) - lo) / (hi - lo) * plot_w

    tallest = max(counts)
    parts = [_line(left, bottom, right, bottom, GRID)]
    for i, count in enumerate(counts):
        x1, x2 = x_of(edges[i]), x_of(edges[i + 1])
        if count:
            h = plot_h * count / tallest
            parts.append(_rect(x1 + 1, bottom - h, x2 - x1 - 2, h, ACCENT, ' class="bar"'))
            if x2 - x1 >= 24:
                parts.append(_text((x1 + x2) / 2, bottom - h - 6, str(count), anchor="middle"))
    every = 1 if plot_w / max(len(counts), 1) >= 40 else 2
    for i, edge in enumerate(edges):
        if i % every == 0 or i == len(edges) - 1:
            parts.append(_line(x_of(edge), bottom, x_of(edge), bottom + 5, GRID))
            parts.append(_text(x_of(edge), bottom + 22, number(edge), anchor="middle", fill=MUTED))
    if mark is not None and lo <= float(mark) <= hi:
        xm = x_of(mark)
        parts.append(
            _line(xm, top - 18, xm, bottom, BAD, ' stroke-width="2" stroke-dasharray="6 4"')
        )
        label = mark_label or _("Pass mark %(mark)s", mark=number(float(mark)))
        anchor = "end" if xm > W * 0.6 else "start"
        parts.append(
            _text(xm + (-6 if anchor == "end" else 6), top - 24, label, anchor=anchor, fill=BAD)
        )
    return _frame(title, description, bottom + 32, "".join(parts))


# -- box-like summaries: initial and final scores of any number of peserta -----------------


def boxes(
    title: str,
    description: str,
    rows: Sequence[tuple[str, FiveNumbers | None]],
    *,
    lo: float = 0.0,
    hi: float = 100.0,
) -> Markup:
    """Per row: whiskers from lowest to highest, a box over the middle half (Q1-Q3),
    a line at the median and a diamond at the mean, on a shared lo..hi axis."""
    if not rows or all(s is None for _label, s in rows):
        return no_data(title)
    left, right = PAD + 10.0, W - PAD - 14.0

    def x_of(v: float) -> float:
        return left + (min(max(float(v), lo), hi) - lo) / (hi - lo) * (right - left)

    step = 70
    parts = []
    for i, (label, s) in enumerate(rows):
        y = i * step
        if s is None:
            parts.append(_text(PAD, y + 18, fit(f"{label}: —")))
            continue
        parts.append(_text(PAD, y + 18, fit(f"{label}: {_('mean')} {s.mean:.1f}")))
        mid = y + 44
        parts.append(_line(x_of(s.minimum), mid, x_of(s.maximum), mid, FG, ' stroke-width="2"'))
        for end in (s.minimum, s.maximum):
            parts.append(_line(x_of(end), mid - 8, x_of(end), mid + 8, FG, ' stroke-width="2"'))
        parts.append(
            _rect(
                x_of(s.q1),
                mid - 14,
                x_of(s.q3) - x_of(s.q1),
                28,
                LIGHT,
                f' stroke="{ACCENT}" stroke-width="2"',
            )
        )
        parts.append(
            _line(x_of(s.median), mid - 14, x_of(s.median), mid + 14, FG, ' stroke-width="4"')
        )
        cx = x_of(s.mean)
        parts.append(
            f'<path d="M{_n(cx)} {_n(mid - 9)} L{_n(cx + 9)} {_n(mid)} L{_n(cx)} {_n(mid + 9)} '
            f'L{_n(cx - 9)} {_n(mid)} Z" fill="{BAD}" stroke="#ffffff" stroke-width="1.5"/>'
        )
    axis = len(rows) * step + 4
    parts.append(_line(left, axis, right, axis, GRID))
    for k in range(6):
        v = lo + (hi - lo) * k / 5
        parts.append(_line(x_of(v), axis, x_of(v), axis + 5, GRID))
        parts.append(_text(x_of(v), axis + 22, number(v), anchor="middle", fill=MUTED))
    legend = axis + 48
    parts.append(
        _text(PAD, legend, _("Box: middle half (Q1 to Q3); thick line: median"), fill=MUTED)
    )
    parts.append(_text(PAD, legend + 22, _("◆: mean; whiskers: lowest to highest"), fill=MUTED))
    return _frame(title, description, legend + 32, "".join(parts))


# -- slope plot: each peserta's initial and final score -----------------------------------

#: More pairs than this and single lines become a blur: show box summaries instead.
MAX_SLOPES = 60


def slopes(
    title: str,
    description: str,
    pairs: Sequence[tuple[float, float]],
    *,
    left_label: str,
    right_label: str,
    lo: float = 0.0,
    hi: float = 100.0,
) -> Markup:
    """One line per peserta from the initial (left) to the final (right) score: solid
    when it went up, dashed when down, dotted when unchanged; the mean as a thick line."""
    if not pairs:
        return no_data(title)
    x1, x2, top, plot_h = 120.0, 280.0, 40.0, 220.0
    bottom = top + plot_h

    def y_of(v: float) -> float:
        return bottom - (min(max(float(v), lo), hi) - lo) / (hi - lo) * plot_h

    parts = [
        _text(x1, 22, fit(left_label, 14), anchor="middle", bold=True),
        _text(x2, 22, fit(right_label, 14), anchor="middle", bold=True),
        _line(x1, top, x1, bottom, GRID),
        _line(x2, top, x2, bottom, GRID),
    ]
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        parts.append(_text(x1 - 10, y_of(v) + 6, number(v), anchor="end", fill=MUTED))
        parts.append(_text(x2 + 10, y_of(v) + 6, number(v), fill=MUTED))
    styles = {
        "up": (ACCENT, ""),
        "down": (BAD, ' stroke-dasharray="7 4"'),
        "same": (MUTED, ' stroke-dasharray="2 3"'),
    }
    tally = {"up": 0, "down": 0, "same": 0}
    for a, b in pairs:
        kind = "up" if b > a else "down" if b < a else "same"
        tally[kind] += 1
        colour, dash = styles[kind]
        parts.append(
            _line(
                x1, y_of(a), x2, y_of(b), colour, f' stroke-width="1.5" stroke-opacity="0.75"{dash}'
            )
        )
    mean_a = sum(float(a) for a, _b in pairs) / len(pairs)
    mean_b = sum(float(b) for _a, b in pairs) / len(pairs)
    parts.append(_line(x1, y_of(mean_a), x2, y_of(mean_b), FG, ' stroke-width="4"'))
    for x, v in ((x1, mean_a), (x2, mean_b)):
        parts.append(f'<circle cx="{_n(x)}" cy="{_n(y_of(v))}" r="6" fill="{FG}"/>')
    y = bottom + 34
    legend = [
        ("up", _("went up: %(n)s", n=tally["up"])),
        ("down", _("went down: %(n)s", n=tally["down"])),
        ("same", _("unchanged: %(n)s", n=tally["same"])),
    ]
    for i, (kind, text) in enumerate(legend):
        colour, dash = styles[kind]
        parts.append(
            _line(
                PAD, y + i * 24 - 6, PAD + 36, y + i * 24 - 6, colour, f' stroke-width="2.5"{dash}'
            )
        )
        parts.append(_text(PAD + 46, y + i * 24, text))
    y += 3 * 24
    parts.append(_line(PAD, y - 6, PAD + 36, y - 6, FG, ' stroke-width="4"'))
    parts.append(_text(PAD + 46, y, _("mean: %(a)s → %(b)s", a=f"{mean_a:.1f}", b=f"{mean_b:.1f}")))
    return _frame(title, description, y + 12, "".join(parts))
