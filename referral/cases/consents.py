"""Consents read in bulk, and what a withdrawal sets off.

`services.may_share` answers one question with one query. A page showing many referrals at once
asks it for every person, category and recipient: `consents_of` reads the consents of all those
people in one query and `covers` answers from them with the same rule, so a list stays one
query however long it grows.

A withdrawal takes effect at once, everywhere (DESIGN §8): the rooms that shared something under
the consent — the referrals, which sit above `cases` — hear of it through a listener they
register (`register_withdrawal_listener`, installed by `referral.hooks`), as the timeline's
sources are (see `providers.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.cases.models import Consent, ConsentRecipient, DataCategory
from referral.cases.providers import Providers

# Told of each consent withdrawn, once the withdrawal is flushed (same transaction).
WithdrawalListener = Callable[[Session, Consent], None]
WITHDRAWAL_LISTENERS: Providers[WithdrawalListener] = Providers("Consent withdrawal", ["referrals"])


def register_withdrawal_listener(name: str, listener: WithdrawalListener) -> None:
    WITHDRAWAL_LISTENERS.register(name, listener)


def consent_withdrawn(session: Session, consent: Consent) -> None:
    for _name, listener in WITHDRAWAL_LISTENERS.all():
        listener(session, consent)


def consents_of(session: Session, participant_ids: Iterable[int]) -> dict[int, list[Consent]]:
    """Every consent to CPs and partners of these people, by person (one query)."""
    ids = sorted(set(participant_ids))
    book: dict[int, list[Consent]] = {person_id: [] for person_id in ids}
    if not ids:
        return book
    rows = session.scalars(
        select(Consent)
        .where(
            Consent.participant_id.in_(ids),
            Consent.recipient.in_([ConsentRecipient.CP, ConsentRecipient.PARTNER]),
        )
        .order_by(Consent.participant_id, Consent.id)
    )
    for consent in rows:
        book[consent.participant_id].append(consent)
    return book


def _about(
    consent: Consent, recipient: ConsentRecipient, category: DataCategory, partner_id: int | None
) -> bool:
    if consent.recipient is not recipient or consent.data_category is not category:
        return False
    return recipient is not ConsentRecipient.PARTNER or consent.partner_id in (None, partner_id)


def in_force(consent: Consent, on: date) -> bool:
    """The rule of `services.may_share`, for one consent already read."""
    return (
        consent.given_on <= on
        and (consent.expires_on is None or consent.expires_on > on)
        and (consent.revoked_on is None or consent.revoked_on > on)
    )


def covers(
    consents: Sequence[Consent],
    *,
    recipient: ConsentRecipient,
    category: DataCategory,
    partner_id: int | None = None,
    on: date,
) -> bool:
    """Whether one of `consents` lets `recipient` see `category` on `on` (as `may_share`)."""
    return any(in_force(c, on) for c in consents if _about(c, recipient, category, partner_id))


def withdrawn_on(
    consents: Sequence[Consent],
    *,
    recipients: Sequence[tuple[ConsentRecipient, int | None]],
    category: DataCategory,
    on: date,
) -> date | None:
    """The latest day the person withdrew a consent about `category` for one of `recipients`
    (``(recipient, partner_id)`` pairs), up to `on`; None when no consent was withdrawn (it
    expired, or never existed)."""
    days = [
        c.revoked_on
        for c in consents
        if c.revoked_on is not None
        and c.revoked_on <= on
        and any(_about(c, recipient, category, partner_id) for recipient, partner_id in recipients)
    ]
    return max(days, default=None)
