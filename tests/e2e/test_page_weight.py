"""The page-weight budget, in Chromium: every learner page of a module (the course, the
module, each activity of each week, and a PLPG module's) transfers under 60 KB from a
cold cache, compressed, user files excluded; its static files have fingerprinted
names and a year of cache, so loading the page again fetches none of them."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e import harness

pytestmark = pytest.mark.e2e

COURSES = {
    "gp-pedagogik-a": "/course/gp-pedagogik-a",
    "plpg-laporan-uji": "/course/plpg-laporan-uji",
}
YEAR = 365 * 24 * 3600


def _learner_pages(b) -> list[tuple[str, str]]:
    """The module page's own URL and every activity it links to."""
    pages = [("module", b.js("return location.href;"))]
    for link in b.finds("ol.activities a"):
        href = link.get_attribute("href")
        pages.append(("/".join(urlsplit(href).path.split("/")[-2:]), href))
    return pages


def _check_static(load: harness.PageLoad) -> list[str]:
    problems = []
    for t in load.transfers:
        if "/static/" not in urlsplit(t.url).path or t.from_cache:
            continue
        version = parse_qs(urlsplit(t.url).query).get("v", [""])[0]
        if not re.fullmatch(r"[0-9a-f]{12}", version):
            problems.append(f"{t.url} has no fingerprint")
        max_age = re.search(r"max-age=(\d+)", t.headers.get("cache-control", ""))
        if not max_age or int(max_age.group(1)) < YEAR:
            problems.append(f"{t.url} is cached for less than a year: {t.headers}")
    return problems


def test_every_learner_page_is_light_and_cached(lms_browser):
    b = lms_browser
    b.lang = "id"
    measured: list[harness.PageLoad] = []
    problems: list[str] = []
    for n, (module, target) in enumerate(COURSES.items()):
        b.open_course(
            f"{module}: launch",
            roles=["Learner"],
            user={"sub": "guru-bobot", "name": "Guru Bobot"},
            resource_link={"id": f"rl-{module}", "title": module},
            target_link_uri=b.tool.url(target),
        )
        pages = _learner_pages(b)
        if n == 0:
            course_home = re.sub(r"/module/.*$", "", b.path())
            pages.insert(0, ("course", b.tool.url(course_home)))
        for name, url in pages:
            b.driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            cold = b.visit(url, f"{module}: {name}")
            measured.append(cold)
            document = next(
                t
                for t in cold.transfers
                if t.headers.get("content-type", "").startswith("text/html")
            )
            if document.bytes > harness.BUDGET_BYTES:
                problems.append(f"{cold.name}: {cold.total} B")
            elif cold.total > harness.BUDGET_BYTES:
                problems.append(f"{cold.name}: {cold.total} B with its files")
            if document.headers.get("content-encoding") != "gzip" and document.bytes > 2048:
                problems.append(f"{cold.name}: the page is not compressed")
            problems += _check_static(cold)
            again = b.visit(url, f"{module}: {name} (again)")
            problems += [f"{again.name}: fetched {t.url} again" for t in again.static_fetched]
    report = harness.write_weights(b.test_name, measured)
    assert len(measured) > 40  # the course, both modules, every activity
    assert not problems, f"see {report}: {problems}"
