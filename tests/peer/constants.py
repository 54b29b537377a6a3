"""Claim names, role URIs and scopes from the 1EdTech LTI 1.3 family of specs.

Kept in one place so the peer and the tests that use it spell them the same
way as LTI Core 1.3, Deep Linking 2.0, AGS 2.0, NRPS 2.0 and LTI-DR 1.0.
"""

from __future__ import annotations

LTI_VERSION = "1.3.0"

_LTI = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = _LTI + "message_type"
CLAIM_VERSION = _LTI + "version"
CLAIM_DEPLOYMENT_ID = _LTI + "deployment_id"
CLAIM_TARGET_LINK_URI = _LTI + "target_link_uri"
CLAIM_RESOURCE_LINK = _LTI + "resource_link"
CLAIM_ROLES = _LTI + "roles"
CLAIM_CONTEXT = _LTI + "context"
CLAIM_TOOL_PLATFORM = _LTI + "tool_platform"
CLAIM_LAUNCH_PRESENTATION = _LTI + "launch_presentation"
CLAIM_CUSTOM = _LTI + "custom"
CLAIM_LIS = _LTI + "lis"

CLAIM_DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
CLAIM_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
CLAIM_DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
CLAIM_DL_LOG = "https://purl.imsglobal.org/spec/lti-dl/claim/log"
CLAIM_DL_ERRORMSG = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"
CLAIM_DL_ERRORLOG = "https://purl.imsglobal.org/spec/lti-dl/claim/errorlog"

CLAIM_AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

MESSAGE_RESOURCE_LINK = "LtiResourceLinkRequest"
MESSAGE_DEEP_LINKING = "LtiDeepLinkingRequest"
MESSAGE_DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"

SCOPE_AGS_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_AGS_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_AGS_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = [
    SCOPE_AGS_LINEITEM,
    SCOPE_AGS_LINEITEM_READONLY,
    SCOPE_AGS_RESULT_READONLY,
    SCOPE_AGS_SCORE,
]
SERVICE_SCOPES = [*AGS_SCOPES, SCOPE_NRPS]

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"

CONTEXT_TYPE_COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

_LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
ROLE_LEARNER = _LIS + "membership#Learner"
ROLE_INSTRUCTOR = _LIS + "membership#Instructor"
ROLE_MENTOR = _LIS + "membership#Mentor"
ROLE_CONTENT_DEVELOPER = _LIS + "membership#ContentDeveloper"
ROLE_ADMINISTRATOR = _LIS + "membership#Administrator"
# LIS v2 defines Teaching Assistant as a sub-role of Instructor (LTI 1.3 A.2.3.1),
# not as a principal membership role.
ROLE_TEACHING_ASSISTANT = _LIS + "membership/Instructor#TeachingAssistant"
ROLE_INSTITUTION_ADMINISTRATOR = _LIS + "institution/person#Administrator"
ROLE_INSTITUTION_INSTRUCTOR = _LIS + "institution/person#Instructor"
ROLE_INSTITUTION_STUDENT = _LIS + "institution/person#Student"
ROLE_SYSTEM_ADMINISTRATOR = _LIS + "system/person#Administrator"

# Principal context (membership) roles of LIS v2; short names expand to these.
MEMBERSHIP_ROLES = (
    "Administrator",
    "ContentDeveloper",
    "Instructor",
    "Learner",
    "Mentor",
    "Manager",
    "Member",
    "Officer",
)

# Assignment and Grade Services 2.0 media types and score vocabularies.
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

# LTI Course Groups Service 1.0 (1EdTech, lti-gs): claim, scope and media types.
CLAIM_GS = "https://purl.imsglobal.org/spec/lti-gs/claim/groupsservice"
SCOPE_GS = "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly"
MEDIA_CONTEXT_GROUPS = "application/vnd.ims.lti-gs.v1.contextgroupcontainer+json"
MEDIA_CONTEXT_GROUP_SETS = "application/vnd.ims.lti-gs.v1.contextgroupsetcontainer+json"
