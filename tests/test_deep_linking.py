"""Deep Linking 2.0 against the platform peer, which verifies the signed response."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import LaunchData


def _pick(browser, result, refs):
    picker = result.final_response
    assert picker.status_code == 200, picker.text[:300]
    return browser.post(picker.url, data={"item": refs}, allow_redirects=False)


def test_several_items_in_one_signed_response(live_tool, lms, browser):
    result = lms.launch(browser, roles=["Instructor"], message_type="LtiDeepLinkingRequest")
    assert result.ok, result.error
    text = result.final_response.text
    assert "Tempatkan konten di kursus Anda" in text
    for ref in (
        "m:gp-pedagogik-a",
        "b:gp-pedagogik-a/sesi-1",
        "a:gp-pedagogik-a/sesi-1/tes-sumatif",
    ):
        assert f'value="{ref}"' in text
    page = _pick(
        browser,
        result,
        [
            "m:gp-pedagogik-a",
            "b:gp-pedagogik-a/sesi-2",
            "a:gp-pedagogik-a/sesi-1/tes-sumatif",
            "a:gp-pedagogik-a/sesi-1/penilaian-diri",
        ],
    )
    assert page.status_code == 200
    back = lms.submit_deep_link_form(browser, page)
    assert back.status_code == 200, lms.deep_link_errors
    (response,) = lms.deep_link_responses
    items = response.items
    assert [i["type"] for i in items] == ["ltiResourceLink"] * 4
    by_url = {i["url"]: i for i in items}
    module = by_url[live_tool.url("/course/gp-pedagogik-a")]
    assert module["lineItem"] == {
        "scoreMaximum": 100,
        "label": module["title"],
        "resourceId": "m:gp-pedagogik-a",
        "tag": "NA",  # the template's final score
    }
    week = by_url[live_tool.url("/course/gp-pedagogik-a/sesi-2")]
    assert "lineItem" not in week  # a week is not graded by itself
    test = by_url[live_tool.url("/course/gp-pedagogik-a/sesi-1/tes-sumatif")]
    assert test["lineItem"]["tag"] == "TS" and test["lineItem"]["resourceId"].endswith(
        "tes-sumatif"
    )
    pd = by_url[live_tool.url("/course/gp-pedagogik-a/sesi-1/penilaian-diri")]
    assert pd["lineItem"]["tag"] == "PD"
    # the launch data is used once
    with get_db(live_tool.app).sessionmaker() as db:
        assert db.scalars(select(LaunchData)).first() is None
    again = _pick(browser, result, ["m:gp-pedagogik-a"])
    assert again.status_code == 403


def test_placed_link_launches_into_its_target(live_tool, lms, browser):
    result = lms.launch(browser, roles=["Instructor"], message_type="LtiDeepLinkingRequest")
    page = _pick(browser, result, ["a:gp-pedagogik-a/sesi-4/reaksi"])
    assert lms.submit_deep_link_form(browser, page).status_code == 200
    url = lms.deep_link_responses[0].items[0]["url"]
    launch = lms.launch(browser, roles=["Learner"], target_link_uri=url)
    assert launch.ok, launch.error
    assert "Reaksi Peserta" in launch.final_response.text


def test_nothing_chosen_is_a_clear_error(lms, browser):
    result = lms.launch(browser, roles=["Instructor"], message_type="LtiDeepLinkingRequest")
    page = _pick(browser, result, [])
    assert page.status_code == 400
    assert "Pilih setidaknya satu butir untuk ditempatkan." in page.text


def test_single_item_platform(lms, browser):
    result = lms.launch(
        browser,
        roles=["Instructor"],
        message_type="LtiDeepLinkingRequest",
        deep_linking_settings={"accept_multiple": False},
    )
    page = _pick(browser, result, ["m:gp-pedagogik-a", "b:gp-pedagogik-a/sesi-1"])
    assert page.status_code == 400
    assert "hanya menerima satu butir" in page.text
    page = _pick(browser, result, ["m:gp-pedagogik-a"])
    assert lms.submit_deep_link_form(browser, page).status_code == 200


def test_learner_cannot_deep_link(live_tool, lms, browser):
    result = lms.launch(browser, roles=["Learner"], message_type="LtiDeepLinkingRequest")
    assert result.launch_response.status_code == 403
    assert "<code>no_role</code>" in result.launch_response.text


def test_picker_is_bound_to_the_launching_browser(lms, browser):
    from tests.conftest import make_browser

    result = lms.launch(browser, roles=["Instructor"], message_type="LtiDeepLinkingRequest")
    url = result.final_response.url
    stranger = make_browser()
    assert stranger.get(url).status_code == 403
    assert re.search(r"/lti/deep-link/[\w-]+$", url)


def test_modules_without_graded_activities_still_get_their_final_score_column(live_tool):
    """The shipped templates hold no graded activity yet; NA/SP still need a column."""
    from course_templates.loader import install, load_template, shipped_templates
    from lti_tool.lti.deep_linking import placeables

    app = live_tool.app
    with app.app_context():
        from lti_tool.db import session

        db = session()
        registry = app.extensions["lti_activities"]
        for path in shipped_templates():
            install(db, load_template(path, registry), registry)
        db.commit()
        modules = {p.ref: p for p in placeables(db) if p.kind == "module"}
    assert modules["m:plpg-pembekalan"].graded and modules["m:plpg-pembekalan"].tag == "SP"
    assert modules["m:gp-informatika-smp"].graded and modules["m:gp-informatika-smp"].tag == "NA"
