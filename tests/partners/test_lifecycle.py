"""The opportunity lifecycle read as data (`referral.partners.lifecycle`), without a database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from referral.partners.lifecycle import (
    TRANSITIONS,
    allowed_opportunity_actions,
    has_a_place,
    refusals,
    validity_not_passed,
)
from referral.partners.models import Opportunity, OpportunityStatus
from referral.territories.models import Role

TODAY = date(2027, 6, 15)


def test_every_transition_moves_between_real_states() -> None:
    for action, transition in TRANSITIONS.items():
        assert transition.action == action
        assert transition.sources, action
        assert all(isinstance(state, OpportunityStatus) for state in transition.sources)
        assert isinstance(transition.target, OpportunityStatus)
        assert transition.target not in transition.sources, action
        assert transition.verb
        assert transition.done


def test_every_state_but_closed_can_be_left_and_closed_is_final() -> None:
    left = {state for transition in TRANSITIONS.values() for state in transition.sources}
    assert left == set(OpportunityStatus) - {OpportunityStatus.CLOSED}
    reached = {transition.target for transition in TRANSITIONS.values()}
    assert reached == set(OpportunityStatus) - {OpportunityStatus.DRAFT}


def test_guards_are_named_functions() -> None:
    for transition in TRANSITIONS.values():
        for guard in transition.guards:
            assert guard.__name__ != "<lambda>"
    assert TRANSITIONS["publish"].guards == (validity_not_passed, has_a_place)
    assert TRANSITIONS["pause"].guards == ()
    assert TRANSITIONS["close"].guards == ()


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (OpportunityStatus.DRAFT, ["publish", "close"]),
        (OpportunityStatus.PUBLISHED, ["pause", "close"]),
        (OpportunityStatus.PAUSED, ["publish", "close"]),
        (OpportunityStatus.CLOSED, []),
    ],
)
def test_the_moves_of_each_state(status: OpportunityStatus, actions: list[str]) -> None:
    opportunity = Opportunity(status=status)
    for role in (Role.CP, Role.ADMIN):
        assert [t.action for t in allowed_opportunity_actions(opportunity, role)] == actions


@pytest.mark.parametrize("role", [Role.CIP, Role.COORDINATOR])
def test_only_the_network_builders_move_an_opportunity(role: Role) -> None:
    assert allowed_opportunity_actions(Opportunity(status=OpportunityStatus.DRAFT), role) == []
    assert all(role not in transition.roles for transition in TRANSITIONS.values())


def test_publishing_needs_a_validity_not_passed() -> None:
    publish = TRANSITIONS["publish"]
    assert refusals(publish, Opportunity(capacity=1, valid_until=TODAY), TODAY) == []
    assert refusals(publish, Opportunity(capacity=1, valid_until=None), TODAY) == []
    assert refusals(publish, Opportunity(capacity=1, valid_until=TODAY - timedelta(days=1)), TODAY) == [
        "Sa fin de validité est passée : prolongez-la avant de la publier."
    ]


def test_publishing_needs_a_place() -> None:
    publish = TRANSITIONS["publish"]
    assert refusals(publish, Opportunity(capacity=1, valid_until=None), TODAY) == []
    assert refusals(publish, Opportunity(capacity=0, valid_until=None), TODAY) == [
        "Elle n'a aucune place : indiquez au moins une place avant de la publier."
    ]


def test_every_publish_guard_speaks_in_the_table_order() -> None:
    stale_and_empty = Opportunity(capacity=0, valid_until=TODAY - timedelta(days=30))
    assert refusals(TRANSITIONS["publish"], stale_and_empty, TODAY) == [
        "Sa fin de validité est passée : prolongez-la avant de la publier.",
        "Elle n'a aucune place : indiquez au moins une place avant de la publier.",
    ]
    assert refusals(TRANSITIONS["close"], stale_and_empty, TODAY) == []
