"""Email: deadline reminders and feedback notices, sent through the job queue to a
local SMTP sink (aiosmtpd on 127.0.0.1): who gets what, never twice, nothing while
SMTP is down (the job fails for a retry), the unsubscribe link, the course's
settings page, and each mail in its recipient's language."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from babel.dates import format_date
from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import get_db, session, utcnow
from lti_tool.jobs import job_status
from lti_tool.mail import reminders, unsubscribe
from lti_tool.mail.notices import notify_feedback
from lti_tool.models import Context, CourseMailSettings, MailOptOut, MailSent, User
from lti_tool.services import completion, instances, schedule
from tests.conftest import add_member, build_app, served, shared_templates

REPO = Path(__file__).resolve().parent.parent
ISSUER = "https://lms.example.id"
MODULE = "gp-pedagogik-a"
FROM = "Guru Pembelajar <noreply@lti.example.id>"
TZ = "Asia/Jakarta"


# -- the SMTP sink ---------------------------------------------------------------------


class Sink:
    """Collects every message the server accepts (parsed), with its envelope."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session_, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def mail_settings(port: int, **extra) -> dict:
    return {
        "MAIL_ENABLED": True,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_TIMEOUT": 5,
        "MAIL_FROM": FROM,
        "MAIL_REPLY_TO": "mentor-desk@lti.example.id",
        "MAIL_REMINDER_DAYS_BEFORE": "2,0",
        "MAIL_REMINDER_HOUR": 0,
        "JOBS_BACKEND": "inline",
        **extra,
    }


@pytest.fixture
def mail_app(tmp_path: Path, sink) -> Iterator[Flask]:
    app = build_app(tmp_path, **mail_settings(sink[1]))
    yield app
    get_db(app).engine.dispose()


# -- a class, written directly ------------------------------------------------------------


def make_klass(app: Flask, people: dict[str, str | None], *, start_days_ago: int = 4):
    """A class of gp-pedagogik-a whose Pendahuluan (week 1: four activities, due on the
    week's last day) ends `6 - start_days_ago` days from today; peserta by sub with
    their locale; reminders and feedback notices on."""
    with app.app_context():
        db = session()
        ctx = Context(issuer=ISSUER, deployment_id="d1", context_id="kelas-a", title="Kelas A")
        db.add(ctx)
        db.flush()
        inst, _ = instances.instance_for(db, ctx.id, MODULE)
        inst.start_date = schedule.today_in(TZ) - timedelta(days=start_days_ago)
        inst.timezone = TZ
        db.add(CourseMailSettings(instance_id=inst.id, reminders=True, feedback_notices=True))
        users = {}
        for sub, locale in people.items():
            user = add_member(db, ISSUER, ctx.id, sub, first_launch=utcnow(), name=sub.title())
            user.email = f"{sub}@guru.example.id"
            user.locale = locale
            users[sub] = user.id
        db.commit()
        week1 = inst.module.blocks[0].activities
        return ctx.id, inst.id, users, {a.key: (a.id, a.title) for a in week1}


def complete(app: Flask, ctx: int, user_id: int, keys, acts) -> None:
    from lti_tool.models import Activity

    with app.app_context():
        db = session()
        for key in keys:
            completion.record(db, ctx, db.get(Activity, acts[key][0]), user_id, "submitted")
        db.commit()


def run_reminders(app: Flask, *args: str):
    result = app.test_cli_runner().invoke(args=["mail", "reminders", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def sent_rows(app: Flask, **where) -> list[MailSent]:
    with app.app_context():
        db = session()
        rows = list(db.scalars(select(MailSent).order_by(MailSent.id)))
        for r in rows:
            db.expunge(r)
    return [r for r in rows if all(getattr(r, k) == v for k, v in where.items())]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def html(message) -> str:
    return message.get_body(("html",)).get_content()


# -- reminders -----------------------------------------------------------------------------


def test_reminder_once_per_peserta_for_what_is_due_and_not_completed(mail_app, sink):
    messages, _port = sink
    ctx, inst_id, users, acts = make_klass(mail_app, {"siti": "en", "budi": "en", "ani": "en"})
    complete(mail_app, ctx, users["budi"], acts, acts)  # everything due: no mail
    complete(mail_app, ctx, users["ani"], ["kebijakan"], acts)
    due = schedule.today_in(TZ) + timedelta(days=2)

    dry = run_reminders(mail_app, "--dry-run")
    assert "2 reminder mail(s) due (dry run: none queued)" in dry.output
    assert messages.messages == [] and sent_rows(mail_app) == []

    out = run_reminders(mail_app)
    assert "2 reminder mail(s) queued" in out.output
    assert len(messages.messages) == 2 and messages.to("budi@") == []
    (siti,) = messages.to("siti@guru.example.id")
    (ani,) = messages.to("ani@guru.example.id")
    titles = [title for _id, title in acts.values()]
    for title in titles:
        assert title in body(siti) and title in html(siti)
    assert acts["kebijakan"][1] not in body(ani)
    assert all(t in body(ani) for t in titles if t != acts["kebijakan"][1])
    assert siti["Subject"] == "Reminder: 4 activities are due soon"
    assert "in 2 days" in body(siti) and "23:59 WIB" in body(siti)
    assert format_date(due, format="full", locale="en") in body(siti)
    assert "Open the course in your LMS" in body(siti)
    assert "Kelas A" in body(siti)
    # the sent-log: one row per item, marked sent
    rows = sent_rows(mail_app, state="sent")
    assert len(rows) == 4 + 3 and {r.due_date for r in rows} == {due}
    assert {r.days_before for r in rows} == {2} and all(r.sent_at for r in rows)

    # run again (cron every hour), or the same job twice: nothing is mailed twice
    again = run_reminders(mail_app)
    assert "0 reminder mail(s) queued" in again.output
    with mail_app.app_context():
        result = reminders.send_reminders(
            users["siti"], [[inst_id, schedule.today_in(TZ).isoformat()]]
        )
    assert result == {"sent": 0}
    assert len(messages.messages) == 2 and len(sent_rows(mail_app)) == 7


def test_message_headers_parts_and_no_tracking(mail_app, sink):
    messages, _port = sink
    _ctx, _inst, users, _acts = make_klass(mail_app, {"siti": "en"})
    run_reminders(mail_app)
    (m,) = messages.messages
    assert m["From"] == FROM and m["Reply-To"] == "mentor-desk@lti.example.id"
    assert m["To"] == "Siti <siti@guru.example.id>" and m["Auto-Submitted"] == "auto-generated"
    assert m.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in m.iter_parts()] == ["text/plain", "text/html"]
    link = m["List-Unsubscribe"].strip().strip("<>")
    assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in body(m) and link in html(m)
    with mail_app.app_context():
        assert unsubscribe.user_of(link.rsplit("/", 1)[1]) == users["siti"]
    page = html(m).lower()
    assert "<img" not in page and "<script" not in page
    # the only link in the mail is the unsubscribe link (no tracking redirects)
    assert page.count("href=") == 1


def test_due_day_reminder_and_a_moved_due_date(mail_app, sink):
    messages, _port = sink
    _ctx, inst_id, users, acts = make_klass(mail_app, {"siti": "en", "ani": "en"}, start_days_ago=6)
    with mail_app.app_context():
        db = session()
        from lti_tool.models import CourseInstance

        inst = db.get(CourseInstance, inst_id)
        moved = schedule.today_in(TZ) + timedelta(days=5)
        instances.set_due(
            db, inst, acts["rencana-belajar"][0], moved, users["ani"], by=users["ani"]
        )
        db.commit()
    run_reminders(mail_app)
    (siti,) = messages.to("siti@")
    (ani,) = messages.to("ani@")
    assert "today" in body(siti) and acts["rencana-belajar"][1] in body(siti)
    assert acts["rencana-belajar"][1] not in body(ani)  # her own due date is later
    assert {r.days_before for r in sent_rows(mail_app)} == {0}


def test_no_reminders_for_opted_out_people_or_courses_that_did_not_turn_them_on(mail_app, sink):
    messages, _port = sink
    _ctx, _inst, users, _acts = make_klass(mail_app, {"siti": "en", "budi": "en", "dewi": "en"})
    with mail_app.app_context():
        db = session()
        db.add(MailOptOut(user_id=users["budi"]))
        db.get(User, users["dewi"]).email = None  # the LMS did not share it
        db.commit()
    run_reminders(mail_app)
    assert [m["To"] for m in messages.messages] == ["Siti <siti@guru.example.id>"]

    # a second class whose pengampu left reminders off gets nothing
    with mail_app.app_context():
        db = session()
        row = db.scalars(select(CourseMailSettings)).one()
        row.reminders = False
        db.query(MailSent).delete()
        db.commit()
    out = run_reminders(mail_app)
    assert "0 reminder mail(s) queued" in out.output and len(messages.messages) == 1


def test_nothing_is_sent_while_mail_is_off(tmp_path, sink):
    messages, port = sink
    app = build_app(tmp_path, **mail_settings(port, MAIL_ENABLED=False))
    try:
        make_klass(app, {"siti": "en"})
        out = run_reminders(app)
        assert "mail is off (MAIL_ENABLED)" in out.output
        with app.app_context():
            assert reminders.plan(session()) == []
        assert messages.messages == [] and sent_rows(app) == []
    finally:
        get_db(app).engine.dispose()


def test_smtp_down_marks_nothing_and_the_job_fails_for_a_retry(tmp_path, sink):
    messages, port = sink
    down = free_port()  # nothing listens there
    app = build_app(tmp_path, **mail_settings(down))
    try:
        _ctx, _inst, users, _acts = make_klass(app, {"siti": "en"})
        with app.app_context():
            planned = reminders.plan(session())
            assert [p.user_id for p in planned] == [users["siti"]]
            (job_id,) = reminders.enqueue_planned(planned)
            info = job_status(job_id)
            assert info.status == "failed" and "SmtpUnavailableError" in info.error
        assert sent_rows(app) == [] and messages.messages == []

        # the server is back: the next run finds the same mail and sends it once
        app.config["SMTP_PORT"] = port
        run_reminders(app)
        run_reminders(app)
        assert len(messages.to("siti@")) == 1 and len(sent_rows(app, state="sent")) == 4
    finally:
        get_db(app).engine.dispose()


def test_without_a_worker_the_command_sends_itself_and_reports_failures(tmp_path, sink):
    messages, port = sink
    app = build_app(tmp_path, **mail_settings(free_port(), JOBS_BACKEND="thread"))
    try:
        make_klass(app, {"siti": "en"})
        out = run_reminders(app)
        assert out.exit_code == 1 and "0 reminder mail(s) sent, 1 failed" in out.output
        assert sent_rows(app) == []
        app.config["SMTP_PORT"] = port
        out = run_reminders(app)
        assert out.exit_code == 0 and "1 reminder mail(s) sent, 0 failed" in out.output
        assert len(messages.messages) == 1
    finally:
        get_db(app).engine.dispose()


def test_each_mail_in_its_recipients_language(mail_app, sink):
    messages, _port = sink
    make_klass(mail_app, {"siti": "en", "budi": "id", "dewi": None})
    run_reminders(mail_app)
    due = schedule.today_in(TZ) + timedelta(days=2)
    (siti,) = messages.to("siti@")
    (budi,) = messages.to("budi@")
    (dewi,) = messages.to("dewi@")
    assert siti["Content-Language"] == "en" and budi["Content-Language"] == "id"
    assert dewi["Content-Language"] == "id"  # no locale known: the default
    assert format_date(due, format="full", locale="en") in body(siti)
    for m in (budi, dewi):
        assert format_date(due, format="full", locale="id") in body(m)
        assert format_date(due, format="full", locale="en") not in body(m)


# -- unsubscribe ---------------------------------------------------------------------------


def test_unsubscribe_link_works_without_login_and_refuses_tampering(mail_app, sink):
    _ctx, _inst, users, _acts = make_klass(mail_app, {"siti": "en", "budi": "en"})
    with mail_app.app_context():
        siti_url = unsubscribe.url_for_user(users["siti"])
        budi_token = unsubscribe.token_for(users["budi"])
    path = siti_url.removeprefix(mail_app.config["PUBLIC_BASE_URL"])
    client = mail_app.test_client()

    def opted() -> set[int]:
        with mail_app.app_context():
            return set(session().scalars(select(MailOptOut.user_id)))

    page = client.get(path)  # opening the link changes nothing
    assert page.status_code == 200 and "Turn off all emails from the tool" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and opted() == set()

    # tampered: another character, another person's id re-signed with a wrong key,
    # a token cut short, a token of another signer
    token = path.rsplit("/", 1)[1]
    from itsdangerous import URLSafeSerializer

    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        URLSafeSerializer("not-the-key", salt="lti-tool.mail.unsubscribe").dumps(users["budi"]),
        token[: len(token) // 2],
        URLSafeSerializer(mail_app.config["SECRET_KEY"], salt="other").dumps(users["budi"]),
    ]
    for bad in forged:
        assert client.get(f"/mail/unsubscribe/{bad}").status_code == 404
        refused = client.post(f"/mail/unsubscribe/{bad}", data={"emails": "off"})
        assert refused.status_code == 404 and "Salin seluruh tautan dari email" in refused.text
    assert client.post(path, data={"emails": "maybe"}).status_code == 400
    assert opted() == set()

    # one click confirms (a POST form; no session, no CSRF token needed)
    done = client.post(path, data={"emails": "off"})
    assert done.status_code == 303
    assert "emails are turned off for you" in client.get(done.headers["Location"]).text
    assert opted() == {users["siti"]}
    # ... and can be undone from the same link
    assert client.post(path, data={"emails": "on"}).status_code == 303 and opted() == set()

    # RFC 8058 one-click unsubscribe from the mail program
    one = client.post(f"/mail/unsubscribe/{budi_token}", data={"List-Unsubscribe": "One-Click"})
    assert one.status_code == 200 and opted() == {users["budi"]}


# -- feedback notices and the settings page, through real launches ------------------------


LAPORAN = shared_templates(
    REPO / "plugins" / "laporan" / "tests" / "data" / "plpg-laporan-uji.yaml"
)


@pytest.fixture
def live_tool(tmp_path: Path, sink):
    with served(build_app(tmp_path, templates=LAPORAN, **mail_settings(sink[1]))) as tool:
        yield tool


def test_feedback_notice_when_the_mentor_scores_a_report(live_tool, lms, sink):
    from plugins.laporan.tests.helpers import close, make_class, pdf, review, upload

    messages, _port = sink
    app = live_tool.app
    k = make_class(live_tool, lms, pengampu=True)
    try:
        with app.app_context():
            db = session()
            for sub, locale in (("guru1", "en"), ("guru2", "id"), ("pengampu", "en")):
                user = db.get(User, k.users[sub])
                user.email, user.locale = f"{sub}@guru.example.id", locale
            db.commit()
        for who in ("guru1", "guru2"):
            assert upload(live_tool, k, who, "2", pdf()).status_code == 200

        # the course has not turned notices on: a score mails nothing
        assert review(live_tool, k, "mentor1", "guru1", "2", "80", "Bagus").status_code == 200
        assert messages.messages == []

        # peserta and mentors cannot open the email settings; the pengampu can
        settings = live_tool.url(f"/c/{k.ctx}/module/plpg-laporan-uji/email")
        assert k.browsers["guru1"].get(settings).status_code == 403
        assert k.browsers["mentor1"].get(settings).status_code == 403
        staff = k.browsers["pengampu"]
        page = staff.get(settings)
        assert page.status_code == 200 and 'name="feedback_notices"' in page.text
        saved = staff.post(settings, data={"action": "save", "feedback_notices": "1"})
        assert saved.status_code == 200 and saved.url.endswith("done=saved")
        with app.app_context():
            row = session().scalars(select(CourseMailSettings)).one()
            assert (row.reminders, row.feedback_notices) == (False, True)

        # a refused score mails nothing; a saved one mails the peserta once
        assert review(live_tool, k, "mentor1", "guru1", "2", "abc").status_code == 400
        assert messages.messages == []
        assert review(live_tool, k, "mentor1", "guru1", "2", "85", "Lebih baik").status_code == 200
        (notice,) = messages.messages
        assert notice["To"] == "Guru1 <guru1@guru.example.id>"
        assert notice["Subject"] == "Feedback on “Laporan Kemajuan 2: Bidang Studi Bagian 1”"
        text = body(notice)
        assert "Mentor1 (your mentor) scored and commented your report" in text
        assert "Lebih baik" not in text and "85" not in text  # the mail only points to it
        assert notice["Content-Language"] == "en"
        review(live_tool, k, "mentor1", "guru2", "2", "70")
        assert messages.to("guru2@")[0]["Content-Language"] == "id"
        with app.app_context():
            rows = sent_rows(app, kind="feedback", state="sent")
            assert [r.user_id for r in rows] == [k.users["guru1"], k.users["guru2"]]
            assert all(r.ref and r.activity_id == k.activity_id for r in rows)

        # the test email goes to the pengampu
        test = staff.post(settings, data={"action": "test"})
        assert test.status_code == 200 and "Email uji coba sedang dikirim" in test.text
        (trial,) = messages.to("pengampu@")
        assert trial["Subject"] == "Test email from Guru Pembelajar Online"
    finally:
        close(k)


def test_notice_waits_for_the_commit_and_is_dropped_on_rollback(mail_app, sink):
    messages, _port = sink
    _ctx, inst_id, users, _acts = make_klass(mail_app, {"siti": "en", "mentor": "en"})
    from lti_tool.models import CourseInstance

    with mail_app.app_context():
        db = session()
        inst = db.get(CourseInstance, inst_id)
        args = (inst, users["siti"], "Refleksi Sesi 1", users["mentor"], "refleksi")
        assert notify_feedback(db, *args)
        assert messages.messages == []  # not before the commit
        db.rollback()
        db.commit()
        assert messages.messages == []  # rolled back: dropped
        assert notify_feedback(db, *args)
        db.commit()
        assert len(messages.messages) == 1
        assert "commented on your reflection “Refleksi Sesi 1”" in body(messages.messages[0])
        # nobody is told of their own comment; an unknown kind is a programming error
        assert not notify_feedback(db, inst, users["siti"], "x", users["siti"], "refleksi")
        with pytest.raises(ValueError):
            notify_feedback(db, inst, users["siti"], "x", users["mentor"], "quiz")
        count = db.scalar(select(func.count()).select_from(MailSent))
    assert count == 1


def test_settings_are_checked_at_start_up(tmp_path):
    for bad, name in (
        ({"MAIL_REMINDER_DAYS_BEFORE": "2,x"}, "MAIL_REMINDER_DAYS_BEFORE"),
        ({"MAIL_REMINDER_DAYS_BEFORE": "-1"}, "MAIL_REMINDER_DAYS_BEFORE"),
        ({"MAIL_REMINDER_HOUR": 24}, "MAIL_REMINDER_HOUR"),
        ({"SMTP_SSL": True, "SMTP_STARTTLS": True}, "SMTP_SSL"),
        ({"MAIL_ENABLED": True, "MAIL_FROM": None}, "MAIL_FROM"),
        ({"MAIL_ENABLED": True, "MAIL_FROM": "not an address"}, "MAIL_FROM"),
        ({"MAIL_ENABLED": True, "MAIL_FROM": FROM, "SMTP_USERNAME": "u"}, "SMTP_USERNAME"),
    ):
        from lti_tool import create_app

        settings = {"TESTING": True, "DATABASE_URL": "sqlite://", "INSTANCE_PATH": str(tmp_path)}
        with pytest.raises(ValueError, match=name):
            create_app({**settings, **bad})
