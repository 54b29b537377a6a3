"""Core tables. Plugins add their own tables, prefixed with their name."""

from lti_tool.models.analysis import PrePostNote
from lti_tool.models.biodata import Biodata
from lti_tool.models.certificates import Certificate
from lti_tool.models.completion import ActivityCompletion
from lti_tool.models.course import Activity, CourseBlock, CourseModule
from lti_tool.models.exports import ExportFile
from lti_tool.models.grades import ActivityScore, GradeOutbox, LineItem
from lti_tool.models.instance import CourseInstance, DueOverride
from lti_tool.models.keys import ToolKey
from lti_tool.models.launch import LaunchData, RegistrationInvite, UsedNonce
from lti_tool.models.mail import CourseMailSettings, MailOptOut, MailSent
from lti_tool.models.meetings import MeetingAttendance, MeetingRecord
from lti_tool.models.people import ActivityLog, Context, Membership, ResourceLink, User
from lti_tool.models.platform import Deployment, Platform
from lti_tool.models.reports import StaffReport
from lti_tool.models.roster import Rombel, RombelMember
from lti_tool.models.scores import ManualScore, ScoreAudit
from lti_tool.models.uploads import UploadSession

__all__ = [
    "Activity",
    "ActivityCompletion",
    "ActivityLog",
    "ActivityScore",
    "Biodata",
    "Certificate",
    "Context",
    "CourseBlock",
    "CourseInstance",
    "CourseMailSettings",
    "CourseModule",
    "Deployment",
    "DueOverride",
    "ExportFile",
    "GradeOutbox",
    "LaunchData",
    "LineItem",
    "MailOptOut",
    "MailSent",
    "ManualScore",
    "MeetingAttendance",
    "MeetingRecord",
    "Membership",
    "Platform",
    "PrePostNote",
    "RegistrationInvite",
    "ResourceLink",
    "Rombel",
    "RombelMember",
    "ScoreAudit",
    "StaffReport",
    "ToolKey",
    "UploadSession",
    "UsedNonce",
    "User",
]
