"""`lti-tool demo seed`: a finished demo class full of synthetic peserta and activity.

For trials and for the reports benchmark. A new course (LTI context) on the demo
platform gets a course instance of an installed template that started weeks ago and
is over; N peserta with Indonesian names, emails, valid participant numbers (built
from the Buku 1 code tables) and biodata; a mentor per 10 peserta leading a rombel;
a pengampu; their memberships and logins week by week; completion of the activities
up to where each peserta got; scores of every graded activity; the initial UKG and
the imported TA scores (and any other manual component of the template); attendance
at the template's face-to-face meetings; and, through each plugin's `demo_seed`
hook, the plugins' own rows (survey answers). Every class is new: rerunning never
touches another class.

Rows are written with bulk `INSERT ... executemany` in batches of BATCH rows, one
transaction per batch (no ORM object per row, no gradebook outbox), from a
random.Random with a fixed seed: the same seed gives the same people and scores.
About 3% of the roster never open the tool and 10% stop part-way, as real classes do.
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from lti_tool.activities import ActivityType
from lti_tool.db import utcnow
from lti_tool.demo import names
from lti_tool.models import (
    Activity,
    ActivityCompletion,
    ActivityLog,
    ActivityScore,
    Biodata,
    Context,
    CourseInstance,
    CourseModule,
    ManualScore,
    MeetingAttendance,
    MeetingRecord,
    Membership,
    Platform,
    ResourceLink,
    Rombel,
    RombelMember,
    User,
)
from lti_tool.reference import lptk, nomor_peserta
from lti_tool.services.instances import newest_module
from lti_tool.services.roles import MENTOR, PENGAMPU, PESERTA

#: Rows per INSERT (executemany) and per transaction.
BATCH = 5000
PESERTA_PER_MENTOR = 10
NEVER_LAUNCHED = 0.03
DROP_OUT = 0.10
SKIPPED = 0.03  # a finisher leaves this share of the other activities undone
#: The class finished this many days ago.
ENDED_DAYS_AGO = 14
#: Local 07:00-22:00 in WIB (UTC+7) as naive UTC: 00:00-15:00.
DAY_SECONDS = 15 * 3600
_M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LTI_ROLES = {PESERTA: [_M + "Learner"], MENTOR: [_M + "Mentor"], PENGAMPU: [_M + "Instructor"]}
#: Mean and spread (percent) of the scores of a component's activities.
SCORE_SHAPE = {"TS": (78, 9), "PD": (85, 8), "TA": (70, 11), "laporan": (80, 9)}
OTHER_SCORES = (79, 10)
#: Bidang studi of the teachers a module is for (by a word of the module key).
BIDANG_FOR = {"informatika": ("224", "224", "224", "330")}
GENERAL_BIDANG = ("027", "027", "027", "156", "157", "180", "097", "100", "154", "217", "220")
JENJANG_OF = {"020": "TK", "027": "SD", "224": "SMP", "330": "SMK"}
MEETING_STATUS = (("hadir", 0.90), ("izin", 0.04), ("sakit", 0.03), ("alpa", 0.03))
MEETING_NOTES = (
    "Kegiatan berjalan sesuai agenda; peserta aktif berdiskusi.",
    "Sebagian peserta terlambat karena jarak ke Pusat Belajar; materi tetap tuntas.",
    "Peserta berlatih langsung di sistem; kendala jaringan diatasi dengan tethering.",
)


class SeedError(ValueError):
    """The demo class cannot be made (e.g. the template is not installed)."""


@dataclass
class SeedResult:
    context_pk: int
    instance_id: int
    counts: Counter = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Peserta:
    """One synthetic peserta: who they are and how far and well they worked."""

    index: int
    given: str
    family: str
    email: str
    nomor: str
    instansi: str
    theta: float  # ability, N(0, 1): drives every score
    reached: int  # activities worked through (len(activities) = all)
    never: bool
    ukg: float
    uid: int = 0


class _Writer:
    """Buffers rows (tuples in a table's column order) and writes each full buffer in
    one go and one transaction, straight through the driver: SQLAlchemy's per-value
    processing would cost more than the insert itself at millions of rows. PostgreSQL
    (psycopg) gets COPY, anything else one executemany. Values are given as the driver
    takes them: `ts()` and `day()` convert times and dates (SQLite stores them in
    SQLAlchemy's text format), JSON columns get `json.dumps` text."""

    def __init__(self, db: Session) -> None:
        self.db = db
        dialect = db.get_bind().dialect
        self.sqlite = dialect.name == "sqlite"
        self.copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        self.mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.quote = dialect.identifier_preparer.quote
        self.buffers: dict[str, list[tuple]] = {}
        self.sql: dict[str, str] = {}
        self.counts: Counter = Counter()

    def table(self, model: Any, columns: Sequence[str]) -> Callable[[tuple], None]:
        """A function that adds one row of `model` (values in `columns` order)."""
        table: Table = model.__table__
        name = table.name
        if name not in self.sql:
            unknown = set(columns) - set(table.c.keys())
            if unknown:
                raise ValueError(f"{name} has no columns {sorted(unknown)}")
            required = [
                c.name
                for c in table.c
                if not (c.nullable or c.primary_key or c.server_default is not None)
            ]
            if set(required) - set(columns):  # a column added since: the seeder must fill it
                raise ValueError(f"{name}: no value for {sorted(set(required) - set(columns))}")
            # Names come from the models' metadata, values are bound: no injection.
            target = "{} ({})".format(self.quote(name), ", ".join(self.quote(c) for c in columns))
            if self.copy:
                self.sql[name] = f"COPY {target} FROM STDIN"
            else:
                marks = ", ".join([self.mark] * len(columns))
                self.sql[name] = f"INSERT INTO {target} VALUES ({marks})"  # noqa: S608
            self.buffers[name] = []
        buffer = self.buffers[name]

        def add(row: tuple) -> None:
            buffer.append(row)
            if len(buffer) >= BATCH:
                self._write(name, buffer)

        return add

    def ts(self, value: datetime | None) -> Any:
        if value is None or not self.sqlite:
            return value
        text = value.isoformat(" ")
        return text if value.microsecond else text + ".000000"

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def _write(self, name: str, buffer: list[tuple]) -> None:
        connection = self.db.connection()
        if self.copy:
            # Demo rows: a crash may lose the last batches, never corrupt anything.
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            with (
                connection.connection.driver_connection.cursor() as cursor,
                cursor.copy(self.sql[name]) as copy,
            ):
                for row in buffer:
                    copy.write_row(row)
        else:
            connection.exec_driver_sql(self.sql[name], buffer)
        self.db.commit()
        self.counts[name] += len(buffer)
        buffer.clear()

    def flush(self) -> None:
        for name, buffer in self.buffers.items():
            if buffer:
                self._write(name, buffer)


def _slug(given: str, family: str) -> str:
    return f"{given}.{family}".lower().replace(" ", ".")


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def class_start(module: CourseModule, today: date) -> date:
    """The start date that makes the module end ENDED_DAYS_AGO days before today."""
    weeks = max(b.week + b.weeks - 1 for b in module.blocks)
    return today - timedelta(days=7 * weeks + ENDED_DAYS_AGO)


def moment(start: date, day: int, rng: random.Random) -> datetime:
    """A naive UTC time on day `day` of the class (counted from 0), in waking hours."""
    return datetime(start.year, start.month, start.day) + timedelta(
        days=day, seconds=rng.randrange(DAY_SECONDS)
    )


def moment_in_block(inst: CourseInstance, activity: Activity, rng: random.Random) -> datetime:
    """A time in the activity's block, for plugins that date their demo answers."""
    block = activity.block
    first = 7 * (block.week - 1)
    return moment(inst.start_date, first + rng.randrange(7 * block.weeks), rng)


def demo_platform(app: Flask, db: Session) -> Platform:
    """The demo LMS's registration, registered now when it is missing."""
    from lti_tool.demo import platform as demo

    found = db.scalars(
        select(Platform).where(
            Platform.issuer == demo.issuer(app), Platform.client_id == demo.CLIENT_ID
        )
    ).first()
    return found or demo.ensure_demo_registration(app, db)


def seed_class(
    app: Flask,
    db: Session,
    participants: int,
    module_key: str,
    seed: int = 1,
    echo: Callable[[str], None] = lambda _line: None,
) -> SeedResult:
    """Create a demo class with `participants` peserta (see the module docstring)."""
    if participants < 1:
        raise SeedError("participants must be at least 1")
    module = newest_module(db, module_key)
    if module is None:
        raise SeedError(
            f"no installed template {module_key!r}: run `lti-tool init` or "
            "`lti-tool templates import` first"
        )
    from lti_tool.demo.platform import DEPLOYMENT_ID

    platform = demo_platform(app, db)
    tag = f"demo-seed-{uuid.uuid4().hex[:12]}"
    ctx = Context(
        platform_id=platform.id,
        issuer=platform.issuer,
        deployment_id=DEPLOYMENT_ID,
        context_id=tag,
        label=f"DEMO {tag[-6:].upper()}",
        title=f"{module.title}: kelas demo ({participants} peserta)",
        services={},
    )
    db.add(ctx)
    db.flush()
    try:
        result = _Seeder(app, db, ctx, module, tag, participants, seed, echo).run()
    except BaseException:
        db.rollback()
        _remove(db, ctx.id, platform.issuer, tag)
        raise
    return result


def _remove(db: Session, context_pk: int | None, issuer: str, tag: str) -> None:
    """Undo a failed seeding: the class (its rows cascade), its log, its users."""
    if context_pk is None:
        return
    db.execute(delete(ActivityLog).where(ActivityLog.context_pk == context_pk))
    db.execute(delete(Context).where(Context.id == context_pk))
    db.execute(delete(User).where(User.issuer == issuer, User.sub.startswith(tag + "-")))
    db.commit()


class _Seeder:
    def __init__(
        self,
        app: Flask,
        db: Session,
        ctx: Context,
        module: CourseModule,
        tag: str,
        participants: int,
        seed: int,
        echo: Callable[[str], None],
    ) -> None:
        self.app, self.db, self.ctx, self.module = app, db, ctx, module
        self.tag, self.n, self.echo = tag, participants, echo
        self.rng = random.Random(seed)
        self.writer = _Writer(db)
        self.now = utcnow()
        self.start = class_start(module, date.today())
        self.midnight = datetime(self.start.year, self.start.month, self.start.day)
        self.weeks = max(b.week + b.weeks - 1 for b in module.blocks)
        self.activities = [a for b in module.blocks for a in b.activities]
        self.rule = module.definition.get("scoring") or {}
        self.result = SeedResult(context_pk=ctx.id, instance_id=0)
        self._clock = time.perf_counter()

    # -- helpers ---------------------------------------------------------------------
    def _stage(self, name: str, tables: Sequence[str]) -> None:
        """Flush, and report the rows written since the last stage and the time."""
        self.writer.flush()
        now = time.perf_counter()
        seconds = now - self._clock
        self._clock = now
        self.result.seconds[name] = seconds
        rows = sum(self.writer.counts[t] for t in tables)
        self.echo(f"{name}: {rows:,} rows in {seconds:.1f} s")

    def _at(self, day: int) -> datetime:
        """A time on day `day` of the class, in waking hours (like `moment`, faster)."""
        return self.midnight + timedelta(days=day, seconds=int(self.rng.random() * DAY_SECONDS))

    def _pct(self, shape: tuple[float, float], theta: float) -> float:
        mean, sd = shape
        value = mean + sd * (0.75 * theta + 0.66 * self.rng.gauss(0, 1))
        return min(100.0, max(0.0, value))

    # -- the class -------------------------------------------------------------------
    def run(self) -> SeedResult:
        db, module = self.db, self.module
        base = self.app.config["PUBLIC_BASE_URL"]
        self.target = f"{base}/course/{module.key}"
        link = ResourceLink(
            context_pk=self.ctx.id,
            resource_link_id=f"{self.tag}-module",
            title=module.title,
            target=self.target,
        )
        inst = CourseInstance(
            context_pk=self.ctx.id,
            module_key=module.key,
            module_id=module.id,
            start_date=self.start,
            timezone="Asia/Jakarta",
            started_at=self.midnight + timedelta(hours=1),
        )
        db.add_all([link, inst])
        db.commit()
        self.inst, self.link_id = inst, link.id
        self.result.instance_id = inst.id
        self.echo(
            f"demo class {self.ctx.id} ({self.tag}): {module.key} {module.version}, "
            f"{self.n:,} peserta, started {self.start.isoformat()}"
        )
        people = self._people()
        self._users(people)
        self._stage("users", ["user"])
        self._staff_activity()
        self._peserta_activity(people)
        self._stage(
            "peserta activity",
            ["membership", "activity_log", "activity_completion", "activity_score"],
        )
        self._last_launches()
        self._manual_scores(people)
        self._biodata(people)
        self._stage("scores and biodata", ["manual_score", "biodata"])
        self._rombel_and_meetings(people)
        self._stage(
            "rombel and meetings",
            ["rombel", "rombel_member", "meeting_record", "meeting_attendance"],
        )
        self._plugins()
        self.result.counts.update(self.writer.counts)
        return self.result

    def _people(self) -> list[_Peserta]:
        """Names, emails, participant numbers and abilities of the peserta."""
        rng = self.rng
        regions = [
            (p, k, name)
            for p in nomor_peserta.provinces()
            for k, name in nomor_peserta.regencies(p).items()
        ]
        codes = next((v for k, v in BIDANG_FOR.items() if k in self.module.key), GENERAL_BIDANG)
        sequence: dict[str, int] = {}
        total = len(self.activities)
        out = []
        for i in range(self.n):
            pp, kk, regency = rng.choice(regions)
            bidang = rng.choice(codes)
            ministry = "2" if rng.random() < 0.12 else "1"
            prefix = f"16{pp}{kk}{bidang}{ministry}"
            seq = sequence[prefix] = sequence.get(prefix, rng.randrange(400)) + 1
            given, family = names.person(rng, pp)
            theta = rng.gauss(0, 1)
            never = rng.random() < NEVER_LAUNCHED
            if never:
                reached = 0
            elif rng.random() < DROP_OUT:
                reached = rng.randrange(1, total) if total > 1 else total
            else:
                reached = total
            place = regency.split(" ", 1)[1] if " " in regency else regency
            jenjang = JENJANG_OF.get(bidang, rng.choice(("SMP", "SMA", "SD")))
            if ministry == "2":
                jenjang = {"SD": "MI", "SMP": "MTs", "SMA": "MA", "SMK": "MA"}.get(jenjang, "MTs")
            status = "Negeri" if rng.random() < 0.75 else "Swasta"
            out.append(
                _Peserta(
                    index=i,
                    given=given,
                    family=family,
                    email=f"{_slug(given, family)}.{i + 1}@example.sch.id",
                    nomor=f"{prefix}{seq % 10000 or 1:04d}",
                    instansi=f"{jenjang} {status} {rng.randint(1, 12)} {place}",
                    theta=theta,
                    reached=reached,
                    never=never,
                    ukg=min(95.0, max(20.0, 55 + 6 * theta + rng.gauss(0, 5))),
                )
            )
        return out

    def _users(self, people: list[_Peserta]) -> None:
        """Insert the peserta, mentors and pengampu; read back their ids."""
        issuer, rng, ts = self.ctx.issuer, self.rng, self.writer.ts
        add = self.writer.table(
            User,
            (
                "issuer",
                "sub",
                "name",
                "given_name",
                "family_name",
                "email",
                "person_sourcedid",
                "locale",
                "created_at",
            ),
        )
        created = ts(self.now)
        mentors = math.ceil(self.n / PESERTA_PER_MENTOR)
        staff = [f"{self.tag}-pengampu"] + [
            f"{self.tag}-mentor-{m + 1:05d}" for m in range(mentors)
        ]
        for n, sub in enumerate(staff):
            given, family = names.person(rng, "00")
            email = f"{_slug(given, family)}.{n + 1}@example.go.id"
            add((issuer, sub, f"{given} {family}", given, family, email, None, "id", created))
        for p in people:
            sub = f"{self.tag}-peserta-{p.index + 1:07d}"
            name = f"{p.given} {p.family}"
            add((issuer, sub, name, p.given, p.family, p.email, p.nomor, "id", created))
        self.writer.flush()
        ids = dict(
            self.db.execute(
                select(User.sub, User.id).where(
                    User.issuer == issuer, User.sub.startswith(self.tag + "-")
                )
            ).all()
        )
        self.pengampu_id = ids[staff[0]]
        self.mentor_ids = [ids[sub] for sub in staff[1:]]
        for p in people:
            p.uid = ids[f"{self.tag}-peserta-{p.index + 1:07d}"]

    def _logins(self, uid: int, role: str, weeks: int, per_week: tuple[int, ...]) -> list:
        """A user's launches, week by week up to `weeks`; returns their times."""
        rng, at = self.rng, self._at
        times = sorted(
            at(7 * week + int(rng.random() * 7))
            for week in range(weeks)
            for _ in range(rng.choice(per_week))
        )
        add, ts = self.log, self.writer.ts
        ctx, link, target = self.ctx.id, self.link_id, self.target
        for when in times:
            add((ts(when), uid, ctx, link, role, "launch", target))
        return times

    def _membership(self, uid: int, role: str, times: list) -> None:
        ts = self.writer.ts
        first, last = (ts(times[0]), ts(times[-1])) if times else (None, None)
        self.member((uid, self.ctx.id, self.roles_json[role], role, first, last))

    def _staff_activity(self) -> None:
        self.log = self.writer.table(
            ActivityLog,
            ("at", "user_id", "context_pk", "resource_link_pk", "role", "event", "detail"),
        )
        self.member = self.writer.table(
            Membership,
            ("user_id", "context_pk", "lti_roles", "role", "first_launch_at", "last_launch_at"),
        )
        self.roles_json = {role: json.dumps(uris) for role, uris in LTI_ROLES.items()}
        for uid, role, per_week in [(self.pengampu_id, PENGAMPU, (3, 4, 5, 6))] + [
            (m, MENTOR, (1, 2, 2, 3)) for m in self.mentor_ids
        ]:
            times = self._logins(uid, role, self.weeks, per_week) or [self._at(0)]
            self._membership(uid, role, times)

    def _peserta_activity(self, people: list[_Peserta]) -> None:
        """Logins, memberships, completions and activity scores, peserta by peserta."""
        rng, ctx, ts = self.rng, self.ctx.id, self.writer.ts
        complete = self.writer.table(
            ActivityCompletion,
            (
                "context_pk",
                "activity_id",
                "user_id",
                "state",
                "first_viewed_at",
                "completed_at",
                "updated_at",
            ),
        )
        score = self.writer.table(
            ActivityScore,
            (
                "context_pk",
                "activity_id",
                "user_id",
                "score",
                "max_score",
                "source",
                "version",
                "updated_at",
            ),
        )
        # Per activity: its day in the class (spread over its block), its completion
        # state, its score shape (graded ones), its maximum and its block's last week.
        plan = []
        for b in self.module.blocks:
            first, days = 7 * (b.week - 1), 7 * b.weeks
            n = len(b.activities)
            for j, a in enumerate(b.activities):
                day = first + (j * (days - 2)) // max(1, n - 1)
                if a.due_day is not None:
                    day = min(day, first + a.due_day)
                shape = SCORE_SHAPE.get(a.component or "", OTHER_SCORES) if a.graded else None
                plan.append((a, day, a.completion, shape, a.max_score, b.week + b.weeks - 1))
        self.plan = plan
        plugins = self.app.extensions["lti_activities"]
        self.hooked: dict[int, list[int]] = {
            a.id: []
            for a, *_rest in plan
            if (p := plugins.get(a.type)) is not None
            and p.demo_seed.__func__ is not ActivityType.demo_seed.__func__
        }
        has_ta = any(c.get("key") == "TA" for c in self.rule.get("components", []))
        self.last_week: dict[int, int] = {}
        self.ta: dict[int, str] = {}
        five, one_day = timedelta(minutes=5), timedelta(days=1)
        for p in people:
            if p.never:
                self._membership(p.uid, PESERTA, [])
                self.last_week[p.uid] = 0
                continue
            weeks = plan[p.reached - 1][5]
            self.last_week[p.uid] = weeks
            times = self._logins(p.uid, PESERTA, weeks, (1, 2, 2, 3, 3, 4))
            if not times:
                times = [self._at(0)]
            self._membership(p.uid, PESERTA, times)
            earliest = times[0] + five
            finished = p.reached == len(plan)
            ta = None
            if finished and has_ta:
                pct = min(100.0, max(0.0, p.ukg + 20 + 2 * p.theta + rng.gauss(0, 5)))
                ta = self.ta[p.uid] = f"{pct:.2f}"
            for a, day, state, shape, top, _week in plan[: p.reached]:
                if finished and a.component is None and rng.random() < SKIPPED:
                    continue
                done = self._at(day)
                if done < earliest:
                    done = earliest
                done_text = ts(done)
                viewed = ts(done - timedelta(minutes=5 + int(rng.random() * 85)))
                complete((ctx, a.id, p.uid, state, viewed, done_text, done_text))
                if a.id in self.hooked:
                    self.hooked[a.id].append(p.uid)
                if shape is None:
                    continue
                if a.component == "TA" and ta is not None:
                    points = ta if top == 100 else _points(Decimal(ta), top)
                else:
                    pct_int = round(self._pct(shape, p.theta))
                    points = str(pct_int) if top == 100 else _points(Decimal(pct_int), top)
                score((ctx, a.id, p.uid, points, str(top), a.type, 1, ts(done + one_day)))

    def _last_launches(self) -> None:
        """Each user's latest launch, as a launch records it, from their membership."""
        latest = (
            select(func.max(Membership.last_launch_at))
            .where(Membership.user_id == User.id, Membership.context_pk == self.ctx.id)
            .scalar_subquery()
        )
        self.db.execute(
            update(User)
            .where(User.issuer == self.ctx.issuer, User.sub.startswith(self.tag + "-"))
            .values(last_launch_at=latest)
        )
        self.db.commit()

    def _manual_scores(self, people: list[_Peserta]) -> None:
        """The initial UKG score of everyone, the imported TA of those who finished, and
        the template's manual components (PLPG proses, presentasi) of the finishers."""
        add = self.writer.table(
            ManualScore,
            ("instance_id", "user_id", "component", "value", "updated_by", "updated_at"),
        )
        manual = [c["key"] for c in self.rule.get("components", []) if c.get("manual")]
        end = self.writer.ts(self._at(self.weeks * 7 - 1))
        inst, by = self.inst.id, self.pengampu_id
        for p in people:
            add((inst, p.uid, "UKG", f"{p.ukg:.2f}", by, end))
            if p.uid in self.ta:
                add((inst, p.uid, "TA", self.ta[p.uid], by, end))
            if p.reached == len(self.plan) and not p.never:
                for key in manual:
                    if key not in ("UKG", "TA"):
                        add((inst, p.uid, key, f"{self._pct((78, 9), p.theta):.2f}", by, end))

    def _biodata(self, people: list[_Peserta]) -> None:
        """Biodata of those who opened the tool (nine in ten filled it in)."""
        rng, ts = self.rng, self.writer.ts
        add = self.writer.table(
            Biodata,
            (
                "context_pk",
                "user_id",
                "nomor_peserta",
                "nuptk",
                "instansi",
                "lptk",
                "phone",
                "updated_at",
            ),
        )
        codes = [lp.code for lp in lptk.all_lptk()]
        for p in people:
            if p.never or rng.random() < 0.1:
                continue
            phone = f"08{rng.choice('12357')}{rng.randrange(10**8, 10**9)}"
            add(
                (
                    self.ctx.id,
                    p.uid,
                    p.nomor,
                    f"{rng.randrange(10**15, 10**16)}" if rng.random() < 0.85 else None,
                    p.instansi,
                    rng.choice(codes) if rng.random() < 0.7 else None,
                    phone if rng.random() < 0.8 else None,
                    ts(self._at(rng.randrange(7))),
                )
            )

    def _rombel_and_meetings(self, people: list[_Peserta]) -> None:
        """A rombel of ten per mentor, and the template's tatap muka with attendance."""
        rng, inst, ts = self.rng, self.inst, self.writer.ts
        width = len(str(len(self.mentor_ids)))
        names_ = [f"Rombel {i + 1:0{width}d}" for i in range(len(self.mentor_ids))]
        add_rombel = self.writer.table(Rombel, ("instance_id", "name", "mentor_id", "created_at"))
        created = ts(inst.started_at - timedelta(days=3))
        for name, mentor in zip(names_, self.mentor_ids, strict=True):
            add_rombel((inst.id, name, mentor, created))
        self.writer.flush()
        rombel_ids = dict(
            self.db.execute(
                select(Rombel.name, Rombel.id).where(Rombel.instance_id == inst.id)
            ).all()
        )
        add_member = self.writer.table(
            RombelMember, ("instance_id", "rombel_id", "user_id", "added_by", "added_at")
        )
        added = ts(inst.started_at - timedelta(days=2))
        members: dict[int, list[_Peserta]] = {}
        for p in people:
            rid = rombel_ids[names_[p.index // PESERTA_PER_MENTOR]]
            members.setdefault(rid, []).append(p)
            add_member((inst.id, rid, p.uid, self.pengampu_id, added))
        meetings = (self.module.definition or {}).get("meetings") or []
        if not meetings:
            return
        add_record = self.writer.table(
            MeetingRecord,
            (
                "instance_id",
                "key",
                "kind",
                "title",
                "rombel_id",
                "held_on",
                "time",
                "place",
                "resume",
                "material",
                "method",
                "recorded_by",
                "updated_at",
            ),
        )
        mentor_of = {rombel_ids[n]: m for n, m in zip(names_, self.mentor_ids, strict=True)}
        for m in meetings:
            held_on = self.start + timedelta(days=7 * (m["week"] - 1) + 5)
            material = "; ".join(m.get("agenda") or [])[:4000] or None
            for rid in members:
                add_record(
                    (
                        inst.id,
                        m["key"],
                        "tm",
                        m["title"],
                        rid,
                        self.writer.day(held_on),
                        "08:00",
                        "Pusat Belajar (KKG/MGMP)",
                        rng.choice(MEETING_NOTES),
                        material,
                        "Diskusi, demonstrasi, dan praktik terbimbing.",
                        mentor_of[rid],
                        ts(datetime(held_on.year, held_on.month, held_on.day, 9)),
                    )
                )
        self.writer.flush()
        records = self.db.execute(
            select(MeetingRecord.id, MeetingRecord.key, MeetingRecord.rombel_id).where(
                MeetingRecord.instance_id == inst.id
            )
        ).all()
        add_attendance = self.writer.table(MeetingAttendance, ("record_id", "user_id", "status"))
        week_of = {m["key"]: m["week"] for m in meetings}
        statuses = [s for s, _w in MEETING_STATUS]
        weights = [w for _s, w in MEETING_STATUS]
        for record_id, key, rid in records:
            for p in members.get(rid, []):
                if self.last_week[p.uid] < week_of[key]:
                    status = "alpa"
                else:
                    status = rng.choices(statuses, weights)[0]
                add_attendance((record_id, p.uid, status))

    def _plugins(self) -> None:
        """Each plugin's own rows (survey answers ...) through its demo_seed hook."""
        plugins = self.app.extensions["lti_activities"]
        by_id = {a.id: a for a in self.activities}
        for activity_id, user_ids in self.hooked.items():
            activity = by_id[activity_id]
            plugin = plugins.get(activity.type)
            written = 0
            for chunk in _chunks(user_ids):
                written += plugin.demo_seed(self.db, self.inst, activity, list(chunk), self.rng)
                self.db.commit()
            self.writer.counts[f"{plugin.name}: {activity.key}"] += written
        self._stage("plugin answers", [k for k in self.writer.counts if ":" in k])


def _points(pct: Decimal, top: int) -> str:
    """A percentage as points out of `top`, as report_score stores them."""
    return str((pct * top / 100).quantize(Decimal("0.01")).normalize())
