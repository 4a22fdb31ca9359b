"""A draft completed in one go (issue 15, point 5): the consents the referral needs are recorded
from the draft itself, with the person's agreement, and the referral is submitted in the same
request.

Recording and submitting are one unit of work: the service flushes both, and when the submission
is refused (a consent still missing, a stale version, a closed opportunity) the request's error
rolls back the consents recorded with it — nothing is half done.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from referral import clock
from referral.cases import services as cases
from referral.exceptions import InvalidInput
from referral.referrals.models import Referral
from referral.referrals.services import get_referral, transition
from referral.referrals.sharing import referral_consents
from referral.territories.models import User


def record_consents(
    session: Session,
    actor: User,
    referral_id: int,
    *,
    keys: Sequence[str],
    agreed: bool,
    given_on: date | None = None,
) -> Referral:
    """Record, for this referral's person, the needed consents named by `keys` (« cp:situation »,
    « partner:resources », see `NeededConsent.key`) that are not in force yet. The person's
    agreement (`agreed`) is required; a key the referral does not need is refused."""
    referral = get_referral(session, actor, referral_id)
    today = clock.today()
    given_on = given_on or today
    needed = {consent.key: consent for consent in referral_consents(session, referral, today)}
    unknown = sorted(set(keys) - set(needed))
    if unknown:
        raise InvalidInput(
            "Cette orientation ne demande pas ce consentement.",
            errors={"consents": [f"Consentement non demandé : « {key} »." for key in unknown]},
        )
    chosen = [needed[key] for key in dict.fromkeys(keys) if not needed[key].given]
    if chosen and not agreed:
        raise InvalidInput(
            "Cochez que la personne a donné son accord avant d'enregistrer ses consentements.",
            errors={"agreed": ["L'accord de la personne est obligatoire."]},
        )
    for consent in chosen:
        cases.record_consent(
            session,
            actor,
            referral.participant_id,
            {
                "recipient": consent.recipient.value,
                "partner_id": consent.partner_id,
                "data_category": consent.category.value,
                "given_on": given_on,
            },
        )
    # The draft's consent guard reads the consents again: let it see the new ones.
    session.expire(referral)
    return referral


def record_consents_and_submit(
    session: Session,
    actor: User,
    referral_id: int,
    *,
    version: int,
    keys: Sequence[str],
    agreed: bool,
    given_on: date | None = None,
    comment: str | None = None,
) -> Referral:
    """« Enregistrer et soumettre »: the chosen consents, then the submission, as one unit of work
    (a refused submission raises, and the request rolls the consents back with it)."""
    record_consents(session, actor, referral_id, keys=keys, agreed=agreed, given_on=given_on)
    return transition(session, actor, referral_id, action="submit", version=version, comment=comment)
