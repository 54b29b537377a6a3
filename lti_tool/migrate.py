"""Run Alembic from the app: `lti-tool db upgrade` and the test fixtures use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask

from lti_tool.db import get_db

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(app: Flask) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", app.config["DATABASE_URL"].replace("%", "%%"))
    # Plugins add their own version directories (one Alembic branch each).
    plugin_dirs = [
        str(p.migrations_dir)
        for p in app.extensions["lti_activities"]
        if getattr(p, "migrations_dir", None) is not None
    ]
    locations = [str(MIGRATIONS / "versions"), *plugin_dirs]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


def upgrade(app: Flask, revision: str = "heads") -> None:
    cfg = alembic_config(app)
    with get_db(app).engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def revision(app: Flask, message: str, autogenerate: bool = True, head: str | None = None) -> None:
    """A new core migration on top of the core branch (plugins keep branches of their own)."""
    from alembic.script import ScriptDirectory

    cfg = alembic_config(app)
    if head is None:
        script = ScriptDirectory.from_config(cfg)
        core = [h for h in script.get_heads() if not script.get_revision(h).branch_labels]
        head = core[0] if len(core) == 1 else "head"
    with get_db(app).engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(
            cfg,
            message=message,
            autogenerate=autogenerate,
            head=head,
            version_path=str(MIGRATIONS / "versions"),
        )
