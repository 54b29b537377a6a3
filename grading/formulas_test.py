"""The score formulas: NA and SP from the templates, rounding, pending components."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from grading.formulas import (
    PENDING,
    Rule,
    aggregate,
    component_score,
    final_score,
    quantize,
)

D = Decimal
TEMPLATES = Path(__file__).resolve().parent.parent / "course_templates" / "templates"


def rule_of(template: str) -> Rule:
    data = yaml.safe_load((TEMPLATES / f"{template}.yaml").read_text())
    return Rule.from_template(data["scoring"])


def test_na_guru_pembelajar():
    rule = rule_of("gp-daring-model-1")
    ts = aggregate([D(70), D(75), D(80), D(85)], "mean")  # TS is the mean of the session tests
    assert ts == D("77.5")
    result = final_score({"PD": D(80), "TS": ts, "TA": D(90)}, rule)
    # 10% of 80 + 50% of 77.5 + 40% of 90 = 8 + 38.75 + 36
    assert result.value == D("82.75")
    assert result.passed is True and result.predikat == "Baik"


def test_sp_plpg_pass_mark_65():
    rule = rule_of("plpg-pembekalan")
    assert rule.pass_mark == D(65)
    ok = final_score({"proses": D(70), "laporan": D(80), "presentasi": D(60)}, rule)
    assert ok.value == D("69.00") and ok.passed is True  # 21 + 24 + 24
    below = final_score({"proses": D(60), "laporan": D(60), "presentasi": D(69)}, rule)
    assert below.value == D("63.60") and below.passed is False  # 18 + 18 + 27.6
    edge = final_score({"proses": D(65), "laporan": D(65), "presentasi": D(65)}, rule)
    assert edge.value == D("65.00") and edge.passed is True


def test_half_up_rounding_at_the_stated_precision():
    assert quantize(D("82.745"), 2) == D("82.75")
    assert quantize(D("82.744999"), 2) == D("82.74")
    assert quantize(D("64.995"), 2) == D("65.00")
    assert quantize(D("2.5"), 0) == D("3")  # not banker's rounding
    rule = rule_of("gp-daring-model-1")
    # 10% of 33.33 + 50% of 66.67 + 40% of 100 = 3.333 + 33.335 + 40 = 76.668
    assert final_score({"PD": D("33.33"), "TS": D("66.67"), "TA": D(100)}, rule).value == D("76.67")


def test_missing_component_is_pending_until_closed():
    rule = rule_of("gp-daring-model-1")
    ta = next(c for c in rule.components if c.key == "TA")
    assert component_score([], ta, closed=False, rule=rule) is PENDING
    pending = final_score({"PD": D(80), "TS": D(70), "TA": PENDING}, rule)
    assert pending.value is PENDING and pending.passed is None and pending.predikat is None
    closed = component_score([], ta, closed=True, rule=rule)
    assert closed == D(0)  # the GP templates count a missing score as zero once closed
    assert final_score({"PD": D(80), "TS": D(70), "TA": closed}, rule).value == D("43.00")


def test_plpg_keeps_missing_scores_pending_after_close():
    rule = rule_of("plpg-pembekalan")
    presentasi = next(c for c in rule.components if c.key == "presentasi")
    assert component_score([], presentasi, closed=True, rule=rule) is PENDING


def test_predikat_bands_from_the_template():
    rule = rule_of("gp-daring-model-1")
    cases = {
        D(100): "Amat Baik",
        D(91): "Amat Baik",
        D("90.99"): "Baik",
        D(76): "Baik",
        D(61): "Cukup",
        D("60.99"): "Kurang",
        D(0): "Kurang",
    }
    for value, label in cases.items():
        result = final_score({"PD": value, "TS": value, "TA": value}, rule)
        assert result.predikat == label, value


def test_bad_input_is_refused():
    rule = rule_of("gp-daring-model-1")
    with pytest.raises(ValueError, match="0-100"):
        final_score({"PD": D(101), "TS": D(1), "TA": D(1)}, rule)
    with pytest.raises(TypeError, match="Decimal"):
        final_score({"PD": 80.0, "TS": D(1), "TA": D(1)}, rule)
    with pytest.raises(KeyError, match="TA"):
        final_score({"PD": D(80), "TS": D(1)}, rule)
    with pytest.raises(ValueError, match="unknown aggregate"):
        aggregate([D(1)], "median")


def test_every_shipped_template_has_a_usable_rule():
    for path in sorted(TEMPLATES.glob("*.yaml")):
        rule = Rule.from_template(yaml.safe_load(path.read_text())["scoring"])
        assert sum(c.weight for c in rule.components) == 100
        full = final_score({c.key: D(100) for c in rule.components}, rule)
        assert full.value == D(100)
