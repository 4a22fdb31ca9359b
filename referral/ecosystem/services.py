"""The territorial ecosystem as its users ask for it: who may see which territory, with which
filters, as a page, as data, as files — and the national figures the scheduled job precomputes.

Who may see what (DESIGN §8): the coordinator and the CPs of a territory see its ecosystem, the
national team every territory's and the national view; CIPs are refused (they work with their
own participants, not with the territory's aggregates). A territory outside the caller's scope
answers exactly like an unknown one (404). `actor` None is the command line, which acts as the
national team (like `referral export data-inclusion`).

Nothing here names a participant: the loader reads counts only, and everything below is built
from its snapshot.

Services check role and scope, read, and flush when they write (the job); they never commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

import networkx as nx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from referral import clock
from referral.ecosystem import cache, loader
from referral.ecosystem.exceptions import (
    EcosystemRefused,
    InvalidNetworkFilter,
    NationalViewRefused,
    UnknownExportFormat,
)
from referral.ecosystem.models import NATIONAL_SCOPE, NetworkFigures, territory_scope
from referral.network import export as exporting
from referral.network.analytics import DeploymentMatrix, NetworkAnalytics, analyse, deployment_matrix
from referral.network.graph import (
    CP,
    DOMAIN,
    NATIONAL_NETWORK,
    PARTNER,
    REFERRAL,
    STRUCTURE,
    build_graph,
    domain_sort_key,
)
from referral.network.snapshot import NetworkSnapshot
from referral.network.svg import render_svg
from referral.partners.exceptions import TerritoryNotFound
from referral.reference.models import Domain
from referral.territories.models import Role, Territory, User

READERS = (Role.COORDINATOR, Role.CP, Role.ADMIN)
EXPORT_FORMATS: tuple[str, ...] = ("json", "gexf", "graphml", "svg")

# What each block of analytics means, said once for the page and the API (DESIGN §1: every
# number is explained). The engine's own sentences explain each line; these explain the block.
SECTION_EXPLANATIONS: dict[str, str] = {
    "summary": "Les chiffres du territoire sur la période choisie : des nombres, jamais de nom.",
    "coverage_gaps": (
        "Besoins ouverts des salarié·es (par domaine et sous-thème) face aux places encore "
        "disponibles sur les opportunités publiées et valides aujourd'hui. « Non couvert » : "
        "aucune place ; « insuffisant » : moins de places que de besoins."
    ),
    "dependence": (
        "Part des orientations acceptées d'un domaine qui sont allées à son premier partenaire. "
        "Au-delà de la moitié, sur au moins 3 orientations acceptées, le territoire dépend de ce "
        "partenaire : s'il ferme ou se retire, les orientations de ce domaine n'ont plus de débouché."
    ),
    "critical_partners": (
        "Partenaires seuls à intervenir dans un domaine (par leurs opportunités) : sans eux, ce "
        "domaine ne serait plus couvert."
    ),
    "centrality": (
        "Partenaires centraux : ceux qui ont le plus de liens (structures qui les sollicitent, "
        "domaines, CP). Partenaires passerelles : ceux qui relient des parties du réseau qui sans "
        "eux seraient éloignées ou séparées."
    ),
    "underused_structures": (
        "Structures qui orientent peu vers le réseau au regard des besoins ouverts de leurs "
        "salarié·es (moins de la moitié de la moyenne, à partir de 5 besoins ouverts). C'est une "
        "piste pour proposer une permanence ou un atelier, pas un jugement sur leur travail."
    ),
}

LinkFor = Callable[[str], str | None]


# ---------------------------------------------------------------------------------------------
# Scope and filters


def _require_reader(actor: User | None) -> None:
    if actor is not None and actor.role not in READERS:
        raise EcosystemRefused()


def readable_territory(session: Session, actor: User | None, slug: str) -> Territory:
    """The territory `slug` if `actor` may see its ecosystem; 403 for CIPs, 404 out of scope."""
    _require_reader(actor)
    territory = session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        raise TerritoryNotFound(slug)
    if actor is not None and actor.role is not Role.ADMIN and actor.territory_id != territory.id:
        raise TerritoryNotFound(slug)
    return territory


def ecosystem_home(session: Session, actor: User) -> str | None:
    """Where « Écosystème » leads: the slug of the actor's territory; None for the national team
    (their page is the national view)."""
    _require_reader(actor)
    if actor.role is Role.ADMIN:
        return None
    territory = session.get(Territory, actor.territory_id) if actor.territory_id is not None else None
    if territory is None:
        raise EcosystemRefused()
    return territory.slug


def _fr_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@dataclass(frozen=True, slots=True)
class NetworkFilter:
    """A domain and a period (referrals created from `since` to `until`, both included)."""

    domain: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def period(self) -> loader.Period:
        return loader.Period(self.since, self.until)

    def describe(self, domain_label: str | None) -> str:
        """« Logement, orientations créées du 01/01/2026 au 31/10/2026 » — or '' when unfiltered."""
        parts = []
        if self.domain:
            parts.append(domain_label or self.domain)
        if self.since and self.until:
            parts.append(f"orientations créées du {_fr_date(self.since)} au {_fr_date(self.until)}")
        elif self.since:
            parts.append(f"orientations créées depuis le {_fr_date(self.since)}")
        elif self.until:
            parts.append(f"orientations créées jusqu'au {_fr_date(self.until)}")
        return ", ".join(parts)

    def as_query(self) -> dict[str, str]:
        """The filter as URL query arguments (for download links that keep it)."""
        query = {}
        if self.domain:
            query["domain"] = self.domain
        if self.since:
            query["since"] = self.since.isoformat()
        if self.until:
            query["until"] = self.until.isoformat()
        return query


def domain_options(session: Session) -> list[tuple[str, str]]:
    """The domains a page can filter by: (code, French label), in the reference order."""
    return [(d.code, d.label) for d in session.scalars(select(Domain).order_by(Domain.position, Domain.code))]


def check_filter(session: Session, network_filter: NetworkFilter) -> str | None:
    """Refuse an unknown domain or a reversed period (422); return the domain's label."""
    errors: dict[str, list[str]] = {}
    label = None
    if network_filter.domain is not None:
        domain = session.get(Domain, network_filter.domain)
        if domain is None:
            errors["domain"] = [f"« {network_filter.domain} » n'est pas un domaine connu."]
        else:
            label = domain.label
    if network_filter.since and network_filter.until and network_filter.since > network_filter.until:
        errors["until"] = ["La fin de la période doit être le même jour que son début ou après."]
    if errors:
        raise InvalidNetworkFilter("Le filtre demandé n'est pas valable.", errors=errors)
    return label


# ---------------------------------------------------------------------------------------------
# A territory's ecosystem


@dataclass
class TerritoryEcosystem:
    """One territory's network as loaded for one request: the snapshot, its graph, and (when
    asked for) its analytics, computed once and shared by the page, the API and the exports."""

    territory_id: int
    slug: str
    name: str
    network_filter: NetworkFilter
    filter_label: str
    snapshot: NetworkSnapshot
    graph: nx.DiGraph
    pictures: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def title(self) -> str:
        suffix = f" ({self.filter_label})" if self.filter_label else ""
        return f"Écosystème — {self.name}{suffix}"

    @cached_property
    def analytics(self) -> NetworkAnalytics:
        return analyse(self.snapshot, self.graph)

    @cached_property
    def analytics_data(self) -> dict[str, Any]:
        """The analytics as plain data, once per kept ecosystem (read, never changed, by callers)."""
        return self.analytics.to_dict()

    @cached_property
    def node_link(self) -> dict[str, Any]:
        """The graph as node-link data, once per kept ecosystem (read, never changed, by callers)."""
        return exporting.to_node_link(self.graph)

    def svg(self, link_for: LinkFor | None = None, *, kept_as: str | None = None) -> str:
        """The picture; `kept_as` names a kind of links that is the same at every request (the
        page's, the file's), so the picture drawn once is kept with the ecosystem."""
        if kept_as is None:
            return render_svg(self.graph, link_for=link_for, title=self.title)
        if kept_as not in self.pictures:
            self.pictures[kept_as] = render_svg(self.graph, link_for=link_for, title=self.title)
        return self.pictures[kept_as]

    def kept_text(self, name: str, make: Callable[[], str]) -> str:
        """Text drawn from this ecosystem alone (`name` says which: the page's part below its
        filter), made once and kept with it like its pictures."""
        if name not in self.pictures:
            self.pictures[name] = make()
        return self.pictures[name]

    @cached_property
    def tables(self) -> EcosystemTables:
        return ecosystem_tables(self.graph)


@dataclass(frozen=True, slots=True)
class TableRow:
    """One line of the page's tables: a node of the picture, its anchor, and its figures."""

    node: str
    key: str
    name: str
    figures: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EcosystemTables:
    """The picture's nodes as tables, so that everything drawn can also be read (and reached by
    the picture's links to an anchor of the page)."""

    structures: list[TableRow]
    partners: list[TableRow]
    domains: list[TableRow]
    cps: list[TableRow]
    national_networks: list[TableRow]


def ecosystem_tables(graph: nx.DiGraph) -> EcosystemTables:
    """Rows per node kind, with the figures the picture's tooltips hold."""
    labels = {node: str(data.get("label", node)) for node, data in graph.nodes(data=True)}
    domain_labels = {
        str(data["code"]): labels[node] for node, data in graph.nodes(data=True) if data.get("kind") == DOMAIN
    }

    def referrals(edges: Any) -> tuple[int, int]:
        rows = [data for _, _, data in edges if data.get("relation") == REFERRAL]
        return sum(int(d["count"]) for d in rows), sum(int(d["accepted"]) for d in rows)

    def codes(value: Any) -> list[str]:
        return [domain_labels.get(code, code) for code in str(value or "").split(";") if code]

    tables: dict[str, list[TableRow]] = {
        kind: [] for kind in (STRUCTURE, PARTNER, DOMAIN, CP, NATIONAL_NETWORK)
    }
    for node, data in graph.nodes(data=True):
        kind = data.get("kind")
        key = node.split(":", 1)[1]
        if kind == STRUCTURE:
            sent, accepted = referrals(graph.out_edges(node, data=True))
            figures = {
                "participants": data.get("participants", 0),
                "open_needs": data.get("open_needs", 0),
                "referrals": sent,
                "accepted": accepted,
            }
        elif kind == PARTNER:
            received, accepted = referrals(graph.in_edges(node, data=True))
            figures = {
                "domains": codes(data.get("domains")),
                "referrals": received,
                "accepted": accepted,
                "places_left": data.get("places_left", 0),
                "national": "national_network" in data,
                "convention_ends_on": data.get("convention_ends_on"),
            }
        elif kind == DOMAIN:
            figures = {
                "open_needs": data.get("open_needs", 0),
                "places_left": data.get("places_left", 0),
                "partners": sum(
                    1 for source in graph.predecessors(node) if graph.nodes[source].get("kind") == PARTNER
                ),
            }
        elif kind == CP:
            figures = {"domains": codes(data.get("domains")), "partners": graph.out_degree(node)}
        elif kind == NATIONAL_NETWORK:
            statuses = [d.get("status") for _, _, d in graph.out_edges(node, data=True)]
            figures = {
                "deployed": statuses.count("deployed"),
                "in_discussion": statuses.count("in_discussion"),
            }
        else:
            continue
        tables[str(kind)].append(TableRow(node=node, key=key, name=labels[node], figures=figures))
    for rows in tables.values():
        rows.sort(key=lambda row: (row.name.casefold(), row.node))
    tables[DOMAIN].sort(key=lambda row: domain_sort_key(row.key))
    return EcosystemTables(
        structures=tables[STRUCTURE],
        partners=tables[PARTNER],
        domains=tables[DOMAIN],
        cps=tables[CP],
        national_networks=tables[NATIONAL_NETWORK],
    )


def territory_ecosystem(
    session: Session,
    actor: User | None,
    slug: str,
    network_filter: NetworkFilter | None = None,
    *,
    today: date | None = None,
) -> TerritoryEcosystem:
    """The ecosystem of a territory the actor may see, through a domain and a period."""
    territory = readable_territory(session, actor, slug)
    network_filter = network_filter or NetworkFilter()
    label = check_filter(session, network_filter)
    day = today or loader.paris_today()

    def build() -> TerritoryEcosystem:
        snapshot = loader.load_territory(
            session,
            territory,
            domains=(network_filter.domain,) if network_filter.domain else (),
            period=network_filter.period,
            today=day,
        )
        return TerritoryEcosystem(
            territory_id=territory.id,
            slug=territory.slug,
            name=territory.name,
            network_filter=network_filter,
            filter_label=network_filter.describe(label),
            snapshot=snapshot,
            graph=build_graph(snapshot),
        )

    # Built once per worker for this territory, filter and day while the data stays the same
    # (`referral.ecosystem.cache`); the scope and the filter were checked above, for this caller.
    return cache.kept(session, ("territory", territory.id, network_filter), day, build)


def territory_analytics(
    session: Session, actor: User | None, slug: str, network_filter: NetworkFilter | None = None
) -> dict[str, Any]:
    """The analytics as plain data with their French explanations (the API's `…/analytics`)."""
    ecosystem = territory_ecosystem(session, actor, slug, network_filter)
    return {
        "territory": {"slug": ecosystem.slug, "name": ecosystem.name},
        "filter": {
            "domain": ecosystem.network_filter.domain,
            "since": ecosystem.network_filter.since,
            "until": ecosystem.network_filter.until,
            "label": ecosystem.filter_label,
        },
        "sections": dict(SECTION_EXPLANATIONS),
        **ecosystem.analytics_data,
    }


def territory_node_link(
    session: Session, actor: User | None, slug: str, network_filter: NetworkFilter | None = None
) -> dict[str, Any]:
    """The graph as networkx's node-link data (the API's `…/network`)."""
    return territory_ecosystem(session, actor, slug, network_filter).node_link


@dataclass(frozen=True, slots=True)
class ExportFile:
    content: bytes
    media_type: str
    filename: str


def export_filename(slug: str, fmt: str) -> str:
    """``network-lyon.gexf``: the name the download and the command line give the file."""
    return f"network-{slug}.{exporting.EXTENSIONS[fmt]}"


def territory_export(
    session: Session,
    actor: User | None,
    slug: str,
    fmt: str,
    network_filter: NetworkFilter | None = None,
    *,
    link_for: LinkFor | None = None,
) -> ExportFile:
    """The ecosystem as a file: node-link JSON, GEXF or GraphML (Gephi), or the SVG picture."""
    if fmt not in EXPORT_FORMATS:
        raise UnknownExportFormat(fmt, EXPORT_FORMATS)
    ecosystem = territory_ecosystem(session, actor, slug, network_filter)
    if fmt == "svg":
        content = ecosystem.svg(link_for, kept_as="file").encode("utf-8")
    else:
        content = exporting.export(ecosystem.graph, fmt)
    return ExportFile(content, exporting.MEDIA_TYPES[fmt], export_filename(ecosystem.slug, fmt))


@dataclass(frozen=True)
class EcosystemPage:
    """What the « Écosystème » page shows: the ecosystem, its picture, and the filter's choices."""

    ecosystem: TerritoryEcosystem
    svg: str
    domain_options: list[tuple[str, str]]
    sections: Mapping[str, str]


def ecosystem_page(
    session: Session, actor: User, slug: str, network_filter: NetworkFilter, *, link_for: LinkFor
) -> EcosystemPage:
    ecosystem = territory_ecosystem(session, actor, slug, network_filter)
    return EcosystemPage(
        ecosystem=ecosystem,
        svg=ecosystem.svg(link_for, kept_as="page"),
        domain_options=domain_options(session),
        sections=SECTION_EXPLANATIONS,
    )


# ---------------------------------------------------------------------------------------------
# National figures: precomputed by the « network » job, served from `network_figures`

TOP_LINES = 20


def _territory_figures(snapshot: NetworkSnapshot, analytics: NetworkAnalytics) -> dict[str, Any]:
    """One territory's headline figures for the national table (counts and sentences only)."""
    gaps = [g for g in analytics.coverage_gaps if g.status == "gap"]
    short = [g for g in analytics.coverage_gaps if g.status == "short"]
    dependent = [d for d in analytics.dependence if d.dependent]
    return {
        "territory": {"slug": snapshot.territory_slug, "name": snapshot.territory_name},
        "summary": asdict(analytics.summary),
        "gaps": len(gaps),
        "shortfalls": len(short),
        "uncovered_needs": sum(g.open_needs for g in gaps),
        "top_gaps": [g.explanation for g in gaps[:3]],
        "dependent_domains": [d.domain_label for d in dependent],
        "dependence": [d.explanation for d in dependent],
        "critical_partners": len(analytics.critical_partners),
        "underused_structures": len(analytics.underused_structures),
        "bridging_partners": [p.name for p in analytics.centrality.bridging[:3]],
    }


def _national_figures(
    graph: nx.DiGraph, analytics: NetworkAnalytics, matrix: DeploymentMatrix
) -> dict[str, Any]:
    """The national graph's analytics, long lists cut to their first lines (with their count),
    and the matrix."""
    data = analytics.to_dict()
    return {
        "summary": data["summary"],
        "coverage_gaps": data["coverage_gaps"][:TOP_LINES],
        "coverage_gaps_count": len(data["coverage_gaps"]),
        "dependence": data["dependence"],
        "critical_partners": data["critical_partners"][:TOP_LINES],
        "critical_partners_count": len(data["critical_partners"]),
        "centrality": data["centrality"],
        "underused_structures": data["underused_structures"][:TOP_LINES],
        "underused_structures_count": len(data["underused_structures"]),
        "matrix": asdict(matrix),
        "graph": {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()},
    }


def _store(
    session: Session,
    scope: str,
    territory_id: int | None,
    now: datetime,
    seconds: float,
    figures: dict[str, Any],
) -> None:
    row = session.scalar(select(NetworkFigures).where(NetworkFigures.scope == scope))
    if row is None:
        row = NetworkFigures(scope=scope, territory_id=territory_id)
        session.add(row)
    row.territory_id = territory_id
    row.computed_at = now
    row.seconds = round(seconds, 3)
    row.figures = figures


def precompute_national_figures(session: Session, now: datetime) -> dict[str, Any]:
    """The « network » job: every territory's figures, the national graph's analytics and the
    partnerships × territories matrix, stored in `network_figures` (one row per scope).

    Run by the system, so no actor. Idempotent: each run replaces the rows of the scopes it
    computes and removes those of territories that no longer exist; running it twice leaves the
    same rows (with the later time).
    """
    today = clock.paris_day(now)
    scopes = []
    territories = session.scalars(select(Territory).order_by(Territory.name, Territory.id)).all()
    for territory in territories:
        started = time.perf_counter()
        snapshot = loader.load_territory(session, territory, today=today)
        analytics = analyse(snapshot)
        figures = _territory_figures(snapshot, analytics)
        _store(
            session,
            territory_scope(territory.slug),
            territory.id,
            now,
            time.perf_counter() - started,
            figures,
        )
        scopes.append(territory_scope(territory.slug))

    started = time.perf_counter()
    national = loader.load_national(session, today=today)
    graph = build_graph(national)
    analytics = analyse(national, graph)
    matrix = deployment_matrix(loader.load_deployments(session))
    figures = _national_figures(graph, analytics, matrix)
    national_seconds = time.perf_counter() - started
    _store(session, NATIONAL_SCOPE, None, now, national_seconds, figures)
    scopes.append(NATIONAL_SCOPE)

    session.execute(delete(NetworkFigures).where(NetworkFigures.scope.not_in(scopes)))
    session.flush()
    return {"territoires": len(territories), "secondes_national": round(national_seconds, 2)}


@dataclass(frozen=True)
class TerritoryFigures:
    slug: str
    name: str
    computed_at: datetime
    figures: dict[str, Any]


@dataclass(frozen=True)
class NationalFigures:
    """What the national view shows, as the last run of the job left it."""

    computed_at: datetime | None
    territories: list[TerritoryFigures]
    national: dict[str, Any] | None
    national_seconds: float | None

    @property
    def ready(self) -> bool:
        return self.national is not None


def national_figures(session: Session, actor: User | None) -> NationalFigures:
    """The precomputed national figures (one query); only the national team reads them."""
    if actor is not None and actor.role is not Role.ADMIN:
        raise NationalViewRefused()
    rows = session.execute(
        select(NetworkFigures, Territory.slug, Territory.name)
        .outerjoin(Territory, Territory.id == NetworkFigures.territory_id)
        .order_by(Territory.name, NetworkFigures.scope)
    ).all()
    national = next((row for row, _slug, _name in rows if row.scope == NATIONAL_SCOPE), None)
    territories = [
        TerritoryFigures(slug=slug, name=name, computed_at=row.computed_at, figures=row.figures)
        for row, slug, name in rows
        if row.scope != NATIONAL_SCOPE and slug is not None
    ]
    return NationalFigures(
        computed_at=national.computed_at if national else None,
        territories=territories,
        national=national.figures if national else None,
        national_seconds=national.seconds if national else None,
    )
