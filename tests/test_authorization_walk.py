"""Authorization walk: every route, every method, every role.

Course A gets real data made through the pages' own forms (a submitted learning plan,
task files, a reflection, forum threads with attachments, quiz attempts, a report
upload, a material upload, a staff report, a deep-linking launch): two peserta
(`siti`, whose objects the walk uses, and `budi`, whose objects siti must not reach),
a mentor, a pengampu and an admin. Course B is another context on the same platform,
with a peserta and a pengampu. Every role launches once through the platform peer and
keeps its cookies.

Each rule of `app.url_map` is requested in each of its methods with its parameters
filled from course A, in every role (anonymous, the four roles of A, the two of B);
posts carry the session's CSRF token and an empty form. ACCESS says, per endpoint and
method, which roles may succeed. The walk fails on a 2xx where not allowed, on a
database commit caused by a role that may not (a post that changed something and
redirected; checked on SQLite), on any 5xx, and on any route missing from ACCESS or
whose parameters it cannot fill (a new route must be classified here). Two more
passes: siti against budi's objects ("peserta:own" allows only one's own), and the
users of B in their own course B with course A's record ids. Last, every post but
the platform-initiated ones is refused without its CSRF token.

Requests of roles that may not succeed run first, so that allowed destructive posts
(deleting a file, starting the class) cannot hide a leak.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from lti_tool.db import get_db
from tests.conftest import launch_as, make_browser
from tests.exports_helpers import export_id_of, state_of, wait_for_export
from tests.peer import DEFAULT_CONTEXT

MODULE_KEY = "gp-pedagogik-a"
MODULE = f"/course/{MODULE_KEY}"

# -- who may succeed ----------------------------------------------------------------
PUBLIC = "public"  # anyone, signed in or not
STAFF = ("mentor", "pengampu", "admin")
TEACH = ("pengampu", "admin")
MEMBERS = ("peserta", *STAFF)
OWN = ("peserta:own", *STAFF)  # a peserta only with their own objects
PESERTA = ("peserta",)
NOBODY: tuple[str, ...] = ()

ACCESS: dict[str, dict[str, Any]] = {
    # public: the platform-facing LTI endpoints, health, static files, verification
    "web.index": {"GET": PUBLIC},
    "web.healthz": {"GET": PUBLIC},
    "static": {"GET": PUBLIC},
    "lti.login": {"GET": PUBLIC, "POST": PUBLIC},
    "lti.launch": {"POST": PUBLIC},
    "lti.jwks": {"GET": PUBLIC},
    "lti.config": {"GET": PUBLIC},
    "lti.register": {"GET": PUBLIC},
    "certificates.verify_form": {"GET": PUBLIC},
    "certificates.verify": {"GET": PUBLIC},
    "mail.unsubscribe_page": {"GET": PUBLIC, "POST": PUBLIC},  # a signed token authorises
    # the deep-linking picker: only the browser session that made that launch
    "lti.deep_link_picker": {"GET": ("pengampu",)},
    "lti.deep_link_respond": {"POST": ("pengampu",)},
    # course pages
    "web.course_home": {"GET": MEMBERS},
    "web.module": {"GET": MEMBERS},
    "web.activity": {"GET": MEMBERS},
    "web.module_dates": {"POST": TEACH},
    "biodata.page": {"GET": MEMBERS, "POST": PESERTA},
    "biodata.view": {"GET": TEACH},
    # class management, scores, reports, analysis, certificates (staff)
    "staff.overview": {"GET": STAFF},
    "staff.assign": {"POST": TEACH},
    "staff.set_due": {"POST": TEACH},
    "staff.from_lms_groups": {"POST": TEACH},
    "staff.create_rombel": {"POST": TEACH},
    "staff.start": {"POST": TEACH},
    "staff.sync": {"POST": TEACH},
    "scores.page": {"GET": STAFF, "POST": STAFF},
    "gradebook_export.csv_file": {"GET": STAFF},
    "gradebook_export.xlsx_file": {"GET": STAFF},
    "score_import.form": {"GET": TEACH},
    "score_import.upload": {"POST": TEACH},
    "score_import.apply": {"POST": TEACH},
    "grades.page": {"GET": TEACH},
    "grades.act": {"POST": TEACH},
    "meetings.index": {"GET": STAFF},
    "meetings.record": {"GET": STAFF, "POST": STAFF},
    "reports.index": {"GET": STAFF},
    "reports.create": {"POST": STAFF},
    "reports.show": {"GET": STAFF, "POST": STAFF},
    "analysis.page": {"GET": STAFF},
    "analysis.save_note": {"POST": TEACH},
    "mail.settings": {"GET": TEACH, "POST": TEACH},
    # resumable uploads (tus): an upload belongs to the user who created it
    "uploads.create": {"POST": MEMBERS},
    "uploads.status": {"HEAD": MEMBERS},
    "uploads.append": {"PATCH": MEMBERS},
    "uploads.terminate": {"DELETE": MEMBERS},
    "certificates.mine": {"GET": PESERTA},
    "certificates.mine_pdf": {"GET": PESERTA},
    "certificates.klass": {"GET": STAFF},
    "certificates.class_zip": {"GET": TEACH, "POST": TEACH},
    "certificates.person": {"GET": TEACH},
    "certificates.person_pdf": {"GET": TEACH},
    "certificates.issue_all": {"POST": TEACH},
    "certificates.revoke": {"POST": TEACH},
    "certificates.reissue": {"POST": TEACH},
    # files and batches made by jobs: only the person who asked (the walk's: the pengampu)
    "exports.status": {"GET": ("pengampu",)},
    "exports.download": {"GET": ("pengampu",)},
    # activity plugins
    "materi.download": {"GET": MEMBERS},
    "materi.uploaded_file": {"GET": MEMBERS},
    "materi.upload": {"POST": TEACH},
    "materi.delete_upload": {"POST": TEACH},
    "rencana.save": {"POST": PESERTA},
    "smiley.answer": {"POST": PESERTA},
    "evaluasi.answer": {"POST": PESERTA},
    "tugas.instructions": {"GET": MEMBERS},
    "tugas.upload": {"POST": PESERTA},
    "tugas.download": {"GET": OWN},
    "tugas.replace": {"POST": ("peserta:own",)},
    "tugas.delete": {"POST": ("peserta:own",)},
    "tugas.grading": {"GET": STAFF},
    "tugas.grade_page": {"GET": STAFF},
    "tugas.grade": {"POST": STAFF},
    "penilaian.assess": {"POST": PESERTA},
    "penilaian.review": {"GET": OWN, "POST": STAFF},
    "penilaian.overview": {"GET": STAFF},
    "penilaian.edit_rubric": {"GET": TEACH, "POST": TEACH},
    "refleksi.save": {"POST": PESERTA},
    "refleksi.entry": {"GET": OWN},
    "refleksi.comment": {"POST": OWN},
    "refleksi.staff": {"GET": STAFF},
    "refleksi.record": {"GET": STAFF},
    "forum.thread": {"GET": MEMBERS},
    "forum.new_thread": {"POST": MEMBERS},
    "forum.reply": {"POST": MEMBERS},
    "forum.download": {"GET": MEMBERS},  # attachments are read by the whole forum
    "forum.edit": {"GET": ("peserta:own",), "POST": ("peserta:own",)},
    "forum.delete": {"POST": ("peserta:own",)},
    "forum.pin": {"POST": STAFF},
    "forum.moderate": {"POST": STAFF},
    "forum.record": {"GET": STAFF},
    "quiz.start": {"POST": PESERTA},
    "quiz.attempt": {"GET": OWN},
    "quiz.save": {"POST": ("peserta:own",)},
    "quiz.submit": {"POST": ("peserta:own",)},
    "quiz.results": {"GET": STAFF},
    "quiz.bank_list": {"GET": TEACH, "POST": TEACH},
    "quiz.bank_export": {"GET": TEACH},
    "laporan.upload": {"POST": PESERTA},
    "laporan.cancel": {"POST": PESERTA},
    "laporan.download": {"GET": OWN},
    "laporan.matrix": {"GET": STAFF},
    "laporan.deadlines": {"POST": STAFF},
    "laporan.review": {"GET": STAFF},
    "laporan.save_review": {"POST": STAFF},
}
# whole blueprints classified ahead of their routes (class reports being built)
BLUEPRINT_ACCESS: dict[str, dict[str, Any]] = {
    "demo": {"GET": PUBLIC, "POST": PUBLIC},  # the demo LMS (DEMO only)
    "rekap": {"GET": STAFF, "POST": STAFF},  # a post asks for a file (a job)
}
# requests that destroy what later requests use run last
DESTRUCTIVE = {"tugas.delete", "forum.delete", "materi.delete_upload", "laporan.cancel"}


def access_of(endpoint: str, method: str):
    """The roles that may succeed, or None when the route is not classified."""
    blueprint, _, name = endpoint.rpartition(".")
    if name == "static" and blueprint:
        return PUBLIC  # a plugin's static files
    spec = ACCESS.get(endpoint) or BLUEPRINT_ACCESS.get(blueprint) or {}
    return spec.get(method)


def allowed(spec, role: str, own: bool) -> bool:
    if spec == PUBLIC:
        return True
    if role == "peserta" and not own:
        return "peserta" in spec
    return role in spec or (role == "peserta" and "peserta:own" in spec)


# -- the walk -------------------------------------------------------------------------
A_ROLES = ("peserta", "mentor", "pengampu", "admin")
B_ROLES = ("peserta_b", "pengampu_b")
ALL_ROLES = ("anonymous", *A_ROLES, *B_ROLES)
LTI_ROLES = {
    "peserta": ["Learner"],
    "budi": ["Learner"],
    "mentor": ["Mentor"],
    "pengampu": ["Instructor"],
    "admin": ["Administrator"],
    "peserta_b": ["Learner"],
    "pengampu_b": ["Instructor"],
}
SUBS = {"peserta": "siti", "budi": "budi"}
# URL parameters naming one person's work (the "other" pass swaps in budi's)
OWNED = {"attempt_id", "file_id", "entry_id", "submission_id", "user_id", "post_id"}
# URL parameters naming a record of course A (course B must never reach it)
COURSE_DATA = OWNED | {"thread_id", "upload_id", "report_id", "launch_id", "export_id"}


@dataclass
class World:
    tool: Any
    lms: Any
    browsers: dict[str, Any] = field(default_factory=dict)
    ctx: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    activities: dict[str, int] = field(default_factory=dict)
    mine: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # each browser's CSRF token

    def url(self, path: str) -> str:
        return self.tool.url(path)

    def sql(self, query: str, **params) -> list[tuple]:
        with get_db(self.tool.app).engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query), params)]


def _ctx_of(page) -> int:
    return int(re.search(r"/c/(\d+)/", page.text).group(1))


def _launch(world: World, who: str, target: str, context=None, **kw):
    browser = world.browsers.setdefault(who, make_browser())
    sub = SUBS.get(who, who)
    if context is None:
        page = launch_as(world.tool, world.lms, browser, LTI_ROLES[who], sub, target)
    else:
        result = world.lms.launch(
            browser,
            roles=LTI_ROLES[who],
            user={"sub": sub, "name": sub.title()},
            target_link_uri=world.url(target),
            context=context,
            **kw,
        )
        assert result.ok, result.error
        page = result.final_response
    assert page.status_code == 200, (who, page.status_code, page.text[:300])
    return page


def _form_action(page, pattern: str) -> str:
    found = re.search(rf'action="({pattern})"', page.text)
    assert found, f"no form matching {pattern} on {page.url}"
    return html.unescape(found.group(1))


def _activity_ids(world: World) -> None:
    rows = world.sql(
        "SELECT b.key, a.key, a.id, a.type FROM activity a JOIN course_block b ON a.block_id = b.id"
        " JOIN course_module m ON b.module_id = m.id WHERE m.key = :m",
        m=MODULE_KEY,
    )
    for block, key, aid, _type in rows:
        world.activities[f"{block}/{key}"] = aid


def build_world(tool, lms) -> World:
    world = World(tool, lms)
    course_b = {**DEFAULT_CONTEXT, "id": "course-b", "label": "B", "title": "Kelas B"}
    for who in ("pengampu", "admin", "mentor", "peserta", "budi"):
        world.ctx["a"] = _ctx_of(_launch(world, who, MODULE))
    for who in B_ROLES:
        world.ctx["b"] = _ctx_of(_launch(world, who, MODULE, context=course_b))
    assert world.ctx["a"] != world.ctx["b"]
    for uid, sub in world.sql('SELECT id, sub FROM "user"'):
        world.users[sub] = uid
    # every signed-in browser shows a page with a form once: its posts carry the
    # session's CSRF token, so what answers them is the authorization check
    world.browsers["anonymous"] = make_browser()
    forum = f"/module/{MODULE_KEY}/sesi-1/forum"
    for who, ctx in [*((w, "a") for w in (*A_ROLES, "budi")), *((w, "b") for w in B_ROLES)]:
        page = world.browsers[who].get(world.url(f"/c/{world.ctx[ctx]}{forum}"))
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, who
        world.tokens[who] = html.unescape(token.group(1))
    _activity_ids(world)
    for who, bag in (("peserta", world.mine), ("budi", world.other)):
        _peserta_work(world, who, bag)
    _staff_work(world)
    return world


def _peserta_work(world: World, who: str, bag: dict[str, Any]) -> None:
    """What a peserta makes through the pages: each kind of object once."""
    b = world.browsers[who]
    uid = world.users[SUBS[who]]
    bag["user_id"] = uid
    # learning plan
    page = _launch(world, who, MODULE + "/pendahuluan/rencana-belajar")
    b.post(world.url(_form_action(page, r"/c/\d+/rencana/\d+")), data={"week-0": "Membaca"})
    # task file
    page = _launch(world, who, MODULE + "/sesi-1/tugas")
    r = b.post(
        world.url(_form_action(page, r"/c/\d+/tugas/\d+/upload")),
        files={"file": (f"{who}.txt", b"Lembar kerja\n" * 5, "text/plain")},
    )
    assert r.status_code == 200, r.text[:300]
    (bag["tugas_file"],) = world.sql(
        "SELECT f.id FROM tugas_file f JOIN tugas_submission s ON f.submission_id = s.id"
        " WHERE s.user_id = :u",
        u=uid,
    )[0]
    # reflection
    page = _launch(world, who, MODULE + "/sesi-1/refleksi")
    action = _form_action(page, r"/c/\d+/refleksi/\d+")
    fields = dict.fromkeys(set(re.findall(r'name="(p-[^"]+)"', page.text)), "Refleksi saya.")
    b.post(world.url(action), data={**fields, "action": "submit"})
    rows = world.sql("SELECT id FROM refleksi_entry WHERE user_id = :u", u=uid)
    assert rows, "no refleksi entry"
    bag["entry_id"] = rows[0][0]
    # forum thread with an attachment, and a reply
    page = _launch(world, who, MODULE + "/sesi-1/forum")
    key = re.search(r'name="submit_key" value="([0-9a-f]+)"', page.text).group(1)
    r = b.post(
        world.url(_form_action(page, r"/c/\d+/forum/\d+/threads")),
        data={"title": f"Topik {who}", "body": "Isi topik.", "submit_key": key},
        files={"file": ("catatan.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 200, r.text[:300]
    thread_id, post_id = world.sql(
        "SELECT t.id, p.id FROM forum_thread t JOIN forum_post p ON p.thread_id = t.id"
        " WHERE t.author_id = :u ORDER BY p.id",
        u=uid,
    )[0]
    bag["thread_id"], bag["post_id"] = thread_id, post_id
    rows = world.sql("SELECT id FROM forum_attachment WHERE post_id = :p", p=post_id)
    bag["forum_file"] = rows[0][0] if rows else None
    # a quiz attempt
    page = _launch(world, who, MODULE + "/penutup/tes-akhir")
    r = b.post(world.url(_form_action(page, r"/c/\d+/quiz/\d+/start")))
    rows = world.sql("SELECT id FROM quiz_attempt WHERE user_id = :u", u=uid)
    assert rows, ("no quiz attempt", r.status_code, r.text[:500])
    bag["attempt_id"] = rows[0][0]
    # a report (laporan kemajuan) upload
    page = _launch(world, who, MODULE + "/penutup/laporan-kemajuan")
    r = b.post(
        world.url(_form_action(page, r"/c/\d+/laporan/\d+/1/upload")),
        files={"file": ("laporan.pdf", PDF, "application/pdf")},
    )
    rows = world.sql("SELECT id FROM laporan_submission WHERE user_id = :u", u=uid)
    assert rows, ("no laporan submission", r.status_code, r.text[:500])
    bag["submission_id"] = rows[0][0]


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _staff_work(world: World) -> None:
    b = world.browsers["pengampu"]
    # a material upload
    page = _launch(world, "pengampu", MODULE + "/pendahuluan/kebijakan")
    r = b.post(
        world.url(_form_action(page, r"/c/\d+/materi/\d+/upload")),
        data={"title": "Bahan tambahan"},
        files={"file": ("bahan.txt", b"Bahan\n", "text/plain")},
    )
    rows = world.sql("SELECT id FROM materi_upload")
    assert rows, ("no materi upload", r.status_code, r.text[:500])
    world.shared["upload_id"] = rows[0][0]
    # a deep-linking launch: its picker belongs to the pengampu's browser only
    result = world.lms.launch(
        b,
        roles=LTI_ROLES["pengampu"],
        user={"sub": "pengampu", "name": "Pengampu"},
        message_type="LtiDeepLinkingRequest",
    )
    assert result.ok, result.error
    world.shared["launch_id"] = result.final_response.url.rstrip("/").rsplit("/", 1)[1]
    # a staff report (the pengampu's, on the class)
    r = b.post(world.url(f"/c/{world.ctx['a']}/module/{MODULE_KEY}/laporan"), data={"week": "1"})
    rows = world.sql("SELECT id FROM staff_report")
    world.shared["report_id"] = rows[0][0] if rows else 0
    # a recap file (made by a job, finished before the walk watches for writes)
    r = b.post(world.url(f"/c/{world.ctx['a']}/module/{MODULE_KEY}/rekap/grades.csv"))
    world.shared["export_id"] = export_id_of(r.url)
    page = wait_for_export(world.tool.app, lambda: b.get(r.url).text)
    assert state_of(page)[0] == "ready", state_of(page)


# -- URL parameters ---------------------------------------------------------------------
BLUEPRINT_ACTIVITY = {
    "forum": "sesi-1/forum",
    "tugas": "sesi-1/tugas",
    "refleksi": "sesi-1/refleksi",
    "penilaian": "sesi-1/penilaian-diri",
    "quiz": "penutup/tes-akhir",
    "laporan": "penutup/laporan-kemajuan",
    "materi": "pendahuluan/kebijakan",
    "rencana": "pendahuluan/rencana-belajar",
    "smiley": "sesi-2/reaksi",
    "evaluasi": "penutup/evaluasi",
}


def params_for(world: World, rule, bag: dict[str, Any], ctx: int) -> dict[str, Any] | None:
    """Values for the rule's parameters from course A (`bag`: whose objects), or None
    when a parameter is unknown to the walk."""
    blueprint = rule.endpoint.partition(".")[0]
    values: dict[str, Any] = {}
    fixed = {
        "module_key": MODULE_KEY,
        "block_key": "sesi-1",
        "activity_key": "tugas",
        "index": 0,
        "bank_name": "tes-akhir",
        "fmt": "gift",
        "number": "STTPP/2026/000001-0",
        "kind_name": "aktivitas",
        "token": "not-a-valid-token",
    }
    for name in rule.arguments:
        if name == "ctx":
            values[name] = ctx
        elif name in fixed:
            values[name] = fixed[name]
        elif name == "activity_id" and blueprint in BLUEPRINT_ACTIVITY:
            values[name] = world.activities[BLUEPRINT_ACTIVITY[blueprint]]
        elif name == "file_id":
            values[name] = bag["forum_file" if blueprint == "forum" else "tugas_file"]
        elif name in bag:
            values[name] = bag[name]
        elif name in world.shared:
            values[name] = world.shared[name]
        elif name == "key":
            values[name] = "1" if blueprint == "laporan" else "tm-1"
        elif name == "action":
            values[name] = "hide" if blueprint == "forum" else "retry"
        elif name == "filename":
            values[name] = "app.css" if blueprint == "static" else f"{blueprint}.css"
        else:
            return None
    return values


def _methods(rule) -> list[str]:
    """The rule's methods; HEAD only where it is not GET's shadow, never OPTIONS."""
    methods = rule.methods - {"OPTIONS"}
    if "GET" in methods:
        methods -= {"HEAD"}
    return sorted(methods)


def send(browser, method: str, url: str, token: str | None = None):
    """One request; a state-changing one as an empty form with `token` (if any) as
    the form's CSRF field and the X-CSRFToken header."""
    if method in ("GET", "HEAD"):
        return browser.request(method, url, allow_redirects=False)
    form = {"csrf_token": token} if token else {}
    headers = {"X-CSRFToken": token} if token else {}
    return browser.request(method, url, data=form, headers=headers, allow_redirects=False)


class Writes:
    """Whether the tool committed a change to its database since the last look:
    SQLite's data_version changes when another connection commits. On PostgreSQL
    (`make test-pg`) nothing as exact exists for one database of a shared server,
    so there only the status codes are checked."""

    def __init__(self, app) -> None:
        engine = get_db(app).engine
        self.exact = engine.dialect.name == "sqlite"
        self.conn = engine.connect() if self.exact else None
        self.last = self._version()

    def _version(self) -> int:
        if self.conn is None:
            return 0
        value = self.conn.execute(text("PRAGMA data_version")).scalar_one()
        self.conn.rollback()
        return value

    def happened(self) -> bool:
        now = self._version()
        changed, self.last = now != self.last, now
        return changed

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


@dataclass(frozen=True)
class Probe:
    role: str
    method: str
    path: str
    endpoint: str
    may_succeed: bool
    destructive: bool = False


def plan(world: World, app) -> tuple[list[Probe], list[str]]:
    """Every request of the walk, and the routes it cannot classify or fill."""
    probes: list[Probe] = []
    unknown: list[str] = []
    adapter = app.url_map.bind("")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in _methods(rule):
            spec = access_of(rule.endpoint, method)
            if spec is None:
                unknown.append(f"{method} {rule.rule}  ({rule.endpoint}): not in ACCESS")
                continue
            mine = params_for(world, rule, world.mine, world.ctx["a"])
            if mine is None:
                missing = sorted(set(rule.arguments) - {"ctx"})
                unknown.append(f"{method} {rule.rule}  ({rule.endpoint}): no value for {missing}")
                continue
            destructive = rule.endpoint in DESTRUCTIVE
            path = adapter.build(rule.endpoint, mine, method=method)
            for role in ALL_ROLES:
                may = spec == PUBLIC or (role in A_ROLES and allowed(spec, role, own=True))
                probes.append(Probe(role, method, path, rule.endpoint, may, destructive))
            if set(rule.arguments) & OWNED:  # siti and budi's work
                theirs = params_for(world, rule, world.other, world.ctx["a"])
                path = adapter.build(rule.endpoint, theirs, method=method)
                may = allowed(spec, "peserta", own=False)
                probes.append(Probe("peserta", method, path, rule.endpoint, may, destructive))
            if set(rule.arguments) & COURSE_DATA and "ctx" in rule.arguments:
                in_b = params_for(world, rule, world.mine, world.ctx["b"])
                path = adapter.build(rule.endpoint, in_b, method=method)
                for role in B_ROLES:  # course B's own users, course A's records
                    probes.append(Probe(role, method, path, rule.endpoint, False, destructive))
    return probes, unknown


def _order(probe: Probe) -> tuple:
    """Refused requests first; then GETs, posts, and destructive posts last."""
    return (probe.may_succeed, probe.method != "GET", probe.destructive)


def run(world: World, probes: list[Probe]) -> tuple[list[str], int]:
    """Send every probe: what went wrong (one line each), and how many state-changing
    requests of roles that may make them went through (the walk's own check)."""
    writes = Writes(world.tool.app)
    problems: list[str] = []
    accepted = 0
    try:
        for probe in sorted(probes, key=_order):
            browser = world.browsers.get(probe.role) or world.browsers["anonymous"]
            token = world.tokens.get(probe.role)
            writes.happened()
            status = send(browser, probe.method, world.url(probe.path), token).status_code
            wrote = writes.happened()
            what = f"{probe.method} {probe.path} as {probe.role} ({probe.endpoint})"
            if status >= 500:
                problems.append(f"{what}: {status}")
            elif not probe.may_succeed and 200 <= status < 300:
                problems.append(f"{what}: {status}, but this role may not")
            elif not probe.may_succeed and wrote:
                problems.append(f"{what}: {status} and the database changed")
            elif probe.may_succeed and probe.method in UNSAFE and status < 400:
                accepted += 1
    finally:
        writes.close()
    return problems, accepted


# posts that need no CSRF token: initiated by the platform, or authorised by a token
CSRF_EXEMPT = {
    "lti.login",
    "lti.launch",
    "demo.auth",
    "demo.deep_link_return",
    "mail.unsubscribe_page",
}
# views that check the token themselves after checking the request (any 4xx is fine)
CSRF_CHECKED_IN_VIEW = {"uploads.append"}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def csrf_problems(world: World) -> list[str]:
    """Every other post, from a signed-in browser that leaves out the form's token,
    is refused (400) and writes nothing."""
    from tests.peer import make_browser as plain_browser

    app = world.tool.app
    adapter = app.url_map.bind("")
    writes = Writes(app)
    problems = []
    try:
        for who in ("peserta", "pengampu"):
            browser = plain_browser()
            browser.cookies.update(world.browsers[who].cookies)
            home = browser.get(world.url(f"/c/{world.ctx['a']}/"))
            assert home.status_code == 200  # signed in: only the token is missing
            for rule in app.url_map.iter_rules():
                if rule.endpoint in CSRF_EXEMPT:
                    continue
                values = params_for(world, rule, world.mine, world.ctx["a"])
                if values is None:
                    continue  # listed by the walk
                for method in (m for m in _methods(rule) if m in UNSAFE):
                    path = adapter.build(rule.endpoint, values, method=method)
                    writes.happened()
                    status = send(browser, method, world.url(path)).status_code
                    refused = status == 400 or (
                        rule.endpoint in CSRF_CHECKED_IN_VIEW and 400 <= status < 500
                    )
                    if not refused or writes.happened():
                        problems.append(f"{method} {path} as {who} without a CSRF token: {status}")
    finally:
        writes.close()
    return problems


def settle_jobs(world: World, timeout: float = 60) -> None:
    """Let the jobs the walk's posts started (exports run by threads of the tool) end
    before the next pass watches for writes. With RQ no worker runs them: nothing to
    wait for."""
    import time

    from lti_tool.jobs import uses_rq

    if uses_rq(world.tool.app):
        return
    deadline = time.monotonic() + timeout
    active = "SELECT count(*) FROM export_file WHERE status IN ('queued', 'running')"
    while world.sql(active)[0][0]:
        assert time.monotonic() < deadline, "exports still running"
        time.sleep(0.05)
    time.sleep(0.2)  # the last job's housekeeping after its row was marked


def test_every_route_in_every_role(live_tool, lms, monkeypatch):
    world = build_world(live_tool, lms)
    probes, unknown = plan(world, live_tool.app)
    problems, accepted = run(world, probes)
    message = []
    if unknown:
        message.append("Routes the walk cannot classify (add them to ACCESS / params_for):")
        message += [f"  {u}" for u in unknown]
    if problems:
        message.append("Authorization problems:")
        message += [f"  {p}" for p in problems]
    assert not message, "\n".join(message)
    roles = {p.role for p in probes}
    assert roles == {*ALL_ROLES} and len(probes) > 500
    assert accepted > 30  # the posts carried valid tokens: authorization answered them
    settle_jobs(world)
    assert csrf_problems(world) == []
    # the walk sees a leak: pretend the module page were for staff only, and the
    # learning plan's form for nobody (a peserta's save is then a write it may not do)
    monkeypatch.setitem(ACCESS, "web.module", {"GET": STAFF})
    monkeypatch.setitem(ACCESS, "rencana.save", {"POST": NOBODY})
    probes, _ = plan(world, live_tool.app)
    picked = [p for p in probes if p.endpoint in ("web.module", "rencana.save")]
    problems, _ = run(world, picked)
    assert any("as peserta (web.module): 200, but this role may not" in p for p in problems)
    if get_db(live_tool.app).engine.dialect.name == "sqlite":
        assert any("(rencana.save): 302 and the database changed" in p for p in problems), problems


def test_the_same_course_from_another_deployment_is_another_course(live_tool, lms):
    """Records are keyed by issuer, deployment and context: one LMS course id seen
    through two deployments is two courses, and neither session opens the other."""
    from lti_tool.db import session
    from lti_tool.models import Platform
    from lti_tool.services.platforms import add_deployment

    with live_tool.app.app_context():
        db = session()
        add_deployment(db, db.query(Platform).one().id, "deployment-2")
    first, second = make_browser(), make_browser()
    one = launch_as(live_tool, lms, first, ["Instructor"], "guru", MODULE)
    result = lms.launch(
        second,
        roles=["Instructor"],
        user={"sub": "guru", "name": "Guru"},
        target_link_uri=live_tool.url(MODULE),
        deployment_id="deployment-2",
    )
    assert result.ok, result.error
    ctx_one, ctx_two = _ctx_of(one), _ctx_of(result.final_response)
    assert ctx_one != ctx_two
    world = World(live_tool, lms)
    rows = world.sql("SELECT issuer, deployment_id, context_id FROM context ORDER BY id")
    assert rows == [
        (lms.issuer, "deployment-1", DEFAULT_CONTEXT["id"]),
        (lms.issuer, "deployment-2", DEFAULT_CONTEXT["id"]),
    ]
    assert first.get(live_tool.url(f"/c/{ctx_two}/")).status_code == 401
    assert second.get(live_tool.url(f"/c/{ctx_one}/")).status_code == 401
    assert first.get(live_tool.url(f"/c/{ctx_one}/")).status_code == 200
