"""What a report is: a kind (name, title, the tables it shows), its filters, the registry.

A report kind produces one or more tables; each table streams its rows (plain tuples
of cells) from the database, page by page for the screen or all of them for a file,
so that a class of any size is never held in memory as a whole. The core's kinds are
in `lti_tool.reports.kinds`; a plugin contributes more through its `report_kinds`
attribute (the core never imports a plugin by name).

Cells are str, int, Decimal, date, datetime (naive UTC, shown in the class's time
zone) or None (an empty cell, never a zero).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import CourseInstance, Membership, Rombel
from lti_tool.services.roles import MENTOR
from lti_tool.web.params import int_param

Cell = str | int | Decimal | date | datetime | None
Rows = Callable[[int, int | None], Iterator[tuple]]


@dataclass(frozen=True)
class Column:
    """A column: its header, its type (text, int, number, date, datetime) and, for
    numbers, the decimals shown."""

    label: Any  # str or a lazy string
    type: str = "text"
    decimals: int = 2
    width: int | None = None  # characters in a spreadsheet; None: from the header and type


@dataclass
class Table:
    """One table of a report. `rows(offset, limit)` streams the rows (limit None: all)."""

    key: str
    title: Any
    columns: Sequence[Column]
    rows: Rows
    note: Any = None

    def page(self, offset: int, limit: int) -> list[tuple]:
        return list(self.rows(offset, limit))

    def all(self) -> Iterator[tuple]:
        return self.rows(0, None)


def sliced(make: Callable[[], Iterator[tuple]]) -> Rows:
    """`rows(offset, limit)` over a stream that cannot page in SQL (small tables)."""

    def rows(offset: int, limit: int | None) -> Iterator[tuple]:
        stream = make()
        return islice(stream, offset, None if limit is None else offset + limit)

    return rows


class FilterError(ValueError):
    """Filter values that cannot be used; `messages` say why, in the user's language."""

    def __init__(self, messages: list[Any]) -> None:
        super().__init__("; ".join(str(m) for m in messages))
        self.messages = messages


@dataclass(frozen=True)
class Filters:
    """What the reader asked for (rombel, mentor, dates) and what they may see: a
    mentor (`only_mentor`) sees the peserta of the rombel they lead, nothing else."""

    rombel_id: int | None = None
    mentor_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    only_mentor: int | None = None
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def rombel_ids(self, db: Session, inst: CourseInstance) -> frozenset[int] | None:
        """The rombel whose peserta the report covers; None: the whole class (peserta in
        no rombel included)."""
        if "rombels" in self._cache:
            return self._cache["rombels"]
        allowed: frozenset[int] | None = None
        for mentor in (self.mentor_id, self.only_mentor):
            if mentor is not None:
                led = frozenset(
                    db.scalars(
                        select(Rombel.id).where(
                            Rombel.instance_id == inst.id, Rombel.mentor_id == mentor
                        )
                    )
                )
                allowed = led if allowed is None else allowed & led
        if self.rombel_id is not None:
            one = frozenset({self.rombel_id})
            allowed = one if allowed is None else allowed & one
        self._cache["rombels"] = allowed
        return allowed

    def restricted(self) -> bool:
        return any(v is not None for v in (self.rombel_id, self.mentor_id, self.only_mentor))

    def utc_range(self, timezone: str) -> tuple[datetime | None, datetime | None]:
        """The dates as naive UTC bounds: from the start of `date_from` to the end of
        `date_to`, days in the class's time zone."""
        from lti_tool.services.schedule import zone

        tz = zone(timezone)

        def utc(day: date) -> datetime:
            local = datetime.combine(day, datetime.min.time(), tzinfo=tz)
            return local.astimezone(UTC).replace(tzinfo=None)

        start = utc(self.date_from) if self.date_from else None
        end = utc(self.date_to + timedelta(days=1)) if self.date_to else None
        return start, end

    def query_args(self) -> dict[str, str]:
        """The filters as URL query arguments (for links to pages and downloads)."""
        out = {}
        if self.rombel_id is not None:
            out["rombel"] = str(self.rombel_id)
        if self.mentor_id is not None:
            out["mentor"] = str(self.mentor_id)
        if self.date_from is not None:
            out["from"] = self.date_from.isoformat()
        if self.date_to is not None:
            out["to"] = self.date_to.isoformat()
        return out


BAD_ROMBEL = _l("There is no such rombel in this class (or it is not yours).")
BAD_MENTOR = _l("There is no such mentor in this class.")
BAD_DATE = _l("Enter dates as YYYY-MM-DD, for example 2026-07-31.")
BAD_RANGE = _l("The start date is after the end date.")


def _number(raw: str) -> int | None:
    raw = raw.strip()
    return int_param(raw, 9)


def parse_filters(
    db: Session,
    inst: CourseInstance,
    args: Mapping[str, str],
    *,
    only_mentor: int | None = None,
) -> Filters:
    """Filters from query arguments `rombel`, `mentor`, `from`, `to` (empty: none).
    Raises FilterError naming every value that cannot be used."""
    problems: list[Any] = []
    rombels = {
        rid: mentor
        for rid, mentor in db.execute(
            select(Rombel.id, Rombel.mentor_id).where(Rombel.instance_id == inst.id)
        )
    }
    rombel_id = mentor_id = None
    raw = (args.get("rombel") or "").strip()
    if raw:
        rombel_id = _number(raw)
        mine = only_mentor is None or rombels.get(rombel_id) == only_mentor
        if rombel_id not in rombels or not mine:
            problems.append(BAD_ROMBEL)
    raw = (args.get("mentor") or "").strip()
    if raw:
        mentor_id = _number(raw)
        mentors = set(
            db.scalars(
                select(Membership.user_id).where(
                    Membership.context_pk == inst.context_pk, Membership.role == MENTOR
                )
            )
        ) | {m for m in rombels.values() if m is not None}
        if mentor_id not in mentors:
            problems.append(BAD_MENTOR)
    dates: dict[str, date | None] = {}
    for key in ("from", "to"):
        raw = (args.get(key) or "").strip()
        dates[key] = None
        if raw:
            try:
                dates[key] = date.fromisoformat(raw)
            except ValueError:
                if BAD_DATE not in problems:
                    problems.append(BAD_DATE)
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        problems.append(BAD_RANGE)
    if problems:
        raise FilterError(problems)
    return Filters(
        rombel_id=rombel_id,
        mentor_id=mentor_id,
        date_from=dates["from"],
        date_to=dates["to"],
        only_mentor=only_mentor,
    )


class ReportKind:
    """A report the tool can produce. Subclasses set `name` (in URLs and the CLI),
    `title`, `description` and `dates` (what the date filter applies to; None: the
    report has no dates), and implement `tables`."""

    name: ClassVar[str] = ""
    title: ClassVar[Any] = ""
    description: ClassVar[Any] = ""
    dates: ClassVar[Any] = None

    def applies(self, db: Session, inst: CourseInstance) -> bool:
        """Whether the module has what this report is about (e.g. a survey)."""
        return True

    def tables(self, db: Session, inst: CourseInstance, filters: Filters) -> list[Table]:
        raise NotImplementedError

    def rows(self, db: Session, inst: CourseInstance, filters: Filters) -> Iterator[tuple]:
        """Every row of the report's first (main) table, streamed."""
        return self.tables(db, inst, filters)[0].all()


class ReportError(RuntimeError):
    """A broken set of report kinds (two with one name): stops start-up, naming them."""


def kinds(app: Any) -> dict[str, ReportKind]:
    """Every report kind of this installation, by name: the core's, then the plugins'."""
    cached = app.extensions.get("lti_report_kinds")
    if cached is not None:
        return cached
    from lti_tool.reports.kinds import CORE_KINDS

    out: dict[str, ReportKind] = {}
    sources = [("core", k) for k in CORE_KINDS]
    for plugin in app.extensions["lti_activities"]:
        sources += [(plugin.name, k) for k in getattr(plugin, "report_kinds", ())]
    for source, kind in sources:
        instance = kind() if isinstance(kind, type) else kind
        if not instance.name or instance.name in out:
            raise ReportError(f"report kind {instance.name!r} ({source}) is unnamed or taken")
        out[instance.name] = instance
    app.extensions["lti_report_kinds"] = out
    return out
