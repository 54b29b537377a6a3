"""The first attempt of a quiz imports its question bank from the template, reading
before it writes. On SQLite another request committing between that read and the first
write made the import fail at once with "database is locked" (a 500 for the peserta
who opened the quiz first); the import now takes the write lock before it reads."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from lti_tool.db import get_db
from plugins.quiz import banks

GIFT = "::q1:: Ibu kota Indonesia? {=Jakarta ~Bandung ~Medan}\n"


def _other_writer(app) -> tuple[threading.Thread, list]:
    """Another connection that writes and commits (waiting for the lock if need be)."""
    engine = create_engine(str(get_db(app).engine.url))
    done: list = []

    def write() -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=10000")
            conn.execute(text("INSERT INTO scratch_writes (x) VALUES (1)"))
            conn.commit()
        done.append(True)

    return threading.Thread(target=write), done


def test_bank_import_survives_a_commit_between_its_read_and_its_write(app, db, tmp_path):
    if get_db(app).engine.dialect.name != "sqlite":
        pytest.skip("a SQLite snapshot conflict; PostgreSQL locks rows instead")
    with get_db(app).engine.begin() as conn:
        conn.execute(text("CREATE TABLE scratch_writes (x INTEGER)"))
    (tmp_path / "bank.gift").write_text(GIFT)
    module = SimpleNamespace(
        key="gp-pedagogik-a",
        definition={
            "resources": {
                "question_banks": [
                    {"key": "lock-test", "file": "bank.gift", "title": "Uji", "format": "gift"}
                ]
            }
        },
    )
    writer, done = _other_writer(app)
    real_import = banks.import_questions

    def import_after_a_concurrent_commit(session, *args, **kwargs):
        session.execute(text("SELECT count(*) FROM quiz_bank")).scalar()  # the read
        writer.start()  # another request commits now (or waits for our lock)
        writer.join(0.5)
        return real_import(session, *args, **kwargs)

    banks.import_questions = import_after_a_concurrent_commit
    try:
        bank = banks.ensure_template_bank(db, module, tmp_path, "lock-test")
    finally:
        banks.import_questions = real_import
    writer.join(15)
    assert bank is not None and bank.name == "lock-test"
    assert len(banks.questions_of(db, bank)) == 1
    assert done == [True]  # the other writer went on after the import committed
    with get_db(app).engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM scratch_writes")).scalar() == 1
