"""A suspended local account: `lti-tool users suspend|unsuspend|list`, refused
launches (nothing written), and open sessions that end on their next request."""

from __future__ import annotations

import re

from sqlalchemy import event, select, text

from lti_tool.db import get_db
from lti_tool.models import User
from tests.conftest import launch_as, make_browser, row_counts

MODULE = "/course/gp-pedagogik-a"


def _cli(app, *args):
    result = app.test_cli_runner().invoke(args=["users", *args])
    return result


def _user(app, sub: str) -> User:
    with get_db(app).sessionmaker() as db:
        return db.scalars(select(User).where(User.sub == sub)).one()


def test_cli_suspends_lists_and_restores(live_tool, lms, browser):
    app = live_tool.app
    launch_as(live_tool, lms, browser, ["Learner"], "siti", MODULE)
    launch_as(live_tool, lms, make_browser(), ["Learner"], "budi", MODULE)
    siti = _user(app, "siti")
    listed = _cli(app, "list")
    assert listed.exit_code == 0 and "\tsiti\t" in listed.output and "\tbudi\t" in listed.output
    assert "no suspended users" in _cli(app, "list", "--suspended").output

    done = _cli(app, "suspend", "siti", "--reason", "akun ganda")
    assert done.exit_code == 0, done.output
    assert f"user {siti.id} (Siti) suspended" in done.output
    suspended = _cli(app, "list", "--suspended").output
    assert f"{siti.id}\t" in suspended and "akun ganda" in suspended and "budi" not in suspended
    assert _user(app, "siti").suspended_at is not None

    assert _cli(app, "unsuspend", str(siti.id)).exit_code == 0
    assert _user(app, "siti").suspended_at is None
    assert _user(app, "siti").suspended_reason is None

    missing = _cli(app, "suspend", "nobody@example.id")
    assert missing.exit_code != 0 and "no user 'nobody@example.id'" in missing.output
    for odd in ("²", "9" * 25):  # not ids: looked up as email or sub, not a traceback
        refused = _cli(app, "suspend", odd)
        assert refused.exit_code == 1 and f"no user {odd!r}" in refused.output, refused.output


def test_a_suspended_user_cannot_launch_and_nothing_is_written(live_tool, lms, browser):
    app = live_tool.app
    assert lms.launch(browser, roles=["Learner"], user={"sub": "siti", "name": "Siti"}).ok
    assert _cli(app, "suspend", "siti").exit_code == 0
    before = row_counts(app)
    result = lms.launch(
        make_browser(), roles=["Learner"], user={"sub": "siti", "name": "Siti"}, locale="en-US"
    )
    response = result.launch_response
    assert response.status_code == 403
    assert "Your account is suspended in this tool" in response.text
    assert "<code>account_suspended</code>" in response.text
    assert row_counts(app) == before
    # restored: the next launch works
    assert _cli(app, "unsuspend", "siti").exit_code == 0
    assert lms.launch(make_browser(), roles=["Learner"], user={"sub": "siti"}).ok


def test_an_open_session_ends_on_its_next_request(live_tool, lms, browser):
    app = live_tool.app
    page = launch_as(live_tool, lms, browser, ["Learner"], "siti", MODULE)
    course = live_tool.url(re.search(r'"(/c/\d+/module/[^"]+)"', page.text).group(1))
    assert browser.get(course).status_code == 200
    assert _cli(app, "suspend", "siti").exit_code == 0  # this process: seen at once
    refused = browser.get(course)
    assert refused.status_code == 403
    assert "Akun Anda ditangguhkan di aplikasi ini." in refused.text
    assert browser.get(course).status_code == 401  # the session is gone
    # another person may still launch in this browser
    other = launch_as(live_tool, lms, browser, ["Learner"], "budi", MODULE)
    assert other.status_code == 200 and "Budi" in other.text


def test_the_check_reads_the_database_once_per_cache_period(live_tool, lms, browser):
    """Other processes learn of a suspension from the database, at most every
    LTI_REGISTRY_CACHE_SECONDS; requests in between cost no query."""
    app = live_tool.app
    page = launch_as(live_tool, lms, browser, ["Learner"], "siti", MODULE)
    course = live_tool.url(re.search(r'"(/c/\d+/module/[^"]+)"', page.text).group(1))
    engine = get_db(app).engine
    lookups = []

    def count(conn, cursor, statement, *args):
        if "suspended_at IS NOT NULL" in statement:
            lookups.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        app.extensions["lti_suspended"].invalidate()
        for _ in range(5):
            assert browser.get(course).status_code == 200
        assert len(lookups) == 1
        # a suspension written by another process (not through this one's ORM)
        siti = _user(app, "siti")
        with engine.begin() as conn:
            conn.execute(
                text('UPDATE "user" SET suspended_at = CURRENT_TIMESTAMP WHERE id = :id'),
                {"id": siti.id},
            )
        assert browser.get(course).status_code == 200  # within the cache period
        app.extensions["lti_suspended"].ttl = 0  # the period has passed
        assert browser.get(course).status_code == 403
    finally:
        event.remove(engine, "before_cursor_execute", count)
