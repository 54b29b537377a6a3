"""The certificates class list a page at a time (100 rows, as the grade recap): the
right peserta on each page, the page kept with the rombel filter, bad page numbers,
counts of the whole (filtered) class, and the mentor still seeing their rombel only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lti_tool.certificates import service
from lti_tool.db import get_db
from lti_tool.models import CourseInstance, User
from lti_tool.services import roster, scores
from tests.conftest import add_member, make_browser
from tests.test_certificates import MODULE, TEMPLATE, give

ROW_NAME = re.compile(r'<th scope="row">(?:<a [^>]*>)?([^<]+)')


def _launch(live_tool, lms, roles, sub, name):
    browser = make_browser()
    result = lms.launch(
        browser,
        roles=roles,
        user={"sub": sub, "name": name},
        target_link_uri=live_tool.url(MODULE),
        locale="en",
    )
    assert result.ok, result.error
    ctx = int(re.search(r"/c/(\d+)/", result.final_response.text).group(1))
    return browser, ctx


@pytest.fixture
def big_class(live_tool, lms):
    """130 peserta: 1-120 in the mentor's rombel A, 121-125 in rombel B, 126-130 in
    none. Every third passes, every fifth (not passing) fails, the others are pending;
    every sixth (those who pass, among them) has a certificate."""
    p1, ctx = _launch(live_tool, lms, ["Instructor"], "p1", "Bu Pengampu")
    mentor, _ = _launch(live_tool, lms, ["Mentor"], "mentor", "Pak Mentor")
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == ctx)).one()
        staff = {u.sub: u.id for u in db.scalars(select(User))}
        a = roster.create_rombel(db, inst, "Rombel A", staff["mentor"])
        b = roster.create_rombel(db, inst, "Rombel B", None)
        people = []
        for n in range(1, 131):
            user = add_member(db, "https://lms", ctx, f"p{n:03d}", name=f"Peserta {n:03d}")
            db.flush()
            people.append(user.id)
            if n <= 120:
                roster.assign(db, inst, user.id, a.id, by=staff["p1"])
            elif n <= 125:
                roster.assign(db, inst, user.id, b.id, by=staff["p1"])
            if n % 3 == 0:
                give(db, inst, user.id, "90", "90", "90", by=staff["p1"])
            elif n % 5 == 0:
                give(db, inst, user.id, "50", "50", "50", by=staff["p1"])
        for n in range(6, 131, 6):
            service.issue(db, inst, people[n - 1], template=TEMPLATE, by=staff["p1"])
        db.commit()
        rombels = {"A": a.id, "B": b.id}
    base = live_tool.url(f"/c/{ctx}/module/gp-pedagogik-a/sertifikat/kelas")
    return {"p1": p1, "mentor": mentor, "base": base, "rombels": rombels, "app": live_tool.app}


def names(page) -> list[str]:
    assert page.status_code == 200, page.status_code
    return [name.strip() for name in ROW_NAME.findall(page.text)]


def expected(numbers) -> list[str]:
    return [f"Peserta {n:03d}" for n in numbers]


def passing(numbers) -> int:
    return sum(1 for n in numbers if n % 3 == 0)


def certified(numbers) -> int:
    return sum(1 for n in numbers if n % 6 == 0)


def test_two_pages_of_the_whole_class_with_counts_of_all(big_class):
    p1, base = big_class["p1"], big_class["base"]
    first = p1.get(base)
    assert names(first) == expected(range(1, 101))
    assert "page=2" in first.text and "page=0" not in first.text
    second = p1.get(base + "?page=2")
    assert names(second) == expected(range(101, 131))
    assert "page=1" in second.text and "page=3" not in second.text
    everyone = range(1, 131)
    for page, shown in ((first, range(1, 101)), (second, range(101, 131))):
        assert f"Certificates issued: {certified(everyone)} of 130 peserta." in page.text
        assert f"On this page: {passing(shown)} of {len(shown)} peserta pass." in page.text
        # the buttons, the ZIP and a certificate of the page stay
        assert "/sertifikat/kelas/terbitkan" in page.text and "kelas.zip" in page.text
    assert "Rows 1\u2013100 of 130" in first.text and "Rows 101\u2013130 of 130" in second.text
    # each row's rombel, read for the page's rows
    assert first.text.count("(Rombel A)") == 100 and "(Rombel B)" not in first.text
    assert second.text.count("(Rombel A)") == 20 and second.text.count("(Rombel B)") == 5
    assert len(set(re.findall(r"STTPP/\d{4}/\d{5,}-[0-9A-Z]{5}", first.text))) == certified(
        range(1, 101)
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc", range(1, 101)),
        ("0", range(1, 101)),
        ("-1", range(1, 101)),
        ("%C2%B2", range(1, 101)),  # a superscript two: a digit to str.isdigit, not to int
        ("1.5", range(1, 101)),
        ("3", range(101, 131)),  # past the end: the last page
        ("99999999999999999999999", range(101, 131)),
    ],
)
def test_bad_page_values_are_ignored_or_show_the_last_page(big_class, value, shown):
    page = big_class["p1"].get(big_class["base"] + f"?page={value}")
    assert names(page) == expected(shown)


def test_the_rombel_filter_is_kept_across_pages(big_class):
    p1, base, rombels = big_class["p1"], big_class["base"], big_class["rombels"]
    a = rombels["A"]
    first = p1.get(base + f"?rombel={a}")
    assert names(first) == expected(range(1, 101))
    assert f"rombel={a}" in re.search(r'href="([^"]*page=2[^"]*)"', first.text).group(1)
    second = p1.get(base + f"?rombel={a}&page=2")
    assert names(second) == expected(range(101, 121))
    assert f"Certificates issued: {certified(range(1, 121))} of 120 peserta." in second.text
    assert f"On this page: {passing(range(101, 121))} of 20 peserta pass." in second.text
    back = re.search(r'href="([^"]*page=1[^"]*)"', second.text).group(1)
    assert f"rombel={a}" in back
    # one page: the pass count is the whole filtered class's, as before
    only_b = p1.get(base + f"?rombel={rombels['B']}&page=2")
    assert names(only_b) == expected(range(121, 126))
    assert (
        f"Peserta who pass: {passing(range(121, 126))} of 5. "
        f"Certificates issued: {certified(range(121, 126))}." in only_b.text
    )
    assert "page=" not in only_b.text  # no pager for a single page
    # a rombel that is not this class's: nobody, not a crash
    assert names(p1.get(base + "?rombel=999999&page=2")) == []
    assert names(p1.get(base + "?rombel=abc")) == expected(range(1, 101))


def test_a_mentor_pages_through_their_rombel_only(big_class):
    mentor, base, rombels = big_class["mentor"], big_class["base"], big_class["rombels"]
    first = mentor.get(base)
    assert names(first) == expected(range(1, 101))
    second = mentor.get(base + "?page=2")
    assert names(second) == expected(range(101, 121))
    assert mentor.get(base + "?page=3").text.count('<th scope="row">') == 20
    for page in (first, second):
        assert "kelas.zip" not in page.text and "/terbitkan" not in page.text
        assert "Peserta 121" not in page.text and "Peserta 126" not in page.text
    # the other rombel, asked for by its number: nobody
    assert names(mentor.get(base + f"?rombel={rombels['B']}")) == []


def test_standings_and_certificates_are_read_for_the_page_only(big_class, monkeypatch):
    asked = {"standings": [], "certificates": [], "finals": []}
    real = {
        "standings": service.standings,
        "certificates": service.certificates,
        "finals": scores.finals,
    }

    def spy(name):
        def call(db, inst, user_ids=None, *args, **kwargs):
            asked[name].append(None if user_ids is None else list(user_ids))
            return real[name](db, inst, user_ids, *args, **kwargs)

        return call

    monkeypatch.setattr(service, "standings", spy("standings"))
    monkeypatch.setattr(service, "certificates", spy("certificates"))
    monkeypatch.setattr(scores, "finals", spy("finals"))
    page = big_class["p1"].get(big_class["base"] + "?page=2")
    assert names(page) == expected(range(101, 131))
    for name, calls in asked.items():
        assert len(calls) == 1 and len(calls[0]) == 30, (name, calls)
    with get_db(big_class["app"]).sessionmaker() as db:
        shown = {u.id for u in db.scalars(select(User).where(User.name.in_(names(page))))}
    assert set(asked["standings"][0]) == shown
