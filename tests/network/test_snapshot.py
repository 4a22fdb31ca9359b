"""Snapshots: invariants, the domain filter, and what they must never hold."""

from __future__ import annotations

import dataclasses

import pytest

from referral.network import snapshot as snapshot_module
from referral.network.snapshot import (
    Deployment,
    DeploymentStatus,
    NetworkSnapshot,
    ReferralAggregate,
    ReferralFact,
    aggregate_referrals,
    restrict_domains,
)


def test_referral_aggregate_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="accepted"):
        ReferralAggregate(1, 2, "sante", count=2, accepted=3, answered=3)
    with pytest.raises(ValueError, match="answered"):
        ReferralAggregate(1, 2, "sante", count=2, accepted=0, answered=3)


def test_absent_is_not_a_deployment_row() -> None:
    with pytest.raises(ValueError, match="absence"):
        Deployment("franprix", 1, "lyon", DeploymentStatus.ABSENT)


def test_deployment_status_labels_are_french() -> None:
    assert [status.label for status in DeploymentStatus] == ["Déployé", "En discussion", "Absent"]


def test_snapshots_hold_no_participant() -> None:
    """Coordinators never see a person (DESIGN §8): no snapshot class can even carry one."""
    forbidden = {"participant", "participant_id", "first_name", "last_name", "birth_date", "person"}
    classes = [
        value
        for value in vars(snapshot_module).values()
        if isinstance(value, type) and dataclasses.is_dataclass(value)
    ]
    assert len(classes) >= 13
    for cls in classes:
        names = {f.name for f in dataclasses.fields(cls)}
        assert not names & forbidden, cls.__name__


def test_restrict_domains_keeps_the_chosen_domains_and_every_structure(territory: NetworkSnapshot) -> None:
    sante = restrict_domains(territory, ["sante", "sante_mentale"])

    assert {p.id for p in sante.partners} == {20, 40}
    assert {cp.id for cp in sante.cps} == {2}
    assert sante.cps[0].domains == ("sante", "sante_mentale")
    assert {r.domain for r in sante.referrals} == {"sante", "sante_mentale"}
    assert {n.domain for n in sante.needs} == {"sante", "sante_mentale"}
    assert {p.opportunity_id for p in sante.places} == {200, 400}
    assert len(sante.structures) == 3
    assert sante.deployments == ()
    assert sante.national_networks == ()
    assert {(link.cp_id, link.partner_id) for link in sante.cp_links} == {(2, 20), (2, 40)}
    assert sante.domain_filter == ("sante", "sante_mentale")


def test_restrict_domains_without_domains_is_the_identity(territory: NetworkSnapshot) -> None:
    assert restrict_domains(territory, []) is territory


def test_labels_fall_back_to_codes(territory: NetworkSnapshot) -> None:
    assert territory.domain_label("logement") == "Logement"
    assert territory.subtype_label("logement.social") == "Logement social"
    assert territory.domain_label("inconnu") == "inconnu"
    assert NetworkSnapshot(None, "France").subtype_label("x.y") == "x.y"


def test_aggregate_referrals_counts_and_medians() -> None:
    facts = [
        ReferralFact(1, 10, "logement", answered=True, accepted=True, answer_days=4.0),
        ReferralFact(1, 10, "logement", answered=True, answer_days=10.0),
        ReferralFact(1, 10, "logement", accepted=True, answer_days=30.0),  # accepted implies answered
        ReferralFact(1, 10, "logement"),
        ReferralFact(2, 10, "logement"),
        ReferralFact(1, 10, "sante", answered=True),  # answered, delay unknown
    ]
    assert aggregate_referrals(reversed(facts)) == (
        ReferralAggregate(1, 10, "logement", count=4, accepted=2, answered=3, median_answer_days=10.0),
        ReferralAggregate(1, 10, "sante", count=1, accepted=0, answered=1, median_answer_days=None),
        ReferralAggregate(2, 10, "logement", count=1, accepted=0, answered=0, median_answer_days=None),
    )
