"""LtiSubmissionReviewRequest (LTI Submission Review, AGS 2.0) through the platform peer.

A staff member clicks a grade cell in the LMS gradebook: the launch names the peserta
in `for_user` and the line item in the AGS claim, and lands on the review of that
peserta's work. Every refusal answers the standard error page and writes nothing.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import (
    ActivityLog,
    CourseInstance,
    ResourceLink,
    Rombel,
    RombelMember,
    User,
)
from tests.conftest import make_browser, row_counts

SR = "LtiSubmissionReviewRequest"
FOR_USER = "https://purl.imsglobal.org/spec/lti/claim/for_user"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
TES_AKHIR = "/course/gp-pedagogik-a/penutup/tes-akhir"


def _session(app):
    return get_db(app).sessionmaker()


def _take_quiz(live_tool, lms, sub: str, *, times: int = 1) -> tuple[int, list[int]]:
    """The peserta `sub` opens Tes Akhir (default resource link) and submits `times`
    attempts (unanswered); (the course's ctx, the attempt ids)."""
    ids = []
    with make_browser() as b:
        result = lms.launch(
            b,
            roles=["Learner"],
            user={"sub": sub, "name": sub.title()},
            target_link_uri=live_tool.url(TES_AKHIR),
        )
        assert result.ok, result.error
        page = result.final_response
        ctx = int(re.search(r"/c/(\d+)/", page.text).group(1))
        for _ in range(times):
            start = re.search(r'action="(/c/\d+/quiz/\d+/start)"', page.text).group(1)
            begun = b.post(live_tool.url(start))
            aid = int(re.search(r"/quiz/attempt/(\d+)", begun.url).group(1))
            done = b.post(live_tool.url(f"/c/{ctx}/quiz/attempt/{aid}/submit"), data={})
            assert done.status_code == 200, done.text[:300]
            ids.append(aid)
            page = b.get(live_tool.url(f"/c/{ctx}/module/gp-pedagogik-a/penutup/tes-akhir"))
    return ctx, ids


def _review(lms, browser, for_user, *, roles=("Instructor",), sub="dosen-1", extra=None, **kw):
    claims = {} if for_user is None else {FOR_USER: for_user}
    return lms.launch(
        browser,
        roles=list(roles),
        user={"sub": sub, "name": sub.title()},
        message_type=SR,
        extra_claims={**claims, **(extra or {})},
        **kw,
    )


def _refused(live_tool, result, code: str, before) -> str:
    response = result.launch_response
    assert response is not None, result.error
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert f"<code>{code}</code>" in response.text, response.text
    assert row_counts(live_tool.app) == before
    return response.text


def test_pengampu_lands_on_the_peserta_latest_attempt(live_tool, lms, browser):
    ctx, (first, second) = _take_quiz(live_tool, lms, "guru-1", times=2)
    # the gradebook cell: launched to the tool's default URL, the line item names the quiz
    result = _review(lms, browser, {"user_id": "guru-1", "name": "Guru-1"})
    assert result.ok, result.error
    assert result.launch_response.status_code == 303
    page = result.final_response
    assert page.url.endswith(f"/c/{ctx}/quiz/attempt/{second}"), page.url
    assert "Percobaan 2: Guru-1" in page.text  # the staff review of that peserta's attempt
    app = live_tool.app
    with _session(app) as db:
        dosen = db.scalars(select(User).where(User.sub == "dosen-1")).one()
        log = db.scalars(select(ActivityLog).where(ActivityLog.user_id == dosen.id)).one()
        assert log.event == "submission_review" and log.role == "pengampu"
        assert log.detail.startswith("gp-pedagogik-a/penutup/tes-akhir user ")
        # the review launch does not move the resource link to another target
        link = db.scalars(select(ResourceLink).where(ResourceLink.context_pk == ctx)).one()
        assert link.target == live_tool.url(TES_AKHIR) and log.resource_link_pk == link.id
    # signed in as pengampu of the course: the staff pages open
    assert browser.get(live_tool.url(f"/c/{ctx}/quiz/attempt/{first}")).status_code == 200


def test_review_url_without_resource_link_and_moodle_numeric_user_id(live_tool, lms, browser):
    """The line item's review URL is the activity page (what the deep-linking response
    sets); no resource link claim (optional for this message); Moodle sends its user
    id as a number. A peserta without an attempt: the quiz's results page."""
    with make_browser() as b:
        opened = lms.launch(
            b, roles=["Learner"], user={"sub": "4242"}, target_link_uri=live_tool.url(TES_AKHIR)
        )
        assert opened.ok
    result = _review(
        lms,
        browser,
        {"user_id": 4242},
        target_link_uri=live_tool.url(TES_AKHIR),
        resource_link=None,
        extra={AGS: {"scope": [], "lineitem": lms.url("/ags/other/lineitems/9/lineitem")}},
    )
    assert result.ok, result.error
    assert re.search(r"/c/\d+/quiz/\d+/results$", result.final_response.url)


def test_mentor_reviews_the_peserta_of_their_own_rombel_only(live_tool, lms, browser):
    ctx, (aid,) = _take_quiz(live_tool, lms, "guru-2")
    for sub in ("mentor-a", "mentor-b"):
        with make_browser() as b:
            assert lms.launch(b, roles=["Mentor"], user={"sub": sub}, resource_link={"id": sub}).ok
    app = live_tool.app
    with _session(app) as db:
        ids = dict(db.execute(select(User.sub, User.id)).all())
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == ctx)).one()
        rombel = Rombel(instance_id=inst.id, name="Rombel 1", mentor_id=ids["mentor-a"])
        db.add(rombel)
        db.flush()
        db.add(RombelMember(instance_id=inst.id, rombel_id=rombel.id, user_id=ids["guru-2"]))
        db.commit()
    before = row_counts(app)
    with make_browser() as other:
        refused = _review(lms, other, {"user_id": "guru-2"}, roles=["Mentor"], sub="mentor-b")
        text = _refused(live_tool, refused, "review_not_mentor", before)
        assert "peserta di rombel Anda sendiri" in text
    mine = _review(lms, browser, {"user_id": "guru-2"}, roles=["Mentor"], sub="mentor-a")
    assert mine.ok, mine.error
    assert mine.final_response.url.endswith(f"/quiz/attempt/{aid}")


def test_learner_cannot_send_a_review(live_tool, lms, browser):
    ctx, _ids = _take_quiz(live_tool, lms, "guru-3")
    before = row_counts(live_tool.app)
    result = _review(lms, browser, {"user_id": "guru-3"}, roles=["Learner"], sub="guru-4")
    text = _refused(live_tool, result, "review_not_staff", before)
    assert result.launch_response.status_code == 403
    assert "Aplikasi tidak dapat dibuka" in text  # the standard page, in Bahasa Indonesia
    assert browser.get(live_tool.url(f"/c/{ctx}/")).status_code == 401  # not signed in
    # in the language the launch asks for
    with make_browser() as b:
        english = _review(lms, b, {"user_id": "guru-3"}, roles=["Learner"], locale="en-US")
        text = _refused(live_tool, english, "review_not_staff", before)
        assert "Only the pengampu, an admin kelas or the peserta" in text


def test_unknown_for_user_is_refused(live_tool, lms, browser):
    _take_quiz(live_tool, lms, "guru-5")
    before = row_counts(live_tool.app)
    result = _review(lms, browser, {"user_id": "nobody-here"})
    text = _refused(live_tool, result, "review_unknown_user", before)
    assert "tidak dikenal" in text


def test_for_user_who_is_not_a_peserta_of_the_course_is_refused(live_tool, lms, browser):
    _take_quiz(live_tool, lms, "guru-6")
    with make_browser() as b:  # a peserta of another course
        assert lms.launch(b, user={"sub": "guru-7"}, context={"id": "course-other"}).ok
    with make_browser() as b:  # a colleague of this course
        assert lms.launch(b, roles=["Instructor"], user={"sub": "dosen-2"}).ok
    before = row_counts(live_tool.app)
    for sub in ("guru-7", "dosen-2"):
        with make_browser() as b:
            result = _review(lms, b, {"user_id": sub})
            _refused(live_tool, result, "review_not_peserta", before)


def test_a_line_item_naming_no_activity_is_refused(live_tool, lms, browser):
    with make_browser() as b:  # the default resource link now opens the whole module
        assert lms.launch(
            b, user={"sub": "guru-8"}, target_link_uri=live_tool.url("/course/gp-pedagogik-a")
        ).ok
    before = row_counts(live_tool.app)
    result = _review(lms, browser, {"user_id": "guru-8"})
    _refused(live_tool, result, "review_no_activity", before)


@pytest.mark.parametrize(
    ("for_user", "extra"),
    [
        (None, None),  # no for_user claim
        ("guru-9", None),  # not an object
        ({"name": "Guru"}, None),  # no user_id
        ({"user_id": ""}, None),
        ({"user_id": "guru-9"}, {AGS: {"scope": [], "lineitems": "http://x/li"}}),  # no lineitem
    ],
    ids=["missing", "string", "no-user-id", "empty-user-id", "no-lineitem"],
)
def test_review_claims_are_required(live_tool, lms, browser, for_user, extra):
    _take_quiz(live_tool, lms, "guru-9")
    before = row_counts(live_tool.app)
    result = _review(lms, browser, for_user, extra=extra)
    _refused(live_tool, result, "bad_message", before)


def test_deep_linked_activity_line_items_offer_submission_review(live_tool, lms, browser):
    result = lms.launch(browser, roles=["Instructor"], message_type="LtiDeepLinkingRequest")
    picker = result.final_response
    refs = ["m:gp-pedagogik-a", "a:gp-pedagogik-a/penutup/tes-akhir", "b:gp-pedagogik-a/sesi-1"]
    page = browser.post(picker.url, data={"item": refs}, allow_redirects=False)
    assert lms.submit_deep_link_form(browser, page).status_code == 200, lms.deep_link_errors
    by_url = {i["url"]: i for i in lms.deep_link_responses[0].items}
    quiz = by_url[live_tool.url(TES_AKHIR)]
    assert quiz["lineItem"]["submissionReview"] == {
        "reviewableStatus": ["Submitted", "Completed"],
        "url": live_tool.url(TES_AKHIR),
    }
    # a module's final score has no single work to review; a week has no column
    assert "submissionReview" not in by_url[live_tool.url("/course/gp-pedagogik-a")]["lineItem"]
    assert "lineItem" not in by_url[live_tool.url("/course/gp-pedagogik-a/sesi-1")]
