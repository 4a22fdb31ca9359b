"""The referral lifecycle as data (DESIGN §7): one table of transitions, guards as functions.

Each transition names the states it may start from, the state it leads to, the roles that may
take it, the coded reason list it requires (if any), and its guards. Services look moves up here;
no view or template decides what a referral may do next.
"""

from __future__ import annotations

from dataclasses import dataclass

from referral.referrals.models import ReferralState as S
from referral.territories.models import Role


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


def _t(action: str, label: str, sources: set[S], target: S, roles: set[Role], **extra: object) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(roles), **extra)  # type: ignore[arg-type]


CIP, CP = Role.CIP, Role.CP

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        # `submit` goes straight to `sent` when the opportunity needs no CP validation (the CP
        # is informed): see `target_of`.
        _t("submit", "Soumettre", {S.DRAFT, S.NEEDS_INFO}, S.SUBMITTED, {CIP}),
        _t("request_info", "Demander un complément", {S.SUBMITTED}, S.NEEDS_INFO, {CP}),
        _t("validate", "Valider et transmettre au partenaire", {S.SUBMITTED}, S.SENT, {CP}),
        _t("decline", "Refuser", {S.SUBMITTED}, S.DECLINED, {CP}, reason_list="referral_decline_reason"),
        _t("partner_accept", "Réponse du partenaire : acceptée", {S.SENT, S.WAITLISTED}, S.ACCEPTED, {CP}),
        _t("partner_waitlist", "Réponse du partenaire : liste d'attente", {S.SENT}, S.WAITLISTED, {CP}),
        _t(
            "partner_refuse",
            "Réponse du partenaire : refusée",
            {S.SENT, S.WAITLISTED},
            S.REFUSED,
            {CP},
            reason_list="referral_refusal_reason",
        ),
        _t("start", "Entrée effective", {S.ACCEPTED}, S.STARTED, {CIP, CP}),
        _t("close", "Clôturer avec l'issue", {S.STARTED}, S.CLOSED, {CIP, CP}, needs_outcome=True),
        _t("cancel", "Annuler", {S.DRAFT, S.NEEDS_INFO, S.SUBMITTED}, S.CANCELLED, {CIP}),
        _t(
            "abandon",
            "Abandon de la personne",
            {S.SENT, S.WAITLISTED, S.ACCEPTED},
            S.ABANDONED,
            {CIP},
            reason_list="referral_abandon_reason",
        ),
        _t("expire", "Expirer", {S.SUBMITTED, S.SENT}, S.EXPIRED, set(), system=True),
    )
}

# States in which the referral waits on someone outside the CIP (reminders and expiry count).
WAITING_STATES = frozenset({S.SUBMITTED, S.SENT, S.WAITLISTED})
# States in which the referral holds one place of the opportunity's capacity.
HOLDS_PLACE = frozenset({S.ACCEPTED, S.STARTED})


def target_of(transition: Transition, requires_cp_validation: bool) -> S:
    if transition.action == "submit" and not requires_cp_validation:
        return S.SENT
    return transition.target


def available(state: S, role: Role) -> list[Transition]:
    """The moves a role may offer from `state` (for the buttons of the referral page)."""
    return [t for t in TRANSITIONS.values() if state in t.sources and role in t.roles]
