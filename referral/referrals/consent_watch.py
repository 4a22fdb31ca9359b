"""A consent withdrawn reaches the referrals that shared under it (DESIGN §8, issue 14).

The dossier of a referral is shown again only as far as a consent covers it on the day (see
`sharing.dossiers_on`): nothing to change on the referral itself. What is left is telling the CPs
who follow the referrals under way that what they were shown has changed — without saying what
about the person (the notification and its e-mail copy carry no data, only the referral's page).

`cases` sits below `referrals` (DESIGN §5): `install()` registers `on_withdrawal` with
`cases.consents`, and `referral.hooks` calls it in every process.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from referral.cases import consents as consent_book
from referral.cases import services as cases
from referral.cases.models import Consent, ConsentRecipient, DataCategory
from referral.referrals.models import Referral, ReferralState
from referral.referrals.sharing import shares_category
from referral.tasks import services as tasks

# Referrals a CP follows and whose dossier was sent (a draft shares nothing yet).
FOLLOWED_BY_CPS = (
    ReferralState.SUBMITTED,
    ReferralState.NEEDS_INFO,
    ReferralState.SENT,
    ReferralState.WAITLISTED,
    ReferralState.ACCEPTED,
    ReferralState.STARTED,
)


def _still_covered(session: Session, referral: Referral, category: DataCategory, consent: Consent) -> bool:
    """Another consent may cover the same sharing (the person agreed twice): then nothing
    changes for this referral."""
    on = consent.revoked_on
    return cases.may_share(
        session, referral.participant_id, recipient=ConsentRecipient.CP, category=category, on=on
    ) and cases.may_share(
        session,
        referral.participant_id,
        recipient=ConsentRecipient.PARTNER,
        category=category,
        partner_id=referral.opportunity.partner_id,
        on=on,
    )


def on_withdrawal(session: Session, consent: Consent) -> None:
    """Tell the CPs of each referral under way whose dossier the withdrawal cuts."""
    if consent.recipient not in (ConsentRecipient.CP, ConsentRecipient.PARTNER):
        return
    referrals = session.scalars(
        select(Referral)
        .where(Referral.participant_id == consent.participant_id, Referral.state.in_(FOLLOWED_BY_CPS))
        .options(joinedload(Referral.opportunity))
        .order_by(Referral.id)
    ).all()
    for referral in referrals:
        opportunity = referral.opportunity
        if consent.recipient is ConsentRecipient.PARTNER and consent.partner_id not in (
            None,
            opportunity.partner_id,
        ):
            continue
        if not shares_category(referral, consent.data_category):
            continue
        if _still_covered(session, referral, consent.data_category, consent):
            continue
        for user_id in tasks.cps_for(session, opportunity.offered_territory_ids, opportunity.domain_code):
            tasks.notify(
                session,
                user_id=user_id,
                kind="referral_consent_withdrawn",
                message=(
                    f"Consentement retiré par la personne : le dossier partagé de l'orientation "
                    f"n° {referral.id} (« {opportunity.title} ») a changé."
                ),
                link=f"/orientations/{referral.id}",
                key=f"referral:{referral.id}:consent_withdrawn:{consent.id}",
            )


def install() -> None:
    """Register the listener. Idempotent; called by `referral.hooks.install()`."""
    consent_book.register_withdrawal_listener("referrals", on_withdrawal)
