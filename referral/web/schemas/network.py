"""The territorial ecosystem (« écosystème ») at the boundary: filters in, graph and analytics out.

Output schemas list every field, like the rest of the API: the analytics are the engine's
dataclasses (counts, partner and structure names, French explanations — never a participant),
and a field the engine adds later is not published until someone names it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields, pre_load

from referral.web.schemas.base import BaseSchema, Id, length


class NetworkQuerySchema(BaseSchema):
    """``?domain=logement&since=2026-01-01&until=2026-06-30``: every argument optional.

    An empty argument is no argument: the page's form sends ``since=`` when the field is left
    blank, and that means « no start », not a date to refuse.
    """

    domain = fields.String(validate=length(maximum=40), metadata={"description": "Code d'un domaine."})
    since = fields.Date(metadata={"description": "Orientations créées à partir de ce jour (inclus)."})
    until = fields.Date(metadata={"description": "Orientations créées jusqu'à ce jour (inclus)."})

    @pre_load
    def _drop_blank(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, Mapping):
            return {
                key: value.strip() if isinstance(value, str) else value
                for key, value in data.items()
                if not (isinstance(value, str) and not value.strip())
            }
        return data


class NodeLinkSchema(BaseSchema):
    """networkx's node-link data: ``{directed, multigraph, graph, nodes, edges}``.

    Node ids are ``structure:12``, ``partner:3``, ``cp:7``, ``domain:logement``,
    ``network:franprix``; each node has `kind`, `label` and figures; each edge has `relation`
    (``referral``, ``offers``, ``follows``, ``deployment``) and, for referrals, `count`,
    `accepted`, `answered`, `acceptance_rate`, `answer_rate`, `median_answer_days`.
    """

    directed = fields.Boolean()
    multigraph = fields.Boolean()
    graph = fields.Dict(keys=fields.String())
    nodes = fields.List(fields.Dict(keys=fields.String()))
    edges = fields.List(fields.Dict(keys=fields.String()))


class TerritoryRefSchema(BaseSchema):
    slug = fields.String()
    name = fields.String()


class NetworkFilterSchema(BaseSchema):
    domain = fields.String(allow_none=True)
    since = fields.Date(allow_none=True)
    until = fields.Date(allow_none=True)
    label = fields.String(metadata={"description": "Le filtre en français (vide : aucun filtre)."})


class SummarySchema(BaseSchema):
    structures = fields.Integer()
    partners = fields.Integer()
    cps = fields.Integer()
    national_networks = fields.Integer()
    referrals = fields.Integer()
    accepted = fields.Integer()
    acceptance_rate = fields.Float(allow_none=True)
    open_needs = fields.Integer()
    places_left = fields.Integer()
    explanation = fields.String()


class CoverageGapSchema(BaseSchema):
    domain = fields.String()
    domain_label = fields.String()
    subtype = fields.String(allow_none=True)
    subtype_label = fields.String(allow_none=True)
    open_needs = fields.Integer()
    structures = fields.Integer()
    places_left = fields.Integer()
    opportunities = fields.Integer()
    partners = fields.Integer()
    status = fields.String(
        metadata={"description": "`gap` (aucune place) ou `short` (places insuffisantes)."}
    )
    explanation = fields.String()


class DomainDependenceSchema(BaseSchema):
    domain = fields.String()
    domain_label = fields.String()
    accepted = fields.Integer()
    partners_used = fields.Integer()
    top_partner_id = Id()
    top_partner_name = fields.String()
    top_accepted = fields.Integer()
    top_share = fields.Float()
    dependent = fields.Boolean()
    explanation = fields.String()


class CriticalPartnerSchema(BaseSchema):
    partner_id = Id()
    partner_name = fields.String()
    domain = fields.String()
    domain_label = fields.String()
    open_needs = fields.Integer()
    accepted = fields.Integer()
    explanation = fields.String()


class PartnerCentralitySchema(BaseSchema):
    partner_id = Id()
    name = fields.String()
    node = fields.String()
    degree = fields.Integer()
    structures = fields.Integer()
    domains = fields.Integer()
    cps = fields.Integer()
    referrals = fields.Integer()
    betweenness = fields.Float()
    is_cut_vertex = fields.Boolean()
    cut_off = fields.Integer()
    cut_off_structures = fields.Integer()
    explanation = fields.String()


class CentralitySchema(BaseSchema):
    central = fields.List(fields.Nested(PartnerCentralitySchema))
    bridging = fields.List(fields.Nested(PartnerCentralitySchema))
    sampled_sources = fields.Integer(allow_none=True)
    explanation = fields.String()


class StructureUsageSchema(BaseSchema):
    structure_id = Id()
    name = fields.String()
    participants = fields.Integer()
    open_needs = fields.Integer()
    referrals = fields.Integer()
    referrals_per_need = fields.Float()
    scope_referrals_per_need = fields.Float()
    ratio = fields.Float(allow_none=True)
    explanation = fields.String()


class NetworkAnalyticsSchema(BaseSchema):
    """The analytics of a territory, each line with its French explanation, and `sections`: what
    each block means."""

    territory = fields.Nested(TerritoryRefSchema)
    filter = fields.Nested(NetworkFilterSchema)
    sections = fields.Dict(keys=fields.String(), values=fields.String())
    summary = fields.Nested(SummarySchema)
    coverage_gaps = fields.List(fields.Nested(CoverageGapSchema))
    dependence = fields.List(fields.Nested(DomainDependenceSchema))
    critical_partners = fields.List(fields.Nested(CriticalPartnerSchema))
    centrality = fields.Nested(CentralitySchema)
    underused_structures = fields.List(fields.Nested(StructureUsageSchema))


class TerritoryFiguresSchema(BaseSchema):
    slug = fields.String()
    name = fields.String()
    computed_at = fields.DateTime()
    figures = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "summary, gaps, shortfalls, uncovered_needs, top_gaps, dependent_domains, "
            "dependence, critical_partners, underused_structures, bridging_partners."
        },
    )


class NationalFiguresSchema(BaseSchema):
    """The national view as the scheduled job « network » last computed it."""

    ready = fields.Boolean(metadata={"description": "Faux tant que la tâche planifiée n'a jamais tourné."})
    computed_at = fields.DateTime(allow_none=True)
    territories = fields.List(fields.Nested(TerritoryFiguresSchema))
    national = fields.Dict(
        keys=fields.String(),
        allow_none=True,
        metadata={
            "description": "Analytique du graphe national (summary, coverage_gaps, dependence, "
            "critical_partners, centrality, underused_structures, leurs nombres) et `matrix`, "
            "partenariats nationaux × territoires."
        },
    )
