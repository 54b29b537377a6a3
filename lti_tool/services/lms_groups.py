"""The LMS's course groups as rombel (1EdTech LTI Course Groups Service 1.0).

The launch carries the claim ``https://purl.imsglobal.org/spec/lti-gs/claim/groupsservice``
(``scope``, ``context_groups_url``, optional ``context_group_sets_url``,
``service_versions``) when the platform offers the service to the tool. With a token
for the scope ``.../lti-gs/scope/contextgroup.readonly`` the tool reads

- the groups: GET ``context_groups_url``, Accept
  ``application/vnd.ims.lti-gs.v1.contextgroupcontainer+json``, body
  ``{"id", "groups": [{"id", "name", "set_id"?, "tag"?}]}``;
- the group sets: GET ``context_group_sets_url``, Accept
  ``application/vnd.ims.lti-gs.v1.contextgroupsetcontainer+json``, body
  ``{"id", "sets": [{"id", "name"}]}``;

both paged with ``Link: <...>; rel="next"``. Who is in which group comes from the
NRPS roster asked with ``groups=true``: each member then carries
``group_enrollments: [{"group_id"}]``. A platform whose NRPS ignores that parameter
is asked group by group for each member instead (``context_groups_url?user_id=``).

`map_to_rombels` turns the groups into rombel: same name, its peserta, its mentor.
The roster of a started class is frozen (Juknis IV.D.2.b): nothing changes then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.utils import add_param_to_url
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.service_connector import ToolServiceConnector
from lti_tool.lti.toolconf import registration_for
from lti_tool.models import Context, CourseInstance, Platform, User
from lti_tool.services import roster

GS_CLAIM = "https://purl.imsglobal.org/spec/lti-gs/claim/groupsservice"
SCOPE = "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly"
MEDIA_GROUPS = "application/vnd.ims.lti-gs.v1.contextgroupcontainer+json"
MEDIA_SETS = "application/vnd.ims.lti-gs.v1.contextgroupsetcontainer+json"
NO_SET = "__none__"  # the choice "groups that belong to no set"
MAX_PAGES = 1000


class GroupsError(RuntimeError):
    """The LMS's course groups could not be read; `code` says why."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


@dataclass(frozen=True)
class LmsGroup:
    id: str
    name: str
    set_id: str | None


@dataclass(frozen=True)
class GroupSet:
    id: str
    name: str


@dataclass
class MapResult:
    groups: int = 0
    created: int = 0
    assigned: int = 0
    unchanged: int = 0
    mentors: int = 0
    #: peserta listed in several groups: placed in the first one only
    in_several: list[int] = field(default_factory=list)
    #: groups with more than one mentor: their rombel's mentor was left as it was
    several_mentors: list[str] = field(default_factory=list)


def offered(context: Context | None) -> bool:
    claim = ((context.services or {}) if context is not None else {}).get("groups")
    return bool(claim and claim.get("context_groups_url"))


def _connector(db: Session, context: Context, key: Any, http: requests.Session):
    platform = db.get(Platform, context.platform_id) if context.platform_id else None
    if platform is None:
        raise GroupsError("no_platform", "the course's registration was removed")
    return ToolServiceConnector(registration_for(platform, key), requests_session=http)


def _scopes(claim: dict) -> list[str]:
    scopes = claim.get("scope")
    return [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else [SCOPE]


def _pages(connector, scopes: list[str], url: str, accept: str, key: str) -> list[dict]:
    """Every item of a paged container (follows Link rel="next")."""
    out: list[dict] = []
    seen: set[str] = set()
    next_url: str | None = url
    while next_url:
        if next_url in seen or len(seen) >= MAX_PAGES:
            raise GroupsError("gs_error", f"the pages of {url} do not end")
        seen.add(next_url)
        page = connector.make_service_request(scopes, next_url, accept=accept)
        body = page.get("body")
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise GroupsError("gs_error", f"{next_url} gave no {key!r} array")
        out.extend(i for i in items if isinstance(i, dict))
        next_url = page.get("next_page_url")
    return out


def _claim(context: Context) -> dict:
    if not offered(context):
        raise GroupsError("no_gs", "the LMS did not offer the course groups service")
    return context.services["groups"]


def _set_of(group: dict) -> str | None:
    """The group's set: ``set_id`` (Moodle, pylti1p3) or the first of ``set_ids`` (ceLTIc)."""
    set_id = group.get("set_id")
    if set_id in (None, "") and isinstance(group.get("set_ids"), list) and group["set_ids"]:
        set_id = group["set_ids"][0]
    return None if set_id in (None, "") else str(set_id)


def fetch_groups(
    db: Session, context: Context, key: Any, http: requests.Session
) -> tuple[list[LmsGroup], list[GroupSet]]:
    """The course's groups and group sets (all pages; no sets without a sets URL)."""
    claim = _claim(context)
    connector = _connector(db, context, key, http)
    scopes = _scopes(claim)
    try:
        raw = _pages(connector, scopes, claim["context_groups_url"], MEDIA_GROUPS, "groups")
        raw_sets = []
        sets_url = claim.get("context_group_sets_url")
        if sets_url:
            raw_sets = _pages(connector, scopes, sets_url, MEDIA_SETS, "sets")
    except (LtiException, requests.RequestException, ValueError) as exc:
        raise GroupsError("gs_error", str(exc)) from exc
    groups = [
        LmsGroup(
            id=str(g["id"]),
            name=str(g["name"]).strip(),
            set_id=_set_of(g),
        )
        for g in raw
        if g.get("id") not in (None, "") and str(g.get("name") or "").strip()
    ]
    sets = [
        GroupSet(id=str(s["id"]), name=str(s.get("name") or s["id"]))
        for s in raw_sets
        if s.get("id") not in (None, "")
    ]
    return groups, sets


def fetch_group_members(
    db: Session, context: Context, key: Any, http: requests.Session
) -> list[dict]:
    """NRPS members, each with ``group_enrollments`` (all pages)."""
    claim = _claim(context)
    nrps_claim = (context.services or {}).get("nrps")
    if not nrps_claim or not nrps_claim.get("context_memberships_url"):
        raise GroupsError("no_nrps", "the LMS did not offer NRPS for this course")
    connector = _connector(db, context, key, http)
    with_groups = dict(nrps_claim)
    with_groups["context_memberships_url"] = add_param_to_url(
        nrps_claim["context_memberships_url"], "groups", "true"
    )
    try:
        members = list(NamesRolesProvisioningService(connector, with_groups).get_members())
        if members and not any("group_enrollments" in m for m in members):
            # The NRPS ignored groups=true: ask the groups service about each member.
            for m in members:
                if m.get("status", "Active") != "Active" or not m.get("user_id"):
                    continue
                url = add_param_to_url(claim["context_groups_url"], "user_id", str(m["user_id"]))
                mine = _pages(connector, _scopes(claim), url, MEDIA_GROUPS, "groups")
                m["group_enrollments"] = [{"group_id": g.get("id")} for g in mine]
    except (LtiException, requests.RequestException, ValueError) as exc:
        raise GroupsError("gs_error", str(exc)) from exc
    return members


def group_sets_in_use(groups: list[LmsGroup]) -> list[str | None]:
    """The distinct set ids of the groups (None: groups in no set), in LMS order."""
    return list(dict.fromkeys(g.set_id for g in groups))


def map_to_rombels(
    db: Session,
    inst: CourseInstance,
    groups: list[LmsGroup],
    members: list[dict],
    by: int | None,
    set_id: str | None = None,
) -> MapResult:
    """Each LMS group (of the set `set_id`, NO_SET for groups in no set, None for all)
    becomes the rombel of the same name (created if missing) with the group's peserta;
    the group's mentor leads it when there is exactly one. A peserta in several groups
    goes to the first. Peserta in no group keep their rombel. Refused once the class
    has started (InstanceError "roster_frozen"), before anything changes."""
    roster._not_started(inst)
    if set_id is not None:
        wanted = None if set_id == NO_SET else set_id
        groups = [g for g in groups if g.set_id == wanted]
    context = db.get(Context, inst.context_pk)
    subs = {str(m["user_id"]) for m in members if m.get("user_id")}
    user_of = (
        dict(
            db.execute(
                select(User.sub, User.id).where(User.issuer == context.issuer, User.sub.in_(subs))
            ).all()
        )
        if subs
        else {}
    )
    peserta_ids = {p.id for p in roster.peserta(db, inst)}
    mentor_ids = {m.id for m in roster.mentors(db, inst)}
    in_group: dict[str, list[int]] = {}
    for m in members:
        uid = user_of.get(str(m.get("user_id")))
        if uid is None or m.get("status", "Active") != "Active":
            continue
        for e in m.get("group_enrollments") or []:
            if isinstance(e, dict) and e.get("group_id") not in (None, ""):
                in_group.setdefault(str(e["group_id"]), []).append(uid)

    result = MapResult()
    existing = {r.name: r for r in roster.rombels(db, inst)}
    current = roster.assignments(db, inst)
    placed: dict[int, int] = {}
    several: list[int] = []
    seen_groups: set[str] = set()
    for group in groups:
        if group.id in seen_groups:
            continue
        seen_groups.add(group.id)
        result.groups += 1
        name = group.name[:100]
        rombel = existing.get(name)
        if rombel is None:
            rombel = roster.create_rombel(db, inst, name, None)
            existing[name] = rombel
            result.created += 1
        people = list(dict.fromkeys(in_group.get(group.id, [])))
        group_mentors = [u for u in people if u in mentor_ids]
        if len(group_mentors) == 1:
            if rombel.mentor_id != group_mentors[0]:
                rombel.mentor_id = group_mentors[0]
                result.mentors += 1
        elif len(group_mentors) > 1:
            result.several_mentors.append(name)
        for uid in people:
            if uid not in peserta_ids:
                continue
            if uid in placed:
                if placed[uid] != rombel.id and uid not in several:
                    several.append(uid)
                continue
            placed[uid] = rombel.id
            if current.get(uid) == rombel.id:
                result.unchanged += 1
            else:
                roster.assign(db, inst, uid, rombel.id, by)
                result.assigned += 1
    db.flush()
    result.in_several = several
    return result
