"""LTI roles -> programme roles (peserta, mentor, pengampu, admin)."""

import pytest

from lti_tool.services.roles import programme_role, programme_roles

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INST = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
S = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([M + "Learner"], "peserta"),
        (["Learner"], "peserta"),  # simple context role names are still allowed
        ([M + "Mentor"], "mentor"),
        ([M + "TeachingAssistant"], "mentor"),
        ([M + "Instructor"], "pengampu"),
        ([M + "Administrator"], "admin"),
        ([M + "ContentDeveloper"], "admin"),
        ([INST + "Administrator"], "admin"),
        ([S + "Administrator"], "admin"),
        ([M + "Learner", M + "Instructor"], "pengampu"),
        # Canvas TA: Instructor plus the TeachingAssistant sub-role -> mentor, not pengampu
        (
            [
                M + "Instructor",
                "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
            ],
            "mentor",
        ),
        ([INST + "Student", M + "Learner"], "peserta"),
        ([INST + "Student"], None),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Observer"], None),
        ([], None),
    ],
)
def test_programme_role(roles, expected):
    assert programme_role(roles) == expected


def test_all_roles_are_reported():
    assert programme_roles([M + "Learner", INST + "Administrator"]) == {"peserta", "admin"}
