"""Map LTI roles to the programme's roles (peserta, mentor, pengampu, admin)."""

from __future__ import annotations

from collections.abc import Iterable

PESERTA = "peserta"
MENTOR = "mentor"
PENGAMPU = "pengampu"
ADMIN = "admin"

#: Highest privilege first: a user with several roles gets the first that matches.
PRECEDENCE = (ADMIN, PENGAMPU, MENTOR, PESERTA)
STAFF = frozenset({ADMIN, PENGAMPU, MENTOR})

_CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

# Principal role name (the part after '#', before any '#'-less sub-role) -> programme role.
_CONTEXT_MAP = {
    "Administrator": ADMIN,
    "ContentDeveloper": ADMIN,
    "Instructor": PENGAMPU,
    "Mentor": MENTOR,
    "TeachingAssistant": MENTOR,
    "Learner": PESERTA,
}
_INSTITUTION_MAP = {
    "Administrator": ADMIN,
}
_SYSTEM_MAP = {
    "Administrator": ADMIN,
    "SysAdmin": ADMIN,
}


def _principal(uri: str, prefix: str) -> str | None:
    if not uri.startswith(prefix):
        return None
    name = uri[len(prefix) :]
    # Sub-roles look like ...membership/Instructor#TeachingAssistant; principal roles
    # like ...membership#Instructor. Only principal roles reach here.
    return name


def _sub_role(uri: str) -> str | None:
    """`http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant`."""
    base = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
    if uri.startswith(base) and "#" in uri:
        return uri.rsplit("#", 1)[1]
    return None


def _names(lti_roles: Iterable[str]) -> tuple[set[str], set[str]]:
    """Split role URIs into (context role names, institution/system role names)."""
    context: set[str] = set()
    institution: set[str] = set()
    for raw in lti_roles:
        uri = (raw or "").strip()
        name = _principal(uri, _CONTEXT)
        if name is None and uri and "/" not in uri and "#" not in uri:
            name = uri  # LTI 1.3 still allows simple names for context roles
        if name is not None:
            context.add(name)
            continue
        sub = _sub_role(uri)
        if sub is not None:
            context.add(sub)
            continue
        for prefix in (_INSTITUTION, _SYSTEM):
            name = _principal(uri, prefix)
            if name is not None:
                institution.add(name)
    return context, institution


def programme_roles(lti_roles: Iterable[str]) -> set[str]:
    """Every programme role the LTI roles grant.

    Canvas sends a teaching assistant as `membership#Instructor` plus the sub-role
    `membership/Instructor#TeachingAssistant`: such a user is a mentor, not a pengampu.
    """
    context, institution = _names(lti_roles)
    found = {_CONTEXT_MAP[n] for n in context if n in _CONTEXT_MAP}
    ta_only = "TeachingAssistant" in context and "Instructor" in context
    if ta_only and not ({"Administrator", "ContentDeveloper"} & context):
        found.discard(PENGAMPU)
    found |= {_INSTITUTION_MAP[n] for n in institution if n in _INSTITUTION_MAP}
    found |= {_SYSTEM_MAP[n] for n in institution if n in _SYSTEM_MAP}
    return found


def programme_role(lti_roles: Iterable[str]) -> str | None:
    """The single programme role a launch acts in (highest privilege), or None."""
    found = programme_roles(lti_roles)
    for role in PRECEDENCE:
        if role in found:
            return role
    return None
