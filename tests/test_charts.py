"""Server-rendered SVG charts: well-formed, accessible, escaped, proportional, readable
on a 360 px phone, no CSS or script, and a clear "no data" instead of a crash."""

from __future__ import annotations

import re

import pytest
from defusedxml import ElementTree

from lti_tool.analysis.prepost import summarize
from lti_tool.charts import svg

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & "Bu Siti"'
CATS = [
    svg.Category("5", "Very good", "#1b5e20"),
    svg.Category("4", "Good", "#2e7d32"),
    svg.Category("3", "Fair", "#8a6d00"),
]


def parse(markup):
    return ElementTree.fromstring(str(markup))


def all_charts():
    return {
        "bars": svg.bars("T", "D", [("a", 1), ("b", 3)]),
        "stacked": svg.stacked("T", "D", CATS, [("item", [1, 2, 3])]),
        "columns": svg.columns("T", "D", [("1", 50), ("2", 75)], axis_label="Week"),
        "histogram": svg.histogram("T", "D", [10, 55, 70, 99], mark=70),
        "boxes": svg.boxes("T", "D", [("Initial", summarize([40, 50, 60]))]),
        "slopes": svg.slopes("T", "D", [(50, 60), (70, 65)], left_label="A", right_label="B"),
        "empty": svg.no_data("T"),
    }


@pytest.mark.parametrize("name", list(all_charts()))
def test_every_chart_is_well_formed_scalable_and_labelled(name):
    markup = all_charts()[name]
    root = parse(markup)
    assert root.tag == f"{NS}svg"
    assert re.fullmatch(r"0 0 400 \d+(\.\d)?", root.get("viewBox"))
    assert root.get("width") == "100%" and root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{NS}title").get("id") == title_id
    assert root.find(f"{NS}desc").get("id") == desc_id
    assert root.find(f"{NS}title").text == "T"
    # No CSS (a strict style-src policy), no script, no external resources.
    text = str(markup)
    assert "style=" not in text and "<style" not in text and "<script" not in text
    assert "href" not in text and "url(" not in text
    # Text at least 12 px once the 400-unit drawing is 294 px wide (a 360 px phone).
    least = 12 * svg.W / svg.MIN_RENDERED_PX
    assert float(root.get("font-size")) >= least
    for el in root.iter(f"{NS}text"):
        assert float(el.get("font-size", root.get("font-size"))) >= least


def test_ids_differ_between_charts_on_one_page():
    a, b = parse(svg.no_data("A")), parse(svg.no_data("B"))
    assert a.get("aria-labelledby") != b.get("aria-labelledby")


def test_labels_are_escaped_and_stay_text():
    charts = [
        svg.bars(EVIL, EVIL, [(EVIL, 2)]),
        svg.stacked(EVIL, EVIL, [svg.Category(EVIL, EVIL, "#1b5e20")], [(EVIL, [3])]),
        svg.columns(EVIL, EVIL, [(EVIL, 40)]),
        svg.histogram(EVIL, EVIL, [50], mark=60, mark_label=EVIL),
        svg.boxes(EVIL, EVIL, [(EVIL, summarize([1, 2]))]),
        svg.slopes(EVIL, EVIL, [(1, 2)], left_label=EVIL, right_label=EVIL),
        svg.no_data(EVIL, EVIL),
    ]
    for markup in charts:
        assert "<script>" not in str(markup)
        root = parse(markup)  # would fail on a stray "<" or "&"
        assert not list(root.iter("script")) and not list(root.iter(f"{NS}script"))
        texts = [t.text or "" for t in root.iter() if t.text]
        assert any("<script>" in t for t in texts)


def _bars(root):
    return [el for el in root.iter(f"{NS}rect") if el.get("class") == "bar"]


def test_bars_are_proportional_to_values_and_show_count_and_share():
    root = parse(svg.bars("T", "D", [("a", 10), ("b", 20), ("c", 40)]))
    widths = [float(r.get("width")) for r in _bars(root)]
    assert widths[1] == pytest.approx(2 * widths[0], abs=0.1)
    assert widths[2] == pytest.approx(4 * widths[0], abs=0.1)
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "10 (14%)" in texts and "40 (57%)" in texts  # of 70


def test_stacked_segments_split_the_full_width_by_share():
    root = parse(svg.stacked("T", "D", CATS, [("item", [1, 1, 2]), ("nobody", [0, 0, 0])]))
    segments = [g.find(f"{NS}rect") for g in root.iter(f"{NS}g")]
    widths = [float(s.get("width")) for s in segments]
    assert widths == pytest.approx([97, 97, 194], abs=0.1)  # 388 units: 25%, 25%, 50%
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "5 · 25%" in texts and "3 · 50%" in texts  # key and share on the bar
    assert "5 = Very good" in texts  # the legend names each colour
    assert "no answers" in texts
    tips = [t.text for t in root.iter(f"{NS}title")]
    assert "Fair: 2 (50%)" in tips


def test_columns_heights_follow_the_values_and_a_missing_week_is_a_dash():
    root = parse(svg.columns("T", "D", [("1", 25), ("2", 100), ("3", None)]))
    heights = [float(r.get("height")) for r in _bars(root)]
    assert heights == pytest.approx([40, 160])
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "25%" in texts and "100%" in texts and "—" in texts


def test_histogram_bins_and_pass_mark():
    assert svg.bin_counts([0, 9.99, 10, 55, 100, 100]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert svg.bin_counts([-5, 120], [0, 50, 100]) == [1, 1]
    assert svg.bin_labels([0, 50, 100]) == ["0\u201350", "50\u2013100"]
    root = parse(svg.histogram("T", "D", [10, 12, 75], mark=70))
    heights = [float(r.get("height")) for r in _bars(root)]
    assert heights == pytest.approx([150, 75])  # 2 and 1 peserta
    mark = [ln for ln in root.iter(f"{NS}line") if ln.get("stroke-dasharray") == "6 4"]
    assert len(mark) == 1 and float(mark[0].get("x1")) == pytest.approx(20 + 0.7 * 360)
    assert "Pass mark 70" in [t.text for t in root.iter(f"{NS}text")]
    with pytest.raises(ValueError):
        svg.bin_counts([1], [0])


def test_slopes_draw_a_line_per_peserta_with_dashes_for_a_fall():
    root = parse(
        svg.slopes("T", "D", [(50, 60), (70, 65), (40, 40)], left_label="A", right_label="B")
    )
    dashed = [ln.get("stroke-dasharray") for ln in root.iter(f"{NS}line")]
    assert dashed.count("7 4") >= 2  # a fall, and its legend sample
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "went up: 1" in texts and "went down: 1" in texts and "unchanged: 1" in texts
    assert "mean: 53.3 → 55.0" in texts


def test_boxes_place_quartiles_on_the_axis():
    root = parse(svg.boxes("T", "D", [("Initial", summarize([0, 25, 50, 75, 100])), ("X", None)]))
    (box,) = [r for r in root.iter(f"{NS}rect")]
    left, right = svg.PAD + 10, svg.W - svg.PAD - 14
    assert float(box.get("x")) == pytest.approx(left + 0.25 * (right - left), abs=0.1)
    assert float(box.get("width")) == pytest.approx(0.5 * (right - left), abs=0.1)
    assert "X: —" in [t.text for t in root.iter(f"{NS}text")]


@pytest.mark.parametrize(
    "markup",
    [
        svg.bars("T", "D", []),
        svg.bars("T", "D", [("a", 0)]),
        svg.stacked("T", "D", CATS, []),
        svg.stacked("T", "D", CATS, [("a", [0, 0, 0])]),
        svg.columns("T", "D", []),
        svg.columns("T", "D", [("1", None)]),
        svg.histogram("T", "D", []),
        svg.boxes("T", "D", [("a", None)]),
        svg.slopes("T", "D", [], left_label="A", right_label="B"),
    ],
)
def test_empty_data_gives_a_no_data_chart(markup):
    root = parse(markup)
    assert [t.text for t in root.iter(f"{NS}text")] == ["No data yet."]


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_colours_have_enough_contrast():
    # Text colours on the white page, and white key text on the stacked segments.
    for colour in (svg.FG, svg.MUTED, svg.ACCENT, svg.BAD):
        assert contrast(colour, "#ffffff") >= 4.5, colour
    from plugins.evaluasi.views import COLOURS
    from plugins.smiley.views import FACES

    for colour in [*COLOURS.values(), *(c for _v, c, _l in FACES)]:
        assert contrast(colour, "#ffffff") >= 4.5, colour
    # Bars and lines against the page: at least 3:1 (non-text contrast).
    assert contrast(svg.GRID, "#ffffff") >= 3
