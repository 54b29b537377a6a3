"""The staff results page of a quiz: its list and item analysis from real attempts,
a mentor's narrowed to their rombel, and what it reads: a few columns of every attempt
(no attempt object with its question snapshots and answers), the snapshots only of the
attempts analysed (each peserta's first finished one), ANALYSIS_BATCH at a time. A
class's snapshots all held at once made it the heaviest staff page (13 MB per request
with 300 peserta and 400 attempts)."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, select

from lti_tool.db import get_db, session
from lti_tool.models import Context
from lti_tool.services import roster
from lti_tool.services.instances import instance_for
from plugins.quiz import analysis, engine
from plugins.quiz import views as quiz_views
from plugins.quiz.models import QuizAttempt
from plugins.quiz.tests.helpers import form_for
from tests.conftest import add_member, build_app

MODULE = "gp-pedagogik-a"


class Browser:
    """A signed-in Flask test client in one course and role."""

    def __init__(self, app, ctx: int, user_id: int, role: str) -> None:
        self.client = app.test_client()
        raw = secrets.token_hex(20)
        with self.client.session_transaction() as s:
            s["uid"] = user_id
            s["name"] = f"user {user_id}"
            s["courses"] = {str(ctx): [role, "Kelas"]}
            s["csrf_token"] = raw
        self.token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post(self, path: str, data: dict | None = None):
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})})

    def text(self, path: str) -> str:
        r = self.client.get(path)
        assert r.status_code == 200, r.status_code
        return r.get_data(as_text=True)


@pytest.fixture
def course(tmp_path):
    """Four peserta: A with two finished attempts (the first partly right), B with one,
    C with one in progress, D with none; a mentor whose rombel holds A and C."""
    app = build_app(tmp_path)
    with app.app_context():
        db = session()
        ctx = Context(issuer="https://lms", deployment_id="d", context_id="q", title="Kelas")
        db.add(ctx)
        db.flush()
        inst, _ = instance_for(db, ctx.id, MODULE)
        people = {
            sub: add_member(db, "https://lms", ctx.id, sub, name=f"Peserta {sub.upper()}").id
            for sub in ("a", "b", "c", "d")
        }
        mentor = add_member(db, "https://lms", ctx.id, "m", role="mentor", name="Mentor").id
        pengampu = add_member(db, "https://lms", ctx.id, "p", role="pengampu", name="P").id
        rombel = roster.create_rombel(db, inst, "Rombel A", mentor)
        for sub in ("a", "c"):
            roster.assign(db, inst, people[sub], rombel.id, by=pengampu)
        quiz = next(a for b in inst.module.blocks for a in b.activities if a.key == "tes-akhir").id
        db.commit()
        ctx_id = ctx.id

    def attempt(sub: str, right: set[int] | None, submit: bool = True) -> int:
        peserta = Browser(app, ctx_id, people[sub], "peserta")
        begun = peserta.post(f"/c/{ctx_id}/quiz/{quiz}/start")
        assert begun.status_code in (302, 303), begun.status_code
        aid = int(re.search(r"/quiz/attempt/(\d+)", begun.headers["Location"]).group(1))
        with app.app_context():
            row = session().get(QuizAttempt, aid)
            data = form_for(row, right)
        if submit:
            done = peserta.post(f"/c/{ctx_id}/quiz/attempt/{aid}/submit", data)
            assert done.status_code in (302, 303), done.status_code
        return aid

    firsts = [attempt("a", {0, 1}), attempt("b", {0})]
    attempt("a", None)
    attempt("c", None, submit=False)
    yield app, ctx_id, quiz, people, mentor, pengampu, firsts
    get_db(app).engine.dispose()


def _expected(app, ctx: int, quiz: int, user_ids: set[int]):
    """(each peserta's attempts as the page lists them, grade, the item analysis of the
    first finished attempts), from the attempts themselves."""
    with app.app_context():
        rows = session().scalars(
            select(QuizAttempt)
            .where(QuizAttempt.context_pk == ctx, QuizAttempt.activity_id == quiz)
            .order_by(QuizAttempt.user_id, QuizAttempt.number)
        )
        by_user: dict[int, list[QuizAttempt]] = {}
        for a in rows:
            if a.user_id in user_ids:
                by_user.setdefault(a.user_id, []).append(a)
        listed = {
            uid: [
                f"#{a.number}: {a.percent if a.state == 'finished' else 'in progress'}"
                for a in atts
            ]
            for uid, atts in by_user.items()
        }
        grades = {
            uid: engine.combine(
                [Decimal(a.percent) for a in atts if a.state == "finished"], "highest"
            )
            for uid, atts in by_user.items()
        }
        firsts = [
            next(a for a in atts if a.state == "finished")
            for atts in by_user.values()
            if any(a.state == "finished" for a in atts)
        ]
        return listed, grades, analysis.item_analysis(firsts), len(firsts)


def _rows(page: str) -> dict[str, tuple[list[str], str]]:
    """The results table: peserta name -> (attempt links' texts, grade)."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    out = {}
    for name, cells in re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', body, re.S):
        tds = re.findall(r"<td>(.*?)</td>", cells, re.S)
        links = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<a [^>]*>(.*?)</a>", tds[0])]
        out[name] = (links, tds[1])
    return out


def test_results_list_and_item_analysis(course):
    app, ctx, quiz, people, mentor, pengampu, _firsts = course
    page = Browser(app, ctx, pengampu, "pengampu").text(f"/c/{ctx}/quiz/{quiz}/results")
    listed, grades, items, analysed = _expected(app, ctx, quiz, set(people.values()))
    rows = _rows(page)
    assert set(rows) == {f"Peserta {s.upper()}" for s in people}
    for sub, uid in people.items():
        links, grade = rows[f"Peserta {sub.upper()}"]
        expected_links = listed.get(uid, [])
        assert len(links) == len(expected_links), (sub, links)
        for got, want in zip(links, expected_links, strict=True):
            assert got.split(":")[0] == want.split(":")[0]
            if "in progress" not in want:  # that one's words are translated
                assert got == want
        assert grade == (str(grades[uid]) if grades.get(uid) is not None else "—")
    assert len(listed[people["a"]]) == 2 and people["d"] not in listed
    assert analysed == 2 and f"({analysed} percobaan)" in page
    assert items  # the analysis has rows, each shown with its figures
    for i in items:
        assert re.search(
            rf"<th scope=\"row\">{re.escape(i.name)}</th><td>[^<]*</td><td>{i.n}</td>"
            rf"<td>{i.facility}</td>",
            page,
        ), i.name

    # A mentor sees their rombel's peserta (A and C) and an analysis of A's first only.
    mine = Browser(app, ctx, mentor, "mentor").text(f"/c/{ctx}/quiz/{quiz}/results")
    assert set(_rows(mine)) == {"Peserta A", "Peserta C"}
    *_, mentor_analysed = _expected(app, ctx, quiz, {people["a"], people["c"]})
    assert mentor_analysed == 1 and "(1 percobaan)" in mine


def test_results_read_snapshots_of_the_analysed_attempts_only_in_batches(course, monkeypatch):
    """No QuizAttempt object is loaded (each would hold its question snapshots and
    answers); `slots` is read only for the analysed attempts, at most ANALYSIS_BATCH per
    statement (1 here), and the page is the same as with one batch."""
    app, ctx, quiz, _people, _mentor, pengampu, firsts = course
    staff = Browser(app, ctx, pengampu, "pengampu")
    url = f"/c/{ctx}/quiz/{quiz}/results"
    whole = staff.text(url)
    loaded: list[int] = []
    slots_reads: list[tuple] = []

    def on_load(target, _context):
        loaded.append(target.id)

    def on_execute(_conn, _cursor, statement, parameters, _context, _many):
        # (finish_overdue's look for attempts whose time is up is not the page's list)
        if "quiz_attempt.slots" in statement and "quiz_attempt.deadline <" not in statement:
            # positional on SQLite, named on PostgreSQL (psycopg)
            values = parameters.values() if isinstance(parameters, dict) else parameters
            slots_reads.append(tuple(values))

    monkeypatch.setattr(quiz_views, "ANALYSIS_BATCH", 1, raising=False)
    engine_ = get_db(app).engine
    event.listen(QuizAttempt, "load", on_load)
    event.listen(engine_, "before_cursor_execute", on_execute)
    try:
        batched = staff.text(url)
    finally:
        event.remove(QuizAttempt, "load", on_load)
        event.remove(engine_, "before_cursor_execute", on_execute)
    assert loaded == []
    assert len(slots_reads) == len(firsts) == 2
    assert sorted(p[0] for p in slots_reads) == sorted(firsts)
    assert all(len(p) == 1 for p in slots_reads)
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", batched) == strip.sub("", whole)
