"""The opportunity lifecycle as data (DESIGN §7): one table of transitions, guards as functions.

Each transition names the states it may start from, the state it leads to, the roles that may
take it and its guards: named functions of the opportunity and the day that return a French
reason to refuse (None: no objection). The service (`opportunities.transition_opportunity`)
looks a move up here; no view or template decides what an opportunity may do next. Read it
beside `referral.referrals.lifecycle`, the referral's table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from referral.partners.models import Opportunity
from referral.partners.models import OpportunityStatus as S
from referral.territories.models import Role

# A guard: why the move is refused today, in French (None when nothing stands in the way).
Guard = Callable[[Opportunity, date], str | None]


def validity_not_passed(opportunity: Opportunity, today: date) -> str | None:
    if opportunity.valid_until is not None and opportunity.valid_until < today:
        return "Sa fin de validité est passée : prolongez-la avant de la publier."
    return None


def has_a_place(opportunity: Opportunity, today: date) -> str | None:
    if opportunity.capacity < 1:
        return "Elle n'a aucune place : indiquez au moins une place avant de la publier."
    return None


@dataclass(frozen=True)
class OpportunityTransition:
    """One action of the opportunity's lifecycle: from which states, to which, by whom."""

    action: str
    verb: str  # French infinitive, for buttons: « publier »
    done: str  # French past participle, for messages: « publiée »
    sources: tuple[S, ...]  # in the order a refusal names them
    target: S
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()


# CPs act on their territory's opportunities, the national team on the national partnerships'.
BUILDERS = frozenset({Role.CP, Role.ADMIN})

TRANSITIONS: dict[str, OpportunityTransition] = {
    t.action: t
    for t in (
        OpportunityTransition(
            "publish",
            "publier",
            "publiée",
            (S.DRAFT, S.PAUSED),
            S.PUBLISHED,
            BUILDERS,
            guards=(validity_not_passed, has_a_place),
        ),
        OpportunityTransition("pause", "suspendre", "suspendue", (S.PUBLISHED,), S.PAUSED, BUILDERS),
        OpportunityTransition(
            "close", "clôturer", "clôturée", (S.DRAFT, S.PUBLISHED, S.PAUSED), S.CLOSED, BUILDERS
        ),
    )
}


def refusals(transition: OpportunityTransition, opportunity: Opportunity, today: date) -> list[str]:
    """The French reasons the transition's guards give against moving `opportunity` today."""
    return [reason for guard in transition.guards if (reason := guard(opportunity, today)) is not None]


def allowed_opportunity_actions(opportunity: Opportunity, role: Role) -> list[OpportunityTransition]:
    """The moves `role` may offer from the opportunity's state (for the page's buttons; the
    service still checks scope and guards)."""
    return [t for t in TRANSITIONS.values() if opportunity.status in t.sources and role in t.roles]
