"""The Alembic migrations build exactly the tables the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from lti_tool.db import Base, get_db


def test_models_match_migrations(app):
    with get_db(app).engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_up_again(app):
    from alembic import command

    from lti_tool.migrate import alembic_config, upgrade

    cfg = alembic_config(app)
    with get_db(app).engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    upgrade(app)
    with get_db(app).engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_core_migrations_have_one_head(app):
    """A new core revision has one parent (plugins keep branches of their own)."""
    from alembic.script import ScriptDirectory

    from lti_tool.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(app))
    core = [h for h in script.get_heads() if not script.get_revision(h).branch_labels]
    assert core == ["0022_merge_heads"]
    with get_db(app).engine.connect() as conn:
        applied = set(MigrationContext.configure(conn).get_current_heads())
    assert "0022_merge_heads" in applied and not applied & {"0014", "0018", "0019"}


def test_a_database_on_the_six_old_heads_upgrades_to_the_merge(app):
    """Instances migrated before the merge hold 0014-0018 and 0021 as their heads."""
    from lti_tool.migrate import upgrade

    old = {"0014", "0015", "0016", "0017", "0018", "0021_activity_score_by_user"}
    with get_db(app).engine.begin() as conn:  # the merge changes no table: only this
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0022_merge_heads'"))
        for head in sorted(old):
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    with get_db(app).engine.connect() as conn:
        assert old <= set(MigrationContext.configure(conn).get_current_heads())
    upgrade(app)
    with get_db(app).engine.connect() as conn:
        heads = set(MigrationContext.configure(conn).get_current_heads())
        assert "0022_merge_heads" in heads and not heads & old
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
