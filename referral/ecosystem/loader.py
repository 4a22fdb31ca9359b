"""The database read behind the ecosystem: a territory (or the whole country) as a snapshot.

The engine (`referral.network`: snapshot, graph, analytics, svg, export) knows no database; this
module is the one place that reads the tables and hands it a frozen `NetworkSnapshot`. It decides no
permission — `services.py` does, before calling it — and it reads **no participant's identity**:
every query on participants or needs is an aggregate (counts per structure, domain and subtype)
and referrals are reduced to `ReferralFact`s (structure, partner, domain, answered, accepted,
days to answer). Names never leave the database here, so no page or export built on a snapshot
can show one (DESIGN §8).

What the snapshot holds, and why each choice:

- structures: the worksites of the territory, each with its active file (« file active »:
  people not anonymised and not yet out of the programme — the same count as the coordinator's
  overview);
- partners: those serving the territory (a `PartnerTerritory` row, deployed or in discussion,
  national partners' local deployments included), plus any partner that received a referral
  from the territory's structures over the period, so that no referral edge silently disappears
  when a link is later removed;
- a partner's domains: the domains of its opportunities offered in the territory that are not
  closed (draft, published or paused — the partner works there even when an opportunity is full or
  paused); a closed opportunity no longer says anything about today's network;
- CPs and their domains; a CP relates to (« suit ») the partners that offer, in the CP's
  territory, an opportunity in one of the CP's domains;
- referral aggregates per (structure, partner, domain), from the transitions: a referral counts
  once it was sent to the partner; « answered » is a later acceptance, waiting list or refusal,
  « accepted » an acceptance; answer days run from the first sending to the first answer. The
  period filters on the referral's creation date (Paris days, both ends included);
- open needs per (structure, domain, subtype): needs not resolved (open or being dealt with) of
  people in the active file — a need someone is working on still has to find a place;
- open places per opportunity: published, valid today, offered in the territory, capacity left.

A domain filter is applied last with `restrict_domains`, so the engine's one definition of
« seen through a domain » holds for the page, the API and the exports alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select, true
from sqlalchemy.orm import QueryableAttribute, Session, selectinload

from referral import clock
from referral.cases.models import Exit, Need, NeedStatus, Participant
from referral.db import days_between_timestamps
from referral.network.snapshot import (
    CPInfo,
    CPPartnerLink,
    Deployment,
    DeploymentStatus,
    DomainInfo,
    NationalNetworkInfo,
    NationalSnapshot,
    NetworkSnapshot,
    OpenNeeds,
    OpenPlaces,
    PartnerInfo,
    ReferralFact,
    StructureInfo,
    SubtypeInfo,
    TerritoryInfo,
    aggregate_referrals,
    restrict_domains,
)
from referral.partners.models import DeploymentStatus as LinkStatus
from referral.partners.models import (
    NationalNetwork,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
    opportunity_subtypes,
)
from referral.reference.models import Domain
from referral.referrals.models import Referral, ReferralState, ReferralTransition
from referral.territories.models import Role, Structure, Territory, User, cp_domains

PARIS = clock.PARIS  # the one clock names the zone
NATIONAL_NAME = "France entière"

# A partner's answer to a referral it received (DESIGN §7).
ANSWER_STATES = frozenset({ReferralState.ACCEPTED, ReferralState.WAITLISTED, ReferralState.REFUSED})


def paris_today() -> date:
    """Today as people in France count days (the server may run in UTC)."""
    return clock.today()


@dataclass(frozen=True, slots=True)
class Period:
    """Referrals created from `since` to `until`, both days included, in Paris time; None: open."""

    since: date | None = None
    until: date | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """Aware datetimes [start, end) to compare with the UTC creation times."""
        start = datetime.combine(self.since, time.min, PARIS) if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time.min, PARIS) if self.until else None
        return start, end


# ---------------------------------------------------------------------------------------------
# Entry points


def load_territory(
    session: Session,
    territory: Territory,
    *,
    domains: Iterable[str] = (),
    period: Period | None = None,
    today: date | None = None,
) -> NetworkSnapshot:
    """The snapshot of one territory's network, seen through `domains` (all when empty)."""
    return _Loader(session, territory, period or Period(), today or paris_today()).snapshot(domains)


def load_national(
    session: Session, *, period: Period | None = None, today: date | None = None
) -> NetworkSnapshot:
    """The whole country's network in one snapshot (``territory_slug`` None): for the job only,
    it reads every structure, partner and referral."""
    return _Loader(session, None, period or Period(), today or paris_today()).snapshot(())


def load_deployments(session: Session) -> NationalSnapshot:
    """National partnerships and where each is deployed, for the partnerships × territories matrix."""
    territories = session.execute(
        select(Territory.id, Territory.slug, Territory.name).order_by(Territory.id)
    ).all()
    slugs = {row.id: row.slug for row in territories}
    networks = session.scalars(select(NationalNetwork).order_by(NationalNetwork.code)).all()
    rows = session.execute(
        select(
            Partner.national_network_code,
            PartnerTerritory.partner_id,
            PartnerTerritory.territory_id,
            PartnerTerritory.status,
        )
        .join(Partner, Partner.id == PartnerTerritory.partner_id)
        .where(Partner.national_network_code.is_not(None))
        .order_by(Partner.national_network_code, PartnerTerritory.partner_id, PartnerTerritory.territory_id)
    ).all()
    return NationalSnapshot(
        territories=tuple(TerritoryInfo(row.slug, row.name) for row in territories),
        networks=tuple(NationalNetworkInfo(n.code, n.name, n.kind) for n in networks),
        deployments=tuple(
            Deployment(str(code), partner_id, slugs[territory_id], DeploymentStatus(status.value))
            for code, partner_id, territory_id, status in rows
        ),
    )


# ---------------------------------------------------------------------------------------------
# The reading itself


@dataclass(frozen=True, slots=True)
class _Opportunity:
    id: int
    partner_id: int
    domain: str
    status: OpportunityStatus
    places_left: int
    valid_from: date | None
    valid_until: date | None
    territory_ids: frozenset[int]


class _Loader:
    """One snapshot's worth of queries; `territory` None reads the whole country.

    Every query is a set-based read (no query per row), so the number of queries does not grow
    with the size of the territory.
    """

    def __init__(self, session: Session, territory: Territory | None, period: Period, today: date) -> None:
        self.session = session
        self.territory = territory
        self.period = period
        self.today = today

    # -- scope helpers ---------------------------------------------------------------------

    def _in_scope(self, column: QueryableAttribute[Any]) -> ColumnElement[bool]:
        if self.territory is None:
            return column.is_not(None)
        return column == self.territory.id

    def _structure_ids(self) -> Select[Any]:
        return select(Structure.id).where(self._in_scope(Structure.territory_id))

    def _active_file(self) -> ColumnElement[bool]:
        """People accompanied today: not anonymised, not out of the programme."""
        exited = select(Exit.participant_id).where(Exit.exited_on <= self.today)
        return Participant.anonymised_at.is_(None) & Participant.id.not_in(exited)

    # -- the parts -------------------------------------------------------------------------

    def snapshot(self, domains: Iterable[str]) -> NetworkSnapshot:
        slugs = dict(self.session.execute(select(Territory.id, Territory.slug)).all())
        structures = self._structures()
        opportunities = self._opportunities()
        facts = self._referral_facts()
        links = self._partner_links()
        partner_ids = (
            {partner_id for partner_id, _territory_id, _status in links}
            | {opportunity.partner_id for opportunity in opportunities}
            | {fact.partner_id for fact in facts}
        )
        partners = self._partners(partner_ids, opportunities)
        cps, cp_links = self._cps(opportunities)
        network_codes = {p.national_network for p in partners if p.national_network}
        network_of = {p.id: p.national_network for p in partners if p.national_network}
        snapshot = NetworkSnapshot(
            territory_slug=self.territory.slug if self.territory else None,
            territory_name=self.territory.name if self.territory else NATIONAL_NAME,
            structures=structures,
            partners=partners,
            cps=cps,
            domains=self._domains(),
            national_networks=self._national_networks(network_codes),
            referrals=aggregate_referrals(facts),
            cp_links=cp_links,
            deployments=tuple(
                Deployment(
                    network_of[partner_id], partner_id, slugs[territory_id], DeploymentStatus(status.value)
                )
                for partner_id, territory_id, status in links
                if partner_id in network_of
            ),
            needs=self._needs(),
            places=self._places(opportunities),
            period_start=self.period.since,
            period_end=self.period.until,
        )
        wanted = tuple(domains)
        return restrict_domains(snapshot, wanted) if wanted else snapshot

    def _structures(self) -> tuple[StructureInfo, ...]:
        counts = dict(
            self.session.execute(
                select(Participant.structure_id, func.count())
                .where(Participant.structure_id.in_(self._structure_ids()), self._active_file())
                .group_by(Participant.structure_id)
            ).all()
        )
        rows = self.session.execute(
            select(Structure.id, Structure.name, Structure.town)
            .where(self._in_scope(Structure.territory_id))
            .order_by(Structure.id)
        ).all()
        return tuple(
            StructureInfo(row.id, row.name, row.town, participants=counts.get(row.id, 0)) for row in rows
        )

    def _partner_links(self) -> list[tuple[int, int, LinkStatus]]:
        """(partner, territory, status) of every partner serving the scope."""
        rows = self.session.execute(
            select(PartnerTerritory.partner_id, PartnerTerritory.territory_id, PartnerTerritory.status)
            .where(self._in_scope(PartnerTerritory.territory_id))
            .order_by(PartnerTerritory.partner_id, PartnerTerritory.territory_id)
        ).all()
        return [(row.partner_id, row.territory_id, row.status) for row in rows]

    def _opportunities(self) -> list[_Opportunity]:
        """Opportunities offered in the scope and not closed, with the territories they serve.

        A local opportunity serves its territory; a national one (no territory) every territory where
        its partner is linked — the rule of `referral.access.offered_in_territory`.
        """
        scope: ColumnElement[bool] = true()
        if self.territory is not None:
            scope = Opportunity.territory_id.is_(None) | (Opportunity.territory_id == self.territory.id)
        rows = self.session.execute(
            select(
                Opportunity.id,
                Opportunity.partner_id,
                Opportunity.territory_id,
                Opportunity.domain_code,
                Opportunity.status,
                Opportunity.capacity,
                Opportunity.places_taken,
                Opportunity.valid_from,
                Opportunity.valid_until,
            )
            .where(scope, Opportunity.status != OpportunityStatus.CLOSED)
            .order_by(Opportunity.id)
        ).all()
        national_partners = sorted({row.partner_id for row in rows if row.territory_id is None})
        served: dict[int, set[int]] = defaultdict(set)
        if national_partners:
            query = select(PartnerTerritory.partner_id, PartnerTerritory.territory_id).where(
                PartnerTerritory.partner_id.in_(national_partners),
                self._in_scope(PartnerTerritory.territory_id),
            )
            for partner_id, territory_id in self.session.execute(query):
                served[partner_id].add(territory_id)
        opportunities = []
        for row in rows:
            territories = frozenset(
                {row.territory_id} if row.territory_id is not None else served.get(row.partner_id, ())
            )
            if not territories:
                continue  # a national partner's opportunity where the partner is not deployed
            opportunities.append(
                _Opportunity(
                    id=row.id,
                    partner_id=row.partner_id,
                    domain=row.domain_code,
                    status=row.status,
                    places_left=max(row.capacity - row.places_taken, 0),
                    valid_from=row.valid_from,
                    valid_until=row.valid_until,
                    territory_ids=territories,
                )
            )
        return opportunities

    def _partners(self, ids: set[int], opportunities: Sequence[_Opportunity]) -> tuple[PartnerInfo, ...]:
        if not ids:
            return ()
        domains: dict[int, set[str]] = defaultdict(set)
        for opportunity in opportunities:
            domains[opportunity.partner_id].add(opportunity.domain)
        query = select(
            Partner.id,
            Partner.name,
            Partner.kind,
            Partner.national_network_code,
            Partner.town,
            Partner.convention_signed_on,
            Partner.convention_ends_on,
        ).order_by(Partner.id)
        if self.territory is not None:
            query = query.where(Partner.id.in_(sorted(ids)))
        return tuple(
            PartnerInfo(
                id=row.id,
                name=row.name,
                kind=row.kind,
                national_network=row.national_network_code,
                domains=tuple(sorted(domains.get(row.id, ()))),
                town=row.town,
                convention_signed_on=row.convention_signed_on,
                convention_ends_on=row.convention_ends_on,
            )
            for row in self.session.execute(query)
            if row.id in ids
        )

    def _cps(
        self, opportunities: Sequence[_Opportunity]
    ) -> tuple[tuple[CPInfo, ...], tuple[CPPartnerLink, ...]]:
        users = self.session.execute(
            select(User.id, User.full_name, User.territory_id)
            .where(User.role == Role.CP, User.is_active.is_(True), self._in_scope(User.territory_id))
            .order_by(User.id)
        ).all()
        if not users:
            return (), ()
        cp_domain_rows = self.session.execute(
            select(cp_domains.c.user_id, cp_domains.c.domain_code).where(
                cp_domains.c.user_id.in_([user.id for user in users])
            )
        ).all()
        domains_of: dict[int, set[str]] = defaultdict(set)
        for user_id, code in cp_domain_rows:
            domains_of[user_id].add(code)
        partners_by_territory_domain: dict[tuple[int, str], set[int]] = defaultdict(set)
        for opportunity in opportunities:
            for territory_id in opportunity.territory_ids:
                partners_by_territory_domain[territory_id, opportunity.domain].add(opportunity.partner_id)
        cps = []
        links: set[tuple[int, int]] = set()
        for user in users:
            codes = domains_of.get(user.id, set())
            cps.append(CPInfo(user.id, user.full_name, tuple(sorted(codes))))
            for code in codes:
                for partner_id in partners_by_territory_domain.get((user.territory_id, code), ()):
                    links.add((user.id, partner_id))
        return tuple(cps), tuple(CPPartnerLink(cp_id, partner_id) for cp_id, partner_id in sorted(links))

    def _domains(self) -> tuple[DomainInfo, ...]:
        rows = self.session.scalars(
            select(Domain).options(selectinload(Domain.subtypes)).order_by(Domain.position, Domain.code)
        ).all()
        return tuple(
            DomainInfo(d.code, d.label, tuple(SubtypeInfo(s.code, s.label) for s in d.subtypes)) for d in rows
        )

    def _national_networks(self, codes: set[str]) -> tuple[NationalNetworkInfo, ...]:
        if not codes:
            return ()
        rows = self.session.scalars(
            select(NationalNetwork)
            .where(NationalNetwork.code.in_(sorted(codes)))
            .order_by(NationalNetwork.code)
        ).all()
        return tuple(NationalNetworkInfo(n.code, n.name, n.kind) for n in rows)

    def _referral_facts(self) -> list[ReferralFact]:
        """Referrals of the scope's structures created in the period, reduced to facts.

        One grouped query, one row per referral that reached its partner: the first sending, the
        first answer and whether it was ever accepted, taken from its transitions. In the
        lifecycle (DESIGN §7) an answer can only follow the sending, so the first answer is the
        first answer after sending. Medians are left to `aggregate_referrals`, in Python,
        because SQLite has no median.
        """
        start, end = self.period.bounds()
        state = ReferralTransition.to_state
        first_sent = func.min(case((state == ReferralState.SENT, ReferralTransition.at)))
        first_answer = func.min(case((state.in_(sorted(ANSWER_STATES)), ReferralTransition.at)))
        accepted = func.max(case((state == ReferralState.ACCEPTED, 1), else_=0))
        query = (
            select(
                Participant.structure_id,
                Opportunity.partner_id,
                Opportunity.domain_code,
                self._days_between(first_sent, first_answer),
                accepted,
            )
            .select_from(ReferralTransition)
            .join(Referral, Referral.id == ReferralTransition.referral_id)
            .join(Participant, Participant.id == Referral.participant_id)
            .join(Opportunity, Opportunity.id == Referral.opportunity_id)
            .where(
                Participant.structure_id.in_(self._structure_ids()),
                state.in_([ReferralState.SENT, *sorted(ANSWER_STATES)]),
            )
            .group_by(Referral.id, Participant.structure_id, Opportunity.partner_id, Opportunity.domain_code)
            .having(first_sent.is_not(None))
            .order_by(Referral.id)
        )
        if start is not None:
            query = query.where(Referral.created_at >= start)
        if end is not None:
            query = query.where(Referral.created_at < end)
        facts = []
        for structure_id, partner_id, domain, days, was_accepted in self.session.execute(query):
            facts.append(
                ReferralFact(
                    structure_id=structure_id,
                    partner_id=partner_id,
                    domain=domain,
                    answered=days is not None,
                    accepted=bool(was_accepted),
                    answer_days=round(float(days), 2) if days is not None else None,
                )
            )
        return facts

    def _days_between(self, earlier: ColumnElement[Any], later: ColumnElement[Any]) -> ColumnElement[Any]:
        """Days from `earlier` to `later`, computed by the database (NULL when `later` is).

        In SQL rather than Python because converting thousands of timestamps to datetimes was
        the largest part of the page's database read (`days_between_timestamps`).
        """
        return days_between_timestamps(self.session.get_bind().dialect.name, earlier, later)

    def _needs(self) -> tuple[OpenNeeds, ...]:
        rows = self.session.execute(
            select(Participant.structure_id, Need.domain_code, Need.subtype_code, func.count())
            .join(Participant, Participant.id == Need.participant_id)
            .where(
                Participant.structure_id.in_(self._structure_ids()),
                self._active_file(),
                Need.status != NeedStatus.RESOLVED,
            )
            .group_by(Participant.structure_id, Need.domain_code, Need.subtype_code)
        ).all()
        needs = [
            OpenNeeds(structure_id, domain, subtype, count) for structure_id, domain, subtype, count in rows
        ]
        needs.sort(key=lambda n: (n.structure_id, n.domain, n.subtype or ""))
        return tuple(needs)

    def _places(self, opportunities: Sequence[_Opportunity]) -> tuple[OpenPlaces, ...]:
        open_opportunities = [
            opportunity
            for opportunity in opportunities
            if opportunity.status is OpportunityStatus.PUBLISHED
            and (opportunity.valid_from is None or opportunity.valid_from <= self.today)
            and (opportunity.valid_until is None or opportunity.valid_until >= self.today)
        ]
        if not open_opportunities:
            return ()
        subtypes: dict[int, list[str]] = defaultdict(list)
        ids = [opportunity.id for opportunity in open_opportunities]
        # In chunks: a national read may hold tens of thousands of opportunities, beyond some drivers'
        # limit on bound parameters.
        for chunk_start in range(0, len(ids), 5_000):
            chunk = ids[chunk_start : chunk_start + 5_000]
            for opportunity_id, code in self.session.execute(
                select(opportunity_subtypes.c.opportunity_id, opportunity_subtypes.c.subtype_code).where(
                    opportunity_subtypes.c.opportunity_id.in_(chunk)
                )
            ):
                subtypes[opportunity_id].append(code)
        return tuple(
            OpenPlaces(
                opportunity.id,
                opportunity.partner_id,
                opportunity.domain,
                tuple(sorted(subtypes.get(opportunity.id, ()))),
                opportunity.places_left,
            )
            for opportunity in open_opportunities
        )
