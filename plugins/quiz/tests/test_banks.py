"""Question banks: the pengampu imports GIFT and Moodle XML (all or nothing, with line
numbers), exports both, and peserta take tests drawn from the imported bank; the same
from the command line."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from lti_tool.db import session
from plugins.quiz import formats
from plugins.quiz.models import QuizBank, QuizQuestion
from plugins.quiz.tests.helpers import TES_AKHIR, attempt_id, ctx_of, load_attempt, start
from tests.conftest import launch_as, make_browser

NEW_BANK = """$CATEGORY: impor/tes-akhir

::IMP-1::Prinsip umpan balik yang efektif adalah ... {=spesifik dan segera ~umum dan tertunda ~hanya berupa nilai}

::IMP-2::Penilaian formatif dilakukan selama proses pembelajaran. {T}

::IMP-3::Berapa JP total modul Guru Pembelajar daring? {#60}

::IMP-4::Istilah untuk tes di akhir setiap sesi adalah tes ... {=sumatif}

::IMP-5::Pilih semua komponen NA. {~%33.33333%PD ~%33.33333%TS ~%33.33334%TA ~%-100%UKG}

::IMP-6::Pasangkan. {=PD -> penilaian diri =TS -> tes sumatif =TA -> tes akhir}
"""

BROKEN = """::B-1::Soal baik {=ya ~tidak}

::B-2::Soal tanpa kurung tutup {=ya ~tidak

::B-3::Soal esai {}
"""


def _banks_url(ctx: int) -> str:
    return f"/c/{ctx}/quiz/banks/gp-pedagogik-a"


def _pengampu(live_tool, lms, browser):
    page = launch_as(live_tool, lms, browser, ["Instructor"], "pengampu1", TES_AKHIR)
    return ctx_of(page.text)


def _count(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(QuizQuestion))


def test_pengampu_imports_a_gift_bank_and_the_test_uses_it(live_tool, lms, browser):
    app = live_tool.app
    ctx = _pengampu(live_tool, lms, browser)
    page = browser.get(live_tool.url(_banks_url(ctx)))
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    done = browser.post(
        live_tool.url(_banks_url(ctx)),
        data={"bank": "tes-akhir", "format": "gift"},
        files={"file": ("bank.gift", NEW_BANK.encode(), "text/plain")},
    )
    assert done.status_code == 200, done.text
    with app.app_context():
        names = set(session().scalars(select(QuizQuestion.name)))
    assert names == {f"IMP-{i}" for i in range(1, 7)}
    # a peserta's attempt draws from the imported questions
    with make_browser() as guru:
        page = launch_as(live_tool, lms, guru, ["Learner"], "guru1", TES_AKHIR)
        begun = start(live_tool, guru, page.text)
        attempt = load_attempt(app, attempt_id(begun.url))
        assert {s["snap"]["name"] for s in attempt.slots} == names


def test_a_malformed_file_is_refused_whole_with_line_numbers(live_tool, lms, browser):
    app = live_tool.app
    ctx = _pengampu(live_tool, lms, browser)
    browser.get(live_tool.url(_banks_url(ctx)))
    refused = browser.post(
        live_tool.url(_banks_url(ctx)),
        data={"bank": "baru", "format": "gift"},
        files={"file": ("bank.gift", BROKEN.encode(), "text/plain")},
    )
    assert refused.status_code == 400
    assert "baris 3" in refused.text or "line 3" in refused.text
    assert "baris 5" in refused.text or "line 5" in refused.text
    assert _count(app) == 0  # B-1 was fine, but nothing is half-imported
    with app.app_context():
        assert session().scalars(select(QuizBank)).all() == []
    # not a bank name, no file
    bad = browser.post(
        live_tool.url(_banks_url(ctx)), data={"bank": "Nama Salah", "format": "gift"}
    )
    assert bad.status_code == 400 and _count(app) == 0


def test_export_round_trips_through_both_formats(live_tool, lms, browser):
    ctx = _pengampu(live_tool, lms, browser)
    browser.get(live_tool.url(_banks_url(ctx)))
    browser.post(
        live_tool.url(_banks_url(ctx)),
        data={"bank": "impor", "format": "gift"},
        files={"file": ("bank.gift", NEW_BANK.encode(), "text/plain")},
    )
    original = formats.parse("gift", NEW_BANK)
    for key, spec in formats.FORMATS.items():
        got = browser.get(live_tool.url(f"{_banks_url(ctx)}/impor.{spec.extension}"))
        assert got.status_code == 200
        assert "attachment" in got.headers["Content-Disposition"]
        back = formats.parse(key, got.content if key != "gift" else got.text)
        assert [q.to_dict() for q in back] == [q.to_dict() for q in original]
        # and the exported file imports again as "unchanged"
        browser.get(live_tool.url(_banks_url(ctx)))
        again = browser.post(
            live_tool.url(_banks_url(ctx)),
            data={"bank": "impor", "format": key},
            files={"file": (f"x.{spec.extension}", io.BytesIO(got.content), "text/plain")},
        )
        assert again.status_code == 200
        assert _count(live_tool.app) == 6


def test_cli_imports_and_exports(app, tmp_path):
    runner = app.test_cli_runner()
    src = tmp_path / "bank.gift"
    src.write_text(NEW_BANK, encoding="utf-8")
    out = runner.invoke(
        args=["questions", "import", "--bank", "ts-1", "--format", "gift", str(src)]
    )
    assert out.exit_code == 0, out.output
    assert "6 added" in out.output
    again = runner.invoke(
        args=["questions", "import", "--bank", "ts-1", "--format", "gift", str(src)]
    )
    assert "0 added" in again.output and "6 unchanged" in again.output
    exported = runner.invoke(args=["questions", "export", "--bank", "ts-1", "--format", "gift"])
    assert exported.exit_code == 0
    assert [q.name for q in formats.parse("gift", exported.stdout)] == [
        f"IMP-{i}" for i in range(1, 7)
    ]
    xml = tmp_path / "bank.xml"
    written = runner.invoke(
        args=[
            "questions",
            "export",
            "--bank",
            "ts-1",
            "--format",
            "moodle-xml",
            "--output",
            str(xml),
        ]
    )
    assert written.exit_code == 0 and xml.read_bytes().lstrip().startswith(b"<?xml")
    broken = tmp_path / "broken.gift"
    broken.write_text(BROKEN, encoding="utf-8")
    refused = runner.invoke(
        args=["questions", "import", "--bank", "ts-2", "--format", "gift", str(broken)]
    )
    assert refused.exit_code != 0
    assert f"{broken}:3:" in refused.output and f"{broken}:5:" in refused.output
    listed = runner.invoke(args=["questions", "list"])
    assert "gp-pedagogik-a\tts-1\t6" in listed.output and "ts-2" not in listed.output
    missing = runner.invoke(args=["questions", "export", "--bank", "nope", "--format", "gift"])
    assert missing.exit_code != 0 and "no bank" in missing.output


def test_replacing_import_retires_questions_left_out(app):
    from plugins.quiz import banks

    with app.app_context():
        db = session()
        qs = formats.parse("gift", NEW_BANK)
        banks.import_questions(db, "gp-pedagogik-a", "b", qs)
        result = banks.import_questions(db, "gp-pedagogik-a", "b", qs[:2], replace=True)
        db.commit()
        assert (result.added, result.unchanged, result.retired) == (0, 2, 4)
        bank = banks.get_bank(db, "gp-pedagogik-a", "b")
        assert [q.name for q in banks.questions_of(db, bank)] == ["IMP-1", "IMP-2"]
        assert banks.banks_of(db, "gp-pedagogik-a")[0][1] == 2


def test_shipped_template_banks_are_checked_by_the_loader(tmp_path):
    import shutil
    from pathlib import Path

    import pytest

    from course_templates.loader import TemplateError, load_template
    from lti_tool.activities import ActivityRegistry

    src = Path(__file__).resolve().parents[3] / "tests" / "data" / "templates"
    shutil.copytree(src, tmp_path / "t")
    registry = ActivityRegistry.discover()
    from tests.activity_types import TestGraded

    registry.add(TestGraded)
    path = tmp_path / "t" / "gp-pedagogik-a.yaml"
    load_template(path, registry)  # as shipped: fine
    bank = tmp_path / "t" / "files" / "gp-pedagogik-a" / "banks" / "tes-akhir.gift"
    bank.write_text(bank.read_text() + "\n::X::Esai {}\n", encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        load_template(path, registry)
    assert "tes-akhir.gift:" in str(err.value)
    bank.write_text(NEW_BANK[:200].rsplit("\n", 1)[0] + "\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="holds 1 questions, not 6"):
        load_template(path, registry)
