"""What a coordinator reads beside the picture: gaps, dependences, central partners, usage.

Every result carries `explanation`, one French sentence the page shows as is, because a
coordinator is not asked to interpret a bare number (DESIGN §1: the interface explains every
number it shows). Results are frozen dataclasses of plain values, so `dataclasses.asdict` turns
them into JSON for the API and the precomputed national table.

Definitions (each function's docstring gives the detail):

- coverage gap (« besoin non couvert »): a domain/subtype with open needs and no place left on
  any open opportunity that answers it; « insuffisant » when places are fewer than needs;
- dependence (« dépendance »): the share of a domain's accepted referrals that went to its top
  partner; a partner is critical (« partenaire indispensable ») when it is the only one working
  in a domain;
- central partners: most neighbours (structures, domains, CPs); bridging partners (« partenaires
  passerelles »): highest betweenness, and cut vertices whose loss splits the network (computed
  in `centrality`);
- under-use (« faible recours au réseau »): a structure whose referrals per open need are far
  below the scope's average.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx

from referral.network.centrality import DEFAULT_SEED, CentralityReport, centrality
from referral.network.graph import NATIONAL_NETWORK, build_graph, domain_sort_key
from referral.network.snapshot import DeploymentStatus, NationalSnapshot, NetworkSnapshot
from referral.network.wording import (
    domain_phrase,
    fr_decimal,
    fr_int,
    fr_percent,
    in_scope,
    of_scope,
    plural,
    the_scope,
)

# ---------------------------------------------------------------------------------------------
# Coverage gaps


@dataclass(frozen=True, slots=True)
class CoverageGap:
    """Open needs of a domain/subtype that the open opportunities do not (or not fully) answer.

    `status`: ``gap`` (no place left at all) or ``short`` (fewer places than needs).
    """

    domain: str
    domain_label: str
    subtype: str | None
    subtype_label: str | None
    open_needs: int
    structures: int
    places_left: int
    opportunities: int
    partners: int
    status: str
    explanation: str


def coverage_gaps(snapshot: NetworkSnapshot, *, include_short: bool = True) -> list[CoverageGap]:
    """Domains and subtypes where needs are open and places are missing (« besoins non couverts »).

    A need of subtype *s* in domain *d* is answered by an open opportunity of *d* whose subtypes
    include *s*, or which has no subtype (it answers its whole domain). A need recorded at the
    domain level only is answered by any open opportunity of its domain. Places are the places
    left on those opportunities; `opportunities` counts them, full ones included, so the
    explanation can tell « no opportunity » from « opportunities all full ». Gaps come first, then shortfalls,
    each by decreasing number of needs.
    """
    needs: dict[tuple[str, str | None], int] = defaultdict(int)
    structures: dict[tuple[str, str | None], set[int]] = defaultdict(set)
    for row in snapshot.needs:
        if row.count > 0:
            needs[row.domain, row.subtype] += row.count
            structures[row.domain, row.subtype].add(row.structure_id)

    opportunities_by_domain: dict[str, list[Any]] = defaultdict(list)
    for opportunity in snapshot.places:
        opportunities_by_domain[opportunity.domain].append(opportunity)

    result: list[CoverageGap] = []
    for (domain, subtype), count in needs.items():
        answering = [
            opportunity
            for opportunity in opportunities_by_domain.get(domain, ())
            if subtype is None or not opportunity.subtypes or subtype in opportunity.subtypes
        ]
        places = sum(max(opportunity.places_left, 0) for opportunity in answering)
        partners = len({opportunity.partner_id for opportunity in answering if opportunity.places_left > 0})
        if places >= count or (places > 0 and not include_short):
            continue
        what = domain_phrase(snapshot, domain, subtype)
        in_structures = plural(len(structures[domain, subtype]), "structure")
        needs_text = plural(count, "besoin ouvert", "besoins ouverts")
        if places == 0:
            status = "gap"
            if answering:
                reason = (
                    f"les {plural(len(answering), 'opportunité')} qui y répondent n'ont plus de place"
                    if len(answering) > 1
                    else "la seule opportunité qui y répond n'a plus de place"
                )
            else:
                reason = f"aucune opportunité ouverte {of_scope(snapshot)} n'y répond"
            explanation = f"{what} : {needs_text} dans {in_structures}, et {reason}."
        else:
            status = "short"
            explanation = (
                f"{what} : {needs_text} dans {in_structures} pour "
                f"{plural(places, 'place disponible', 'places disponibles')} "
                f"chez {plural(partners, 'partenaire')}."
            )
        result.append(
            CoverageGap(
                domain=domain,
                domain_label=snapshot.domain_label(domain),
                subtype=subtype,
                subtype_label=snapshot.subtype_label(subtype) if subtype else None,
                open_needs=count,
                structures=len(structures[domain, subtype]),
                places_left=places,
                opportunities=len(answering),
                partners=partners,
                status=status,
                explanation=explanation,
            )
        )
    result.sort(
        key=lambda gap: (gap.status != "gap", -gap.open_needs, domain_sort_key(gap.domain), gap.subtype or "")
    )
    return result


# ---------------------------------------------------------------------------------------------
# Dependence


@dataclass(frozen=True, slots=True)
class DomainDependence:
    """How much of a domain's accepted referrals went to a single partner."""

    domain: str
    domain_label: str
    accepted: int
    partners_used: int  # partners that accepted at least one referral of the domain
    top_partner_id: int
    top_partner_name: str
    top_accepted: int
    top_share: float
    dependent: bool
    explanation: str


@dataclass(frozen=True, slots=True)
class CriticalPartner:
    """A partner whose loss would leave a domain without any partner (« partenaire indispensable »)."""

    partner_id: int
    partner_name: str
    domain: str
    domain_label: str
    open_needs: int
    accepted: int
    explanation: str


def dependence(
    snapshot: NetworkSnapshot, *, threshold: float = 0.5, min_accepted: int = 3
) -> list[DomainDependence]:
    """Per domain, the share of accepted referrals that went to its top partner.

    `dependent` when that share exceeds `threshold` (by default: more than half) on at least
    `min_accepted` accepted referrals (below that, one or two referrals would make any partner
    look indispensable; two partners sharing a domain evenly are not a dependence). Ties between
    partners go to the lower partner id, so the answer is stable. Sorted by decreasing share.
    """
    names = {partner.id: partner.name for partner in snapshot.partners}
    accepted: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in snapshot.referrals:
        if row.accepted > 0:
            accepted[row.domain][row.partner_id] += row.accepted
    result = []
    for domain, by_partner in accepted.items():
        total = sum(by_partner.values())
        top_id = min(by_partner, key=lambda pid: (-by_partner[pid], pid))
        top = by_partner[top_id]
        share = top / total
        dependent = share > threshold and total >= min_accepted
        label = snapshot.domain_label(domain)
        name = names.get(top_id, f"partenaire n° {top_id}")
        sentence = (
            f"{label} : {fr_percent(share)} des orientations acceptées ({fr_int(top)} sur {fr_int(total)}) "
            f"sont allées à {name}"
        )
        if dependent:
            if len(by_partner) == 1:
                sentence += ", seul partenaire à en avoir accepté dans ce domaine"
            sentence += f" ; {the_scope(snapshot)} dépend fortement de ce partenaire."
        elif total < min_accepted:
            sentence += " ; trop peu d'orientations acceptées pour parler de dépendance."
        else:
            sentence += f", sur {plural(len(by_partner), 'partenaire')} ayant accepté des orientations."
        result.append(
            DomainDependence(
                domain=domain,
                domain_label=label,
                accepted=total,
                partners_used=len(by_partner),
                top_partner_id=top_id,
                top_partner_name=name,
                top_accepted=top,
                top_share=share,
                dependent=dependent,
                explanation=sentence,
            )
        )
    result.sort(key=lambda d: (-d.top_share, -d.accepted, domain_sort_key(d.domain)))
    return result


def critical_partners(snapshot: NetworkSnapshot) -> list[CriticalPartner]:
    """Partners that are alone in a domain: without them the domain has no partner left.

    A partner works in a domain when the domain is in its `domains` or it has an open opportunity
    there. Domains nobody covers are coverage gaps, not dependences, and are not listed here.
    Sorted by decreasing open needs of the domain, so the most exposed come first.
    """
    providers: dict[str, set[int]] = defaultdict(set)
    for partner in snapshot.partners:
        for domain in partner.domains:
            providers[domain].add(partner.id)
    for opportunity in snapshot.places:
        providers[opportunity.domain].add(opportunity.partner_id)
    needs: dict[str, int] = defaultdict(int)
    for need in snapshot.needs:
        needs[need.domain] += need.count
    accepted: dict[tuple[str, int], int] = defaultdict(int)
    for aggregate in snapshot.referrals:
        accepted[aggregate.domain, aggregate.partner_id] += aggregate.accepted
    names = {partner.id: partner.name for partner in snapshot.partners}

    result = []
    for domain, ids in providers.items():
        if len(ids) != 1:
            continue
        (partner_id,) = ids
        label = snapshot.domain_label(domain)
        name = names.get(partner_id, f"partenaire n° {partner_id}")
        open_needs = needs.get(domain, 0)
        if open_needs:
            consequence = (
                f"sans lui, {plural(open_needs, 'besoin ouvert', 'besoins ouverts')} "
                f"n'auraient plus de réponse {in_scope(snapshot)}"
                if open_needs > 1
                else f"sans lui, 1 besoin ouvert n'aurait plus de réponse {in_scope(snapshot)}"
            )
        else:
            consequence = "sans lui, ce domaine ne serait plus couvert"
        result.append(
            CriticalPartner(
                partner_id=partner_id,
                partner_name=name,
                domain=domain,
                domain_label=label,
                open_needs=open_needs,
                accepted=accepted.get((domain, partner_id), 0),
                explanation=(
                    f"{name} est le seul partenaire {of_scope(snapshot)} en {label.lower()} : {consequence}."
                ),
            )
        )
    result.sort(key=lambda c: (-c.open_needs, domain_sort_key(c.domain), c.partner_id))
    return result


# ---------------------------------------------------------------------------------------------
# Under-use


@dataclass(frozen=True, slots=True)
class StructureUsage:
    """How much a structure uses the network compared with its participants' open needs."""

    structure_id: int
    name: str
    participants: int
    open_needs: int
    referrals: int
    referrals_per_need: float
    scope_referrals_per_need: float
    ratio: float | None
    explanation: str


def underused_structures(
    snapshot: NetworkSnapshot, *, threshold: float = 0.5, min_needs: int = 5
) -> list[StructureUsage]:
    """Structures that use the network little compared with their participants' needs.

    Rate = referrals of the period per open need. The scope's rate is the total over structures
    that have open needs. A structure is listed when it has at least `min_needs` open needs and
    its rate is below `threshold` × the scope's rate (or it made no referral at all when nobody
    did). `ratio` is its rate over the scope's (None when the scope's rate is zero). Lowest
    ratios first. This points at where a CP could offer a permanence or a workshop; it is not
    a judgement of the structure's work.
    """
    needs: dict[int, int] = defaultdict(int)
    for need in snapshot.needs:
        needs[need.structure_id] += need.count
    referrals: dict[int, int] = defaultdict(int)
    for aggregate in snapshot.referrals:
        referrals[aggregate.structure_id] += aggregate.count
    with_needs = [s for s in snapshot.structures if needs.get(s.id, 0) > 0]
    total_needs = sum(needs[s.id] for s in with_needs)
    total_referrals = sum(referrals.get(s.id, 0) for s in with_needs)
    scope_rate = total_referrals / total_needs if total_needs else 0.0

    result = []
    for structure in with_needs:
        open_needs = needs[structure.id]
        if open_needs < min_needs:
            continue
        made = referrals.get(structure.id, 0)
        rate = made / open_needs
        ratio: float | None = None
        if scope_rate > 0:
            ratio = rate / scope_rate
            if ratio >= threshold:
                continue
        people = (
            f" ({plural(structure.participants, 'salarié·e accompagné·e', 'salarié·es accompagné·es')})"
            if structure.participants
            else ""
        )
        made_text = "aucune orientation" if made == 0 else plural(made, "orientation")
        sentence = (
            f"{structure.name} : {plural(open_needs, 'besoin ouvert', 'besoins ouverts')}{people} "
            f"et {made_text} sur la période"
        )
        if scope_rate > 0:
            sentence += (
                f", soit {fr_decimal(rate)} orientation par besoin ouvert contre {fr_decimal(scope_rate)} "
                f"en moyenne {in_scope(snapshot)}."
            )
        else:
            sentence += f" ; aucune structure {of_scope(snapshot)} n'a orienté vers le réseau sur la période."
        result.append(
            StructureUsage(
                structure_id=structure.id,
                name=structure.name,
                participants=structure.participants,
                open_needs=open_needs,
                referrals=made,
                referrals_per_need=rate,
                scope_referrals_per_need=scope_rate,
                ratio=ratio,
                explanation=sentence,
            )
        )
    result.sort(
        key=lambda u: (u.ratio if u.ratio is not None else 0.0, -u.open_needs, u.name, u.structure_id)
    )
    return result


# ---------------------------------------------------------------------------------------------
# National partnerships × territories


@dataclass(frozen=True, slots=True)
class MatrixCell:
    territory_slug: str
    status: str
    label: str


@dataclass(frozen=True, slots=True)
class MatrixRow:
    network_code: str
    network_name: str
    cells: tuple[MatrixCell, ...]
    deployed: int
    in_discussion: int
    absent: int
    explanation: str


@dataclass(frozen=True, slots=True)
class DeploymentMatrix:
    """National partnerships (rows) × territories (columns): deployed, in discussion or absent."""

    territories: tuple[tuple[str, str], ...]
    rows: tuple[MatrixRow, ...]
    explanation: str

    def status(self, network_code: str, territory_slug: str) -> str:
        for row in self.rows:
            if row.network_code == network_code:
                for cell in row.cells:
                    if cell.territory_slug == territory_slug:
                        return cell.status
        raise KeyError((network_code, territory_slug))


def deployment_matrix(national: NationalSnapshot) -> DeploymentMatrix:
    """Where each national partnership stands in each territory (« déploiement »).

    A cell is ``deployed`` when at least one local partner of the network is deployed there,
    else ``in_discussion`` when one is in discussion, else ``absent`` (no row). Territories and
    networks are sorted by name, ignoring case.
    """
    territories = sorted(national.territories, key=lambda t: (t.name.casefold(), t.slug))
    networks = sorted(national.networks, key=lambda n: (n.name.casefold(), n.code))
    status: dict[tuple[str, str], DeploymentStatus] = {}
    for row in national.deployments:
        key = (row.network_code, row.territory_slug)
        if status.get(key) is not DeploymentStatus.DEPLOYED:
            status[key] = row.status
    rows = []
    for network in networks:
        cells = tuple(
            MatrixCell(
                territory_slug=territory.slug,
                status=(s := status.get((network.code, territory.slug), DeploymentStatus.ABSENT)).value,
                label=s.label,
            )
            for territory in territories
        )
        deployed = sum(1 for c in cells if c.status == DeploymentStatus.DEPLOYED.value)
        discussing = sum(1 for c in cells if c.status == DeploymentStatus.IN_DISCUSSION.value)
        absent = len(cells) - deployed - discussing
        parts = [f"déployé dans {plural(deployed, 'territoire')}" if deployed else "déployé nulle part"]
        if discussing:
            parts.append(f"en discussion dans {fr_int(discussing)}")
        parts.append(f"absent de {fr_int(absent)}" if absent else "présent partout")
        rows.append(
            MatrixRow(
                network_code=network.code,
                network_name=network.name,
                cells=cells,
                deployed=deployed,
                in_discussion=discussing,
                absent=absent,
                explanation=f"{network.name} : {', '.join(parts)}.",
            )
        )
    return DeploymentMatrix(
        territories=tuple((t.slug, t.name) for t in territories),
        rows=tuple(rows),
        explanation=(
            "Pour chaque partenariat national, son état dans chaque territoire : « Déployé » quand "
            "un partenaire local est actif, « En discussion » quand la relation est engagée sans "
            "offre encore, « Absent » sinon."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Everything for one page


@dataclass(frozen=True, slots=True)
class Summary:
    structures: int
    partners: int
    cps: int
    national_networks: int
    referrals: int
    accepted: int
    acceptance_rate: float | None
    open_needs: int
    places_left: int
    explanation: str


@dataclass(frozen=True, slots=True)
class NetworkAnalytics:
    """All the analytics of one snapshot, in the order the page shows them."""

    summary: Summary
    coverage_gaps: tuple[CoverageGap, ...]
    dependence: tuple[DomainDependence, ...]
    critical_partners: tuple[CriticalPartner, ...]
    centrality: CentralityReport
    underused_structures: tuple[StructureUsage, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the API's `…/network/analytics`, the precomputed table)."""
        return asdict(self)


def summary(snapshot: NetworkSnapshot, graph: nx.DiGraph | None = None) -> Summary:
    """The headline figures of the scope, with their sentence."""
    referrals = sum(r.count for r in snapshot.referrals)
    accepted = sum(r.accepted for r in snapshot.referrals)
    open_needs = sum(n.count for n in snapshot.needs)
    places = sum(max(p.places_left, 0) for p in snapshot.places)
    networks = (
        sum(1 for _, kind in graph.nodes(data="kind") if kind == NATIONAL_NETWORK)
        if graph is not None
        else len(snapshot.national_networks)
    )
    rate = accepted / referrals if referrals else None
    sentence = (
        f"{plural(len(snapshot.structures), 'structure')}, {plural(len(snapshot.partners), 'partenaire')} "
        f"et {plural(len(snapshot.cps), 'CP', 'CP')} ; "
        f"{plural(referrals, 'orientation transmise', 'orientations transmises')}"
    )
    sentence += f" dont {fr_percent(rate)} acceptées" if rate is not None else ""
    sentence += (
        f" ; {plural(open_needs, 'besoin ouvert', 'besoins ouverts')} pour "
        f"{plural(places, 'place disponible', 'places disponibles')}."
    )
    return Summary(
        structures=len(snapshot.structures),
        partners=len(snapshot.partners),
        cps=len(snapshot.cps),
        national_networks=networks,
        referrals=referrals,
        accepted=accepted,
        acceptance_rate=rate,
        open_needs=open_needs,
        places_left=places,
        explanation=sentence,
    )


def analyse(
    snapshot: NetworkSnapshot,
    graph: nx.DiGraph | None = None,
    *,
    limit: int = 10,
    betweenness_k: int | None = None,
    seed: int = DEFAULT_SEED,
) -> NetworkAnalytics:
    """Every analytic of a snapshot; pass the graph if it is already built (the page draws it too)."""
    graph = graph if graph is not None else build_graph(snapshot)
    return NetworkAnalytics(
        summary=summary(snapshot, graph),
        coverage_gaps=tuple(coverage_gaps(snapshot)),
        dependence=tuple(dependence(snapshot)),
        critical_partners=tuple(critical_partners(snapshot)),
        centrality=centrality(graph, limit=limit, k=betweenness_k, seed=seed),
        underused_structures=tuple(underused_structures(snapshot)),
    )
