"""The reflection through real LTI launches: draft then submit, the rules of the
prompts, the edit window, staff reading and commenting, a mentor's rombel, and
reflections nobody else may open."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from lti_tool.db import get_db
from lti_tool.models import ActivityCompletion, CourseInstance, User
from lti_tool.services import instances, roster, schedule
from plugins.refleksi.tests.helpers import (
    GOOD,
    MENTOR,
    PENGAMPU,
    PENUTUP,
    PESERTA,
    SESI1,
    SESI2,
    comment_url,
    comments,
    ctx_of,
    entries,
    here,
    open_as,
    record_url,
    save_url,
    staff_url,
    textarea,
)


def _completions(live_tool):
    with get_db(live_tool.app).sessionmaker() as db:
        return [
            (c.state, c.completed_at is not None) for c in db.scalars(select(ActivityCompletion))
        ]


def _start(live_tool, days_ago: int) -> None:
    with get_db(live_tool.app).sessionmaker() as db:
        for inst in db.scalars(select(CourseInstance)):
            inst.start_date = schedule.today_in("Asia/Jakarta") - timedelta(days=days_ago)
        db.commit()


def test_draft_then_submit_then_update(live_tool, lms):
    siti, page = open_as(live_tool, lms, PESERTA, "siti")
    text = page.text
    # the prompts of the activity's settings, each a labelled textarea with its hint
    assert "Fondasi berpikir komputasional mana yang paling baru bagi Anda?" in text
    assert '<label for="p-baru">' in text and 'aria-describedby="hint-baru"' in text
    assert (
        "Sebutkan juga yang ternyata sudah sering Anda lakukan. Sekurang-kurangnya 5 kata." in text
    )
    assert 'Saran untuk pengampu</strong> <span class="muted">(tidak wajib)</span>' in text
    assert "Faktor pendukung dan penghambat" not in text  # not the default prompts
    assert 'name="csrf_token"' in text and "Simpan draf" in text and "Kirim refleksi" in text
    assert "belum mulai" in text
    action = live_tool.url(save_url(page))

    # a draft may be short and incomplete
    draft = siti.post(action, data={"p-baru": "Baru *sedikit*", "action": "draft"})
    assert draft.status_code == 200 and "Draf tersimpan. Refleksi belum dikirim." in draft.text
    assert textarea(draft.text, "p-baru") == "Baru *sedikit*"
    (row,) = entries(live_tool)
    assert row.submitted_at is None and row.answers["baru"] == "Baru *sedikit*" and row.words == 2
    assert _completions(live_tool) == []

    done = siti.post(action, data={**GOOD, "action": "submit"})
    assert "Refleksi Anda sudah dikirim." in done.text and "terkirim" in done.text
    (row,) = entries(live_tool)
    assert row.submitted_at is not None and row.words == 24
    assert row.answers["tindak-lanjut"] == GOOD["p-tindak-lanjut"]
    assert _completions(live_tool) == [("submitted", True)]
    # once submitted it can be improved, always as a submission (no draft button)
    assert "Perbarui refleksi yang sudah dikirim" in done.text and "Simpan draf" not in done.text
    better = {**GOOD, "p-saran": "Contoh soal Bebras lebih banyak."}
    updated = siti.post(action, data={**better, "action": "draft"})
    assert "Refleksi yang sudah Anda kirim telah diperbarui." in updated.text
    (again,) = entries(live_tool)
    assert again.answers["saran"] == better["p-saran"] and again.submitted_at == row.submitted_at
    # ...and a change that breaks the rules is refused, keeping the submitted text
    worse = siti.post(action, data={**GOOD, "p-baru": "", "action": "draft"})
    assert worse.status_code == 400
    assert "Jawab pertanyaan ini sebelum mengirim." in worse.text
    assert entries(live_tool)[0].answers == again.answers

    # the pengampu sees the class at a glance, then the list
    pengampu, staff_page = open_as(live_tool, lms, PENGAMPU, "pengampu-1")
    assert "1 terkirim, 0 draf, 0 belum mulai (dari 1 peserta)." in staff_page.text
    listing = pengampu.get(live_tool.url(staff_url(staff_page)))
    assert listing.status_code == 200
    assert (
        ">Siti</a>" in listing.text and "terkirim" in listing.text and "<td>29</td>" in listing.text
    )


def test_prompts_come_from_settings_or_default(live_tool, lms):
    _b, sesi2 = open_as(live_tool, lms, PESERTA, "siti", SESI2)
    for label in (
        "Hal-hal baru yang Anda peroleh",
        "Faktor pendukung dan penghambat",
        "Langkah antisipasi",
        "Rencana aksi tindak lanjut",
    ):
        assert label in sesi2.text
    _b, penutup = open_as(live_tool, lms, PESERTA, "siti", PENUTUP)
    assert "Tiga hal terpenting yang Anda pelajari dari modul ini" in penutup.text
    assert "Saran untuk perbaikan materi dan pendampingan" in penutup.text
    assert "Langkah antisipasi" not in penutup.text
    assert "Seluruh refleksi memerlukan sekurang-kurangnya 8 kata." in penutup.text


def test_too_few_words_is_refused_and_nothing_typed_is_lost(live_tool, lms):
    siti, page = open_as(live_tool, lms, PESERTA, "siti")
    action = live_tool.url(save_url(page))
    short = {**GOOD, "p-baru": "Dekomposisi itu baru."}
    refused = siti.post(action, data={**short, "action": "submit"})
    assert refused.status_code == 400
    assert "Tidak ada yang hilang" in refused.text
    assert "Diperlukan sekurang-kurangnya 5 kata (sekarang 3)." in refused.text
    assert 'aria-describedby="hint-baru err-baru" aria-invalid="true"' in refused.text
    for name, value in short.items():
        assert textarea(refused.text, name) == value
    assert entries(live_tool) == [] and _completions(live_tool) == []

    # each answer long enough, the whole too short (12 words)
    tiny = {"p-baru": "satu dua tiga empat lima", "p-kendala": "enam", "p-tindak-lanjut": "tujuh"}
    total = siti.post(action, data={**tiny, "action": "submit"})
    assert total.status_code == 400
    assert "Diperlukan sekurang-kurangnya 12 kata (sekarang 7)." in total.text
    assert textarea(total.text, "p-kendala") == "enam"
    # a required answer left empty
    empty = siti.post(action, data={**GOOD, "p-kendala": "  ", "action": "submit"})
    assert empty.status_code == 400 and "Jawab pertanyaan ini sebelum mengirim." in empty.text
    # far too long: refused even for a draft
    long = siti.post(action, data={"p-baru": "kata " * 4001 + "x", "action": "draft"})
    assert long.status_code == 400 and "Paling banyak 20000 karakter." in long.text
    assert entries(live_tool) == []
    # the draft of the same short text is fine
    assert siti.post(action, data={**short, "action": "draft"}).status_code == 200
    assert entries(live_tool)[0].submitted_at is None


def test_edit_window_week_end(live_tool, lms):
    siti, page = open_as(live_tool, lms, PESERTA, "siti")
    action = live_tool.url(save_url(page))
    _start(live_tool, 7)  # sesi-1 is week 2: it runs from today to six days from now
    page = siti.get(here(live_tool, page))
    assert "Anda dapat mengubah refleksi sampai" in page.text
    siti.post(action, data={"p-baru": "Draf awal saya", "action": "draft"})

    _start(live_tool, 14)  # week 2 ended yesterday
    typed = {**GOOD, "p-saran": "Teks yang baru saja saya ketik"}
    refused = siti.post(action, data={**typed, "action": "submit"})
    assert refused.status_code == 409
    assert "Waktu untuk mengubah refleksi ini berakhir pada" in refused.text
    assert "Tidak ada yang disimpan; teks yang Anda ketik ada di bawah" in refused.text
    for name, value in typed.items():
        assert textarea(refused.text, name) == value  # copyable, nothing lost
    assert 'name="p-baru" rows="6" maxlength="20000" readonly' in refused.text
    assert "Kirim refleksi" not in refused.text
    (row,) = entries(live_tool)
    assert row.answers["baru"] == "Draf awal saya" and row.submitted_at is None

    closed = siti.get(here(live_tool, page))
    assert "Refleksi ini sudah ditutup. Teks Anda tetap tersimpan." in closed.text
    assert (
        "<p>Draf awal saya</p>" in closed.text
        and "<textarea" not in closed.text.split("comments")[0]
    )


def test_edit_window_due_with_a_personal_extension(live_tool, lms):
    siti, page = open_as(live_tool, lms, PESERTA, "siti", PENUTUP)
    action = live_tool.url(save_url(page))
    # the Penutup is week 6 and due on its day 4: start 40 days ago, due yesterday
    _start(live_tool, 40)
    data = {
        "p-penting": "Berpikir komputasional, pemrograman, data.",
        "p-praktik": "Saya memakai kegiatan unplugged.",
        "p-lanjutan": "Jaringan komputer.",
        "p-saran": "Lebih banyak video.",
        "action": "submit",
    }
    assert siti.post(action, data=data).status_code == 409
    assert entries(live_tool) == []
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        user = db.scalars(select(User).where(User.sub == "siti")).one()
        activity_id = int(action.rsplit("/", 1)[1])
        today = schedule.today_in("Asia/Jakarta")
        instances.set_due(db, inst, activity_id, today + timedelta(days=2), user.id, by=user.id)
        db.commit()
    ok = siti.post(action, data=data)
    assert ok.status_code == 200 and "Refleksi Anda sudah dikirim." in ok.text
    assert entries(live_tool)[0].submitted_at is not None


def test_staff_comment_and_the_peserta_replies(live_tool, lms):
    siti, page = open_as(live_tool, lms, PESERTA, "siti")
    siti.post(live_tool.url(save_url(page)), data={**GOOD, "action": "submit"})
    (row,) = entries(live_tool)
    ctx = ctx_of(save_url(page))

    pengampu, staff_page = open_as(live_tool, lms, PENGAMPU, "pengampu-1")
    reading = pengampu.get(live_tool.url(f"/c/{ctx}/refleksi/entry/{row.id}"))
    assert reading.status_code == 200
    assert "Refleksi Siti" in reading.text and "Belum ada komentar." in reading.text
    assert "<strong>unplugged</strong>" in reading.text
    url = live_tool.url(comment_url(reading))
    empty = pengampu.post(url, data={"comment": "   "})
    assert empty.status_code == 400 and "Tulis komentar sebelum mengirimnya." in empty.text
    assert comments(live_tool) == []
    long = pengampu.post(url, data={"comment": "x" * 5001})
    assert long.status_code == 400 and "Komentar paling banyak 5000 karakter." in long.text
    assert textarea(long.text, "comment") == "x" * 5001
    said = pengampu.post(url, data={"comment": "Bagus, coba **uji** di kelas VIII juga."})
    assert "Komentar Anda sudah ditambahkan." in said.text
    assert "Bagus, coba <strong>uji</strong> di kelas VIII juga." in said.text

    # the peserta sees it under her reflection and replies from there
    mine = siti.get(here(live_tool, page))
    assert "Bagus, coba <strong>uji</strong>" in mine.text and "Pengampu" in mine.text
    refused = siti.post(live_tool.url(comment_url(mine)), data={"comment": ""})
    assert refused.status_code == 400 and "Tulis komentar sebelum mengirimnya." in refused.text
    assert textarea(refused.text, "p-baru") == GOOD["p-baru"]
    reply = siti.post(live_tool.url(comment_url(mine)), data={"comment": "Terima kasih, Bu."})
    assert "Komentar Anda sudah ditambahkan." in reply.text
    assert [(c.author_role, c.body) for c in comments(live_tool)] == [
        ("pengampu", "Bagus, coba **uji** di kelas VIII juga."),
        ("peserta", "Terima kasih, Bu."),
    ]
    thread = pengampu.get(live_tool.url(f"/c/{ctx}/refleksi/entry/{row.id}")).text
    assert thread.index("Bagus, coba") < thread.index("Terima kasih, Bu.")

    # the printable record holds the reflection and the thread
    record = pengampu.get(live_tool.url(record_url(staff_page)))
    assert record.status_code == 200 and "Rekap refleksi" in record.text
    assert "1 dari 1 peserta sudah mengirim." in record.text and "Terima kasih, Bu." in record.text
    assert (
        "@media print"
        in pengampu.get(
            live_tool.url(record.text.split('rel="stylesheet" href="')[2].split('"')[0])
        ).text
    )


def _rombels(live_tool, plan: dict[str, tuple[str, list[str]]]) -> None:
    """rombel name -> (mentor sub, peserta subs)."""
    with get_db(live_tool.app).sessionmaker() as db:
        inst = db.scalars(select(CourseInstance)).one()
        ids = {u.sub: u.id for u in db.scalars(select(User))}
        for name, (mentor, members) in plan.items():
            rombel = roster.create_rombel(db, inst, name, ids[mentor])
            for sub in members:
                roster.assign(db, inst, ids[sub], rombel.id, by=ids[mentor])
        db.commit()


def test_a_mentor_sees_only_his_rombel(live_tool, lms):
    for sub in ("siti", "budi"):
        b, page = open_as(live_tool, lms, PESERTA, sub)
        b.post(live_tool.url(save_url(page)), data={**GOOD, "action": "submit"})
    ctx = ctx_of(save_url(page))
    mentor_a, page_a = open_as(live_tool, lms, MENTOR, "mentor-a")
    open_as(live_tool, lms, MENTOR, "mentor-b")
    _rombels(live_tool, {"Rombel A": ("mentor-a", ["siti"]), "Rombel B": ("mentor-b", ["budi"])})
    siti_entry, budi_entry = entries(live_tool)

    page_a = mentor_a.get(here(live_tool, page_a))
    assert "1 terkirim, 0 draf, 0 belum mulai (dari 1 peserta)." in page_a.text
    listing = mentor_a.get(live_tool.url(staff_url(page_a))).text
    assert "Siti" in listing and "Budi" not in listing and "Rombel A" in listing
    record = mentor_a.get(live_tool.url(record_url(page_a))).text
    assert "Siti" in record and "Budi" not in record
    assert (
        mentor_a.get(live_tool.url(f"/c/{ctx}/refleksi/entry/{siti_entry.id}")).status_code == 200
    )
    other = live_tool.url(f"/c/{ctx}/refleksi/entry/{budi_entry.id}")
    assert mentor_a.get(other).status_code == 404
    assert mentor_a.post(other + "/comment", data={"comment": "Halo"}).status_code == 404
    assert comments(live_tool) == []

    pengampu, page_p = open_as(live_tool, lms, PENGAMPU, "pengampu-1")
    listing = pengampu.get(live_tool.url(staff_url(page_p))).text
    assert "Siti" in listing and "Budi" in listing
    assert pengampu.get(other).status_code == 200


def test_another_peserta_cannot_open_a_reflection(live_tool, lms):
    siti, page = open_as(live_tool, lms, PESERTA, "siti")
    siti.post(live_tool.url(save_url(page)), data={**GOOD, "action": "submit"})
    (row,) = entries(live_tool)
    ctx = ctx_of(save_url(page))
    mine = live_tool.url(f"/c/{ctx}/refleksi/entry/{row.id}")
    assert siti.get(mine).status_code == 200

    budi, budi_page = open_as(live_tool, lms, PESERTA, "budi")
    assert budi.get(mine).status_code == 404
    assert budi.post(mine + "/comment", data={"comment": "Mengintip"}).status_code == 404
    assert budi.get(live_tool.url(f"/c/{ctx}/refleksi/entry/{row.id + 100}")).status_code == 404
    assert comments(live_tool) == []
    assert "Siti" not in budi.get(here(live_tool, budi_page)).text  # visible_to_peers is off
    # peserta do not reach the staff pages; staff do not write reflections
    activity_id = save_url(page).rsplit("/", 1)[1]
    assert budi.get(live_tool.url(f"/c/{ctx}/refleksi/{activity_id}/staff")).status_code == 403
    assert budi.get(live_tool.url(f"/c/{ctx}/refleksi/{activity_id}/record")).status_code == 403
    pengampu, _p = open_as(live_tool, lms, PENGAMPU, "pengampu-1")
    assert 'name="csrf_token"' in pengampu.get(mine).text  # a page with a form: a valid token
    posted = pengampu.post(live_tool.url(save_url(page)), data={**GOOD, "action": "submit"})
    assert posted.status_code == 403
    assert len(entries(live_tool)) == 1


def test_review_url_opens_the_peserta_reflection(live_tool, lms):
    siti, page = open_as(live_tool, lms, PESERTA, "siti")
    siti.post(live_tool.url(save_url(page)), data={**GOOD, "action": "draft"})
    (row,) = entries(live_tool)
    ctx = ctx_of(save_url(page))
    app = live_tool.app
    plugin = app.extensions["lti_activities"].get("refleksi")
    with app.test_request_context():
        from lti_tool.db import session
        from lti_tool.models import Activity

        activity = session().get(Activity, row.activity_id)
        assert plugin.review_url(ctx, "gp-refleksi-uji", activity, row.user_id) == (
            f"/c/{ctx}/refleksi/entry/{row.id}"
        )
        assert plugin.review_url(ctx, "gp-refleksi-uji", activity, 10**6) == (
            f"/c/{ctx}/refleksi/{activity.id}/staff"
        )


@pytest.mark.parametrize("target", [SESI1, SESI2, PENUTUP])
@pytest.mark.parametrize("roles", [PESERTA, MENTOR, PENGAMPU, ["Administrator"]])
def test_every_role_opens_every_reflection(live_tool, lms, roles, target):
    _b, page = open_as(live_tool, lms, roles, "u", target)
    assert ("Refleksi saya" in page.text) == (roles == PESERTA)
    assert ("Refleksi kelas" in page.text) == (roles != PESERTA)


def test_closing_time_by_setting():
    from datetime import date, datetime

    from plugins.refleksi.settings import RefleksiSettings
    from plugins.refleksi.views import closes_at

    block = SimpleNamespace(week=2, weeks=1)
    activity = SimpleNamespace(block=block, id=1, due_day=None)
    inst = SimpleNamespace(id=1, start_date=date(2026, 1, 5), timezone="Asia/Jakarta")
    week_end = RefleksiSettings(editable_until="week_end")
    # week 2 runs 12-18 January; 23:59:59 in Jakarta is 16:59:59 UTC
    assert closes_at(None, inst, activity, 7, week_end) == datetime(2026, 1, 18, 16, 59, 59)
    assert closes_at(None, inst, activity, 7, RefleksiSettings(editable_until="always")) is None
    no_dates = SimpleNamespace(id=1, start_date=None, timezone="Asia/Jakarta")
    assert closes_at(None, no_dates, activity, 7, week_end) is None


def test_peers_read_submitted_reflections_only_when_the_settings_say_so(live_tool, lms):
    siti, page = open_as(live_tool, lms, PESERTA, "siti", SESI2)
    answers = {
        "p-baru": "Variabel dan perulangan.",
        "p-faktor": "Contoh Scratch membantu.",
        "p-antisipasi": "Belajar bersama rekan.",
        "p-tindak-lanjut": "Mencoba robot menggambar.",
    }
    siti.post(live_tool.url(save_url(page)), data={**answers, "action": "draft"})
    budi, budi_page = open_as(live_tool, lms, PESERTA, "budi", SESI2)
    assert "Refleksi rekan peserta" not in budi_page.text  # a draft stays private
    siti.post(live_tool.url(save_url(page)), data={**answers, "action": "submit"})
    shared = budi.get(here(live_tool, budi_page)).text
    assert "Refleksi rekan peserta" in shared and "<summary>Siti</summary>" in shared
    assert "<p>Contoh Scratch membantu.</p>" in shared
    assert "comment" not in shared.split("Refleksi rekan peserta")[1]  # read-only
