"""One contract test over every installed activity plugin, and the core's independence
from them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from lti_tool.activities import ActivityRegistry
from lti_tool.db import Base

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = sorted(ActivityRegistry.discover(), key=lambda p: p.name)


@pytest.mark.parametrize("plugin", PLUGINS, ids=[p.name for p in PLUGINS])
def test_plugin_fulfils_the_contract(app, plugin):
    plugin.check()
    assert plugin.title() and plugin.title() != plugin.name
    assert plugin.completion_rules[0] in {"viewed", "submitted", "passed", "graded"}
    # its tables carry its name as prefix, and come from its own migration branch
    own_tables = [t for t in Base.metadata.tables if t.startswith(plugin.name + "_")]
    module_dir = Path(__import__(plugin.__module__, fromlist=["x"]).__file__).parent
    if own_tables:
        assert plugin.migrations_dir is not None and plugin.migrations_dir.is_dir()
        from lti_tool.migrate import alembic_config

        script = ScriptDirectory.from_config(alembic_config(app))
        labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
        assert plugin.name in labels
    if plugin.blueprint is not None:
        assert plugin.blueprint.name == plugin.name
        assert plugin.blueprint.name in app.blueprints
    assert module_dir.parent.name == "plugins" and module_dir.name == plugin.name
    if plugin.translations_dir is not None:  # its own catalog (checked in test_translations)
        assert (plugin.translations_dir / "id" / "LC_MESSAGES" / "messages.po").is_file()
    if plugin.cli is not None:
        assert plugin.cli.name in app.cli.commands
    with app.app_context():
        from lti_tool.db import session, utcnow
        from lti_tool.models import Activity

        db = session()
        assert isinstance(plugin.housekeeping(db, utcnow()), dict)
        db.rollback()
        if plugin.graded:
            # a graded type recomputes a score from submissions: none yet, no score
            activity = db.query(Activity).filter_by(type=plugin.name).first()
            assert activity is not None, "the fixture template has no activity of this type"
            assert plugin.regrade(db, 1, activity, 10**6) is None


def test_core_never_imports_a_plugin_by_name():
    offenders = []
    for path in (ROOT / "lti_tool").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.startswith("plugins")
            ]
    assert offenders == []


ACTIVITIES = {
    "materi": "/course/gp-pedagogik-a/pendahuluan/kebijakan",
    "rencana": "/course/gp-pedagogik-a/pendahuluan/rencana-belajar",
    "smiley": "/course/gp-pedagogik-a/sesi-2/reaksi",
    "evaluasi": "/course/gp-pedagogik-a/penutup/evaluasi",
    "quiz": "/course/gp-pedagogik-a/penutup/tes-akhir",
    "tugas": "/course/gp-pedagogik-a/sesi-1/tugas",
    "penilaian": "/course/gp-pedagogik-a/sesi-1/penilaian-diri",
    "refleksi": "/course/gp-pedagogik-a/sesi-1/refleksi",
    "forum": "/course/gp-pedagogik-a/sesi-1/forum",
    "laporan": "/course/gp-pedagogik-a/penutup/laporan-kemajuan",
}


def test_every_plugin_has_a_fixture_activity():
    assert {p.name for p in PLUGINS} == set(ACTIVITIES)


@pytest.mark.parametrize("name", sorted(ACTIVITIES))
@pytest.mark.parametrize(
    "roles",
    [["Learner"], ["Mentor"], ["Instructor"], ["Administrator"]],
    ids=["peserta", "mentor", "pengampu", "admin"],
)
def test_plugin_pages_open_in_every_role(live_tool, lms, name, roles):
    from tests.conftest import make_browser

    result = lms.launch(
        make_browser(),
        roles=roles,
        user={"sub": "u", "name": "U"},
        target_link_uri=live_tool.url(ACTIVITIES[name]),
    )
    assert result.ok, result.error
    assert result.final_response.status_code == 200


def test_a_graded_type_without_regrade_is_refused():
    from lti_tool.activities import ActivityType, PluginError

    class Ungradable(ActivityType):
        """Graded without regrade"""

        name = "ungradable"
        graded = True
        completion_rules = ("graded",)

    with pytest.raises(PluginError, match="must implement regrade"):
        ActivityRegistry([Ungradable])
