"""Error pages in the user's language; LTI refusals say what to tell the LMS admin."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from lti_tool.lti.errors import LtiError

log = logging.getLogger("lti_tool")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(LtiError)
    def lti_error(exc: LtiError):
        log.warning("LTI request refused: %s", exc)
        return (
            render_template(
                "error.html",
                title=_("The tool could not be opened"),
                message=exc.user_message,
                admin_hint=exc.admin_hint,
                code=exc.code,
                detail=exc.detail,
            ),
            exc.status,
        )

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = _(
            "This form has expired or did not come from this tool. Nothing was changed: "
            "reload the page and try again."
        )
        return render_template("error.html", title=message, message=message, code=400), 400

    @app.errorhandler(DataError)
    def data_error(exc: DataError):
        """A value the database refuses (longer than its column, a number out of range):
        forms check what they take, this is the net under them. Nothing is saved."""
        from lti_tool.db import session as db_session

        db_session().rollback()
        log.warning("value refused by the database: %s", exc.orig)
        message = _(
            "A value in the form is too long or not valid. Nothing was saved: shorten it "
            "and try again."
        )
        return render_template("error.html", title=message, message=message, code=400), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            400: _("The request could not be understood."),
            401: _("Your session has ended. Open the tool again from your course."),
            403: _("You do not have access to this page."),
            404: _("This page does not exist."),
            405: _("This page cannot be used this way."),
            413: _("The file or form is too large."),
        }
        code = exc.code or 500
        message = messages.get(code, _("Something went wrong. Please try again."))
        return render_template("error.html", title=message, message=message, code=code), code
