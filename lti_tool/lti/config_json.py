"""What the tool tells an LMS about itself: URLs, scopes, claims, messages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

TOOL_NAME = "Guru Pembelajar Daring"
TOOL_DESCRIPTION = (
    "Modul Guru Pembelajar moda daring dan PLPG: sesi, tes sumatif, penilaian diri, "
    "survei reaksi, refleksi, unggah tugas dan laporan kemajuan."
)
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    # LTI Course Groups Service: the LMS's groups can become rombel.
    "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly",
]
CLAIMS = ["iss", "sub", "name", "given_name", "family_name", "email", "locale"]


def urls(base_url: str) -> dict[str, str]:
    return {
        "login_url": base_url + "/lti/login",
        "launch_url": base_url + "/lti/launch",
        "redirect_uris": base_url + "/lti/launch",
        "jwks_url": base_url + "/lti/jwks",
        "deep_link_url": base_url + "/lti/launch",
        "target_link_uri": base_url + "/lti/launch",
        "dynamic_registration_url": base_url + "/lti/register",
        "config_url": base_url + "/lti/config",
    }


def tool_configuration(base_url: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """JSON for a manual registration, with a Canvas developer-key configuration inside."""
    u = urls(base_url)
    domain = urlsplit(base_url).netloc
    return {
        "title": TOOL_NAME,
        "description": TOOL_DESCRIPTION,
        **u,
        "redirect_uris": [u["launch_url"]],
        "scopes": SCOPES,
        "claims": CLAIMS,
        "messages": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
        "public_jwk_set": jwks,
        "canvas": {
            "title": TOOL_NAME,
            "description": TOOL_DESCRIPTION,
            "oidc_initiation_url": u["login_url"],
            "target_link_uri": u["target_link_uri"],
            "public_jwk_url": u["jwks_url"],
            "scopes": SCOPES,
            "extensions": [
                {
                    "domain": domain,
                    "platform": "canvas.instructure.com",
                    "privacy_level": "public",
                    "settings": {
                        "placements": [
                            {
                                "placement": "link_selection",
                                "message_type": "LtiDeepLinkingRequest",
                                "target_link_uri": u["target_link_uri"],
                            },
                            {
                                "placement": "assignment_selection",
                                "message_type": "LtiDeepLinkingRequest",
                                "target_link_uri": u["target_link_uri"],
                            },
                            {
                                "placement": "course_navigation",
                                "message_type": "LtiResourceLinkRequest",
                                "target_link_uri": u["target_link_uri"],
                                "default": "enabled",
                            },
                        ]
                    },
                }
            ],
            "custom_fields": {},
        },
    }


def registration_request(base_url: str) -> dict[str, Any]:
    """The client metadata POSTed in LTI Dynamic Registration (LTI-DR 1.0, 3.3)."""
    u = urls(base_url)
    domain = urlsplit(base_url).netloc
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": u["login_url"],
        "redirect_uris": [u["launch_url"]],
        "client_name": TOOL_NAME,
        "client_name#en": "Guru Pembelajar Online",
        "jwks_uri": u["jwks_url"],
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
            "domain": domain,
            "description": TOOL_DESCRIPTION,
            "target_link_uri": u["target_link_uri"],
            "claims": CLAIMS,
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": u["target_link_uri"]},
                {
                    "type": "LtiDeepLinkingRequest",
                    "target_link_uri": u["target_link_uri"],
                    "label": "Guru Pembelajar: pilih modul atau aktivitas",
                    "placements": ["ContentArea", "link_selection", "assignment_selection"],
                    "supported_types": ["ltiResourceLink"],
                },
            ],
        },
    }
