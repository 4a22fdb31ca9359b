"""Generated network snapshots for the benchmark (« données synthétiques »), sized from DESIGN §10.

Nothing here is real: partners are « Partenaire synthétique n », structures « Chantier
synthétique n », and no participant exists at all (snapshots only hold counts). The shape is
realistic on purpose, because the figures depend on it:

- locality: a structure refers to partners of its own territory (plus national deployments
  there), so the graph is a hundred loosely joined territories, not one random blob;
- popularity: a few partners receive most referrals (heavy-tailed weights), as a CPAM or a
  large social landlord does;
- domains drawn with the demo's need probabilities (seeds/demo.toml), the domains and their
  subtypes of seeds/reference/domains.toml, and in each territory the CPs of the demo territory
  (seeds/demo.toml's CP accounts: emploi, santé–droits, logement, each with its domains), all read
  through `synthetic.read_seeds`, never typed again here.

`NATIONAL` is the issue's national graph: ~100,000 nodes and ~1,000,000 edges. DESIGN §10 builds
for 4,000 structures and 50,000 partners; the partner count is raised to 95,000 so the node count
matches the issue (headroom of about 2× on partners). `LARGEST_TERRITORY` is the largest single
territory the service should expect: three times DESIGN §10's average territory (40 structures,
500 partners), i.e. 120 structures and 1,500 partners.

Generation is seeded (numpy's PCG64) and a pure function of (spec, seed) and the seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from referral.bench.synthetic import Seeds, read_seeds
from referral.network.snapshot import (
    CPInfo,
    CPPartnerLink,
    Deployment,
    DeploymentStatus,
    DomainInfo,
    NationalNetworkInfo,
    NetworkSnapshot,
    OpenNeeds,
    OpenPlaces,
    PartnerInfo,
    ReferralAggregate,
    StructureInfo,
    SubtypeInfo,
)

# The kind of a partner (seeds/reference/lists.toml, partner_kind) by its first domain; any other
# domain's partners are associations.
PARTNER_KINDS: dict[str, str] = {
    "emploi": "entreprise",
    "formation": "formation",
    "logement": "bailleur_social",
    "hebergement": "hebergement",
    "sante": "maison_sante",
    "sante_mentale": "soutien_psychologique",
    "acces_droits": "cpam",
}


@dataclass(frozen=True, slots=True)
class Spec:
    """Sizes of a generated scope."""

    territories: int
    structures: int
    partners: int
    national_networks: int
    partners_per_structure: int
    participants_per_structure: float
    opportunities: int

    def scaled(self, scale: float) -> Spec:
        """The same shape at `scale` (1.0 = full size), never below a drawable minimum."""
        territories = max(1, round(self.territories * scale))
        return replace(
            self,
            territories=territories,
            structures=max(2 * territories, round(self.structures * scale)),
            partners=max(12 * territories, round(self.partners * scale)),
            national_networks=max(
                2, min(self.national_networks, round(self.national_networks * math.sqrt(scale)))
            ),
            opportunities=max(4, round(self.opportunities * scale)),
        )


NATIONAL = Spec(
    territories=100,
    structures=4_000,
    partners=95_000,
    national_networks=40,
    partners_per_structure=180,
    participants_per_structure=37.5,  # 150,000 participants (DESIGN §10)
    opportunities=20_000,
)
LARGEST_TERRITORY = Spec(
    territories=1,
    structures=120,
    partners=1_500,
    national_networks=12,
    partners_per_structure=60,
    participants_per_structure=37.5,
    opportunities=600,
)


def domains(seeds: Seeds) -> tuple[DomainInfo, ...]:
    """The domains and subtypes of seeds/reference/domains.toml, as the snapshot carries them."""
    return tuple(
        DomainInfo(code, label, tuple(SubtypeInfo(c, lab) for c, lab in subtypes))
        for code, label, subtypes in seeds.domains
    )


def cp_families(seeds: Seeds) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(name, domains) of each CP of a territory: those of the demo territory's CP accounts
    (seeds/demo.toml), named after their first domain. A domain no CP covers has none, as there."""
    return tuple(
        (user["domains"][0], tuple(user["domains"]))
        for user in seeds.demo["user"]
        if user["role"] == "cp" and user.get("domains")
    )


def partner_kind(domain: str, seeds: Seeds) -> str:
    kind = PARTNER_KINDS.get(domain, "association")
    if kind not in seeds.codes("partner_kind"):
        raise ValueError(f"unknown partner kind {kind!r} (seeds/reference/lists.toml)")
    return kind


def generate(spec: Spec, seed: int, *, name: str | None = None) -> NetworkSnapshot:
    """A snapshot of the given size; national scope when `spec.territories` > 1."""
    rng = np.random.default_rng(seed)
    n_territories = spec.territories
    slugs = [f"territoire-{t + 1:03d}" for t in range(n_territories)]
    seeds = read_seeds()
    codes = [code for code, _, _ in seeds.domains]
    need_probability = np.array([seeds.need_chance[code] for code in codes])
    domain_weights = need_probability / need_probability.sum()

    structures = tuple(
        StructureInfo(
            i + 1,
            f"Chantier synthétique {i + 1}",
            f"Ville {i % n_territories + 1}",
            participants=int(rng.poisson(spec.participants_per_structure)),
        )
        for i in range(spec.structures)
    )
    structure_territory = np.arange(spec.structures) % n_territories

    # Partners: 1–3 domains weighted by need frequency, heavy-tailed popularity.
    n_partners = spec.partners
    partner_territory = np.arange(n_partners) % n_territories
    sizes = rng.choice([1, 2, 3], size=n_partners, p=[0.5, 0.35, 0.15])
    popularity = rng.pareto(1.2, size=n_partners) + 1.0
    partner_domains: list[tuple[str, ...]] = []
    for size in sizes:
        picked = rng.choice(len(codes), size=int(size), replace=False, p=domain_weights)
        partner_domains.append(tuple(codes[i] for i in picked))

    # National networks, each deployed in about a third of the territories through one local
    # partner (in discussion one time in five).
    networks = tuple(
        NationalNetworkInfo(f"reseau_{n + 1:02d}", f"Partenariat national synthétique {n + 1}", "entreprise")
        for n in range(spec.national_networks)
    )
    network_of: dict[int, str] = {}
    deployments: list[Deployment] = []
    by_territory = [np.flatnonzero(partner_territory == t) for t in range(n_territories)]
    for network in networks:
        chosen = np.flatnonzero(rng.random(n_territories) < 0.35)
        if not len(chosen):
            chosen = np.array([int(rng.integers(n_territories))])
        for chosen_t in chosen:
            t = int(chosen_t)  # a plain int, like the `t` of the loops below
            local = int(rng.choice(by_territory[t]))
            if local in network_of:
                continue
            network_of[local] = network.code
            status = DeploymentStatus.IN_DISCUSSION if rng.random() < 0.2 else DeploymentStatus.DEPLOYED
            deployments.append(Deployment(network.code, local + 1, slugs[t], status))
            popularity[local] *= 5  # national partners are well known locally

    kinds = {code: partner_kind(code, seeds) for code in codes}
    start = date(2022, 1, 1)
    signed = rng.random(n_partners) < 0.3
    signed_offsets = rng.integers(0, 1400, size=n_partners)
    partners = tuple(
        PartnerInfo(
            j + 1,
            f"Partenaire synthétique {j + 1}",
            kinds[partner_domains[j][0]],
            national_network=network_of.get(j),
            domains=partner_domains[j],
            town=f"Ville {partner_territory[j] + 1}",
            convention_signed_on=start + timedelta(days=int(signed_offsets[j])) if signed[j] else None,
            convention_ends_on=start + timedelta(days=int(signed_offsets[j]) + 1095) if signed[j] else None,
        )
        for j in range(n_partners)
    )

    families = cp_families(seeds)
    cps: list[CPInfo] = []
    cp_links: list[CPPartnerLink] = []
    for t in range(n_territories):
        for f, (family, family_domains) in enumerate(families):
            cp_id = len(families) * t + f + 1
            cps.append(CPInfo(cp_id, f"CP {family} {slugs[t]}", family_domains))
            wanted = set(family_domains)
            cp_links.extend(
                CPPartnerLink(cp_id, int(j) + 1)
                for j in by_territory[t]
                if wanted.intersection(partner_domains[j])
            )

    # Referrals: each structure picks partners of its territory without replacement, more likely
    # the popular ones (Gumbel top-k: weighted sampling without replacement in one pass).
    referrals = []
    log_popularity = np.log(popularity)
    for i in range(spec.structures):
        candidates = by_territory[structure_territory[i]]
        m = min(spec.partners_per_structure, len(candidates))
        keys = log_popularity[candidates] + rng.gumbel(size=len(candidates))
        chosen = candidates[np.argpartition(-keys, m - 1)[:m]] if m < len(candidates) else candidates
        counts = rng.geometric(0.35, size=len(chosen))
        answered = rng.binomial(counts, 0.85)
        accepted = rng.binomial(answered, 0.6)
        delays = np.round(rng.gamma(2.0, 6.0, size=len(chosen)), 1)
        first = rng.random(len(chosen)) < 0.7
        other = rng.integers(0, 3, size=len(chosen))
        for j, count, ans, acc, delay, use_first, o in zip(
            chosen.tolist(),
            counts.tolist(),
            answered.tolist(),
            accepted.tolist(),
            delays.tolist(),
            first.tolist(),
            other.tolist(),
            strict=True,
        ):
            offered = partner_domains[j]
            domain = offered[0] if use_first else offered[o % len(offered)]
            referrals.append(
                ReferralAggregate(i + 1, j + 1, domain, count, acc, ans, float(delay) if ans else None)
            )

    # Open needs per structure, domain and subtype (None = recorded at the domain level).
    needs = []
    for structure in structures:
        expected = structure.participants * need_probability * 0.6  # some needs are in progress
        drawn = rng.poisson(expected)
        for (code, _, subtypes), total in zip(seeds.domains, drawn.tolist(), strict=True):
            if total == 0:
                continue
            need_subtypes: list[str | None] = [None, *(c for c, _ in subtypes)]
            shares = rng.dirichlet(np.ones(len(need_subtypes)))
            for subtype, count in zip(need_subtypes, rng.multinomial(total, shares).tolist(), strict=True):
                if count:
                    needs.append(OpenNeeds(structure.id, code, subtype, count))

    # Open opportunities, more often at popular partners; a third answer their whole domain.
    subtype_codes = seeds.subtypes
    owners = rng.choice(n_partners, size=spec.opportunities, p=popularity / popularity.sum())
    places = []
    for o, j in enumerate(owners.tolist()):
        domain = partner_domains[j][int(rng.integers(len(partner_domains[j])))]
        options = subtype_codes[domain]
        if rng.random() < 0.33:
            chosen_subtypes: tuple[str, ...] = ()
        else:
            k = int(rng.integers(1, min(2, len(options)) + 1))
            chosen_subtypes = tuple(sorted(rng.choice(options, size=k, replace=False).tolist()))
        places.append(OpenPlaces(o + 1, j + 1, domain, chosen_subtypes, int(rng.integers(0, 8))))

    national = n_territories > 1
    return NetworkSnapshot(
        territory_slug=None if national else slugs[0],
        territory_name=name or ("France (données synthétiques)" if national else "Territoire synthétique"),
        structures=structures,
        partners=partners,
        cps=tuple(cps),
        domains=domains(seeds),
        national_networks=networks,
        referrals=tuple(referrals),
        cp_links=tuple(cp_links),
        deployments=tuple(deployments),
        needs=tuple(needs),
        places=tuple(places),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 10, 31),
    )
