"""Handing one message to the SMTP server of the settings (smtplib, no dependency).

A failure that may pass (server down, timeout, 4xx, login refused) raises
`SmtpUnavailableError`: the job fails and the queue retries it. Only a server that
refuses the recipient's address for good (5xx to RCPT TO) raises `AddressRefusedError`.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app


class SmtpUnavailableError(Exception):
    """The mail was not handed over; trying again later may work."""


class AddressRefusedError(Exception):
    """The server refuses the recipient's address permanently."""


def _connect(cfg) -> smtplib.SMTP:
    host, port, timeout = cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), cfg.get("SMTP_TIMEOUT") or 30
    if cfg.get("SMTP_SSL"):
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if cfg.get("SMTP_STARTTLS"):
        try:
            smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
    return smtp


def send(message: EmailMessage) -> None:
    """Send `message` (From, To and the rest already set) through the configured server.
    Once the server accepted the data, nothing raises (a failed QUIT is ignored), so a
    handed-over mail is never retried."""
    cfg = current_app.config
    smtp = None
    try:
        smtp = _connect(cfg)
        if cfg.get("SMTP_USERNAME"):
            smtp.login(cfg["SMTP_USERNAME"], cfg.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise AddressRefusedError(f"{message['To']}: {exc.recipients}") from exc
        raise SmtpUnavailableError(f"recipient deferred: {exc.recipients}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SmtpUnavailableError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
