"""Generated national-scale participants and opportunities for the benchmarks and the tests.

Scale 1.0 is the size DESIGN §10 builds for: 100 territories, 4,000 structures, 150,000
participants, 20,000 open opportunities (about one in twenty national, offered in several
territories), plus some drafts, paused and closed ones the engine must leave out. Smaller scales
shrink every count. The same (scale, seed) always gives the same data, whatever the day it runs:
`today` is fixed too. That national shape is the benchmark's parameter (`NATIONAL`).

What the people and opportunities look like is not typed here: it is read from `seeds/` (`read_seeds`),
the one place the demo and the benchmarks share — the people's programme, housing, health
coverage, residence status and language level are drawn with the weights of `seeds/demo.toml`
(those of the demo people of `referral seed --demo-participants`), their needs and the opportunities'
domains with its chance of a need per domain (opportunities follow needs), domains and subtypes come
from `seeds/reference/domains.toml`, and which statuses allow work or are precarious from the
extras of `seeds/reference/lists.toml`. The opportunities' criteria are the kinds the real partners
write (programme, months in programme, right to work, resources, housing situation, language
level…), with thresholds drawn from realistic values.

No Flask, no session: snapshots only, like the engine takes.
"""

from __future__ import annotations

import functools
import random
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
from referral.seeds import SEEDS_PATH, load_seed_file

DEFAULT_TODAY = date(2026, 11, 23)

NATIONAL = {"territories": 100, "structures": 4000, "participants": 150_000, "open_opportunities": 20_000}
NATIONAL_SHARE = 0.05
NOT_OPEN_SHARE = 0.05

# The demo people's distributions of seeds/demo.toml ([participants.<list>], code = weight).
PEOPLE_LISTS = ("programme", "housing_status", "health_coverage", "residence_status", "language_level")
# Housing statuses by their `precarity` (seeds/reference/lists.toml): 3 = the street, 2 = emergency.
STREET, EMERGENCY = 3, 2
TAGS = [
    "accompagnement renforcé",
    "sans CV",
    "temps partiel",
    "collectif",
    "individuel",
    "urgence",
    "gratuit",
]


# As the demo seed draws a need's priority and status (`referral.cases.demo._needs`; a test keeps
# the two equal): only open needs reach the engine.
NEED_PRIORITIES = (1, 1, 2, 2, 3)
NEED_STATUS = {"open": 60.0, "in_progress": 25.0, "resolved": 15.0}


@dataclass(frozen=True)
class Seeds:
    """What the generators draw from, as `seeds/` says it.

    - `weights[list]`: code → relative weight, for each of `PEOPLE_LISTS` (seeds/demo.toml);
    - `need_chance[domain]`: the chance that a person has an open need in the domain
      (seeds/demo.toml, [participants.need_domain]), 0 for a domain it does not name;
    - `domains`: every domain of seeds/reference/domains.toml, in order, as (code, label,
      ((subtype code, subtype label), …));
    - `may_work`: the residence statuses that allow work, `precarity`: housing status → 0–3
      (extras of seeds/reference/lists.toml);
    - `lists`, `domain_rows`, `demo`: the files as read, for what needs more (reference tables,
      the demo territory's CP accounts).
    """

    lists: Mapping[str, Any]
    domain_rows: tuple[Mapping[str, Any], ...]
    demo: Mapping[str, Any]
    weights: Mapping[str, Mapping[str, float]]
    need_chance: Mapping[str, float]
    domains: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]
    may_work: tuple[str, ...]
    precarity: Mapping[str, int]

    @property
    def subtypes(self) -> dict[str, list[str]]:
        return {code: [c for c, _ in subtypes] for code, _, subtypes in self.domains}

    def codes(self, name: str) -> tuple[str, ...]:
        """The codes of one reference list, in the file's order."""
        return tuple(row["code"] for row in self.lists[name])


def load_seed_lists(seeds: Path = SEEDS_PATH) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The parsed reference lists and domains of `seeds/reference/`."""
    lists = load_seed_file("reference/lists.toml", seeds)
    domains = load_seed_file("reference/domains.toml", seeds)["domain"]
    return lists, domains


@functools.cache
def read_seeds(seeds: Path = SEEDS_PATH) -> Seeds:
    """The generators' distributions, domains and lists, read from `seeds` (once per process).

    A code of seeds/demo.toml that the reference lists do not know is an error, not a silent
    zero: the demo and the benchmarks would no longer draw the same people.
    """
    lists, domain_rows = load_seed_lists(seeds)
    demo = load_seed_file("demo.toml", seeds)
    people = demo["participants"]
    weights = {name: {str(code): float(w) for code, w in people[name].items()} for name in PEOPLE_LISTS}
    domains = tuple(
        (row["code"], row["label"], tuple((s["code"], s["label"]) for s in row.get("subtype", ())))
        for row in domain_rows
    )
    domain_codes = [code for code, _, _ in domains]
    for name, table in weights.items():
        known = {row["code"] for row in lists.get(name, ())}
        if known and not set(table) <= known:
            raise ValueError(
                f"seeds/demo.toml [participants.{name}]: unknown codes {sorted(set(table) - known)}"
            )
    chances = people["need_domain"]
    if not set(chances) <= set(domain_codes):
        unknown = sorted(set(chances) - set(domain_codes))
        raise ValueError(f"seeds/demo.toml [participants.need_domain]: unknown domains {unknown}")
    return Seeds(
        lists=lists,
        domain_rows=tuple(domain_rows),
        demo=demo,
        weights=weights,
        need_chance={code: float(chances.get(code, 0.0)) for code in domain_codes},
        domains=domains,
        may_work=tuple(row["code"] for row in lists["residence_status"] if row.get("may_work")),
        precarity={row["code"]: int(row.get("precarity", 0)) for row in lists["housing_status"]},
    )


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


def reference_tables(
    territories: tuple[tuple[int, str, str], ...], seeds: Path = SEEDS_PATH
) -> ReferenceTables:
    seeds_read = read_seeds(seeds)
    return ReferenceTables.from_seeds(seeds_read.lists, list(seeds_read.domain_rows), territories)


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()), k=1)[0]


class _Builder:
    """Draws the dataset in a fixed order from one random stream (hence deterministic)."""

    def __init__(self, scale: float, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.scale = scale
        self.seeds = read_seeds()
        self.subtypes = self.seeds.subtypes
        precarity = self.seeds.precarity
        # Opportunities for people in the street or in emergency accommodation (or in the street only).
        self.precarious = [code for code, level in precarity.items() if level >= EMERGENCY]
        self.street = [code for code, level in precarity.items() if level >= STREET]

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
            add("residence_status", "in", list(self.seeds.may_work))

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
                add("housing_status", "in", self.precarious if chance() < 0.7 else self.street)
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
        demo = self.seeds.weights  # the demo people's distributions
        programme = _pick(rng, demo["programme"])
        if chance() < 0.05:
            hours: float | None = None
        elif programme == "PHC":
            hours = float(rng.choice((4, 6, 8, 10, 12, 16, 20)))
        else:
            hours = float(rng.choice((20, 24, 26, 30, 35)))
        residence = _pick(rng, demo["residence_status"])
        permit: date | None = None
        if residence in ("titre_valide", "recepisse"):
            permit = today + timedelta(days=rng.randint(-60, 720))
        elif residence == "titre_expire":
            permit = today - timedelta(days=rng.randint(1, 400))
        household = 1 if chance() < 0.6 else rng.randint(2, 5)
        housing = _pick(rng, demo["housing_status"])
        coverage = None if chance() < 0.03 else _pick(rng, demo["health_coverage"])
        needs = self.open_needs(housing, coverage)
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
            housing_status=housing,
            health_coverage=coverage,
            household_size=household,
            children=rng.randint(0, household - 1),
            monthly_resources=None if chance() < 0.1 else rng.randrange(0, 2200, 10),
            language_level=None if chance() < 0.05 else _pick(rng, demo["language_level"]),
            driving_licence=None if chance() < 0.03 else chance() < 0.25,
            rqth=None if chance() < 0.1 else chance() < 0.08,
            needs=needs,
        )

    def open_needs(self, housing: str | None, coverage: str | None) -> tuple[OpenNeed, ...]:
        """A person's open needs, drawn as the demo seed draws them (`cases.demo._needs`, from
        seeds/demo.toml): each domain with its chance, housing for precarious housing, rights
        without coverage, at least one, at most five; the subtype when the domain has some; the
        priorities and the share still open (`NEED_PRIORITIES`, `NEED_STATUS`) as the demo's.
        Best priority first, as the loader reads them."""
        rng, seeds = self.rng, self.seeds
        chances = seeds.need_chance
        total = sum(chances.values()) or 1
        domains = [
            code for code in sorted(chances) if chances[code] and rng.random() < 2.5 * chances[code] / total
        ]
        if seeds.precarity.get(housing or "", 0) >= 2 and "logement" not in domains:
            domains.append("logement")
        if coverage == "aucune" and "acces_droits" not in domains:
            domains.append("acces_droits")
        if not domains:
            domains.append(_pick(rng, chances))
        drawn = []
        for domain in domains[:5]:
            subtypes = self.subtypes.get(domain, [])
            subtype = rng.choice(subtypes) if subtypes else None
            priority = rng.choice(NEED_PRIORITIES)
            if _pick(rng, NEED_STATUS) == "open":
                drawn.append(OpenNeed(domain, subtype, priority))
        return tuple(sorted(drawn, key=lambda need: need.priority))

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
            domain = _pick(rng, self.seeds.need_chance)  # opportunities follow needs
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
        by_territory: dict[int, list[OpportunitySnapshot]] = defaultdict(list)
        for opportunity in opportunities:
            for territory in opportunity.territory_ids:
                by_territory[territory].append(opportunity)
        histories: dict[int, ReferralHistory] = {}
        for person in participants:
            local = by_territory.get(person.territory_id)
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
