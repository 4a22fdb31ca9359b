"""Optional e-mail copies of notifications, off by default.

Set ``REFERRAL_SMTP_HOST`` (and optionally ``REFERRAL_SMTP_PORT``, ``REFERRAL_SMTP_USER``,
``REFERRAL_SMTP_PASSWORD``, ``REFERRAL_MAIL_FROM``) to send them. Messages are sent after the
commit (a rolled-back action e-mails nobody) and a mail server that fails never undoes the action.
"""

from __future__ import annotations

import logging
import os
import smtplib
from email.message import EmailMessage

from sqlalchemy.orm import Session

from referral.db import on_commit
from referral.territories.models import User

log = logging.getLogger(__name__)


def configured() -> bool:
    return bool(os.environ.get("REFERRAL_SMTP_HOST"))


def queue(session: Session, *, user_id: int, subject: str, link: str | None) -> None:
    if not configured():
        return
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return
    address, body = user.email, subject + (f"\n\n{link}" if link else "")
    on_commit(session, lambda: send(address, subject, body))


def send(address: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = os.environ.get("REFERRAL_MAIL_FROM", "reseau-convergence@localhost")
    message["To"] = address
    message["Subject"] = f"[Réseau Convergence] {subject[:150]}"
    message.set_content(body)
    try:
        with smtplib.SMTP(
            os.environ["REFERRAL_SMTP_HOST"], int(os.environ.get("REFERRAL_SMTP_PORT", "25")), timeout=10
        ) as server:
            if os.environ.get("REFERRAL_SMTP_USER"):
                server.starttls()
                server.login(os.environ["REFERRAL_SMTP_USER"], os.environ.get("REFERRAL_SMTP_PASSWORD", ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("Notification e-mail to %s not sent", address)
