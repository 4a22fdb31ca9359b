"""The generated data draws from `seeds/`, not from tables of its own: the demo people's
distributions of seeds/demo.toml, the domains and subtypes of seeds/reference/domains.toml."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from referral.bench.synthetic import generate, read_seeds
from referral.bench.synthetic_network import LARGEST_TERRITORY
from referral.bench.synthetic_network import generate as generate_network
from referral.seeds import SEEDS_PATH, load_seed_file

DEMO = load_seed_file("demo.toml")["participants"]
DOMAINS = {row["code"]: row for row in load_seed_file("reference/domains.toml")["domain"]}


def drawn(weights: dict[str, float]) -> set[str]:
    return {code for code, weight in weights.items() if weight > 0}


def test_people_follow_the_demo_distributions() -> None:
    data = generate(0.02, seed=1)
    people = data.participants
    assert {p.programme for p in people} == drawn(DEMO["programme"])
    assert {p.housing_status for p in people} <= drawn(DEMO["housing_status"])
    assert {p.residence_status for p in people} <= drawn(DEMO["residence_status"])
    assert {p.health_coverage for p in people} - {None} <= drawn(DEMO["health_coverage"])
    assert {p.language_level for p in people} - {None} <= drawn(DEMO["language_level"])
    # 3,000 people: the street's share is the demo's weight, give or take the draw.
    housing = DEMO["housing_status"]
    street = Counter(p.housing_status for p in people)["rue"] / len(people)
    assert street == pytest.approx(housing["rue"] / sum(housing.values()), abs=0.03)


def test_needs_and_opportunities_use_the_reference_domains() -> None:
    data = generate(0.02, seed=1)
    subtypes = {code: {s["code"] for s in row.get("subtype", ())} for code, row in DOMAINS.items()}
    needs = [need for person in data.participants for need in person.needs]
    assert {need.domain for need in needs} <= drawn(DEMO["need_domain"])
    assert all(need.subtype is None or need.subtype in subtypes[need.domain] for need in needs)
    assert {opportunity.domain for opportunity in data.opportunities} <= set(DOMAINS)
    assert all(
        set(opportunity.subtypes) <= subtypes[opportunity.domain] for opportunity in data.opportunities
    )


def test_the_network_has_the_reference_domains_and_the_demo_cps() -> None:
    snapshot = generate_network(LARGEST_TERRITORY.scaled(0.05), 1)
    assert [(d.code, d.label) for d in snapshot.domains] == [(c, row["label"]) for c, row in DOMAINS.items()]
    assert [[s.code for s in d.subtypes] for d in snapshot.domains] == [
        [s["code"] for s in row.get("subtype", ())] for row in DOMAINS.values()
    ]
    demo_cps = [user["domains"] for user in load_seed_file("demo.toml")["user"] if user["role"] == "cp"]
    assert [list(cp.domains) for cp in snapshot.cps] == demo_cps
    kinds = {row["code"] for row in load_seed_file("reference/lists.toml")["partner_kind"]}
    assert {partner.kind for partner in snapshot.partners} <= kinds


def test_a_demo_code_the_reference_lists_do_not_know_is_refused(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_PATH, seeds)
    demo = seeds / "demo.toml"
    demo.write_text(
        demo.read_text(encoding="utf-8").replace(
            "[participants.housing_status]\n", "[participants.housing_status]\nyourte = 3\n"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="yourte"):
        read_seeds(seeds)
