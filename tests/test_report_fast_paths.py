"""The fast paths of the class reports against the slow ones they replace: XLSX data
rows written as XML equal XlsxWriter's own output byte for byte, CSV cells equal the
formatter's, the paired t-test in plain floats equals the numpy version bit for bit
(p and the CI, from student_t, within 1e-12),
the streamed pairs equal the dictionary ones, and a whole-class grade recap (a file)
equals its pages (the screen) row for row."""

from __future__ import annotations

import io
import math
import os
import random
import tempfile
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest

from lti_tool.analysis import prepost
from lti_tool.analysis.prepost import Pair, Pairs
from lti_tool.models import Context
from lti_tool.reports import writers
from lti_tool.reports.base import Column, Filters, Table, kinds, sliced
from lti_tool.services import roster, scores
from lti_tool.services.instances import instance_for
from tests.conftest import add_member

D = Decimal


class Lazy:
    """Not a str, shown as one (as flask-babel's lazy strings)."""

    def __str__(self) -> str:
        return "=lazy & <text>"


TRICKY_TEXT = [
    "Siti Rahayu",
    "",
    " leading space",
    "trailing space ",
    "tab\tinside",
    "two\nlines",
    "carriage\rreturn",
    "bell\x07 and \x1f unit",
    "markup & <b>bold</b> \"quoted\" 'single'",
    "<r>looks rich</r>",
    "<r>half rich",
    "_x0041_ literal escape",
    "_x00 not one",
    "non\ufffecharacter \uffff",
    "emoji 😀 and ẞ",
    "=HYPERLINK(1)",
    "+62 812",
    "-5",
    "@user",
    "\u00a0nbsp edge\u2003",
    "x" * 16_383,
    "y" * 16_384,
    "😀" * 16_400,  # over Excel's 32,767 UTF-16 units: truncated
    "a" * 32_760 + "😀😀😀😀",
]

TRICKY_NUMBERS = [
    0,
    1,
    -7,
    123_456_789_012_345_678,
    D("82.50"),
    D("82.5"),
    D("0.00"),
    D("-0.00"),
    D("1E+3"),
    D("1.2E-7"),
    D("33.33333333333333333333333333"),
    D("99999999999999999.99"),
]


def _tables() -> list[Table]:
    rng = random.Random(3)
    columns = [
        Column("No", "int", width=6),
        Column("Text", width=20),
        Column("Number", "number", 2),
        Column("Whole", "number", 0),
        Column("Day", "date"),
        Column("At", "datetime"),
        Column("Free"),  # any type at all
    ]
    values = [*TRICKY_TEXT, *TRICKY_NUMBERS, True, False, 1.5, Lazy(), None]
    rows = []
    for n in range(1, 400):
        rows.append(
            (
                n,
                rng.choice(TRICKY_TEXT),
                rng.choice([*TRICKY_NUMBERS, None]),
                rng.choice([None, 3, D("4.5")]),
                rng.choice([None, date(2026, 7, 13), date(1900, 1, 1), date(1900, 3, 1)]),
                rng.choice([None, datetime(2026, 7, 13, 1, 30, 15), datetime(2026, 1, 1, 17, 0)]),
                rng.choice(values),
            )
        )
    rows.insert(50, (None,) * 7)  # no cell: no row
    rows.insert(60, (61, "longer row", D("1"), 2, None, None, "x", "dropped", 99))
    rows.append((None, None, None, None, None, None, None))  # the last rows have no cell
    rows.append((None,) * 7)
    single = [(1, "only", D("5.25"), None, None, None, None)]
    notes = Column("Item"), Column("Value", width=80)
    return [
        Table("main", "Scores: main [1]", columns, sliced(lambda: iter(rows)), note="a note"),
        Table("empty", "Empty", columns[:2], sliced(lambda: iter([]))),
        Table("empty-note", "Empty", columns[:2], sliced(lambda: iter([])), note="none yet"),
        Table("single", "Single", columns, sliced(lambda: iter(single))),
        Table("notes", "Notes", notes, sliced(lambda: iter([("a", "b & c"), ("", " ")]))),
    ]


def _reference_xlsx(tables: list[Table], timezone: str) -> bytes:
    """The workbook with every cell through XlsxWriter's API (the code before the fast
    rows), packed by XlsxWriter itself."""
    import xlsxwriter

    out = io.BytesIO()
    with tempfile.TemporaryDirectory() as work:
        book = xlsxwriter.Workbook(
            out,
            {
                "constant_memory": True,
                "tmpdir": work,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        fmt = writers.Formatter(timezone, decimal_comma=False)
        assert writers._fill(book, tables, fmt, work, fast=False) == {}
        book.close()
    return out.getvalue()


def _fast_xlsx(tables: list[Table], timezone: str) -> bytes:
    out = io.BytesIO()
    with tempfile.TemporaryDirectory() as work:
        writers.write_xlsx(tables, out, timezone=timezone, tmpdir=work)
        assert os.listdir(work) == []  # its temporary files are gone
    return out.getvalue()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("max_rows", [None, 7], ids=["one-sheet", "continued"])
def test_fast_xlsx_equals_xlsxwriter_byte_for_byte(monkeypatch, max_rows):
    if max_rows:
        monkeypatch.setattr(writers, "XLSX_MAX_ROWS", max_rows)
    fast = _parts(_fast_xlsx(_tables(), "Asia/Jakarta"))
    reference = _parts(_reference_xlsx(_tables(), "Asia/Jakarta"))
    assert list(fast) == list(reference)  # the same files in the same order
    for name, data in reference.items():
        assert fast[name] == data, name
    sheets = [n for n in fast if n.startswith("xl/worksheets/sheet")]
    assert len(sheets) == 5 if max_rows is None else len(sheets) > 60


def test_fast_xlsx_reads_back(tmp_path):
    import openpyxl

    path = tmp_path / "r.xlsx"
    path.write_bytes(_fast_xlsx(_tables(), "Asia/Jakarta"))
    book = openpyxl.load_workbook(path, read_only=True)
    main = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert main[0] == ["No", "Text", "Number", "Whole", "Day", "At", "Free"]
    assert [r[0] for r in main[1:6]] == [1, 2, 3, 4, 5]
    assert [61, "longer row", 1] in [r[:3] for r in main]
    assert len(book.worksheets) == 5
    book.close()


def test_fast_xlsx_refuses_nan_as_xlsxwriter_does():
    table = Table(
        "t", "T", [Column("N", "number")], sliced(lambda: iter([(D(1),), (D("NaN"),), (D(2),)]))
    )
    with pytest.raises(TypeError, match="NAN/INF"):
        _fast_xlsx([table], "Asia/Jakarta")
    with pytest.raises(TypeError, match="NAN/INF"):
        _reference_xlsx([table], "Asia/Jakarta")


def _dense_tables() -> list[Table]:
    """Rows with every cell, each column of one kind (as the grade recap's), written a
    column at a time; among them batches that cannot be (text to escape, outer
    whitespace, "_x", an int of 16 digits, an empty cell, a short row)."""
    rng = random.Random(11)
    columns = [
        Column("No", "int", width=6),
        Column("Name", width=20),
        Column("Score", "number", 2),
        Column("Whole", "number", 0),
        Column("Passed"),
        Column("Any number"),  # no number format
    ]
    numbers = [n for n in TRICKY_NUMBERS if isinstance(n, Decimal)]
    plain = ["Siti Rahayu", "", "Budi_", "xena", "emoji 😀", "=1+1", "@user", "x" * 16_383]
    rows = [
        (n, rng.choice(plain), rng.choice(numbers), D(n % 7), rng.choice(["Ya", "Tidak"]), n * 3)
        for n in range(1, 200)
    ]
    spoilers = {
        23: (23, "markup & <b>", D("1.5"), D(1), "Ya", 1),
        47: (47, " leading", D("1.5"), D(1), "Ya", 1),
        71: (71, "_x0041_", D("1.5"), D(1), "Ya", 1),
        95: (95, "Siti", D("1.5"), D(1), "Ya", 10**16),
        119: (119, "Siti", None, D(1), "Ya", 1),
        143: (143, "Siti", D("1.5"), D(1), "Ya"),
        167: (167, "Siti", D("1.5"), D(1), "Ya", D("2.5")),
    }
    rows = [spoilers.get(row[0], row) for row in rows]
    return [Table("dense", "Dense", columns, sliced(lambda: iter(rows)))]


@pytest.mark.parametrize("batch", [2000, 24, 1], ids=["one-batch", "batches", "row-batches"])
def test_dense_rows_equal_xlsxwriter_byte_for_byte(monkeypatch, batch):
    monkeypatch.setattr(writers, "_XML_FLUSH_ROWS", batch)
    written = []
    dense = writers._SheetRows._dense

    def counted(self, rows):
        found = dense(self, rows)
        written.append(found is not None)
        return found

    monkeypatch.setattr(writers._SheetRows, "_dense", counted)
    fast = _parts(_fast_xlsx(_dense_tables(), "Asia/Jakarta"))
    reference = _parts(_reference_xlsx(_dense_tables(), "Asia/Jakarta"))
    assert list(fast) == list(reference)
    for name, data in reference.items():
        assert fast[name] == data, name
    if batch == 2000:  # one batch, with the spoilers: row by row
        assert written == [False]
    else:  # some batches a column at a time, the spoilers' row by row
        assert any(written) and not all(written)


def _csv(tables: list[Table], indonesian: bool) -> bytes:
    return b"".join(writers.csv_chunks(tables, timezone="Asia/Jakarta", indonesian=indonesian))


@pytest.mark.parametrize("indonesian", [True, False])
@pytest.mark.parametrize("chunk", [500, 24, 1])
def test_csv_by_columns_equals_csv_by_cells(monkeypatch, indonesian, chunk):
    """Chunks of rows written a column at a time give the CSV of every cell through
    `_csv_cell` (the one without `_csv_dense`)."""
    monkeypatch.setattr(writers, "CSV_FLUSH_ROWS", chunk)
    tables = [*_dense_tables(), *_tables()]
    dense = writers._csv_dense
    used = []

    def counted(rows, width, *, comma):
        found = dense(rows, width, comma=comma)
        used.append(found is not None)
        return found

    monkeypatch.setattr(writers, "_csv_dense", counted)
    fast = _csv(tables, indonesian)
    assert any(used) and not all(used)
    monkeypatch.setattr(writers, "_csv_dense", lambda rows, width, *, comma: None)
    assert fast == _csv(tables, indonesian)


@pytest.mark.parametrize("indonesian", [True, False])
def test_csv_cells_equal_the_formatter(indonesian):
    fmt = writers.Formatter("Asia/Jakarta", decimal_comma=indonesian)
    cell = writers._csv_cell(fmt)
    column = Column("x")
    values = [
        *TRICKY_TEXT,
        *TRICKY_NUMBERS,
        D("NaN"),
        D("-Infinity"),
        D("5E+0"),
        True,
        False,
        1.5,
        None,
        Lazy(),
        date(2026, 7, 13),
        datetime(2026, 7, 13, 1, 30),
    ]
    for value in values:
        text = fmt.text(value, column)
        expected = writers.safe_text(text) if isinstance(value, str) else text
        assert cell(value) == expected, repr(value)


# -- the paired t-test ---------------------------------------------------------------------


def _numpy_paired_tests(groups):
    """The previous implementation (numpy bincount over all groups), for comparison."""
    import numpy as np
    from scipy.special import stdtr, stdtrit

    k = len(groups)
    sizes = np.fromiter((len(g) for g in groups), dtype=np.int64, count=k)
    total = int(sizes.sum())
    flat = [p for g in groups for p in g]
    gid = np.repeat(np.arange(k), sizes)
    initial = np.fromiter((float(p.initial) for p in flat), dtype=float, count=total)
    final = np.fromiter((float(p.final) for p in flat), dtype=float, count=total)
    diff = np.fromiter((float(p.final - p.initial) for p in flat), dtype=float, count=total)
    n = sizes.astype(float)

    def mean_sd(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.bincount(gid, weights=x, minlength=k) / n
            dev = x - mean[gid]
            sd = np.sqrt(np.bincount(gid, weights=dev * dev, minlength=k) / (n - 1))
        return mean, sd

    mean_i, sd_i = mean_sd(initial)
    mean_f, sd_f = mean_sd(final)
    mean_d, sd_d = mean_sd(diff)
    tested = sizes >= 2
    with np.errstate(all="ignore"):
        t = mean_d / (sd_d / np.sqrt(n))
        p = 2 * stdtr(n - 1, -np.abs(t))
        crit = stdtrit(n - 1, 0.975)
    return [
        (mean_i[i], sd_i[i], mean_f[i], sd_f[i], mean_d[i], sd_d[i], t[i], p[i], crit[i])
        for i in range(k)
        if tested[i]
    ]


def test_paired_tests_in_floats_equal_numpy_bit_for_bit():
    """Means, SDs and t to the last bit; p and the CI within 1e-12 (student_t)."""
    rng = random.Random(11)
    groups = []
    for size in [0, 1, 2, 3, 5, 8, 40, 500, *[rng.randint(2, 12) for _ in range(300)]]:
        base = [D(rng.randint(0, 10_000)) / 100 for _ in range(size)]
        groups.append(
            [
                Pair(i, b, min(D(100), b + D(rng.randint(-2_000, 4_000)) / 100))
                for i, b in enumerate(base)
            ]
        )
    groups.append([Pair(i, D(50), D(60)) for i in range(6)])  # every difference equal
    groups.append(Pairs(groups[7]))  # the compact form gives the same
    results = prepost.paired_tests(groups)
    expected = iter(_numpy_paired_tests(groups))
    for group, r in zip(groups, results, strict=True):
        if len(group) < 2:
            assert r.t is None
            continue
        mi, si, mf, sf, md, sd, t, p, crit = next(expected)
        assert (r.mean_initial, r.sd_initial, r.mean_final, r.sd_final) == (mi, si, mf, sf)
        if r.status == prepost.NO_VARIATION:
            assert r.t is None and r.sd_diff == 0.0
            continue
        assert (r.mean_diff, r.sd_diff, r.t) == (md, sd, t)
        # p and t(0.975, df) now come from student_t, not scipy.special: within 1e-12
        assert r.p == pytest.approx(float(p), rel=1e-12, abs=0)
        margin = float(crit) * sd / math.sqrt(len(group))
        scale = 1e-12 * (abs(md) + margin)  # an end near 0 is a difference of the two
        assert r.ci_low == pytest.approx(md - margin, rel=0, abs=scale)
        assert r.ci_high == pytest.approx(md + margin, rel=0, abs=scale)


def test_pairs_behave_as_a_list_of_pairs():
    items = [
        Pair(3, D("50"), D("60.5")),
        Pair(9, D("50.00"), D("70")),
        Pair(12, D("50"), D("60.5")),
    ]
    pairs = Pairs(items)
    assert pairs == items and items == pairs and pairs == tuple(items)
    assert pairs != items[:2] and Pairs() == [] and not Pairs()
    assert list(pairs) == items and tuple(pairs) == tuple(items) and len(pairs) == 3
    assert pairs[1] == items[1] and pairs[-1] == items[-1] and pairs[1:] == items[1:]
    assert str(pairs[1].initial) == "50.00"  # each Decimal kept as it was, not an equal one
    assert repr(pairs) == repr(items)


@pytest.fixture
def scored_class(db):
    """40 peserta with random UKG, reported TA and imported TA scores (some missing),
    a pengampu, and another class's scores."""
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="fp", title="Cepat")
    other = Context(issuer="https://lms", deployment_id="d", context_id="fq", title="Lain")
    db.add_all([ctx, other])
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    other_inst, _ = instance_for(db, other.id, "gp-pedagogik-a")
    from grading.report import report_score

    rng = random.Random(5)
    ta = [a for b in inst.module.blocks for a in b.activities if a.component == "TA"]
    graded = [a for b in inst.module.blocks for a in b.activities if a.component]
    staff = add_member(db, "https://lms", ctx.id, "bu", role="pengampu")
    people = []
    for i in range(40):
        name = rng.choice(["Ani", "Budi", "ani", None, "Çatur", "Zaki"])
        user = add_member(db, "https://lms", ctx.id, f"p{i}", name=name)
        db.flush()
        people.append(user)
        for a in graded:
            if rng.random() < 0.7:
                top = rng.choice(("100", "50", "7"))
                points = D(rng.randint(0, int(top) * 100)) / 100
                report_score(db, context_pk=ctx.id, activity=a, user_id=user.id,
                             score=points, max_score=D(top), source="test")  # fmt: skip
        if rng.random() < 0.2:
            scores.set_manual(db, inst, user.id, "TA", D(rng.randint(0, 10_000)) / 100, by=staff.id)
        if rng.random() < 0.8:
            scores.set_manual(
                db, inst, user.id, "UKG", D(rng.randint(0, 10_000)) / 100, by=staff.id
            )
        scores.set_manual(db, other_inst, user.id, "UKG", D("1"), by=staff.id)
    assert ta
    rombel = roster.create_rombel(db, inst, "Rombel C", None)
    for user in people[::3]:
        roster.assign(db, inst, user.id, rombel.id, staff.id)
    db.flush()
    return db, inst, people, rombel


def test_streamed_pairs_equal_the_dictionary_ones(scored_class, monkeypatch):
    db, inst, people, _rombel = scored_class
    everyone = prepost.peserta_ids(db, inst)
    assert list(everyone) == sorted(p.id for p in people)
    streamed = prepost.pairs(db, inst, everyone)  # ascending: merged as they are read
    shuffled = list(everyone)
    random.Random(2).shuffle(shuffled)
    by_dict = prepost.pairs(db, inst, shuffled)  # any other order: dictionaries
    assert len(streamed) > 10
    assert sorted(by_dict, key=lambda p: p.user_id) == list(streamed)
    assert [p.user_id for p in by_dict] == [
        u for u in shuffled if u in {p.user_id for p in by_dict}
    ]
    # the same with every id read through an IN list or none
    monkeypatch.setattr(prepost, "_FEW", 0)
    assert prepost.pairs(db, inst, everyone) == streamed
    monkeypatch.setattr(prepost, "_FEW", 10_000)
    assert prepost.pairs(db, inst, everyone) == streamed
    ids = set(everyone[:12])
    finals = prepost.final_scores(db, inst, ids)  # read through an IN list
    expected = scores.finals(db, inst, sorted(ids))
    assert finals and set(finals) <= ids
    for uid in ids:
        ta = expected[uid].components["TA"]
        if uid in finals:
            assert finals[uid] == ta
        else:  # no score: pending, or zero once the test has closed
            assert not isinstance(ta, Decimal) or ta == 0


def test_whole_grade_recap_equals_its_pages(app, scored_class):
    db, inst, _people, rombel = scored_class
    with app.test_request_context():
        from lti_tool.i18n import use_locale

        use_locale("id")
        for filters in (Filters(), Filters(rombel_id=rombel.id)):
            table = kinds(app)["grades"].tables(db, inst, filters)[0]
            whole = list(table.all())
            pages = [row for offset in range(0, 60, 7) for row in table.page(offset, 7)]
            assert whole == pages and len(whole) == (40 if filters.rombel_id is None else 14)
