"""The core's report kinds (plugins add theirs through `report_kinds`)."""

from lti_tool.reports.kinds.attendance import Attendance
from lti_tool.reports.kinds.completion import Completion
from lti_tool.reports.kinds.grades import Grades
from lti_tool.reports.kinds.logins import Logins
from lti_tool.reports.kinds.mentor_reports import MentorReports
from lti_tool.reports.kinds.prepost import PrePost

#: In the order the report index lists them (plugins' kinds come after).
CORE_KINDS = (Logins, Completion, Grades, PrePost, Attendance, MentorReports)
