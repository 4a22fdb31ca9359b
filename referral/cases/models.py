"""The case record (« dossier ») a CIP keeps about each salarié·e (DESIGN §4).

Coded columns (housing status, health coverage, exit type…) hold codes of the reference lists in
`seeds/reference/`; services check them. Rules the database can hold on its own — hours of a PHC
contract, priorities, date order, one health record per person — are CHECK and UNIQUE
constraints here, so a bad row is refused whoever writes it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db import Base, LabelledEnum, enum_type, utcnow
from referral.territories.models import Programme

if TYPE_CHECKING:
    from referral.partners.models import Partner
    from referral.territories.models import Structure, User


class ContractKind(LabelledEnum):
    CDDI = ("cddi", "CDDI")
    CDDI_CVG = ("cddi_cvg", "CDDI Convergence (CDDI-CVG)")
    CDDI_PHC = ("cddi_phc", "CDDI Premières Heures (CDDI-PHC)")
    CDI = ("cdi", "CDI chez un employeur (embauche progressive)")


class NeedStatus(LabelledEnum):
    OPEN = ("open", "Ouvert")
    IN_PROGRESS = ("in_progress", "En cours de traitement")
    RESOLVED = ("resolved", "Résolu")


class ConsentRecipient(LabelledEnum):
    """Who may receive information (« destinataire »)."""

    CP = ("cp", "Chargé·es de partenariats")
    EXTERNAL_REFERENT = ("external_referent", "Référents sociaux extérieurs")
    PARTNER = ("partner", "Partenaires")


class DataCategory(LabelledEnum):
    """What may be shared (« catégorie de données »)."""

    SITUATION = ("situation", "Identité et situation")
    RESOURCES = ("resources", "Ressources")
    HEALTH = ("health", "Santé")


class RenewalOutcome(LabelledEnum):
    PENDING = ("pending", "En attente de la commission")
    GRANTED = ("granted", "Renouvellement accordé")
    REFUSED = ("refused", "Renouvellement refusé")


class FollowUpKind(LabelledEnum):
    SIX_MONTHS = ("six_months", "Suivi à 6 mois")
    TWELVE_MONTHS = ("twelve_months", "Suivi à 12 mois")


class TransferState(LabelledEnum):
    REQUESTED = ("requested", "Demandé")
    ACCEPTED = ("accepted", "Accepté")
    REFUSED = ("refused", "Refusé")
    CANCELLED = ("cancelled", "Annulé")


def _as_inserted(column: str, missing: Any = None) -> Any:
    """A column default that copies `column` of the row being inserted: the situation « à
    l'entrée » is what the record said when it was created, and stays so while the record's own
    column follows the person's situation. Every way of inserting goes through it (services, the
    demo seed, the benches' bulk loads)."""

    def value(context: DefaultExecutionContext) -> Any:
        return context.get_current_parameters().get(column, missing)

    return value


class Participant(Base):
    """A person employed on an insertion contract and accompanied (« salarié·e en insertion »)."""

    __tablename__ = "participants"
    __table_args__ = (
        CheckConstraint("first_name <> '' AND last_name <> ''", name="names_not_empty"),
        CheckConstraint("household_size >= 1", name="household_size_positive"),
        CheckConstraint("children >= 0 AND children < household_size", name="children_in_household"),
        CheckConstraint("monthly_resources IS NULL OR monthly_resources >= 0", name="resources_positive"),
        CheckConstraint("birth_date < entered_on", name="born_before_entry"),
        Index("ix_participants_structure_id_last_name", "structure_id", "last_name"),
        # Who the person is across their records (`reporting.context.Context.person_columns`):
        # the indicators group paths by it, and SQLite reads them in its order rather than
        # sorting every record of the country (issue 17). The person only: with the programme
        # after them, PostgreSQL took the index to find a programme's people, reading it whole.
        Index(
            "ix_participants_person",
            func.lower(text("first_name")),
            func.lower(text("last_name")),
            "birth_date",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="RESTRICT"))
    # The CIP who is the person's referent, « le fil rouge ».
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date] = mapped_column(Date)
    programme: Mapped[Programme] = mapped_column(enum_type(Programme, "programme"))
    entered_on: Mapped[date] = mapped_column(Date)
    housing_status: Mapped[str] = mapped_column(String(60))
    health_coverage: Mapped[str] = mapped_column(String(60))
    # The situation at entry, for the entry → exit indicators (« logé·es à l'entrée / à la
    # sortie »): set once from the record as created, never changed by an update.
    housing_status_at_entry: Mapped[str] = mapped_column(String(60), default=_as_inserted("housing_status"))
    health_coverage_at_entry: Mapped[str] = mapped_column(String(60), default=_as_inserted("health_coverage"))
    residence_status: Mapped[str] = mapped_column(String(60))
    residence_permit_expires_on: Mapped[date | None] = mapped_column(Date)
    language_level: Mapped[str | None] = mapped_column(String(10))
    driving_licence: Mapped[bool] = mapped_column(Boolean, default=False)
    household_size: Mapped[int] = mapped_column(Integer, default=1)
    children: Mapped[int] = mapped_column(Integer, default=0)
    # Whole euros a month: eligibility thresholds are set in euros, cents add nothing.
    monthly_resources: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Set when the record is anonymised after the retention period; names are then replaced.
    anonymised_at: Mapped[datetime | None]
    # « Opposition à l'utilisation pour l'évaluation »: the person refused that their record feed
    # the external evaluations (`reporting.evaluation` leaves them out).
    objects_to_evaluation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    structure: Mapped[Structure] = relationship()
    referent: Mapped[User | None] = relationship()
    # A contract exists only within its person's record (NOT NULL, ON DELETE CASCADE): taking
    # it out of the list deletes it, rather than leaving a row without a person to flush.
    contracts: Mapped[list[Contract]] = relationship(
        back_populates="participant",
        order_by="Contract.starts_on",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    needs: Mapped[list[Need]] = relationship(
        back_populates="participant", order_by="Need.opened_on", passive_deletes=True
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="participant", order_by="Consent.given_on", passive_deletes=True
    )
    external_referents: Mapped[list[ExternalReferent]] = relationship(
        back_populates="participant", order_by="ExternalReferent.id", passive_deletes=True
    )
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="participant", order_by="CaseNote.written_at", passive_deletes=True
    )
    health_record: Mapped[HealthRecord | None] = relationship(
        back_populates="participant", passive_deletes=True
    )
    renewals: Mapped[list[RenewalDecision]] = relationship(
        back_populates="participant", order_by="RenewalDecision.requested_on", passive_deletes=True
    )
    exit: Mapped[Exit | None] = relationship(back_populates="participant", passive_deletes=True)
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="participant", order_by="FollowUp.due_on", passive_deletes=True
    )


class Contract(Base):
    """An employment contract of the path (« contrat ») with its weekly hours.

    A CDI with an employer runs beside a CDDI during a progressive hiring (« embauche en biseau »);
    each change of hours is a new contract row, so the shift of hours to the employer is visible.
    """

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("weekly_hours > 0 AND weekly_hours <= 35", name="weekly_hours_range"),
        CheckConstraint(
            "kind <> 'cddi_phc' OR (weekly_hours >= 4 AND weekly_hours <= 20)",
            name="phc_hours_range",
        ),
        CheckConstraint("(kind = 'cdi') = (employer_name IS NOT NULL)", name="employer_only_for_cdi"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
        Index("ix_contracts_participant_id_kind_starts_on", "participant_id", "kind", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    kind: Mapped[ContractKind] = mapped_column(enum_type(ContractKind, "contract_kind"))
    employer_name: Mapped[str | None] = mapped_column(String(200))
    weekly_hours: Mapped[float] = mapped_column(Float)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="contracts")


class Need(Base):
    """A difficulty in a domain (« frein », « problématique ») with its priority (1 = highest)."""

    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority_range"),
        CheckConstraint("(status = 'resolved') = (resolved_on IS NOT NULL)", name="resolved_has_date"),
        CheckConstraint("resolved_on IS NULL OR resolved_on >= opened_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    domain_code: Mapped[str] = mapped_column(ForeignKey("domains.code", ondelete="RESTRICT"))
    subtype_code: Mapped[str | None] = mapped_column(ForeignKey("domain_subtypes.code", ondelete="RESTRICT"))
    priority: Mapped[int] = mapped_column(Integer, default=2)
    status: Mapped[NeedStatus] = mapped_column(enum_type(NeedStatus, "need_status"), default=NeedStatus.OPEN)
    opened_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    # Part of the diagnostic made at entry (« diagnostic d'entrée »).
    at_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str | None] = mapped_column(Text)

    participant: Mapped[Participant] = relationship(back_populates="needs")


class Consent(Base):
    """The person's agreement to share one category of data with one category of recipients.

    « Accompagnement concerté » : nothing about the person leaves the structure without a consent
    that covers the recipient and the data, on the day of sharing.
    """

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint("revoked_on IS NULL OR revoked_on >= given_on", name="revoked_after_given"),
        CheckConstraint("expires_on IS NULL OR expires_on > given_on", name="expires_after_given"),
        CheckConstraint(
            "partner_id IS NULL OR recipient = 'partner'", name="partner_only_for_partner_recipient"
        ),
        Index("ix_consents_participant_id_recipient", "participant_id", "recipient"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    recipient: Mapped[ConsentRecipient] = mapped_column(enum_type(ConsentRecipient, "consent_recipient"))
    # For partners: a consent may name one partner, or (NULL) cover every partner of the network.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    data_category: Mapped[DataCategory] = mapped_column(enum_type(DataCategory, "data_category"))
    given_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="consents")
    partner: Mapped[Partner | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class ExternalReferent(Base):
    """A social worker outside the structure (« référent social extérieur »: SIAO, CHRS, SPIP…)."""

    __tablename__ = "external_referents"
    __table_args__ = (CheckConstraint("name <> ''", name="name_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    organisation: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    participant: Mapped[Participant] = relationship(back_populates="external_referents")


class CaseNote(Base):
    """A dated note in the record (« note de suivi »)."""

    __tablename__ = "case_notes"
    __table_args__ = (CheckConstraint("body <> ''", name="body_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)
    domain_code: Mapped[str | None] = mapped_column(ForeignKey("domains.code", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)

    participant: Mapped[Participant] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class HealthRecord(Base):
    """Health details, kept apart from the rest of the record (DESIGN §8).

    Only the CIP of the structure sees them, and a CP only through a health referral the person
    consented to share health data for.
    """

    __tablename__ = "health_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), unique=True
    )
    has_treating_doctor: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether the person had a treating doctor when their health details were first recorded
    # (« médecin traitant à l'entrée »): set once, never changed by an update.
    had_treating_doctor_first: Mapped[bool] = mapped_column(
        Boolean, default=_as_inserted("has_treating_doctor", False)
    )
    treating_doctor: Mapped[str | None] = mapped_column(String(200))
    rqth: Mapped[bool] = mapped_column(Boolean, default=False)
    rqth_expires_on: Mapped[date | None] = mapped_column(Date)
    css: Mapped[bool] = mapped_column(Boolean, default=False)
    css_expires_on: Mapped[date | None] = mapped_column(Date)
    addictions: Mapped[str | None] = mapped_column(Text)
    psychological_follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    participant: Mapped[Participant] = relationship(back_populates="health_record")


class RenewalDecision(Base):
    """A yearly renewal from the third year of a path (« commission de renouvellement »)."""

    __tablename__ = "renewal_decisions"
    __table_args__ = (
        CheckConstraint("motivation <> ''", name="motivation_not_empty"),
        CheckConstraint("(outcome = 'pending') = (decided_on IS NULL)", name="decided_on_iff_decided"),
        CheckConstraint("outcome <> 'granted' OR valid_until IS NOT NULL", name="granted_has_end"),
        CheckConstraint("decided_on IS NULL OR decided_on >= requested_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    requested_on: Mapped[date] = mapped_column(Date)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    motivation: Mapped[str] = mapped_column(Text)
    accompaniment_evaluation: Mapped[str | None] = mapped_column(Text)
    mobilisation_evaluation: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[RenewalOutcome] = mapped_column(
        enum_type(RenewalOutcome, "renewal_outcome"), default=RenewalOutcome.PENDING
    )
    decided_on: Mapped[date | None] = mapped_column(Date)
    # Who decided: the commission is outside the service, so a name, not a user.
    decided_by: Mapped[str | None] = mapped_column(String(200))
    valid_until: Mapped[date | None] = mapped_column(Date)

    participant: Mapped[Participant] = relationship(back_populates="renewals")


class Exit(Base):
    """The end of the path (« sortie ») and the situation at exit, for entry→exit reporting."""

    __tablename__ = "exits"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), unique=True
    )
    exited_on: Mapped[date] = mapped_column(Date)
    exit_type: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(Text)
    housing_status: Mapped[str | None] = mapped_column(String(60))
    health_coverage: Mapped[str | None] = mapped_column(String(60))
    has_treating_doctor: Mapped[bool | None] = mapped_column(Boolean)
    rights_opened: Mapped[list[str]] = mapped_column(default=list)
    # Accompaniment may continue for a year after an exit to a job or to housing.
    continued_accompaniment: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="exit")
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="exit", order_by="FollowUp.due_on", passive_deletes=True
    )


class FollowUp(Base):
    """A contact 6 or 12 months after exit (« suivi post-sortie »)."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("exit_id", "kind"),
        CheckConstraint("(done_on IS NULL) = (outcome IS NULL)", name="done_has_outcome"),
        # Covering for the indicators (issue 17): the follow-ups due in a period are read from the
        # index alone, without a look-up of each row (national report: about half the time).
        Index(
            "ix_follow_ups_due_on_done_on",
            "due_on",
            "done_on",
            "kind",
            "outcome",
            "exit_id",
            "participant_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    exit_id: Mapped[int] = mapped_column(ForeignKey("exits.id", ondelete="CASCADE"))
    kind: Mapped[FollowUpKind] = mapped_column(enum_type(FollowUpKind, "follow_up_kind"))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(60))
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    participant: Mapped[Participant] = relationship(back_populates="follow_ups")
    exit: Mapped[Exit] = relationship(back_populates="follow_ups")


class CaseTransfer(Base):
    """The move of a record to another structure (« transfert de dossier »), history kept.

    A person who continues in another SIAE keeps the network; the receiving structure's CIP takes
    over, with the person's consent.
    """

    __tablename__ = "case_transfers"
    __table_args__ = (
        CheckConstraint("from_structure_id <> to_structure_id", name="different_structures"),
        CheckConstraint("(state = 'requested') = (decided_at IS NULL)", name="decided_at_iff_decided"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    from_structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="RESTRICT"))
    to_structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="RESTRICT"))
    state: Mapped[TransferState] = mapped_column(
        enum_type(TransferState, "transfer_state"), default=TransferState.REQUESTED
    )
    consent_given_on: Mapped[date] = mapped_column(Date)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)

    participant: Mapped[Participant] = relationship()
    # The structure that asks: the holding structure is told which one it is.
    to_structure: Mapped[Structure] = relationship(foreign_keys=[to_structure_id])
