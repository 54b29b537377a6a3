"""LTI platform storage: binding a login to the browser when its cookies are refused.

Inside an LMS iframe the state cookie is a third-party cookie. Chromium keeps it
(it is `Partitioned`, CHIPS), Safari refuses it. A platform that implements 1EdTech's
"LTI Client Side postMessages" names, in the login request's `lti_storage_target`, the
frame of its own window that stores data for the tool (`_parent`, or a named frame such
as Canvas's `post_message_forwarding`). Then:

- `/lti/login` answers a small page (static/lti_storage.js) that stores a key and a
  value for the state and for the nonce with `lti.put_data`, and then goes on to the
  platform's authorization URL (the state cookie is set as well);
- `/lti/launch` without the state cookie answers a page that reads both values back
  with `lti.get_data` and posts them with the id_token and state to `/lti/launch`
  again, from the tool's own origin.

Every message goes to the platform's origin (that of its OIDC authorization URL) and
every reply from another origin, or with another message_id, is ignored by the script.
The server accepts the values only when they equal keyed hashes of the state and nonce
(only the login page of this browser was given them, and only the platform's window
keeps them), and only in a POST whose `Origin` is the tool's own: a page elsewhere that
obtained an id_token and state cannot replay them into a victim's browser.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: form fields of the re-post carrying the values read back from the platform
STATE_FIELD = "lti_storage_state"
NONCE_FIELD = "lti_storage_nonce"
#: a frame name as a platform sends it: `_parent` or the name of a frame
_FRAME_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class PlatformStorageCheckError(Exception):
    """Not a refusal: the launch carries no state cookie but its login stored the
    state in the platform, so the browser must read it back before the launch is
    validated (the view answers the page that does)."""


@dataclass(frozen=True)
class StorageEntries:
    """The platform-storage keys of one login and the values kept under them."""

    state_key: str
    state_value: str
    nonce_key: str
    nonce_value: str


def storage_target(login_params: dict[str, Any]) -> str | None:
    """The frame a login's `lti_storage_target` names, if it is a frame name."""
    target = login_params.get("lti_storage_target")
    if isinstance(target, str) and _FRAME_NAME.fullmatch(target):
        return target
    return None


def _digest(secret: str, kind: str, token: str) -> str:
    mac = hmac.new(secret.encode(), f"platform-storage:{kind}:{token}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def entries(secret: str, state: str, nonce: str) -> StorageEntries:
    """Keys name the login (short: platforms limit key length), values are keyed
    hashes that only this tool can compute and only the login page hands out."""
    return StorageEntries(
        state_key="lti_state_" + hashlib.sha256(state.encode()).hexdigest()[:32],
        state_value=_digest(secret, "state", state),
        nonce_key="lti_nonce_" + hashlib.sha256(nonce.encode()).hexdigest()[:32],
        nonce_value=_digest(secret, "nonce", nonce),
    )


def has_proof(form: dict[str, str]) -> bool:
    return STATE_FIELD in form or NONCE_FIELD in form


def proof_matches(secret: str, state: str, nonce: str, form: dict[str, str]) -> bool:
    """True when the values the browser read back are this login's."""
    expected = entries(secret, state, nonce)
    return hmac.compare_digest(
        form.get(STATE_FIELD, ""), expected.state_value
    ) and hmac.compare_digest(form.get(NONCE_FIELD, ""), expected.nonce_value)


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL (the targetOrigin of the messages)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def posted_by_own_page(headers: Any, base_url: str) -> bool:
    """A POST sent by a page of this tool: browsers add `Origin` to every POST and a
    page cannot forge it; `Sec-Fetch-Site`, where sent, must agree."""
    sent = headers.get("Origin")
    if not sent or sent.lower().rstrip("/") != origin(base_url):
        return False
    site = headers.get("Sec-Fetch-Site")
    return site is None or site == "same-origin"
