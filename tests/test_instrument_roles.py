"""Each monitoring instrument through real launches in each role: peserta get the form,
staff get the recap and no form."""

from __future__ import annotations

import pytest

from tests.conftest import make_browser

INSTRUMENTS = {
    "smiley": ("/course/gp-pedagogik-a/sesi-2/reaksi", "Bagaimana sesi ini bagi Anda?", "Rekap"),
    "evaluasi": (
        "/course/gp-pedagogik-a/penutup/evaluasi",
        "Evaluasi penyelenggaraan",
        "Indeks relevansi",
    ),
}
ROLES = {
    "peserta": ["Learner"],
    "mentor": ["Mentor"],
    "pengampu": ["Instructor"],
    "admin": ["Administrator"],
}


@pytest.mark.parametrize("instrument", sorted(INSTRUMENTS))
@pytest.mark.parametrize("role", sorted(ROLES))
def test_instrument_in_each_role(live_tool, lms, instrument, role):
    target, form_marker, recap_marker = INSTRUMENTS[instrument]
    result = lms.launch(
        make_browser(),
        roles=ROLES[role],
        user={"sub": f"u-{role}", "name": role},
        target_link_uri=live_tool.url(target),
    )
    assert result.ok, result.error
    page = result.final_response.text
    if role == "peserta":
        assert form_marker in page and recap_marker not in page
        assert f"/{instrument}/" in page  # the form posts to the plugin
    else:
        assert recap_marker in page and f'action="/c/1/{instrument}/' not in page


def test_meetings_and_reports_pages_by_role(live_tool, lms):
    pages = {}
    for role, roles in ROLES.items():
        browser = make_browser()
        result = lms.launch(
            browser,
            roles=roles,
            user={"sub": f"u-{role}", "name": role},
            target_link_uri=live_tool.url("/course/gp-pedagogik-a"),
        )
        base = live_tool.url("/c/1/module/gp-pedagogik-a")
        pages[role] = (
            browser.get(base + "/pertemuan").status_code,
            browser.get(base + "/laporan").status_code,
        )
        assert result.ok
    assert pages == {
        "peserta": (403, 403),
        "mentor": (200, 200),
        "pengampu": (200, 200),
        "admin": (200, 200),
    }
