"""An independent LTI 1.3 platform peer for testing our tool over real HTTP.

Typical use::

    from tests.peer import TestPlatform, forgeries

    with TestPlatform() as platform, make_browser() as browser:
        platform.register_tool("http://127.0.0.1:5000")
        result = platform.launch(browser, roles=["Instructor"])
        assert result.ok

See :class:`TestPlatform` and :mod:`tests.peer.forgeries`.
"""

from . import ags, constants, forgeries
from .ags import AgsError, FaultHit, FaultRule, GradebookEntry, LineItem
from .forgeries import REFUSAL_CASES, Forgery, Tamper
from .forms import HtmlForm, find_form, parse_forms
from .keys import SigningKey, decode_unverified, encode_jws
from .platform import (
    DEFAULT_CONTEXT,
    DEFAULT_RESOURCE_LINK,
    DEFAULT_USER,
    PEER_USER_AGENT,
    AccessToken,
    DeepLinkRequestRecord,
    DeepLinkReturn,
    LaunchResult,
    LoopbackCookieJar,
    RegistrationRecord,
    RequestRecord,
    ServiceCall,
    TestPlatform,
    TokenRequestLog,
    TokenRequestRecord,
    ToolRegistration,
    add_query_params,
    expand_role,
    is_registration_close_page,
    make_browser,
    moodle_trailing_space_key,
)

__all__ = [
    "DEFAULT_CONTEXT",
    "DEFAULT_RESOURCE_LINK",
    "DEFAULT_USER",
    "PEER_USER_AGENT",
    "REFUSAL_CASES",
    "AccessToken",
    "AgsError",
    "DeepLinkRequestRecord",
    "DeepLinkReturn",
    "FaultHit",
    "FaultRule",
    "Forgery",
    "GradebookEntry",
    "HtmlForm",
    "LaunchResult",
    "LineItem",
    "LoopbackCookieJar",
    "RegistrationRecord",
    "RequestRecord",
    "ServiceCall",
    "SigningKey",
    "Tamper",
    "TestPlatform",
    "TokenRequestLog",
    "TokenRequestRecord",
    "ToolRegistration",
    "add_query_params",
    "ags",
    "constants",
    "decode_unverified",
    "encode_jws",
    "expand_role",
    "find_form",
    "forgeries",
    "is_registration_close_page",
    "make_browser",
    "moodle_trailing_space_key",
    "parse_forms",
]
