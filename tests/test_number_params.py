"""Numbers typed into query strings and forms (page, rombel, week, ids): characters
`str.isdigit()` accepts and `int()` refuses ("²"), and more digits than the database's
integers hold, are treated as absent or refused with the page's own answer, never a
500, and change nothing."""

from __future__ import annotations

import pytest

from lti_tool.db import get_db
from lti_tool.web.params import int_param
from tests.conftest import build_app, row_counts
from tests.test_exports import Client, _klass

ODD = ["²", "٣", "1²", "99999999999999999999999", "-1", "1e3", " 7", ""]


@pytest.mark.parametrize(
    ("raw", "most", "expected"),
    [
        ("0", 18, 0),
        ("42", 18, 42),
        ("123456789012345678", 18, 123456789012345678),
        ("1234567890123456789", 18, None),
        ("123", 2, None),
        ("²", 18, None),
        ("٣", 18, None),  # a decimal digit int() would take: ASCII only all the same
        ("-1", 18, None),
        ("+1", 18, None),
        (" 1", 18, None),
        ("1_000", 18, None),
        ("", 18, None),
        (None, 18, None),
    ],
)
def test_number_takes_ascii_digits_only(raw, most, expected):
    assert int_param(raw, most) == expected


@pytest.fixture
def staff(tmp_path):
    app = build_app(tmp_path, JOBS_BACKEND="inline")
    k = _klass(app)
    yield app, k, Client(app, k, "pengampu", "pengampu"), Client(app, k, "mentor1", "mentor")
    get_db(app).engine.dispose()


def test_odd_numbers_in_query_strings_are_no_errors(staff):
    _app, _k, pengampu, mentor = staff
    for raw in ODD:
        for who, path in [
            (pengampu, f"/rekap/grades?page={raw}"),
            (pengampu, f"/sertifikat/kelas?page={raw}&rombel={raw}"),
            (mentor, f"/sertifikat/kelas?rombel={raw}"),
            (pengampu, f"/kelas?grouped={raw}-1-1-1&several={raw}.{raw}"),
        ]:
            r = who.client.get(who.base + path)
            assert r.status_code == 200, (path, r.status_code)
        r = pengampu.client.get(pengampu.base + f"/pertemuan/tm-1?rombel={raw}")
        assert r.status_code == 404, raw
        # the recap's filters refuse what names no rombel or mentor, as for any id
        r = pengampu.client.get(pengampu.base + f"/rekap/grades?rombel={raw}&mentor={raw}")
        assert r.status_code == (400 if raw.strip() else 200), raw


def test_odd_numbers_in_forms_change_nothing(staff):
    app, _k, pengampu, mentor = staff
    before = row_counts(app)
    for raw in ODD:
        r = pengampu.post(pengampu.base + "/laporan", {"week": raw})
        assert r.status_code in (302, 303) and "error=week" in r.headers["Location"], raw
        r = mentor.post(mentor.base + "/laporan", {"week": "1", "rombel_id": raw})
        assert r.status_code in (302, 303) and "error=rombel" in r.headers["Location"], raw
        if raw:
            r = pengampu.post(pengampu.base + "/analisis", {"rombel_id": raw, "text": "x"})
            assert r.status_code == 404, raw
        r = pengampu.post(pengampu.base + "/kelas/assign", {f"rombel-{raw}": raw})
        assert r.status_code < 500, (raw, r.status_code)
    assert row_counts(app) == before
