"""A deterministic, national-scale picture of the network, for the benchmark and the tests.

Scale 1.0 is the size DESIGN §10 builds for: 100 territories, 4,000 structures, 150,000
participants, 20,000 open opportunities (about one in twenty national, offered in several
territories), plus some drafts, paused and closed ones the engine must leave out. Smaller scales
shrink every count. The same (scale, seed) always gives the same data, whatever the day it runs:
`today` is fixed too.

The distributions follow the programme documents and `seeds/`: people mostly in the street or in
emergency shelters, often without health coverage, with open needs in several domains; offers
with the kinds of criteria the real partners write (programme, months in programme, right to
work, resources, housing situation, language level…), thresholds drawn from realistic values.

Pure module: no Flask, no session. It reads the reference lists from `seeds/reference/`.
"""

from __future__ import annotations

import random
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from referral.matching.snapshot import (
    CriterionSnapshot,
    OpenNeed,
    OpportunitySnapshot,
    ParticipantSnapshot,
    ReferenceTables,
    ReferralHistory,
)

DEFAULT_TODAY = date(2026, 11, 23)
SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "reference"

NATIONAL = {"territories": 100, "structures": 4000, "participants": 150_000, "open_opportunities": 20_000}
NATIONAL_SHARE = 0.05
NOT_OPEN_SHARE = 0.05

DOMAIN_WEIGHTS = {
    "emploi": 18,
    "formation": 8,
    "logement": 12,
    "hebergement": 10,
    "sante": 10,
    "sante_mentale": 6,
    "acces_droits": 10,
    "mobilite": 6,
    "langue": 6,
    "numerique": 4,
    "budget": 4,
    "justice": 3,
    "famille": 3,
}
NEED_WEIGHTS = {
    "emploi": 10,
    "formation": 5,
    "logement": 14,
    "hebergement": 12,
    "sante": 10,
    "sante_mentale": 6,
    "acces_droits": 12,
    "mobilite": 6,
    "langue": 6,
    "numerique": 4,
    "budget": 6,
    "justice": 3,
    "famille": 3,
}
HOUSING_WEIGHTS = {
    "rue": 18,
    "squat": 6,
    "abri_fortune": 4,
    "chu": 16,
    "hotel_social": 10,
    "hebergement_asile": 4,
    "structure_soins": 2,
    "chrs": 10,
    "heberge_tiers": 12,
    "residence_sociale": 5,
    "pension_famille": 3,
    "intermediation_locative": 3,
    "caravane_habitat_mobile": 1,
    "logement_prive": 3,
    "logement_social": 3,
}
RESIDENCE_WEIGHTS = {
    "francaise": 40,
    "ue": 8,
    "titre_valide": 22,
    "recepisse": 10,
    "titre_expire": 8,
    "sans_titre": 6,
    "demande_asile": 6,
}
COVERAGE_WEIGHTS = {"aucune": 25, "puma": 40, "css": 25, "ame": 10}
LANGUAGE_WEIGHTS = {"a0": 4, "a1": 10, "a2": 16, "b1": 18, "b2": 14, "c1": 10, "c2": 28}
MAY_WORK = ["francaise", "ue", "titre_valide", "recepisse"]
PRECARIOUS = ["rue", "squat", "abri_fortune", "chu", "hotel_social", "heberge_tiers"]
TAGS = [
    "accompagnement renforcé",
    "sans CV",
    "temps partiel",
    "collectif",
    "individuel",
    "urgence",
    "gratuit",
]


@dataclass(frozen=True)
class Dataset:
    """Everything the engine and its baselines take, plus what the benchmark reports."""

    today: date
    reference: ReferenceTables
    territories: tuple[tuple[int, str, str], ...]
    structures: dict[int, int]  # structure id -> territory id
    participants: tuple[ParticipantSnapshot, ...]
    opportunities: tuple[OpportunitySnapshot, ...]
    histories: dict[int, ReferralHistory]

    @property
    def open_opportunities(self) -> int:
        return sum(1 for o in self.opportunities if o.status == "published")


def load_seed_lists(seeds: Path = SEEDS) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The parsed reference lists and domains of `seeds/reference/`."""
    with (seeds / "lists.toml").open("rb") as handle:
        lists = tomllib.load(handle)
    with (seeds / "domains.toml").open("rb") as handle:
        domains = tomllib.load(handle)["domain"]
    return lists, domains


def reference_tables(territories: tuple[tuple[int, str, str], ...], seeds: Path = SEEDS) -> ReferenceTables:
    lists, domains = load_seed_lists(seeds)
    return ReferenceTables.from_seeds(lists, domains, territories)


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()), k=1)[0]


class _Builder:
    """Draws the dataset in a fixed order from one random stream (hence deterministic)."""

    def __init__(self, scale: float, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.scale = scale
        _, domains = load_seed_lists()
        self.subtypes = {d["code"]: [s["code"] for s in d.get("subtype", ())] for d in domains}

    def counts(self) -> dict[str, int]:
        s = self.scale
        territories = max(1, round(NATIONAL["territories"] * s))
        return {
            "territories": territories,
            "structures": max(territories, round(NATIONAL["structures"] * s)),
            "participants": max(territories * 5, round(NATIONAL["participants"] * s)),
            "open_opportunities": max(territories * 5, round(NATIONAL["open_opportunities"] * s)),
        }

    # -- criteria --------------------------------------------------------------------------------

    def criteria(
        self, domain: str, subtypes: list[str], territory_slugs: list[str]
    ) -> list[CriterionSnapshot]:
        rng = self.rng
        chance = rng.random
        out: list[CriterionSnapshot] = []

        def add(field: str, op: str, value: Any, hard: bool = True) -> None:
            weight = 1.0 if hard else rng.choice((0.3, 0.5, 1.0, 2.0))
            out.append(CriterionSnapshot.of(field, op, value, hard, weight))

        roll = chance()
        if roll < 0.5:
            add("programme", "in", ["CVG", "PHC"])
        elif roll < 0.7:
            add("programme", "eq", "CVG")
        roll = chance()
        if roll < 0.4:
            add("age", "gte", 18)
        elif roll < 0.45:
            add("age", "between", [18, rng.choice((25, 26, 30))])
        elif roll < 0.5:
            add("age", "lte", rng.choice((55, 60)), hard=False)
        roll = chance()
        if roll < 0.2:
            add("months_in_programme", "gte", rng.choice((3, 6, 12)))
        elif roll < 0.4:
            add("months_in_programme", "gte", rng.choice((3, 6, 12)), hard=False)
        work_share = 0.6 if domain in ("emploi", "formation", "logement") else 0.1
        if chance() < work_share:
            add("residence_status", "in", MAY_WORK)

        if domain == "logement":
            if chance() < 0.6:
                add(
                    "monthly_resources",
                    "between",
                    [rng.randrange(500, 801, 50), rng.randrange(1400, 2201, 100)],
                )
            if chance() < 0.7:
                excluded = ["logement_social"] + (["logement_prive"] if chance() < 0.5 else [])
                add("housing_status", "not_in", excluded)
            if chance() < 0.3:
                add("household_size", "lte", rng.choice((2, 4, 6)))
        elif domain == "hebergement":
            if chance() < 0.7:
                add("housing_status", "in", PRECARIOUS if chance() < 0.7 else PRECARIOUS[:3])
            if chance() < 0.4:
                add("household_size", "eq", 1, hard=False)
            if chance() < 0.3:
                add("children", "eq", 0, hard=False)
        elif domain == "sante":
            if chance() < 0.5:
                add("health_coverage", "in", ["puma", "css", "ame"])
            if chance() < 0.05:
                add("rqth", "eq", True)
        elif domain == "acces_droits":
            if chance() < 0.5:
                add("health_coverage", "in", ["aucune", "puma"], hard=False)
            if chance() < 0.2:
                add("residence_status", "in", ["titre_expire", "recepisse", "titre_valide"], hard=False)
        elif domain == "emploi":
            roll = chance()
            if roll < 0.5:
                add("language_level", "gte", rng.choice(("a1", "a2", "b1")), hard=False)
            elif roll < 0.65:
                add("language_level", "gte", rng.choice(("a1", "a2")))
            if chance() < 0.3:
                add("weekly_hours", "gte", 20, hard=False)
            if chance() < 0.1:
                add("driving_licence", "eq", True)
            if chance() < 0.03:
                add("rqth", "eq", True)
        elif domain == "formation":
            if chance() < 0.3:
                add("language_level", "gte", "a2")
            if chance() < 0.3:
                add("weekly_hours", "lte", 26, hard=False)
        elif domain == "langue":
            if chance() < 0.6:
                add("language_level", "lte", rng.choice(("a1", "a2", "b1")))
        elif domain == "mobilite":
            if chance() < 0.4:
                add("driving_licence", "eq", False)
            if chance() < 0.2:
                add("monthly_resources", "lte", rng.choice((900, 1100, 1300)))
        elif domain == "budget":
            if chance() < 0.4:
                add("monthly_resources", "lte", rng.choice((800, 1000, 1200)))
        elif domain == "famille":
            if chance() < 0.6:
                add("children", "gte", 1)
            if chance() < 0.3:
                add("household_size", "gte", 2, hard=False)
            if chance() < 0.05:
                add("household_size", "in", [2, 3], hard=False)
        elif domain == "justice" and chance() < 0.5:
            add("has_need", "has", "justice")

        roll = chance()
        if roll < 0.7:
            add("has_need", "has", domain, hard=False)
        elif roll < 0.8 and subtypes:
            add("has_need", "has", subtypes[0], hard=False)
        elif roll < 0.83 and subtypes:
            add("has_need", "has", subtypes[0])
        if territory_slugs and chance() < 0.05:
            add(
                "territory", "in", rng.sample(territory_slugs, k=min(len(territory_slugs), rng.randint(1, 3)))
            )
        if chance() < 0.05:
            add("health_coverage", "not_in", ["aucune"], hard=False)
        return out

    # -- the whole dataset -------------------------------------------------------------------------

    def build(self) -> Dataset:
        rng = self.rng
        today = self.today
        counts = self.counts()
        t_count = counts["territories"]
        territories = tuple((t, f"territoire-{t:03d}", f"Territoire {t:03d}") for t in range(1, t_count + 1))
        reference = reference_tables(territories)
        # Territories differ in size (a metropolis against a rural département).
        weights = [rng.lognormvariate(0.0, 0.6) for _ in territories]

        structures: dict[int, int] = {}
        by_territory: dict[int, list[int]] = defaultdict(list)
        for structure_id in range(1, counts["structures"] + 1):
            territory = territories[(structure_id - 1) % t_count][0] if structure_id <= t_count else None
            if territory is None:
                territory = rng.choices(territories, weights=weights, k=1)[0][0]
            structures[structure_id] = territory
            by_territory[territory].append(structure_id)

        participants = [
            self.participant(pid, territories, weights, by_territory)
            for pid in range(1, counts["participants"] + 1)
        ]
        opportunities = self.opportunities(counts["open_opportunities"], territories, weights)
        histories = self.histories(participants, opportunities)
        return Dataset(
            today=today,
            reference=reference,
            territories=territories,
            structures=structures,
            participants=tuple(participants),
            opportunities=tuple(opportunities),
            histories=histories,
        )

    def participant(
        self,
        pid: int,
        territories: tuple[tuple[int, str, str], ...],
        weights: list[float],
        structures: dict[int, list[int]],
    ) -> ParticipantSnapshot:
        rng = self.rng
        chance = rng.random
        today = self.today
        territory = rng.choices(territories, weights=weights, k=1)[0][0]
        structure = rng.choice(structures[territory])
        programme = "PHC" if chance() < 0.25 else "CVG"
        if chance() < 0.05:
            hours: float | None = None
        elif programme == "PHC":
            hours = float(rng.choice((4, 6, 8, 10, 12, 16, 20)))
        else:
            hours = float(rng.choice((20, 24, 26, 30, 35)))
        residence = _pick(rng, RESIDENCE_WEIGHTS)
        permit: date | None = None
        if residence in ("titre_valide", "recepisse"):
            permit = today + timedelta(days=rng.randint(-60, 720))
        elif residence == "titre_expire":
            permit = today - timedelta(days=rng.randint(1, 400))
        household = 1 if chance() < 0.6 else rng.randint(2, 5)
        needs: dict[tuple[str, str | None], int] = {}
        for _ in range(rng.randint(1, 5)):
            domain = _pick(rng, NEED_WEIGHTS)
            subtype = rng.choice(self.subtypes[domain]) if chance() < 0.7 else None
            needs.setdefault((domain, subtype), rng.randint(1, 3))
        return ParticipantSnapshot(
            id=pid,
            structure_id=structure,
            territory_id=territory,
            programme=programme,
            entered_on=today - timedelta(days=rng.randint(0, 1800)),
            birth_date=today - timedelta(days=rng.randint(18 * 365 + 5, 64 * 365)),
            weekly_hours=hours,
            residence_status=residence,
            residence_permit_expires_on=permit,
            housing_status=_pick(rng, HOUSING_WEIGHTS),
            health_coverage=None if chance() < 0.03 else _pick(rng, COVERAGE_WEIGHTS),
            household_size=household,
            children=rng.randint(0, household - 1),
            monthly_resources=None if chance() < 0.1 else rng.randrange(0, 2200, 10),
            language_level=None if chance() < 0.05 else _pick(rng, LANGUAGE_WEIGHTS),
            driving_licence=None if chance() < 0.03 else chance() < 0.25,
            rqth=None if chance() < 0.1 else chance() < 0.08,
            needs=tuple(OpenNeed(d, s, p) for (d, s), p in needs.items()),
        )

    def opportunities(
        self, open_count: int, territories: tuple[tuple[int, str, str], ...], weights: list[float]
    ) -> list[OpportunitySnapshot]:
        rng = self.rng
        chance = rng.random
        today = self.today
        t_ids = [t for t, _, _ in territories]
        slugs = {t: slug for t, slug, _ in territories}
        national_count = round(open_count * NATIONAL_SHARE)
        total = open_count + round(open_count * NOT_OPEN_SHARE)
        # A pool of partners per territory, and some national ones.
        result: list[OpportunitySnapshot] = []
        for oid in range(1, total + 1):
            national = oid <= national_count
            if national:
                partner_id = 1_000_000 + rng.randint(1, max(1, national_count // 4))
                k = rng.randint(min(2, len(t_ids)), min(20, len(t_ids)))
                offered = frozenset(rng.sample(t_ids, k=k))
            else:
                territory = rng.choices(territories, weights=weights, k=1)[0][0]
                partner_id = territory * 1000 + rng.randint(1, 150)
                offered = frozenset({territory})
            domain = _pick(rng, DOMAIN_WEIGHTS)
            choices = self.subtypes[domain]
            subtypes = [] if chance() < 0.15 else rng.sample(choices, k=min(len(choices), rng.randint(1, 2)))
            capacity = rng.choice((1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30))
            places = 0 if chance() < 0.1 else rng.randint(1, capacity)
            flooded = chance() < 0.05
            recent = rng.randint(10, 40) if flooded else rng.randint(0, 2 * capacity)
            status = "published" if oid <= open_count else rng.choice(("draft", "paused", "closed"))
            result.append(
                OpportunitySnapshot(
                    id=oid,
                    title=f"Offre {oid} ({domain})",
                    partner_id=partner_id,
                    partner_name=f"Partenaire {partner_id}",
                    territory_ids=offered,
                    domain=domain,
                    subtypes=tuple(subtypes),
                    criteria=tuple(self.criteria(domain, subtypes, [slugs[t] for t in sorted(offered)])),
                    capacity=capacity,
                    places_left=places,
                    published_on=today - timedelta(days=rng.randint(0, 400)),
                    status=status,
                    tags=tuple(rng.sample(TAGS, k=rng.randint(0, 2))),
                    recent_referrals=recent,
                    partner_answer_rate=None if chance() < 0.2 else round(rng.uniform(0.3, 1.0), 2),
                    waitlist=chance() < 0.85,
                    valid_from=today + timedelta(days=rng.randint(1, 60)) if chance() < 0.03 else None,
                    valid_until=today + timedelta(days=rng.randint(30, 365)) if chance() < 0.05 else None,
                )
            )
        return result

    def histories(
        self, participants: list[ParticipantSnapshot], opportunities: list[OpportunitySnapshot]
    ) -> dict[int, ReferralHistory]:
        rng = self.rng
        today = self.today
        offers: dict[int, list[OpportunitySnapshot]] = defaultdict(list)
        for offer in opportunities:
            for territory in offer.territory_ids:
                offers[territory].append(offer)
        histories: dict[int, ReferralHistory] = {}
        for person in participants:
            local = offers.get(person.territory_id)
            if not local:
                continue
            roll = rng.random()
            if roll >= 0.35:
                continue
            referred = {rng.choice(local).id for _ in range(rng.randint(1, 3))}
            refusals: tuple[tuple[int, date], ...] = ()
            if roll < 0.1:
                refusals = tuple(
                    (rng.choice(local).partner_id, today - timedelta(days=rng.randint(0, 365)))
                    for _ in range(rng.randint(1, 2))
                )
            histories[person.id] = ReferralHistory(person.id, frozenset(referred), refusals)
        return histories


def generate(scale: float = 1.0, seed: int = 20261123, today: date = DEFAULT_TODAY) -> Dataset:
    """The dataset of this (scale, seed): the same every time."""
    return _Builder(scale, seed, today).build()
