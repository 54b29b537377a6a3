"""The rules without a browser: deadlines in the class time zone, the mean to the
digit, file names, comments, settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from plugins.laporan import service
from plugins.laporan.service import LaporanError
from plugins.laporan.settings import LaporanSettings


def test_deadlines_are_entered_in_the_class_time_zone():
    # 23:59 WIB (UTC+7), WITA (UTC+8), WIT (UTC+9) on 31 May 2025, stored as UTC
    assert service.parse_deadline("2025-05-31", "", "Asia/Jakarta") == datetime(
        2025, 5, 31, 16, 59, 59
    )
    assert service.parse_deadline("2025-05-31", "23:59", "Asia/Makassar") == datetime(
        2025, 5, 31, 15, 59, 59
    )
    assert service.parse_deadline("2025-06-01", "08:00", "Asia/Jayapura") == datetime(
        2025, 5, 31, 23, 0, 59
    )
    assert service.parse_deadline("", "", "Asia/Jakarta") is None


@pytest.mark.parametrize(
    ("day", "clock", "code"),
    [
        ("2025-02-30", "", "date"),
        ("31/05/2025", "", "date"),
        ("2025-05-31", "24:00", "date"),
        ("2025-05-31", "7:00", "date"),
        ("1900-01-01", "", "date"),
        ("", "10:00", "time_without_date"),
    ],
)
def test_bad_deadlines_are_refused(day, clock, code):
    with pytest.raises(LaporanError) as exc:
        service.parse_deadline(day, clock, "Asia/Jakarta")
    assert exc.value.code == code


def _rows(*scores):
    return {(1, str(i)): SimpleNamespace(score=s) for i, s in enumerate(scores, 1) if s is not None}


def test_the_activity_score_is_the_mean_half_up_to_two_decimals():
    s = LaporanSettings()
    assert service.aggregate(s, _rows("80", "75", "90.5", "67"), 1) == Decimal("78.13")
    assert service.aggregate(s, _rows("100", "100", "100", "99.99"), 1) == Decimal("100.00")
    assert service.aggregate(s, _rows("0", "0", "0", "0.02"), 1) == Decimal("0.01")  # .005 up
    assert service.aggregate(s, _rows("70", "70", "71", None), 1) is None  # not all scored
    partial = LaporanSettings(aggregate="mean_scored")
    assert service.aggregate(partial, _rows("70", "71", None, None), 1) == Decimal("70.50")
    assert service.aggregate(partial, _rows(None, None, None, None), 1) is None


@pytest.mark.parametrize(
    ("raw", "value"), [("85", "85"), ("85,5", "85.5"), (" 0 ", "0"), ("100.00", "100.00")]
)
def test_scores_parse_exactly(raw, value):
    assert service.parse_score(raw) == Decimal(value)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "missing_file"),
        ("a/b.pdf", "name"),
        ("a\\b.pdf", "name"),
        ("..", "name"),
        ('a"b.pdf', "name"),
        ("a\nb.pdf", "name_control"),
        ("a\u200bb.pdf", "name_control"),
        ("x" * 151, "name_long"),
    ],
)
def test_file_names_with_paths_or_control_characters_are_refused(name, code):
    with pytest.raises(LaporanError) as exc:
        service.check_name(name)
    assert exc.value.code == code


def test_plain_names_pass_unchanged():
    assert service.check_name("Lap1_162204156100_Siti Aminah.pdf") == (
        "Lap1_162204156100_Siti Aminah.pdf"
    )
    assert service.check_name("laporan (revisi) ke-2.docx") == "laporan (revisi) ke-2.docx"


def test_comments_are_plain_text():
    assert service.clean_comment("  baik\r\nsekali\x00 ") == "baik\nsekali"
    assert service.clean_comment("a < b dan c > d") == "a < b dan c > d"
    assert service.clean_comment("   ") is None
    for payload in ("<b>x</b>", "<!-- x -->", "&#106;", "JavaScript: alert(1)"):
        with pytest.raises(LaporanError):
            service.clean_comment(payload)


def test_settings_default_to_the_four_plpg_reports():
    s = LaporanSettings()
    assert [r.key for r in s.reports] == ["1", "2", "3", "4"]
    assert "pedagogik" in s.reports[0].description
    assert all("bidang studi" in r.description for r in s.reports[1:])
    assert s.aggregate == "mean" and s.max_mb == 10


@pytest.mark.parametrize(
    "bad",
    [
        {"reports": [{"key": "1", "title": "A"}, {"key": "1", "title": "B"}]},
        {"reports": []},
        {"types": ["exe"]},
        {"max_mb": 100},
        {"aggregate": "median"},
        {"deadline": "2025-01-01"},
        {"reports": [{"key": "../x", "title": "A"}]},
    ],
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        LaporanSettings.model_validate(bad)


def test_the_template_check_wants_a_graded_activity():
    from plugins.laporan.plugin import Laporan

    def spec(graded):
        activity = SimpleNamespace(type="laporan", graded=graded)
        return SimpleNamespace(blocks=[SimpleNamespace(activities=[activity])])

    assert Laporan.check_template(spec(True), None) == []
    ((loc, message),) = Laporan.check_template(spec(False), None)
    assert loc == ("blocks", 0, "activities", 0, "graded") and "graded: true" in message
