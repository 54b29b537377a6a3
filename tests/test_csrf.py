"""State-changing forms need the page's CSRF token; without it nothing changes."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import CourseInstance
from tests.peer import make_browser as plain_browser


def test_post_without_token_is_refused_and_changes_nothing(live_tool, lms):
    browser = plain_browser()  # submits exactly what the test gives it, no token
    result = lms.launch(
        browser,
        roles=["Instructor"],
        user={"sub": "p1", "name": "P"},
        target_link_uri=live_tool.url("/course/gp-pedagogik-a"),
    )
    page = result.final_response.text
    action = live_tool.url(re.search(r'action="([^"]+/dates)"', page).group(1))
    refused = browser.post(action, data={"start_date": "2026-07-13", "timezone": "Asia/Jakarta"})
    assert refused.status_code == 400
    assert "Tidak ada yang diubah" in refused.text
    forged = browser.post(action, data={"start_date": "2026-07-13", "csrf_token": "forged"})
    assert forged.status_code == 400
    with get_db(live_tool.app).sessionmaker() as db:
        assert db.scalars(select(CourseInstance)).one().start_date is None
    # the same form with the page's token goes through
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    ok = browser.post(
        action, data={"start_date": "2026-07-13", "timezone": "Asia/Jakarta", "csrf_token": token}
    )
    assert ok.status_code == 200 and "Tersimpan." in ok.text


def test_platform_initiated_endpoints_need_no_token(live_tool, lms):
    # the whole launch (login GET/POST and the id_token form_post) works without one
    assert lms.launch(plain_browser(), login_method="POST").ok
