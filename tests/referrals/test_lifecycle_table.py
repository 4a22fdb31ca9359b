"""The lifecycle table itself (DESIGN §7), read as data: no database."""

from __future__ import annotations

from types import SimpleNamespace

from referral.referrals import lifecycle
from referral.referrals.lifecycle import TRANSITIONS, available
from referral.referrals.models import ReferralState as S
from referral.territories.models import Role


def test_the_table_matches_the_design_diagram() -> None:
    expected = {
        "submit": ({S.DRAFT, S.NEEDS_INFO}, S.SUBMITTED),
        "request_info": ({S.SUBMITTED}, S.NEEDS_INFO),
        "validate": ({S.SUBMITTED}, S.SENT),
        "decline": ({S.SUBMITTED}, S.DECLINED),
        "partner_accept": ({S.SENT, S.WAITLISTED}, S.ACCEPTED),
        "partner_waitlist": ({S.SENT}, S.WAITLISTED),
        "partner_refuse": ({S.SENT, S.WAITLISTED}, S.REFUSED),
        "start": ({S.ACCEPTED}, S.STARTED),
        "close": ({S.STARTED}, S.CLOSED),
        "cancel": ({S.DRAFT, S.NEEDS_INFO, S.SUBMITTED}, S.CANCELLED),
        "abandon": ({S.SENT, S.WAITLISTED, S.ACCEPTED}, S.ABANDONED),
        "expire": ({S.SUBMITTED, S.SENT}, S.EXPIRED),
    }
    assert {name: (set(t.sources), t.target) for name, t in TRANSITIONS.items()} == expected


def test_submit_names_its_guards_and_effects() -> None:
    submit = TRANSITIONS["submit"]
    assert submit.guards == (lifecycle.opportunity_open, lifecycle.consent_covers_sharing)
    assert submit.shares_dossier
    assert submit.tells_cps
    others = [t for name, t in TRANSITIONS.items() if name != "submit"]
    assert not any(t.guards or t.shares_dossier or t.tells_cps for t in others)


def test_submit_goes_straight_to_the_partner_when_no_cp_validation_is_needed() -> None:
    submit = TRANSITIONS["submit"]
    assert submit.target_for(SimpleNamespace(requires_cp_validation=True)) is S.SUBMITTED
    assert submit.target_for(SimpleNamespace(requires_cp_validation=False)) is S.SENT
    # Only submit has a direct route: validation is never skipped by any other move.
    assert TRANSITIONS["validate"].target_for(SimpleNamespace(requires_cp_validation=False)) is S.SENT


def test_buttons_offered_follow_the_roles() -> None:
    assert [t.action for t in available(S.SUBMITTED, Role.CP)] == ["request_info", "validate", "decline"]
    assert [t.action for t in available(S.SUBMITTED, Role.CIP)] == ["cancel"]
    assert available(S.SUBMITTED, Role.COORDINATOR) == []
    assert available(S.CLOSED, Role.CIP) == []
    # Nobody but the scheduler expires a referral.
    assert all(t.action != "expire" for state in S for role in Role for t in available(state, role))
