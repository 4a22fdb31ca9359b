"""The referral lifecycle as data (DESIGN §7): one table of transitions, guards as functions.

Each transition names the states it may start from, the state it leads to (and the one it leads
to instead when the opportunity needs no CP validation), the roles that may take it, the coded
reason list it requires (if any), its guards — functions that refuse the move with a French
message — and what it sets off (the dossier shared, the CPs told). `services.transition` reads
the table and runs it; no view, template or service branch decides what a referral may do next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from referral.partners.models import Opportunity, OpportunityStatus
from referral.referrals.exceptions import ConsentMissing, OpportunityUnavailable
from referral.referrals.models import Referral
from referral.referrals.models import ReferralState as S
from referral.referrals.sharing import missing_consents
from referral.territories.models import Role

# A guard raises a DomainError (with its French message) when the move may not happen today.
Guard = Callable[[Session, Referral, date], None]


def require_open(opportunity: Opportunity, today: date) -> None:
    """A paused, closed or ended opportunity takes no new referral."""
    if opportunity.status is not OpportunityStatus.PUBLISHED:
        status = opportunity.status.label.lower()
        raise OpportunityUnavailable(
            f"Cette opportunité est « {status} » : elle ne reçoit pas de nouvelle orientation."
        )
    if opportunity.valid_until is not None and opportunity.valid_until < today:
        raise OpportunityUnavailable("Cette opportunité a pris fin : elle ne reçoit plus d'orientation.")


def opportunity_open(session: Session, referral: Referral, today: date) -> None:
    require_open(referral.opportunity, today)


def consent_covers_sharing(session: Session, referral: Referral, today: date) -> None:
    """The person's consent covers what the referral shares with the CP and the partner."""
    missing = missing_consents(session, referral, today)
    if missing:
        raise ConsentMissing(
            "Le consentement de la personne ne couvre pas ce que l'orientation partage : "
            + " ; ".join(missing)
            + ". Enregistrez-le dans son dossier avant de soumettre.",
            errors={"consent": missing},
        )


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # the button, in French
    sources: frozenset[S]
    target: S
    roles: frozenset[Role]
    # A coded list of seeds/reference/lists.toml the move must give a reason from.
    reason_list: str | None = None
    needs_outcome: bool = False
    # Only the scheduler takes it (no user).
    system: bool = False
    guards: tuple[Guard, ...] = ()
    # Where the move leads when the opportunity needs no CP validation (the CP is informed).
    target_without_cp: S | None = None
    # The dossier is built from the record and kept on the referral when it leaves the structure.
    shares_dossier: bool = False
    # The CPs of the opportunity's domain hear of it (to validate, or because it went straight on).
    tells_cps: bool = False
    # Ends the referral for good: styled as destructive and confirmed before it acts.
    destructive: bool = False

    def target_for(self, opportunity: Opportunity) -> S:
        if self.target_without_cp is not None and not opportunity.requires_cp_validation:
            return self.target_without_cp
        return self.target


def _t(action: str, label: str, sources: set[S], target: S, roles: set[Role], **extra: object) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(roles), **extra)  # type: ignore[arg-type]


CIP, CP = Role.CIP, Role.CP

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t(
            "submit",
            "Soumettre",
            {S.DRAFT, S.NEEDS_INFO},
            S.SUBMITTED,
            {CIP},
            guards=(opportunity_open, consent_covers_sharing),
            target_without_cp=S.SENT,
            shares_dossier=True,
            tells_cps=True,
        ),
        _t("request_info", "Demander un complément", {S.SUBMITTED}, S.NEEDS_INFO, {CP}),
        _t("validate", "Valider et transmettre au partenaire", {S.SUBMITTED}, S.SENT, {CP}),
        _t(
            "decline",
            "Refuser",
            {S.SUBMITTED},
            S.DECLINED,
            {CP},
            reason_list="referral_decline_reason",
            destructive=True,
        ),
        _t("partner_accept", "Réponse du partenaire : acceptée", {S.SENT, S.WAITLISTED}, S.ACCEPTED, {CP}),
        _t("partner_waitlist", "Réponse du partenaire : liste d'attente", {S.SENT}, S.WAITLISTED, {CP}),
        _t(
            "partner_refuse",
            "Réponse du partenaire : refusée",
            {S.SENT, S.WAITLISTED},
            S.REFUSED,
            {CP},
            reason_list="referral_refusal_reason",
            destructive=True,
        ),
        _t("start", "Entrée effective", {S.ACCEPTED}, S.STARTED, {CIP, CP}),
        _t("close", "Clôturer avec l'issue", {S.STARTED}, S.CLOSED, {CIP, CP}, needs_outcome=True),
        _t("cancel", "Annuler", {S.DRAFT, S.NEEDS_INFO, S.SUBMITTED}, S.CANCELLED, {CIP}, destructive=True),
        _t(
            "abandon",
            "Abandon de la personne",
            {S.SENT, S.WAITLISTED, S.ACCEPTED},
            S.ABANDONED,
            {CIP},
            reason_list="referral_abandon_reason",
            destructive=True,
        ),
        _t("expire", "Expirer", {S.SUBMITTED, S.SENT}, S.EXPIRED, set(), system=True),
    )
}


def available(state: S, role: Role) -> list[Transition]:
    """The moves a role may offer from `state` (for the buttons of the referral page)."""
    return [t for t in TRANSITIONS.values() if state in t.sources and role in t.roles]
