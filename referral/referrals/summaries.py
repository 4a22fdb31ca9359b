"""What a list shows of each referral (issue 15, point 8): who it is about, who sent it, the need it
answers, the CIP's comment, how long it has waited, and what comes next.

The person's name follows the one rule of DESIGN §8 (`services.display_name` over the dossier as
consent allows it on the day shown, `sharing.dossiers_on`): a CP reads the name only while the
identity consent is in force that day, else « Personne n° … ». No second rule lives here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from referral import clock
from referral.cases.models import Participant
from referral.partners.models import Opportunity
from referral.referrals import services
from referral.referrals.models import ACTIVE_STATES, Referral, ReferralState
from referral.referrals.sharing import SharedToday
from referral.referrals.wording import need_labels, need_text, sender_text
from referral.territories.models import User

# What comes next, by state, for the lists and the record (« prochaine étape »).
NEXT_STEPS: dict[ReferralState, str] = {
    ReferralState.DRAFT: "Compléter les consentements et soumettre (CIP)",
    ReferralState.NEEDS_INFO: "Apporter le complément demandé par le CP (CIP)",
    ReferralState.SUBMITTED: "Validation par le CP",
    ReferralState.SENT: "Réponse du partenaire",
    ReferralState.WAITLISTED: "Une place chez le partenaire (liste d'attente)",
    ReferralState.ACCEPTED: "Entrée effective",
    ReferralState.STARTED: "Clôture, avec son issue",
}


@dataclass(frozen=True)
class ReferralSummary:
    referral: Referral
    name: str
    sender: str
    need: str | None  # « Logement social, priorité 1 »
    comment: str | None
    days_waiting: int | None
    next_step: str | None

    @property
    def days_text(self) -> str:
        if self.days_waiting is None:
            return "—"
        return f"{self.days_waiting} jour" + ("s" if self.days_waiting > 1 else "")


def days_waiting(referral: Referral, today: date) -> int | None:
    """Days since the referral started waiting on someone (the Paris calendar), or None."""
    if referral.waiting_since is None:
        return None
    return max(0, (today - clock.paris_day(referral.waiting_since)).days)


def summaries(
    session: Session,
    actor: User,
    referrals: Sequence[Referral],
    *,
    what: str = "nom (orientations)",
    shared: Mapping[int, SharedToday] | None = None,
) -> dict[int, ReferralSummary]:
    """Each referral's summary as `actor` may see it today (one read of the consents for all;
    `shared`: the dossiers as shown today when the caller has read them already)."""
    if not referrals:
        return {}
    today = clock.today()
    if shared is None:
        shared = services.shared_dossiers(session, actor, list(referrals), what=what)
    labels = need_labels(session)
    return {
        referral.id: ReferralSummary(
            referral=referral,
            name=services.display_name(actor, referral, shared.get(referral.id)),
            sender=sender_text(referral),
            need=need_text(referral, labels),
            comment=referral.comment,
            days_waiting=days_waiting(referral, today),
            next_step=NEXT_STEPS.get(referral.state),
        )
        for referral in referrals
    }


def under_way(session: Session, actor: User, participant_id: int) -> list[ReferralSummary]:
    """The person's referrals under way, drafts included, oldest first, as the record lists them
    (« Orientations en cours »: state, days waiting, next step)."""
    referrals = session.scalars(
        select(Referral)
        .where(
            Referral.participant_id == participant_id,
            Referral.state.in_(ACTIVE_STATES),
            services.referral_filter(actor),
        )
        .options(
            joinedload(Referral.opportunity).joinedload(Opportunity.partner),
            joinedload(Referral.need),
            joinedload(Referral.created_by),
            joinedload(Referral.participant).joinedload(Participant.structure),
        )
        .order_by(Referral.created_at, Referral.id)
    ).all()
    found = summaries(session, actor, referrals, what="orientations en cours (dossier)")
    return [found[referral.id] for referral in referrals]
