"""How a course template uses `penilaian`: the settings model and check_template."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_templates.loader import TemplateError, load_template
from plugins.penilaian.tests.helpers import SELF, open_as

TEMPLATE = Path(__file__).parent / "data" / "penilaian-uji.yaml"


def _broken(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = TEMPLATE.read_text(encoding="utf-8").replace("id: penilaian-uji", "id: penilaian-rusak")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "penilaian-rusak.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(app, path: Path) -> str:
    with pytest.raises(TemplateError) as exc:
        load_template(path, app.extensions["lti_activities"])
    return str(exc.value)


def test_the_shipped_test_template_is_valid(app):
    spec = load_template(TEMPLATE, app.extensions["lti_activities"])
    assert len([a for b in spec.blocks for a in b.activities if a.type == "penilaian"]) == 3


def test_an_unknown_rubric_is_reported_where_it_is_used(app, tmp_path):
    path = _broken(tmp_path, ("rubric: rubrik-uji", "rubric: rubrik-lain"))
    text = _problems(app, path)
    line = next(n for n, row in enumerate(path.read_text().splitlines(), 1) if "rubrik-lain" in row)
    assert f"penilaian-rusak.yaml:{line}: blocks.1.activities.1.settings.rubric" in text
    assert "no rubric 'rubrik-lain' in resources.rubrics (defined: rubrik-uji, rubrik-tiga)" in text


def test_the_deliverable_must_be_a_task_of_the_template(app, tmp_path):
    unknown = _problems(
        app, _broken(tmp_path, ("deliverable: sesi-1/tugas", "deliverable: sesi-1/hilang"))
    )
    assert "blocks.1.activities.1.settings.deliverable: unknown activity 'sesi-1/hilang'" in unknown
    other = _problems(
        app, _broken(tmp_path, ("deliverable: sesi-1/tugas", "deliverable: pendahuluan/pengantar"))
    )
    assert "'pendahuluan/pengantar' is a 'materi' activity, not a tugas" in other


def test_settings_that_contradict_each_other_are_refused(app, tmp_path):
    text = _problems(
        app,
        _broken(
            tmp_path,
            ("      moderated_counts: true", "      moderated_counts: true\n      wrong: 1"),
        ),
    )
    assert "settings.wrong: Extra inputs are not permitted" in text
    text = _problems(
        app, _broken(tmp_path, ("      moderation: true\n      moderated", "      moderated"))
    )
    assert "moderated_counts needs moderation: true" in text
    text = _problems(
        app, _broken(tmp_path, ("      deliverable: sesi-1/tugas\n      require", "      require"))
    )
    assert "require_deliverable needs a deliverable" in text


@pytest.mark.parametrize(
    "roles", [["Learner"], ["Mentor"], ["Instructor"], ["Administrator"]],
    ids=["peserta", "mentor", "pengampu", "admin"],
)  # fmt: skip
def test_the_page_opens_in_every_role(live_tool, lms, browser, roles):
    page = open_as(live_tool, lms, browser, "u", SELF, tuple(roles))
    assert "Rubrik Lembar Kerja Sesi 1" in page.text
