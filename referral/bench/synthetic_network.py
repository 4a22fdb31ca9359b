"""Generated network snapshots for the benchmark (« données synthétiques »), sized from DESIGN §10.

Nothing here is real: partners are « Partenaire synthétique n », structures « Chantier
synthétique n », and no participant exists at all (snapshots only hold counts). The shape is
realistic on purpose, because the figures depend on it:

- locality: a structure refers to partners of its own territory (plus national deployments
  there), so the graph is a hundred loosely joined territories, not one random blob;
- popularity: a few partners receive most referrals (heavy-tailed weights), as a CPAM or a
  large social landlord does;
- domains drawn with the demo's need probabilities (seeds/demo.toml), the design's 13 domains and
  their subtypes (seeds/reference/domains.toml), three CPs per territory by domain family as in
  Lyon (emploi / santé–droits / logement).

`NATIONAL` is the issue's national graph: ~100,000 nodes and ~1,000,000 edges. DESIGN §10 builds
for 4,000 structures and 50,000 partners; the partner count is raised to 95,000 so the node count
matches the issue (headroom of about 2× on partners). `LARGEST_TERRITORY` is the largest single
territory the service should expect: three times DESIGN §10's average territory (40 structures,
500 partners), i.e. 120 structures and 1,500 partners.

Generation is seeded (numpy's PCG64) and a pure function of (spec, seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

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

# (code, label, probability that a participant has an open need there (seeds/demo.toml), subtypes)
DOMAIN_TABLE: tuple[tuple[str, str, float, tuple[tuple[str, str], ...]], ...] = (
    ("emploi", "Emploi", 0.7, (
        ("emploi.cdi_progressif", "Embauche progressive en CDI"),
        ("emploi.offre", "Offre d’emploi en entreprise"),
        ("emploi.entretien", "Préparation à l’entretien d’embauche"),
        ("emploi.immersion", "Immersion en entreprise (PMSMP)"),
    )),
    ("formation", "Formation", 0.3, (
        ("formation.qualifiante", "Formation qualifiante ou certifiante"),
        ("formation.pre_qualifiante", "Formation pré-qualifiante"),
    )),
    ("logement", "Logement", 0.6, (
        ("logement.social", "Logement social"),
        ("logement.intermediaire", "Logement intermédiaire ou accompagné"),
        ("logement.prive", "Logement dans le parc privé"),
        ("logement.dalo", "Recours DALO"),
    )),
    ("hebergement", "Hébergement", 0.35, (
        ("hebergement.urgence", "Hébergement d’urgence (CHU, 115)"),
        ("hebergement.insertion", "Hébergement d’insertion (CHRS)"),
        ("hebergement.mise_abri", "Mise à l’abri temporaire"),
    )),
    ("sante", "Santé", 0.5, (
        ("sante.medecin_traitant", "Déclaration d’un médecin traitant"),
        ("sante.acces_soins", "Accès aux soins"),
        ("sante.rqth", "Reconnaissance du handicap (RQTH, dossier MDPH)"),
    )),
    ("sante_mentale", "Santé mentale et addictions", 0.25, (
        ("sante_mentale.soutien_psychologique", "Soutien psychologique"),
        ("sante_mentale.addictions", "Addictions (CSAPA, CAARUD)"),
    )),
    ("acces_droits", "Accès aux droits", 0.45, (
        ("acces_droits.puma", "Ouverture des droits à l’assurance maladie (PUMa)"),
        ("acces_droits.css", "Complémentaire santé solidaire (CSS)"),
        ("acces_droits.titre_sejour", "Titre de séjour"),
        ("acces_droits.domiciliation", "Domiciliation administrative"),
    )),
    ("mobilite", "Mobilité", 0.3, (
        ("mobilite.permis", "Permis de conduire (auto-école sociale)"),
        ("mobilite.transports", "Transports en commun"),
    )),
    ("langue", "Langue française", 0.3, (
        ("langue.fle", "Français langue étrangère (FLE)"),
        ("langue.alphabetisation", "Alphabétisation"),
    )),
    ("numerique", "Numérique", 0.25, (
        ("numerique.acces", "Accès à un équipement et à une connexion"),
        ("numerique.demarches_en_ligne", "Démarches administratives en ligne"),
    )),
    ("budget", "Budget et ressources", 0.25, (
        ("budget.dettes", "Dettes et surendettement"),
        ("budget.compte_bancaire", "Ouverture d’un compte bancaire"),
    )),
    ("justice", "Justice", 0.08, (
        ("justice.spip", "Suivi SPIP, aménagement de peine"),
        ("justice.acces_droit", "Accès au droit"),
    )),
    ("famille", "Famille", 0.12, (
        ("famille.garde_enfants", "Garde d’enfants"),
        ("famille.violences", "Séparation, violences conjugales et intrafamiliales"),
    )),
)  # fmt: skip

DOMAINS: tuple[DomainInfo, ...] = tuple(
    DomainInfo(code, label, tuple(SubtypeInfo(c, lab) for c, lab in subtypes))
    for code, label, _, subtypes in DOMAIN_TABLE
)

# The three CPs of a territory, by domain family (as in Lyon: emploi, santé–droits, logement).
CP_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("emploi", ("emploi", "formation", "mobilite", "langue", "numerique")),
    ("santé", ("sante", "sante_mentale", "acces_droits")),
    ("logement", ("logement", "hebergement", "budget", "justice", "famille")),
)

PARTNER_KINDS: dict[str, str] = {
    "emploi": "entreprise",
    "formation": "organisme_formation",
    "logement": "bailleur_social",
    "hebergement": "hebergement",
    "sante": "maison_sante",
    "sante_mentale": "soutien_psychologique",
    "acces_droits": "cpam",
    "mobilite": "association",
    "langue": "association",
    "numerique": "association",
    "budget": "association",
    "justice": "association",
    "famille": "association",
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


def generate(spec: Spec, seed: int, *, name: str | None = None) -> NetworkSnapshot:
    """A snapshot of the given size; national scope when `spec.territories` > 1."""
    rng = np.random.default_rng(seed)
    n_territories = spec.territories
    slugs = [f"territoire-{t + 1:03d}" for t in range(n_territories)]
    codes = [code for code, *_ in DOMAIN_TABLE]
    need_probability = np.array([p for _, _, p, _ in DOMAIN_TABLE])
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

    start = date(2022, 1, 1)
    signed = rng.random(n_partners) < 0.3
    signed_offsets = rng.integers(0, 1400, size=n_partners)
    partners = tuple(
        PartnerInfo(
            j + 1,
            f"Partenaire synthétique {j + 1}",
            PARTNER_KINDS[partner_domains[j][0]],
            national_network=network_of.get(j),
            domains=partner_domains[j],
            town=f"Ville {partner_territory[j] + 1}",
            convention_signed_on=start + timedelta(days=int(signed_offsets[j])) if signed[j] else None,
            convention_ends_on=start + timedelta(days=int(signed_offsets[j]) + 1095) if signed[j] else None,
        )
        for j in range(n_partners)
    )

    cps: list[CPInfo] = []
    cp_links: list[CPPartnerLink] = []
    for t in range(n_territories):
        for f, (family, family_domains) in enumerate(CP_FAMILIES):
            cp_id = 3 * t + f + 1
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
        for (code, _, _, subtypes), total in zip(DOMAIN_TABLE, drawn.tolist(), strict=True):
            if total == 0:
                continue
            need_subtypes: list[str | None] = [None, *(c for c, _ in subtypes)]
            shares = rng.dirichlet(np.ones(len(need_subtypes)))
            for subtype, count in zip(need_subtypes, rng.multinomial(total, shares).tolist(), strict=True):
                if count:
                    needs.append(OpenNeeds(structure.id, code, subtype, count))

    # Open opportunities, more often at popular partners; a third answer their whole domain.
    subtype_codes = {code: [c for c, _ in subtypes] for code, _, _, subtypes in DOMAIN_TABLE}
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
        domains=DOMAINS,
        national_networks=networks,
        referrals=tuple(referrals),
        cp_links=tuple(cp_links),
        deployments=tuple(deployments),
        needs=tuple(needs),
        places=tuple(places),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 10, 31),
    )
