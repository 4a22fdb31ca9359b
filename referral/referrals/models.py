"""Referrals (« orientations ») and the log of every move of their lifecycle (DESIGN §7)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db import Base, LabelledEnum, enum_type, utcnow
from referral.territories.models import Role

if TYPE_CHECKING:
    from referral.cases.models import Need, Participant
    from referral.partners.models import Opportunity
    from referral.territories.models import User


class ReferralState(LabelledEnum):
    DRAFT = ("draft", "Brouillon")
    SUBMITTED = ("submitted", "Soumise au CP")
    NEEDS_INFO = ("needs_info", "Complément demandé")
    SENT = ("sent", "Transmise au partenaire")
    WAITLISTED = ("waitlisted", "Liste d'attente")
    ACCEPTED = ("accepted", "Acceptée par le partenaire")
    STARTED = ("started", "Entrée effective")
    CLOSED = ("closed", "Clôturée")
    DECLINED = ("declined", "Refusée par le CP")
    REFUSED = ("refused", "Refusée par le partenaire")
    EXPIRED = ("expired", "Expirée")
    CANCELLED = ("cancelled", "Annulée")
    ABANDONED = ("abandoned", "Abandonnée")


# States in which a referral is still under way: at most one such referral per person and opportunity.
ACTIVE_STATES: tuple[ReferralState, ...] = (
    ReferralState.DRAFT,
    ReferralState.SUBMITTED,
    ReferralState.NEEDS_INFO,
    ReferralState.SENT,
    ReferralState.WAITLISTED,
    ReferralState.ACCEPTED,
    ReferralState.STARTED,
)

# States in which the referral waits on someone outside the CIP (reminders and expiry count).
WAITING_STATES = frozenset({ReferralState.SUBMITTED, ReferralState.SENT, ReferralState.WAITLISTED})
# States in which the referral holds one place of the opportunity's capacity.
HOLDS_PLACE = frozenset({ReferralState.ACCEPTED, ReferralState.STARTED})
_ACTIVE_SQL = "state IN ({})".format(", ".join(f"'{state.value}'" for state in ACTIVE_STATES))


class Referral(Base):
    """The closed-loop referral of a participant to an opportunity.

    `version` is the optimistic-lock column: a transition names the version it saw, and two
    concurrent transitions on the same referral cannot both win.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        Index(
            "uq_referrals_active_participant_opportunity",
            "participant_id",
            "opportunity_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index("ix_referrals_opportunity_id_state", "opportunity_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The open need the referral answers (« frein »), from the proposal the CIP accepted: the CP
    # sees why the person is sent. None for referrals made before it was recorded, or answering none.
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="SET NULL"), index=True)
    state: Mapped[ReferralState] = mapped_column(
        enum_type(ReferralState, "referral_state"), default=ReferralState.DRAFT
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    comment: Mapped[str | None] = mapped_column(Text)
    # The dossier the partner receives: fields the opportunity asks for, within consent, frozen
    # when the referral is submitted.
    shared_dossier: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the referral started waiting on someone: the reminders and the expiry count from it.
    waiting_since: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}

    participant: Mapped[Participant] = relationship()
    opportunity: Mapped[Opportunity] = relationship()
    created_by: Mapped[User | None] = relationship()
    need: Mapped[Need | None] = relationship()
    transitions: Mapped[list[ReferralTransition]] = relationship(
        back_populates="referral", order_by="ReferralTransition.id", passive_deletes=True
    )


class ReferralTransition(Base):
    """One move of a referral: who, in which role, when, from which state to which, and why."""

    __tablename__ = "referral_transitions"
    __table_args__ = (CheckConstraint("action <> ''", name="action_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[ReferralState | None] = mapped_column(enum_type(ReferralState, "from_state"))
    to_state: Mapped[ReferralState] = mapped_column(enum_type(ReferralState, "to_state"))
    # NULL actor: the system (expiry).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[Role | None] = mapped_column(enum_type(Role, "actor_role"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(60))
    comment: Mapped[str | None] = mapped_column(Text)

    referral: Mapped[Referral] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()
