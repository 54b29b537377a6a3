"""Launch and registration errors, each with a message for the user and the LMS admin."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# code -> (what the user sees, what to tell the LMS admin)
MESSAGES = {
    "missing_params": (
        _l("The launch request is incomplete."),
        _l("The platform did not send the parameters an LTI 1.3 launch needs."),
    ),
    "unknown_platform": (
        _l("This learning platform is not registered with the tool."),
        _l("Register the platform (issuer and client ID) with the tool, or activate it."),
    ),
    "platform_pending": (
        _l("This learning platform's registration is waiting for approval."),
        _l("An administrator of the tool must activate the registration."),
    ),
    "bad_target": (
        _l("The launch points to an address outside this tool."),
        _l("Check the tool URL configured in the platform."),
    ),
    "cookies_blocked": (
        _l("Your browser blocked the cookie this tool needs inside the course page."),
        _l("Open the tool in a new window, or allow cookies for the tool's site."),
    ),
    "state_mismatch": (
        _l("This launch was not started from this browser, or it has expired."),
        _l("Launch the tool again from the course page."),
    ),
    "bad_token": (
        _l("The launch token is malformed."),
        _l("The platform sent an id_token that is not a valid JWT."),
    ),
    "bad_alg": (
        _l("The launch token is signed with an algorithm that is not accepted."),
        _l("The platform must sign launches with RS256."),
    ),
    "bad_audience": (
        _l("The launch token was not issued for this tool."),
        _l("The token's audience (aud/azp) does not contain the tool's client ID."),
    ),
    "bad_signature": (
        _l("The launch token's signature could not be verified."),
        _l("Check the platform's public key set URL registered with the tool."),
    ),
    "expired": (
        _l("The launch has expired."),
        _l("The token's exp or iat is outside the accepted time window; check clocks."),
    ),
    "bad_nonce": (
        _l("This launch was already used or was not requested by the tool."),
        _l("Launch the tool again from the course page."),
    ),
    # With REDIS_URL: the session store could not be reached (503), or it restarted
    # after the token was issued, so the token's single use cannot be verified.
    "service_unavailable": (
        _l("The tool has a temporary problem. Nothing was changed: try again in a moment."),
        _l("The tool could not reach its session store (Redis). Check REDIS_URL and Redis."),
    ),
    "nonce_unverifiable": (
        _l("The tool restarted a service during this launch. Open the tool again from the course."),
        _l("Redis restarted after this token was issued; its single use cannot be verified."),
    ),
    "target_mismatch": (
        _l("The launch does not match the link that was opened."),
        _l("The token's target_link_uri differs from the one sent at login."),
    ),
    "unknown_deployment": (
        _l("This placement of the tool is not registered."),
        _l("Add the deployment ID to the tool's registration of this platform."),
    ),
    "bad_message": (
        _l("The launch message is not a valid LTI 1.3 message."),
        _l("The message type, LTI version or a required claim is missing or wrong."),
    ),
    "account_suspended": (
        _l(
            "Your account is suspended in this tool. Contact the tool's administrator "
            "to have it restored."
        ),
        _l("The tool's administrator suspended this account (lti-tool users unsuspend)."),
    ),
    "no_role": (
        _l("Your role in this course does not give access to this tool."),
        _l("Give the user a Learner, Mentor, Instructor or Administrator role."),
    ),
    # LtiSubmissionReviewRequest: a staff member opens a peserta's work from the gradebook.
    "review_not_staff": (
        _l("Only the pengampu, an admin kelas or the peserta's mentor can review submissions."),
        _l("Submission review launches are accepted from Instructor, Mentor or Administrator."),
    ),
    "review_unknown_user": (
        _l("The peserta whose work is to be reviewed is not known to the tool."),
        _l("The for_user of the launch has never opened the tool nor been synced from the roster."),
    ),
    "review_not_peserta": (
        _l("The person whose work is to be reviewed is not a peserta of this course."),
        _l("The for_user of the launch has no Learner membership in this course in the tool."),
    ),
    "review_not_mentor": (
        _l("You can review the work of the peserta of your own rombel only."),
        _l("A mentor may only review peserta of a rombel they accompany."),
    ),
    "review_no_activity": (
        _l("The tool could not tell which activity's work to review."),
        _l("The line item and the review URL of the launch name no activity of the tool."),
    ),
    "registration_failed": (
        _l("The tool could not be registered with this platform."),
        _l("Check the registration link and try again, or register the tool manually."),
    ),
    "invite_invalid": (
        _l("This registration link is not valid: it was already used or has expired."),
        _l("Ask the tool's administrator for a new registration link."),
    ),
}


class LtiError(Exception):
    """A refused LTI request. `detail` is technical and goes to the log and the admin hint."""

    status = 400

    def __init__(self, code: str, detail: str = "", status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        if status is not None:
            self.status = status

    @property
    def user_message(self) -> str:
        return str(MESSAGES.get(self.code, MESSAGES["bad_message"])[0])

    @property
    def admin_hint(self) -> str:
        return str(MESSAGES.get(self.code, MESSAGES["bad_message"])[1])
