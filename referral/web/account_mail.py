"""The e-mails of accounts: an invitation's link, a forgotten password's link.

Sent through the SMTP server of `referral.tasks.mail` (``REFERRAL_SMTP_*``), after the commit, on
a thread of their own: the answer to « mot de passe oublié » must take the same time whether an
e-mail leaves or not, or its timing would tell which addresses have an account.

Links start with ``REFERRAL_BASE_URL`` when it is set (it must be in production: otherwise the
address comes from the request's Host header, which whoever asks for a reset link chooses).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import current_app, request, url_for
from sqlalchemy.orm import Session

from referral.db import on_commit
from referral.tasks import mail
from referral.territories.invitations import INVITATION_LIFETIME
from referral.territories.models import Invitation, User

log = logging.getLogger(__name__)

# The answer to « mot de passe oublié », whether or not an account has the address.
RESET_SENT = (
    "Si un compte existe pour cette adresse, un e-mail vient de lui être envoyé avec un lien pour "
    "choisir un nouveau mot de passe (valable une heure). Pensez à regarder dans les indésirables."
)


def external_link(endpoint: str, **values: Any) -> str:
    base = current_app.config.get("BASE_URL") or request.host_url.rstrip("/")
    return base + url_for(endpoint, **values)


def _send_later(session: Session, address: str, subject: str, body: str) -> None:
    def start() -> None:
        threading.Thread(target=mail.send, args=(address, subject, body), daemon=True).start()

    on_commit(session, start)


def invitation_link(token: str) -> str:
    return external_link("account_pages.accept_invitation", jeton=token)


def send_invitation(session: Session, invitation: Invitation, token: str, inviter: User) -> bool:
    """E-mail the invitation's link; False when no SMTP server is configured (the inviter is then
    shown the link to pass on)."""
    if not mail.configured():
        return False
    scope = (
        invitation.structure.name
        if invitation.structure
        else (invitation.territory.name if invitation.territory else "national")
    )
    days = INVITATION_LIFETIME.days
    body = (
        f"Bonjour {invitation.full_name},\n\n"
        f"{inviter.full_name} vous invite à rejoindre l'outil partagé du réseau Convergence comme "
        f"{invitation.role.label} ({scope}).\n\n"
        f"Pour ouvrir votre compte et choisir votre mot de passe, suivez ce lien (valable {days} jours, "
        f"une seule fois) :\n\n{invitation_link(token)}\n\n"
        "Si vous ne vous attendiez pas à cette invitation, ignorez ce message.\n"
    )
    _send_later(session, invitation.email, "Invitation à rejoindre le réseau Convergence", body)
    return True


def send_reset(session: Session, user: User, token: str) -> None:
    link = external_link("account_pages.reset_password", jeton=token)
    body = (
        f"Bonjour {user.full_name},\n\n"
        "Une demande de nouveau mot de passe a été faite pour votre compte. Pour choisir un nouveau "
        f"mot de passe, suivez ce lien (valable une heure, une seule fois) :\n\n{link}\n\n"
        "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe reste le même.\n"
    )
    if mail.configured():
        _send_later(session, user.email, "Réinitialisation de votre mot de passe", body)
    elif not current_app.config.get("PRODUCTION"):
        # Development without a mail server: the link is in the server's log, for `make run`.
        log.warning("SMTP non configuré : lien de réinitialisation pour %s : %s", user.email, link)
