"""Course templates: schema validation (file, line, field, what is expected), plugin
checks, the shipped templates, and the templates CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from course_templates.loader import TemplateError, load_template, shipped_templates
from lti_tool.activities import ActivityRegistry
from tests.activity_types import TestGraded
from tests.conftest import TEST_TEMPLATES

FIXTURE = TEST_TEMPLATES / "gp-pedagogik-a.yaml"


@pytest.fixture
def registry():
    r = ActivityRegistry.discover()
    r.add(TestGraded)
    return r


def test_shipped_templates_are_valid_with_the_installed_plugins():
    registry = ActivityRegistry.discover()  # the real plugins only: no test types
    paths = shipped_templates()
    assert paths
    for path in paths:
        spec = load_template(path, registry)
        assert spec.id == path.stem
        assert spec.activity_types() <= registry.names()


def test_fixture_template_is_valid(registry):
    spec = load_template(FIXTURE, registry)
    assert [b.week for b in spec.blocks] == [1, 2, 3, 4, 5, 6]
    assert sum(b.jp for b in spec.blocks) == 60


def _write(tmp_path: Path, data: dict, name: str | None = None) -> Path:
    """Write a template, with the fixture's files folder beside it."""
    files = TEST_TEMPLATES / "files" / "gp-pedagogik-a"
    target = tmp_path / "files" / "gp-pedagogik-a"
    if not target.exists():
        shutil.copytree(files, target)
    path = tmp_path / f"{name or data.get('id', 'x')}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def _base() -> dict:
    return yaml.safe_load(FIXTURE.read_text())


def _mutate(data: dict, how: str) -> dict:
    """Each broken case of the table below."""
    b1 = data["blocks"][1]
    if how == "bad-mode":
        data["mode"] = "daring-model-9"
    elif how == "weights":
        data["scoring"]["components"][0]["weight"] = 20
    elif how == "component-ungraded":
        b1["activities"][0]["component"] = "TS"
    elif how == "unknown-type":
        b1["activities"][0]["type"] = "kuis"
    elif how == "settings":
        b1["activities"][0]["settings"] = {"pages": [{"title": "x"}]}
    elif how == "duplicate-activity":
        b1["activities"][1]["key"] = b1["activities"][0]["key"]
    elif how == "jp-total":
        data["blocks"][0]["jp"] = 12
    elif how == "gate":
        data["completion_gate"]["require"].append("sesi-9/tes")
    elif how == "weeks-order":
        data["blocks"][1]["week"] = 9
    elif how == "extra-field":
        data["blocks"][0]["minggu"] = 1
    elif how == "predikat":
        data["scoring"]["predikat"][-1]["min"] = 10
    elif how == "graded-materi":
        b1["activities"][0]["graded"] = True
    elif how == "kombinasi-without-meetings":
        data["mode"] = "daring-kombinasi"
        data.pop("meetings")
        data["blocks"][0]["jp_tm"] = 0
    elif how == "id":
        data["id"] = "another-id"
    elif how == "smiley-missing":
        data["smiley"]["sessions"].append("sesi-3")
    return data


# (case, (anchor, needle) of the line the problem must name, message)
CASES = [
    ("bad-mode", (None, "mode: daring-model-9"), "mode: Input should be 'daring-model-1'"),
    (
        "weights",
        (None, "components:"),
        "scoring.components: Value error, component weights must add up to 100, they add up to 110",
    ),
    (
        "component-ungraded",
        ("key: sesi-1", "- key: pengantar"),
        "blocks.1.activities.0: Value error, an activity that feeds a score component must be graded",
    ),
    (
        "unknown-type",
        (None, "type: kuis"),
        "blocks.1.activities.0.type: no installed plugin provides the activity type 'kuis' (installed: ",
    ),
    (
        "settings",
        (None, "- title: x"),
        "blocks.1.activities.0.settings.pages.0.body: Field required",
    ),
    (
        "duplicate-activity",
        (None, "- key: sesi-1"),
        "blocks.1: Value error, activity key 'pengantar' is used twice in this block",
    ),
    ("jp-total", (None, "jp_total: 60"), "jp_total: the blocks add up to 62 JP, not 60"),
    (
        "gate",
        (None, "- sesi-9/tes"),
        "completion_gate.require.4: unknown activity 'sesi-9/tes' (expected block/activity)",
    ),
    ("weeks-order", (None, "blocks:"), "blocks: Value error, blocks must be listed in week order"),
    ("extra-field", (None, "minggu: 1"), "blocks.0.minggu: Extra inputs are not permitted"),
    (
        "predikat",
        (None, "predikat:"),
        "scoring.predikat: Value error, the lowest predikat band must start at 0",
    ),
    (
        "graded-materi",
        ("key: sesi-1", "graded: true"),
        "blocks.1.activities.0.graded: 'materi' activities give no score",
    ),
    (
        "kombinasi-without-meetings",
        (None, "mode: daring-kombinasi"),
        "mode: a daring-kombinasi template needs its face-to-face meetings",
    ),
    ("id", (None, "id: another-id"), "id: must equal the file name 'gp-pedagogik-a'"),
    (
        "smiley-missing",
        ("smiley:", "- sesi-3"),
        "smiley.sessions.2: block 'sesi-3' has no smiley activity",
    ),
]


def _expected_line(path: Path, anchor: str | None, needle: str) -> int:
    lines = path.read_text().splitlines()
    start = 0
    if anchor is not None:
        start = next(i for i, line in enumerate(lines) if anchor in line)
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


@pytest.mark.parametrize(("how", "where", "message"), CASES, ids=[c[0] for c in CASES])
def test_broken_templates_name_file_line_and_field(tmp_path, registry, how, where, message):
    path = _write(tmp_path, _mutate(_base(), how), name="gp-pedagogik-a")
    with pytest.raises(TemplateError) as err:
        load_template(path, registry)
    expected = f"{path}:{_expected_line(path, *where)}: {message}"
    assert expected in str(err.value).splitlines() or any(
        line.startswith(expected) for line in str(err.value).splitlines()
    ), (expected, str(err.value))


def test_an_unknown_type_lists_every_installed_plugin(tmp_path, registry):
    data = _base()
    data["blocks"][0]["activities"][0]["type"] = "kuis"
    path = _write(tmp_path, data, name="gp-pedagogik-a")
    with pytest.raises(TemplateError) as err:
        load_template(path, registry)
    assert f"(installed: {', '.join(sorted(registry.names()))})" in str(err.value)


def test_missing_shipped_file_is_refused(tmp_path, registry):
    data = _base()
    data["blocks"][0]["activities"][0]["settings"] = {
        "files": [{"title": "Modul", "path": "modul.pdf"}]
    }
    path = _write(tmp_path, data, name="gp-pedagogik-a")
    with pytest.raises(TemplateError, match=r"settings\.files\.0\.path: no file .*modul\.pdf"):
        load_template(path, registry)
    (tmp_path / "files" / "gp-pedagogik-a" / "modul.pdf").write_bytes(b"%PDF-1.4\n")
    assert load_template(path, registry).id == "gp-pedagogik-a"


def test_path_escape_is_refused(tmp_path, registry):
    data = _base()
    data["blocks"][0]["activities"][0]["settings"] = {
        "files": [{"title": "x", "path": "../../etc/passwd"}]
    }
    path = _write(tmp_path, data, name="gp-pedagogik-a")
    with pytest.raises(TemplateError, match="relative path inside the template's files folder"):
        load_template(path, registry)


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(TemplateError, match=r"t.yaml:\d+: not valid YAML"):
        load_template(path)


def test_registry_refuses_duplicates_and_broken_plugins():
    from importlib.metadata import EntryPoint

    from lti_tool.activities import PluginError

    registry = ActivityRegistry([TestGraded])
    with pytest.raises(PluginError, match="two plugins provide the activity type 'test_graded'"):
        registry.add(TestGraded)
    broken = EntryPoint(name="rusak", value="plugins.tidak_ada:Rusak", group="lti_tool.activities")
    with pytest.raises(PluginError, match=r"activity plugin 'rusak' .* failed to load"):
        ActivityRegistry.discover([broken])
    misnamed = EntryPoint(name="lain", value="plugins.materi.plugin:Materi", group="x")
    with pytest.raises(PluginError, match="the names must match"):
        ActivityRegistry.discover([misnamed])

    class NoName(TestGraded):
        name = ""

    with pytest.raises(PluginError, match="must be a lower-case identifier"):
        ActivityRegistry([NoName])


# -- CLI ---------------------------------------------------------------------------------
def test_validate_command_exit_codes(app, tmp_path):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["templates", "validate", str(FIXTURE)])
    assert ok.exit_code == 0 and "valid (gp-pedagogik-a 1.0)" in ok.output
    bad = _write(tmp_path, _mutate(_base(), "weights"), name="gp-pedagogik-a")
    result = runner.invoke(args=["templates", "validate", str(FIXTURE), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:" in result.output and "must add up to 100" in result.output


def test_import_new_version_keeps_the_old_one(app, tmp_path):
    runner = app.test_cli_runner()
    again = runner.invoke(args=["templates", "import", str(FIXTURE)])
    assert again.exit_code == 0 and "already installed" in again.output
    data = _base()
    data["title"] = "Judul baru"
    changed = _write(tmp_path, data, name="gp-pedagogik-a")
    refused = runner.invoke(args=["templates", "import", str(changed)])
    assert refused.exit_code != 0 and "give the changed template a new version" in refused.output
    data["version"] = "1.1"
    newer = _write(tmp_path, data, name="gp-pedagogik-a")
    assert runner.invoke(args=["templates", "import", str(newer)]).exit_code == 0
    listing = runner.invoke(args=["templates", "list"]).output
    assert (
        "gp-pedagogik-a\t1.0\t" in listing
        and "gp-pedagogik-a\t1.1\tdaring-model-1\tJudul baru" in listing
    )


def test_export_round_trips(app, tmp_path, registry):
    runner = app.test_cli_runner()
    out = tmp_path / "gp-pedagogik-a.yaml"
    shutil.copytree(TEST_TEMPLATES / "files", tmp_path / "files")
    result = runner.invoke(args=["templates", "export", "gp-pedagogik-a", "-o", str(out)])
    assert result.exit_code == 0, result.output
    exported = load_template(out, registry)
    assert exported == load_template(FIXTURE, registry)
    missing = runner.invoke(args=["templates", "export", "nothing"])
    assert missing.exit_code != 0 and "no installed template nothing" in missing.output


def test_unknown_type_is_refused_at_import(app, tmp_path):
    bad = _write(tmp_path, _mutate(_base(), "unknown-type"), name="gp-pedagogik-a")
    result = app.test_cli_runner().invoke(args=["templates", "import", str(bad)])
    assert result.exit_code != 0
    assert "no installed plugin provides the activity type 'kuis'" in result.output
