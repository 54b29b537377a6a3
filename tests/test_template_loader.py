"""Course template validation names file, line and field."""

import pytest

from course_templates.loader import TemplateError, load_template, shipped_templates


def test_shipped_templates_are_valid():
    specs = [load_template(p) for p in shipped_templates()]
    assert specs
    for spec in specs:
        assert [b.week for b in spec.blocks] == sorted(b.week for b in spec.blocks)


def test_error_points_at_line_and_field(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "id: t1\nversion: '1.0'\ntitle: T\nmode: daring-model-1\nblocks:\n"
        "- key: b1\n  title: B\n  week: 1\n  jp: 10\n  activities:\n"
        "  - key: a1\n    type: quiz\n    title: Q\n    component: TS\n"
    )
    with pytest.raises(TemplateError) as err:
        load_template(path)
    message = str(err.value)
    assert f"{path}:11: blocks.0.activities.0" in message
    assert "must be graded" in message


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(TemplateError, match="not valid YAML"):
        load_template(path)
