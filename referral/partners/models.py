"""The partner network a territory's CPs build and share (DESIGN §1, §6).

Partners, the opportunities they offer with their orientation criteria, and the meeting times of
the network: mutualisation meetings, office hours (permanences), collective workshops.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db import Base, LabelledEnum, enum_type, utcnow
from referral.matching.registry import FIELD_CODES, OPERATOR_CODES

if TYPE_CHECKING:
    from referral.reference.models import DomainSubtype
    from referral.territories.models import Territory, User


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class DeploymentStatus(LabelledEnum):
    """How far a partner works in a territory (for national partnerships: « déploiement »)."""

    DEPLOYED = ("deployed", "Déployé")
    IN_DISCUSSION = ("in_discussion", "En discussion")


class OpportunityStatus(LabelledEnum):
    DRAFT = ("draft", "Brouillon")
    PUBLISHED = ("published", "Publiée")
    PAUSED = ("paused", "Suspendue")
    CLOSED = ("closed", "Clôturée")


class AgendaItemSource(LabelledEnum):
    BUILT = ("built", "Construit à partir des changements")
    ADDED = ("added", "Ajouté par un·e CP")


class NationalNetwork(Base):
    """A national partnership signed by Convergence France (« partenariat national »)."""

    __tablename__ = "national_networks"
    __table_args__ = (CheckConstraint("code <> '' AND name <> ''", name="not_empty"),)

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)


class PartnerTerritory(Base):
    """A territory a partner serves, and how far that relation has gone."""

    __tablename__ = "partner_territories"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[DeploymentStatus] = mapped_column(
        enum_type(DeploymentStatus, "deployment_status"), default=DeploymentStatus.DEPLOYED
    )
    since: Mapped[date | None] = mapped_column(Date)
    # What belongs to this territory's deployment, edited by its CPs (`partners.deployments`):
    # the people to reach locally ({name, role, email, phone}) and the territory's notes.
    local_contacts: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    local_notes: Mapped[str | None] = mapped_column(Text)

    partner: Mapped[Partner] = relationship(back_populates="territory_links")
    territory: Mapped[Territory] = relationship()


class Partner(Base):
    """An organisation of the network (« partenaire »): social landlord, health centre, CPAM…"""

    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint("name <> ''", name="name_not_empty"),
        CheckConstraint("siret IS NULL OR length(siret) = 14", name="siret_length"),
        CheckConstraint(
            "convention_ends_on IS NULL OR convention_signed_on IS NULL"
            " OR convention_ends_on >= convention_signed_on",
            name="convention_dates_ordered",
        ),
        # A SIRET identifies one establishment: two partner rows for it are a duplicate.
        UniqueConstraint("siret"),
        Index("ix_partners_town_name", "town", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable key of seeded partners, so that seeding twice finds them again.
    key: Mapped[str | None] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    siret: Mapped[str | None] = mapped_column(String(14))
    address: Mapped[str | None] = mapped_column(String(255))
    postcode: Mapped[str | None] = mapped_column(String(10))
    # The INSEE commune code (« code officiel géographique »), where known: a postcode can cover
    # several communes and a commune several postcodes; data·inclusion exchanges both.
    insee_code: Mapped[str | None] = mapped_column(String(5))
    town: Mapped[str | None] = mapped_column(String(120))
    national_network_code: Mapped[str | None] = mapped_column(
        ForeignKey("national_networks.code", ondelete="RESTRICT"), index=True
    )
    convention_signed_on: Mapped[date | None] = mapped_column(Date)
    convention_ends_on: Mapped[date | None] = mapped_column(Date)
    tags: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # How many times the row was written, counted by the database at every UPDATE. The search
    # caches key on the sum of these: unlike the latest `updated_at`, the sum moves with every
    # committed edit, even one committed after an edit stamped later.
    revision: Mapped[int] = mapped_column(
        Integer, default=1, server_default=text("1"), onupdate=text("revision + 1")
    )

    national_network: Mapped[NationalNetwork | None] = relationship()
    territory_links: Mapped[list[PartnerTerritory]] = relationship(
        back_populates="partner", order_by="PartnerTerritory.territory_id", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[PartnerContact]] = relationship(
        back_populates="partner", order_by="PartnerContact.id", cascade="all, delete-orphan"
    )
    opportunities: Mapped[list[Opportunity]] = relationship(
        back_populates="partner", order_by="Opportunity.id"
    )


class PartnerContact(Base):
    """A person to reach at a partner."""

    __tablename__ = "partner_contacts"
    __table_args__ = (CheckConstraint("name <> ''", name="name_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    role: Mapped[str | None] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))

    partner: Mapped[Partner] = relationship(back_populates="contacts")


opportunity_subtypes = Table(
    "opportunity_subtypes",
    Base.metadata,
    Column("opportunity_id", ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True),
    Column("subtype_code", ForeignKey("domain_subtypes.code", ondelete="RESTRICT"), primary_key=True),
)


class Opportunity(Base):
    """Something a partner offers (« opportunité », « offre de partenariat »).

    `places_taken` counts accepted referrals holding a place; the CHECK keeps it within
    `capacity`, so two CPs accepting the last place at once cannot both succeed.
    """

    __tablename__ = "opportunities"
    __table_args__ = (
        CheckConstraint("title <> ''", name="title_not_empty"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("places_taken >= 0 AND places_taken <= capacity", name="places_within_capacity"),
        CheckConstraint("answer_delay_days BETWEEN 1 AND 365", name="answer_delay_range"),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name="validity_ordered",
        ),
        Index("ix_opportunities_territory_id_status", "territory_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"), index=True)
    # NULL: offered in every territory where the partner is deployed (national partnerships).
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    domain_code: Mapped[str] = mapped_column(ForeignKey("domains.code", ondelete="RESTRICT"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    places_taken: Mapped[int] = mapped_column(Integer, default=0)
    answer_delay_days: Mapped[int] = mapped_column(Integer, default=30)
    requires_cp_validation: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    procedure: Mapped[str | None] = mapped_column(Text)
    # Access conditions as a directory wrote them (data·inclusion « conditions_acces »), for the
    # CP to turn into typed criteria; exported again while the opportunity has no hard criterion.
    access_conditions: Mapped[str | None] = mapped_column(Text)
    documents_required: Mapped[list[str]] = mapped_column(default=list)
    # Data categories of the case record the partner receives with a referral (within consent).
    shared_categories: Mapped[list[str]] = mapped_column(default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[OpportunityStatus] = mapped_column(
        enum_type(OpportunityStatus, "opportunity_status"), default=OpportunityStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    partner: Mapped[Partner] = relationship(back_populates="opportunities")
    territory: Mapped[Territory | None] = relationship()
    subtypes: Mapped[list[DomainSubtype]] = relationship(
        secondary=opportunity_subtypes, order_by="DomainSubtype.position"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="opportunity", order_by="Criterion.position", cascade="all, delete-orphan"
    )
    revisions: Mapped[list[OpportunityRevision]] = relationship(
        back_populates="opportunity", order_by="OpportunityRevision.id", passive_deletes=True
    )

    @property
    def places_left(self) -> int:
        return self.capacity - self.places_taken

    @property
    def offered_territory_ids(self) -> list[int]:
        """Where the opportunity stands: its own territory, or — for a national partner's
        opportunity without one — every territory where the partner is deployed (not merely in
        discussion)."""
        if self.territory_id is not None:
            return [self.territory_id]
        return [
            link.territory_id
            for link in self.partner.territory_links
            if link.status is DeploymentStatus.DEPLOYED
        ]


class Criterion(Base):
    """A typed condition on the participant (« critère d'orientation »): hard or soft."""

    __tablename__ = "criteria"
    __table_args__ = (
        CheckConstraint(_in_list("field", FIELD_CODES), name="field_in_registry"),
        CheckConstraint(_in_list("op", OPERATOR_CODES), name="op_known"),
        CheckConstraint("weight >= 0 AND weight <= 10", name="weight_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    field: Mapped[str] = mapped_column(String(40))
    op: Mapped[str] = mapped_column(String(10))
    value: Mapped[Any] = mapped_column(JSON)
    hard: Mapped[bool] = mapped_column(Boolean, default=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)

    opportunity: Mapped[Opportunity] = relationship(back_populates="criteria")


class OpportunityRevision(Base):
    """The state of an opportunity before an edit, so a published one keeps its history."""

    __tablename__ = "opportunity_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    revised_at: Mapped[datetime] = mapped_column(default=utcnow)
    revised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)

    opportunity: Mapped[Opportunity] = relationship(back_populates="revisions")


meeting_attendees = Table(
    "meeting_attendees",
    Base.metadata,
    Column("meeting_id", ForeignKey("network_meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class NetworkMeeting(Base):
    """A territory's mutualisation meeting (« réunion de mutualisation »)."""

    __tablename__ = "network_meetings"
    __table_args__ = (CheckConstraint("title <> ''", name="title_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="RESTRICT"), index=True)
    held_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(200))
    # People from outside the service (partners' staff…), as free text.
    other_attendees: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[str | None] = mapped_column(Text)
    agenda_built_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    attendees: Mapped[list[User]] = relationship(secondary=meeting_attendees, order_by="User.full_name")
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )


class AgendaItem(Base):
    """One line of a meeting's agenda, built from what changed or added by a CP."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        UniqueConstraint("meeting_id", "position"),
        CheckConstraint("title <> ''", name="title_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("network_meetings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[AgendaItemSource] = mapped_column(enum_type(AgendaItemSource, "agenda_item_source"))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str | None] = mapped_column(Text)
    # What the item is about (opportunity, partner…), for links and for rebuilding.
    subject: Mapped[dict[str, Any]] = mapped_column(default=dict)

    meeting: Mapped[NetworkMeeting] = relationship(back_populates="agenda_items")


class OfficeHour(Base):
    """A one-to-one slot a CP offers to CIPs (« permanence »)."""

    __tablename__ = "office_hours"
    __table_args__ = (
        UniqueConstraint("cp_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(
            "booked_by_id IS NOT NULL OR participant_id IS NULL", name="participant_only_when_booked"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="RESTRICT"), index=True)
    cp_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(200))
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    topic: Mapped[str | None] = mapped_column(Text)
    notes_after: Mapped[str | None] = mapped_column(Text)


class Workshop(Base):
    """A collective awareness session run by a CP (« atelier collectif »)."""

    __tablename__ = "workshops"
    __table_args__ = (
        CheckConstraint("theme <> ''", name="theme_not_empty"),
        CheckConstraint("attendance_count IS NULL OR attendance_count >= 0", name="attendance_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="RESTRICT"), index=True)
    cp_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    domain_code: Mapped[str | None] = mapped_column(ForeignKey("domains.code", ondelete="RESTRICT"))
    held_on: Mapped[date] = mapped_column(Date)
    theme: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(60))
    attendance_count: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
