"""The network engine's input: frozen pictures of a territory's partner network (« instantanés »).

The loader (in the partners or referrals domain) reads the database and builds a
`NetworkSnapshot`; tests and the benchmark build one directly. Nothing here knows Flask or
SQLAlchemy, so the engine is tested and measured without a database, and a snapshot can be shared
between threads (everything is immutable).

What is deliberately NOT here: participants. A coordinator never sees a person in the ecosystem
view (DESIGN §8), so the snapshot holds counts only — referrals, needs and places aggregated per
structure, partner and domain. CPs are staff and are named.

The loader applies the period (« période ») and, if it wishes, the domain filter before building;
`restrict_domains` applies the domain filter afterwards on a built snapshot, so that the page can
offer the filter without a second database read.

Codes are the `seeds/` reference codes (``logement``, ``logement.social``, ``franprix``…).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from statistics import median


class DeploymentStatus(StrEnum):
    """How far a national partnership has gone in a territory (« déploiement »).

    Mirrors `referral.partners.models.DeploymentStatus` without importing it (the engine knows no
    ORM). ABSENT is never stored: it is the absence of a row, named so the matrix can show it.
    """

    DEPLOYED = "deployed"
    IN_DISCUSSION = "in_discussion"
    ABSENT = "absent"

    @property
    def label(self) -> str:
        return _DEPLOYMENT_LABELS[self]


_DEPLOYMENT_LABELS = {
    DeploymentStatus.DEPLOYED: "Déployé",
    DeploymentStatus.IN_DISCUSSION: "En discussion",
    DeploymentStatus.ABSENT: "Absent",
}


@dataclass(frozen=True, slots=True)
class SubtypeInfo:
    """A domain subtype (« sous-type »), e.g. ``logement.social`` / « Logement social »."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class DomainInfo:
    """An accompaniment domain (« domaine ») with its subtypes, for labels in explanations."""

    code: str
    label: str
    subtypes: tuple[SubtypeInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class StructureInfo:
    """A worksite (« structure », ACI) of the scope.

    `participants` is the size of the active file (« file active »): a count, never people.
    """

    id: int
    name: str
    town: str | None = None
    participants: int = 0


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    """A partner of the scope and the domains it offers in (« partenaire »).

    `domains` are the domains the partner works in (its opportunities' domains, published or not,
    or as declared by the CP): they decide who covers a domain. Convention dates are those of the
    partnership agreement (« convention »), if any was signed.
    """

    id: int
    name: str
    kind: str
    national_network: str | None = None
    domains: tuple[str, ...] = ()
    town: str | None = None
    convention_signed_on: date | None = None
    convention_ends_on: date | None = None


@dataclass(frozen=True, slots=True)
class CPInfo:
    """A partnership officer (« chargé·e de partenariats ») and the domains they are in charge of."""

    id: int
    name: str
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NationalNetworkInfo:
    """A national partnership signed by Convergence France (« partenariat national »)."""

    code: str
    name: str
    kind: str = ""


@dataclass(frozen=True, slots=True)
class TerritoryInfo:
    """A territory, for the national matrix."""

    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class ReferralAggregate:
    """Referrals from one structure to one partner in one domain, over the period.

    - `count`: referrals that reached the partner (see `ReferralFact` for how to tell);
    - `answered`: those the partner answered (accepted, waitlisted or refused);
    - `accepted`: those the partner accepted (a place was taken, whatever happened next);
    - `median_answer_days`: median days from sending to the partner's answer, over the answered
      ones; None when none was answered.

    Build them with `aggregate_referrals` from `ReferralFact`s, or directly in SQL.
    """

    structure_id: int
    partner_id: int
    domain: str
    count: int
    accepted: int = 0
    answered: int = 0
    median_answer_days: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.accepted <= self.answered <= self.count:
            raise ValueError(
                f"referral aggregate {self.structure_id}->{self.partner_id}/{self.domain}: "
                f"need 0 <= accepted ({self.accepted}) <= answered ({self.answered}) <= count ({self.count})"
            )


@dataclass(frozen=True, slots=True)
class ReferralFact:
    """One referral that reached a partner, reduced to what the network needs — no person.

    How the loader reads it from a referral and its transitions (DESIGN §7):

    - it reached the partner if it has a transition to ``sent`` (validated, or sent directly);
      referrals that never did (draft, cancelled, declined by the CP…) are not facts;
    - `answered`: a later transition to ``accepted``, ``waitlisted`` or ``refused``;
    - `accepted`: a transition to ``accepted`` (a place was taken, whatever happened next);
    - `answer_days`: days from the first ``sent`` to the first answer, None if unanswered.

    `aggregate_referrals` turns facts into `ReferralAggregate` rows, medians included, so that
    the database does not need a median function (SQLite has none).
    """

    structure_id: int
    partner_id: int
    domain: str
    answered: bool = False
    accepted: bool = False
    answer_days: float | None = None


def aggregate_referrals(facts: Iterable[ReferralFact]) -> tuple[ReferralAggregate, ...]:
    """Per (structure, partner, domain): count, answered, accepted, median answer days.

    An accepted referral counts as answered even if the fact forgot to say so. Rows come sorted
    by (structure, partner, domain).
    """
    groups: dict[tuple[int, int, str], list[ReferralFact]] = {}
    for fact in facts:
        groups.setdefault((fact.structure_id, fact.partner_id, fact.domain), []).append(fact)
    rows = []
    for (structure_id, partner_id, domain), members in sorted(groups.items()):
        answered = [f for f in members if f.answered or f.accepted]
        delays = [f.answer_days for f in answered if f.answer_days is not None]
        rows.append(
            ReferralAggregate(
                structure_id,
                partner_id,
                domain,
                count=len(members),
                accepted=sum(1 for f in members if f.accepted),
                answered=len(answered),
                median_answer_days=float(median(delays)) if delays else None,
            )
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class CPPartnerLink:
    """A CP follows a partner (is its referent in the territory's team)."""

    cp_id: int
    partner_id: int


@dataclass(frozen=True, slots=True)
class Deployment:
    """A national partnership's local deployment: the local partner and where it stands.

    One row per (network, local partner, territory); no row means « absent ».
    """

    network_code: str
    partner_id: int
    territory_slug: str
    status: DeploymentStatus

    def __post_init__(self) -> None:
        if self.status is DeploymentStatus.ABSENT:
            raise ValueError("an absent deployment is the absence of a row, not a row")


@dataclass(frozen=True, slots=True)
class OpenNeeds:
    """Open needs (« freins ouverts ») of one structure's participants in a domain and subtype.

    `subtype` None: needs recorded at the domain level only.
    """

    structure_id: int
    domain: str
    subtype: str | None
    count: int


@dataclass(frozen=True, slots=True)
class OpenPlaces:
    """Places left on one open opportunity (published, valid today).

    `subtypes` empty: the opportunity answers any need of its domain. Kept per opportunity rather
    than per (partner, domain, subtype) so that an opportunity with several subtypes is not counted
    several times in a domain's total.
    """

    opportunity_id: int
    partner_id: int
    domain: str
    subtypes: tuple[str, ...]
    places_left: int


@dataclass(frozen=True, slots=True)
class NetworkSnapshot:
    """Everything the engine needs about one territory's network (or the whole country's).

    `territory_slug` None means the national scope. `period_start`/`period_end` only describe the
    period the loader applied (for titles and exports); the engine does not filter on them.
    """

    territory_slug: str | None
    territory_name: str
    structures: tuple[StructureInfo, ...] = ()
    partners: tuple[PartnerInfo, ...] = ()
    cps: tuple[CPInfo, ...] = ()
    domains: tuple[DomainInfo, ...] = ()
    national_networks: tuple[NationalNetworkInfo, ...] = ()
    referrals: tuple[ReferralAggregate, ...] = ()
    cp_links: tuple[CPPartnerLink, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    needs: tuple[OpenNeeds, ...] = ()
    places: tuple[OpenPlaces, ...] = ()
    period_start: date | None = None
    period_end: date | None = None
    domain_filter: tuple[str, ...] = field(default=())

    def domain_label(self, code: str) -> str:
        """The French label of a domain code, the code itself when unknown."""
        for domain in self.domains:
            if domain.code == code:
                return domain.label
        return code

    def subtype_label(self, code: str) -> str:
        for domain in self.domains:
            for subtype in domain.subtypes:
                if subtype.code == code:
                    return subtype.label
        return code


@dataclass(frozen=True, slots=True)
class NationalSnapshot:
    """National partnerships and their deployments in every territory, for the admin's matrix."""

    territories: tuple[TerritoryInfo, ...]
    networks: tuple[NationalNetworkInfo, ...]
    deployments: tuple[Deployment, ...]


def restrict_domains(snapshot: NetworkSnapshot, domains: Iterable[str]) -> NetworkSnapshot:
    """The snapshot seen through a domain filter (« filtre par domaine »).

    Keeps referrals, needs and places in the chosen domains, partners offering in one of them or
    receiving referrals in one of them, CPs in charge of one of them, and every structure (a
    structure that does nothing in the chosen domains is information too). Deployments and CP
    links are kept only where both ends remain.
    """
    wanted = frozenset(domains)
    if not wanted:
        return snapshot
    referrals = tuple(r for r in snapshot.referrals if r.domain in wanted)
    places = tuple(p for p in snapshot.places if p.domain in wanted)
    referred = {r.partner_id for r in referrals} | {p.partner_id for p in places}
    partners = tuple(
        replace(p, domains=tuple(d for d in p.domains if d in wanted))
        for p in snapshot.partners
        if p.id in referred or wanted.intersection(p.domains)
    )
    partner_ids = {p.id for p in partners}
    cps = tuple(
        replace(cp, domains=tuple(d for d in cp.domains if d in wanted))
        for cp in snapshot.cps
        if wanted.intersection(cp.domains)
    )
    cp_ids = {cp.id for cp in cps}
    deployments = tuple(d for d in snapshot.deployments if d.partner_id in partner_ids)
    network_codes = {d.network_code for d in deployments} | {
        p.national_network for p in partners if p.national_network
    }
    return replace(
        snapshot,
        partners=partners,
        cps=cps,
        domains=tuple(d for d in snapshot.domains if d.code in wanted),
        national_networks=tuple(n for n in snapshot.national_networks if n.code in network_codes),
        referrals=referrals,
        cp_links=tuple(
            link for link in snapshot.cp_links if link.cp_id in cp_ids and link.partner_id in partner_ids
        ),
        deployments=deployments,
        needs=tuple(n for n in snapshot.needs if n.domain in wanted),
        places=places,
        domain_filter=tuple(sorted(wanted)),
    )
