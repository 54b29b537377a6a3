"""The forum through real LTI launches: threads and replies across roles with the staff
marked, unread markers, the edit window, soft delete, moderation, resent forms,
refusals that keep what was typed, pagination, bounded queries, and the record."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from sqlalchemy import event, select

from lti_tool.db import get_db
from lti_tool.models import ActivityCompletion
from plugins.forum.models import ForumAudit, ForumPost, ForumThread
from plugins.forum.tests.helpers import Person, rows, thread_links
from tests.engines import stored_names


def _edit(app, post_id, **changes):
    with get_db(app).sessionmaker() as db:
        post = db.get(ForumPost, post_id)
        for k, v in changes.items():
            setattr(post, k, v)
        db.commit()


def test_thread_and_replies_across_roles_with_badges_and_unread(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    opened = siti.new_thread("Peserta didik yang pendiam", "Di kelas saya ada anak pendiam.")
    assert opened.status_code == 200 and "Kiriman Anda telah diterbitkan." in opened.text
    assert len(rows(app, ForumThread)) == 1

    pengampu = Person(live_tool, lms, "bu-ani", "pengampu")
    assert "1 baru" in pengampu.page.text  # siti's post is new to the pengampu
    page = pengampu.get(thread_links(pengampu.page.text)[0])
    assert pengampu.reply(page, "Ajak bicara secara pribadi.").status_code == 200
    mentor = Person(live_tool, lms, "pak-mentor", "mentor")
    page = mentor.get(thread_links(mentor.page.text)[0])
    assert mentor.reply(page, "Setuju dengan Bu Ani.").status_code == 200

    budi = Person(live_tool, lms, "budi")
    assert "3 baru" in budi.page.text and "3 belum dibaca" in budi.page.text
    assert "Balasan: 2" in budi.page.text
    view = budi.get(thread_links(budi.page.text)[0])
    posts = re.findall(r'<li id="p\d+" class="([^"]+)">', view.text)
    assert len(posts) == 3 and all("is-new" in c for c in posts)
    # posts in order; the mentor's and pengampu's marked, the peserta's not
    order = [view.text.index(t) for t in ("anak pendiam", "Ajak bicara", "Setuju dengan")]
    assert order == sorted(order)
    assert "is-staff" not in posts[0] and "is-staff" in posts[1] and "is-staff" in posts[2]
    assert 'forum-role-pengampu">Pengampu<' in view.text
    assert 'forum-role-mentor">Mentor<' in view.text
    # viewing read them: the markers are gone, in the list and in the thread
    assert "baru" not in budi.open().text.split('id="threads"')[1].split("</ul>")[0]
    again = budi.get(thread_links(budi.page.text)[0])
    assert "is-new" not in again.text
    # siti sees the two replies as new; her own post never is
    siti_list = siti.open().text
    assert "2 baru" in siti_list
    siti.get(thread_links(siti_list)[0])
    # a new reply is unread for the others again, not for its author
    budi.reply(again, "Saya juga punya pengalaman serupa.")
    assert "1 baru" in siti.open().text
    assert "baru" not in budi.open().text.split('id="threads"')[1].split("</ul>")[0]

    # completion "submitted": siti and budi posted; a peserta who only viewed has not
    dewi = Person(live_tool, lms, "dewi")
    assert dewi.page.status_code == 200
    with get_db(app).sessionmaker() as db:
        done = {
            c.user_id: c.completed_at is not None for c in db.scalars(select(ActivityCompletion))
        }
    assert sorted(done.values()) == [False, True, True]


def test_edit_within_30_minutes_only(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    page = siti.new_thread("Judul lama", "Teks lama")
    (post,) = rows(app, ForumPost)
    edit_url = f"/c/{siti.ctx}/forum/{rows(app, ForumThread)[0].activity_id}/p/{post.id}/edit"
    assert "Ubah" in page.text and edit_url in page.text
    form = siti.get(edit_url)
    assert form.status_code == 200 and "Teks lama" in form.text
    done = siti.post(edit_url, data={"title": "Judul baru", "body": "Teks baru"})
    assert "Kiriman Anda telah diubah." in done.text and "diubah" in done.text
    (post,) = rows(app, ForumPost)
    assert post.source == "Teks baru" and post.edited_at is not None
    assert rows(app, ForumThread)[0].title == "Judul baru"
    (audit,) = rows(app, ForumAudit)
    assert audit.action == "edit" and "Teks lama" in audit.detail

    # someone else cannot edit it
    budi = Person(live_tool, lms, "budi")
    assert budi.get(edit_url).status_code == 403
    assert budi.post(edit_url, data={"body": "dibajak"}).status_code == 403

    # after 30 minutes: refused with a message, the typed text shown, nothing changed
    _edit(app, post.id, created_at=post.created_at - timedelta(minutes=31))
    late = siti.get(edit_url)
    assert late.status_code == 409 and "30 menit" in late.text
    late = siti.post(edit_url, data={"title": "Judul baru", "body": "Teks terlambat"})
    assert late.status_code == 409 and "Teks terlambat" in late.text
    assert rows(app, ForumPost)[0].source == "Teks baru"
    thread_page = siti.get(thread_links(siti.open().text)[0])
    assert edit_url not in thread_page.text


def test_soft_delete_of_own_post(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    siti.new_thread("Topik", "Pembuka")
    budi = Person(live_tool, lms, "budi")
    page = budi.get(thread_links(budi.page.text)[0])
    budi.reply(page, "Balasan rahasia budi")
    reply = rows(app, ForumPost)[-1]
    aid = rows(app, ForumThread)[0].activity_id
    delete = f"/c/{budi.ctx}/forum/{aid}/p/{reply.id}/delete"
    assert siti.post(delete).status_code == 403  # not hers
    gone = budi.post(delete)
    assert gone.status_code == 200 and "Kiriman Anda telah dihapus." in gone.text
    assert "Balasan rahasia budi" not in gone.text
    assert "Kiriman dihapus oleh penulisnya." in gone.text
    row = rows(app, ForumPost, ForumPost.id == reply.id)[0]
    assert row.deleted_at is not None and row.source == "Balasan rahasia budi"  # kept
    assert budi.post(delete).status_code == 200  # again: nothing changes
    view = siti.get(thread_links(siti.open().text)[0]).text
    assert "Balasan rahasia budi" not in view and "Kiriman dihapus oleh penulisnya." in view
    # the list counts it no more
    assert "Balasan: 0" in siti.open().text
    assert [a.action for a in rows(app, ForumAudit)] == ["delete"]


def test_moderation_hides_posts_from_peserta_and_is_logged(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    siti.new_thread("Judul kasar", "Kata-kata kasar di sini")
    post = rows(app, ForumPost)[0]
    aid = rows(app, ForumThread)[0].activity_id
    hide = f"/c/{siti.ctx}/forum/{aid}/p/{post.id}/hide"
    unhide = f"/c/{siti.ctx}/forum/{aid}/p/{post.id}/unhide"
    budi = Person(live_tool, lms, "budi")
    assert budi.post(hide, data={"reason": "x"}).status_code == 403

    pengampu = Person(live_tool, lms, "bu-ani", "pengampu")
    pengampu.reply(pengampu.get(thread_links(pengampu.page.text)[0]), "Mohon sopan.")
    r = pengampu.post(hide, data={"reason": "Bahasa tidak pantas"})
    assert r.status_code == 200 and "Kiriman telah disembunyikan dari peserta." in r.text
    assert "Kata-kata kasar" in r.text and "Bahasa tidak pantas" in r.text  # staff see it
    view = budi.get(thread_links(budi.open().text)[0]).text
    assert "Kata-kata kasar" not in view and "Bahasa tidak pantas" not in view
    assert "Kiriman ini disembunyikan oleh moderator." in view
    assert "(dihapus)" in view  # the hidden opening post takes the title with it
    assert "Judul kasar" not in budi.open().text

    # a mentor cannot hide the pengampu's post
    mentor = Person(live_tool, lms, "pak-mentor", "mentor")
    staff_post = rows(app, ForumPost)[-1]
    assert (
        mentor.post(f"/c/{siti.ctx}/forum/{aid}/p/{staff_post.id}/hide", data={}).status_code == 403
    )
    assert pengampu.post(unhide).status_code == 200
    assert "Kata-kata kasar" in budi.get(thread_links(budi.open().text)[0]).text
    assert [(a.action, a.detail) for a in rows(app, ForumAudit)] == [
        ("hide", "Bahasa tidak pantas"),
        ("unhide", None),
    ]
    record = pengampu.get(f"/c/{siti.ctx}/forum/{aid}/record").text
    assert "Catatan moderasi" in record and "Bahasa tidak pantas" in record


def test_a_form_sent_twice_makes_one_post(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    key = siti.key(siti.page.text)
    action = siti.action(siti.page.text, "threads")
    data = {"title": "Dua kali", "body": "Klik ganda", "submit_key": key}
    first = siti.post(action, data=data)
    second = siti.post(action, data=data)
    assert first.status_code == second.status_code == 200
    assert "Kiriman ini sudah pernah dikirim" in second.text
    assert len(rows(app, ForumThread)) == 1 and len(rows(app, ForumPost)) == 1
    # the page kept by the Back button, with a new text written in it: a new post
    other = siti.post(action, data={**data, "title": "Lain", "body": "Teks baru"})
    assert "Kiriman Anda telah diterbitkan." in other.text
    assert len(rows(app, ForumThread)) == 2
    rows_before = len(rows(app, ForumPost))

    # the same reply sent at once from two tabs (different form keys) and concurrently
    page = siti.get(thread_links(siti.open().text)[0])
    siti.reply(page, "Balasan yang sama")
    page = siti.get(thread_links(siti.open().text)[0])  # another tab, another form key
    again = siti.reply(page, "Balasan yang sama")
    assert "Kiriman ini sudah pernah dikirim" in again.text
    assert len(rows(app, ForumPost)) == rows_before + 1
    page = siti.get(thread_links(siti.open().text)[0])
    key = siti.key(page.text)
    reply = siti.action(page.text, r"t/\d+/reply")
    results = []

    def send():
        results.append(siti.post(reply, data={"body": "Serentak", "submit_key": key}))

    workers = [threading.Thread(target=send) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert all(r.status_code == 200 for r in results)
    assert [p.source for p in rows(app, ForumPost)].count("Serentak") == 1


def test_refused_forms_keep_what_was_typed_and_store_nothing(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    r = siti.new_thread("Judul yang saya ketik", "   ")
    assert r.status_code == 400
    assert "Kiriman masih kosong" in r.text and 'value="Judul yang saya ketik"' in r.text
    r = siti.new_thread("", "Isi yang panjang dan berharga")
    assert r.status_code == 400 and "Beri judul untuk topik ini." in r.text
    assert "Isi yang panjang dan berharga</textarea>" in r.text
    r = siti.new_thread("x" * 201, "isi")
    assert r.status_code == 400 and "Judul terlalu panjang" in r.text
    r = siti.new_thread("Judul", "y" * 20_001)
    assert r.status_code == 400 and "Kiriman terlalu panjang" in r.text
    r = siti.new_thread("Judul", "<p> </p><p></p>")
    assert r.status_code == 400 and "Kiriman masih kosong" in r.text
    assert rows(app, ForumThread) == [] and rows(app, ForumPost) == []
    # a staff-led forum: peserta reply but do not open threads
    tanya = siti.open("/course/forum-uji/sesi-1/tanya")
    assert 'name="title"' not in tanya.text
    assert "Topik dibuka oleh pengampu atau mentor" in tanya.text
    aid = re.search(r"/c/\d+/forum/(\d+)/", siti.open().text).group(1)
    other = int(aid) + 1
    assert (
        siti.post(f"/c/{siti.ctx}/forum/{other}/threads", data={"title": "a", "body": "b"})
    ).status_code == 403


def test_long_threads_and_lists_are_paged_with_bounded_queries(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    siti.new_thread("Topik panjang", "Posting 0")
    (thread,) = rows(app, ForumThread)
    with get_db(app).sessionmaker() as db:
        for n in range(1, 55):
            db.add(
                ForumPost(
                    thread_id=thread.id,
                    author_id=thread.author_id,
                    author_role="peserta",
                    source=f"Posting {n}",
                    html=f"<p>Posting {n}</p>",
                )
            )
        db.commit()
    url = thread_links(siti.open().text)[0]
    first = siti.get(url).text
    assert "Halaman 1 dari 2" in first and "Posting 49<" in first and "Posting 50<" not in first
    second = siti.get(url + "?page=2").text
    assert "Posting 54<" in second and "Posting 49<" not in second
    assert siti.get(url + "?page=abc").status_code == 200
    for odd in ("²", "9" * 25):  # "²".isdigit() is true and int("²") fails
        assert siti.get(url + f"?page={odd}").status_code == 200
        assert siti.get(url + f"?quote={odd}").status_code == 200

    # the list: one query for the threads with their counts, whatever their number
    engine = get_db(app).engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def queries_for_list() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            siti.get(f"/c/{siti.ctx}/module/forum-uji/sesi-1/forum")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    few = queries_for_list()
    with get_db(app).sessionmaker() as db:
        for n in range(30):
            t = ForumThread(
                context_pk=thread.context_pk,
                activity_id=thread.activity_id,
                author_id=thread.author_id,
                author_role="peserta",
                title=f"Topik {n}",
            )
            db.add(t)
            db.flush()
            p = ForumPost(
                thread_id=t.id,
                author_id=t.author_id,
                author_role="peserta",
                source="isi",
                html="<p>isi</p>",
            )
            db.add(p)
            db.flush()
            t.first_post_id = p.id
        db.commit()
    assert queries_for_list() == few
    listing = siti.get(f"/c/{siti.ctx}/module/forum-uji/sesi-1/forum").text
    assert "Halaman 1 dari 2" in listing and listing.count('<li class="forum-thread') == 20
    page2 = siti.get(f"/c/{siti.ctx}/module/forum-uji/sesi-1/forum?page=2").text
    assert page2.count('<li class="forum-thread') == 11


def test_the_record_is_for_staff_and_holds_everything(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    siti.new_thread("Topik satu", "Isi satu")
    page = siti.get(thread_links(siti.open().text)[0])
    siti.reply(page, "Akan saya hapus")
    aid = rows(app, ForumThread)[0].activity_id
    deleted = rows(app, ForumPost)[-1]
    siti.post(f"/c/{siti.ctx}/forum/{aid}/p/{deleted.id}/delete")
    record = f"/c/{siti.ctx}/forum/{aid}/record"
    assert siti.get(record).status_code == 403
    pengampu = Person(live_tool, lms, "bu-ani", "pengampu")
    assert record in pengampu.page.text  # linked from the forum for staff
    r = pengampu.get(record)
    assert r.status_code == 200
    assert "Rekaman forum: Forum Sesi" in r.text and "Topik satu" in r.text and "Isi satu" in r.text
    assert "Akan saya hapus" not in r.text and "Dihapus oleh penulisnya" in r.text
    assert "1 topik, 2 kiriman oleh 1 orang" in r.text

    from plugins.forum.plugin import Forum

    with app.test_request_context():
        from lti_tool.models import Activity

        with get_db(app).sessionmaker() as db:
            activity = db.get(Activity, aid)
            assert Forum.staff_url(siti.ctx, "forum-uji", activity) == record


def test_quotes_and_pinned_threads(live_tool, lms):
    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    siti.new_thread("Topik pertama", "Pendapat saya tentang teori belajar")
    siti.open()
    siti.new_thread("Topik kedua", "Lainnya")
    first = rows(app, ForumThread)[0]
    quoted = rows(app, ForumPost)[0]
    budi = Person(live_tool, lms, "budi")
    url = f"/c/{budi.ctx}/forum/{first.activity_id}/t/{first.id}"
    quoting = budi.get(url + f"?quote={quoted.id}")
    assert "Mengutip Siti:" in quoting.text and f'name="quote" value="{quoted.id}"' in quoting.text
    r = budi.reply(quoting, "Saya setuju", quote=str(quoted.id))
    assert "Siti menulis:" in r.text and r.text.count("Pendapat saya tentang teori belajar") == 2
    assert rows(app, ForumPost)[-1].quote_id == quoted.id
    # a quote of a post of another thread is refused
    other = rows(app, ForumPost, ForumPost.thread_id != first.id)[0]
    page = budi.get(url)
    assert budi.reply(page, "x", quote=str(other.id)).status_code == 404
    # staff pin a thread on top; peserta cannot
    pin = f"/c/{budi.ctx}/forum/{first.activity_id}/t/{first.id}/pin"
    assert budi.post(pin).status_code == 403
    listing = budi.open().text
    assert listing.index("Topik pertama") < listing.index("Topik kedua")  # latest activity
    siti.open()
    siti.new_thread("Topik ketiga", "Terbaru")
    pengampu = Person(live_tool, lms, "bu-ani", "pengampu")
    assert "Disematkan" not in pengampu.page.text
    r = pengampu.post(pin)
    assert "Topik disematkan di bagian atas daftar." in r.text
    listing = budi.open().text
    assert listing.index("Topik pertama") < listing.index("Topik ketiga")
    assert "Disematkan" in listing


def test_housekeeping_forgets_files_never_posted(live_tool, lms):
    import io

    from lti_tool.db import session, utcnow
    from plugins.forum.models import ForumAttachment
    from plugins.forum.plugin import Forum

    app = live_tool.app
    siti = Person(live_tool, lms, "siti")
    siti.new_thread("", "", files={"file": ("a.txt", io.BytesIO(b"catatan"))})
    (pending,) = rows(app, ForumAttachment)
    assert stored_names(app, "forum") == [pending.stored_name]
    with app.app_context():
        assert Forum.housekeeping(session(), utcnow()) == {"forum files never posted removed": 0}
        done = Forum.housekeeping(session(), utcnow() + timedelta(hours=25))
        assert done == {"forum files never posted removed": 1}
    assert rows(app, ForumAttachment) == [] and stored_names(app, "forum") == []
