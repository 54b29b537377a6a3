"""Staff paths in real Chromium inside the LMS iframe: a mentor scores a PLPG progress
report, and a pengampu places a module and an activity through Deep Linking (the
signed response goes back to the LMS, whose placed link then launches)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.db import get_db
from tests.e2e import harness

pytestmark = pytest.mark.e2e

REPORT_PAGE = "/course/plpg-laporan-uji/studi-mandiri/laporan-kemajuan"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PLPG = {"id": "kelas-plpg", "title": "PLPG Gelombang 1"}


def _as(b, who: str, name: str, roles: list[str], target: str, **launch):
    """A new person at the same browser: the LMS session changes, cookies go."""
    b.driver.delete_all_cookies()
    b.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    return b.open_course(
        name,
        roles=roles,
        user={"sub": who, "name": who.replace("-", " ").title()},
        target_link_uri=b.tool.url(target),
        **launch,
    )


def test_a_mentor_scores_a_plpg_progress_report(lms_browser, tmp_path):
    from lti_tool.models import CourseInstance, User
    from lti_tool.services import roster
    from plugins.laporan.models import LaporanSubmission

    b = lms_browser
    b.lang = "en"
    # the peserta uploads report 1 from the activity page
    _as(b, "guru-plpg", "laporan (peserta)", ["Learner"], REPORT_PAGE, context=PLPG, locale="en")
    report = tmp_path / "Laporan1_guru.pdf"
    report.write_bytes(PDF)
    b.find("#file-1").send_keys(str(report))
    b.submit("form:has(#file-1) button[type=submit]", "laporan uploaded")
    assert report.name in b.text()

    # the mentor launches once; the class's rombel gets them as its mentor
    _as(b, "mentor-plpg", "laporan (mentor)", ["Mentor"], REPORT_PAGE, context=PLPG, locale="en")
    with get_db(b.tool.app).sessionmaker() as db:
        users = {u.sub: u.id for u in db.scalars(select(User))}
        inst = db.scalars(
            select(CourseInstance).where(CourseInstance.module_key == "plpg-laporan-uji")
        ).one()
        rombel = roster.create_rombel(db, inst, "A", users["mentor-plpg"])
        roster.assign(db, inst, users["guru-plpg"], rombel.id, by=users["mentor-plpg"])
        db.commit()

    matrix = _as(b, "mentor-plpg", "matrix", ["Mentor"], REPORT_PAGE, context=PLPG, locale="en")
    assert "Rombel A" in b.text() and "Guru Plpg" in b.text()
    assert matrix.total < harness.BUDGET_BYTES
    b.shoot("laporan-matrix")
    b.click("table.laporan-matrix th a", "review")
    b.fill("#score-1", "85,5")
    b.fill("#comment-1", "Laporan lengkap; tambahkan refleksi pada bagian akhir.")
    b.submit("form:has(#score-1) button[type=submit]", "review saved")
    assert b.finds(".laporan-review p.ok")
    b.shoot("laporan-review")
    with get_db(b.tool.app).sessionmaker() as db:
        row = db.scalars(
            select(LaporanSubmission).where(
                LaporanSubmission.user_id == users["guru-plpg"],
                LaporanSubmission.state == "submitted",
            )
        ).one()
        assert (row.score, row.report_key) == ("85.5", "1")
        assert row.comment.startswith("Laporan lengkap")

    # the peserta sees the score and the comment
    _as(b, "guru-plpg", "laporan scored", ["Learner"], REPORT_PAGE, context=PLPG, locale="en")
    assert "85.5" in b.text() and "tambahkan refleksi" in b.text()


def test_a_pengampu_places_content_by_deep_linking(lms_browser, e2e_lms):
    b = lms_browser
    b.lang = "en"
    before = len(e2e_lms.deep_link_responses)
    picker = _as(
        b,
        "pengampu-dl",
        "deep-linking picker",
        ["Instructor"],
        "/lti/launch",
        message_type="LtiDeepLinkingRequest",
        locale="en",
    )
    assert "/lti/deep-link/" in picker.url
    b.shoot("deep-linking-picker")
    for ref in ("m:gp-pedagogik-a", "a:gp-pedagogik-a/sesi-2/reaksi"):
        b.find(f"input[name=item][value='{ref}']").click()
    b.find("form button[type=submit]").click()
    harness.wait_until(
        lambda: len(e2e_lms.deep_link_responses) > before or e2e_lms.deep_link_errors,
        15,
        "the signed deep-linking response at the LMS",
    )
    assert not e2e_lms.deep_link_errors, e2e_lms.deep_link_errors[-1].error
    items = e2e_lms.deep_link_responses[-1].items
    urls = [i["url"] for i in items]
    assert urls == [
        b.tool.url("/course/gp-pedagogik-a"),
        b.tool.url("/course/gp-pedagogik-a/sesi-2/reaksi"),
    ]
    harness.wait_until(
        lambda: "Content added" in b.driver.find_element("tag name", "body").text,
        10,
        "the LMS's confirmation in the frame",
    )

    # the placed activity launches a peserta straight into it
    _as(
        b,
        "guru-dl",
        "placed link",
        ["Learner"],
        "/course/gp-pedagogik-a/sesi-2/reaksi",
        locale="en",
    )
    assert "Reaksi Peserta" in b.text() and b.finds("fieldset.faces")
