"""Territories, worksites (structures) and the people who use the service."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db import Base, LabelledEnum, enum_type, utcnow

if TYPE_CHECKING:
    from referral.reference.models import Domain


class Programme(LabelledEnum):
    """The two programmes a worksite may carry."""

    CVG = ("CVG", "Convergence")
    PHC = ("PHC", "Premières Heures en Chantier")


class Role(LabelledEnum):
    """What a user is in the network (DESIGN §8)."""

    CIP = ("cip", "Conseiller·ère en insertion professionnelle (CIP)")
    CP = ("cp", "Chargé·e de partenariats (CP)")
    COORDINATOR = ("coordinator", "Coordinateur·rice de territoire")
    ADMIN = ("admin", "Convergence France (administration nationale)")


class Territory(Base):
    """A metropolis or département running the programme (« territoire »)."""

    __tablename__ = "territories"
    __table_args__ = (
        CheckConstraint("slug <> '' AND slug = lower(slug)", name="slug_lowercase"),
        CheckConstraint(
            "convergence_since IS NULL OR convergence_since BETWEEN 2000 AND 2100",
            name="convergence_since_plausible",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    region: Mapped[str] = mapped_column(String(120))
    departments: Mapped[list[str]] = mapped_column(default=list)
    convergence_since: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    structures: Mapped[list[Structure]] = relationship(back_populates="territory", order_by="Structure.name")


class Structure(Base):
    """An insertion worksite (« atelier chantier d'insertion », « structure porteuse »)."""

    __tablename__ = "structures"
    __table_args__ = (
        UniqueConstraint("name", "town"),
        CheckConstraint("carries_cvg OR carries_phc", name="carries_a_programme"),
        CheckConstraint("name <> '' AND town <> ''", name="name_town_not_empty"),
        CheckConstraint("siret IS NULL OR length(siret) = 14", name="siret_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Premières Heures worksites outside a Convergence territory belong to no territory yet.
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territories.id", ondelete="RESTRICT"), index=True
    )
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    full_name: Mapped[str | None] = mapped_column(String(255))
    town: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(120))
    siret: Mapped[str | None] = mapped_column(String(14))
    carries_cvg: Mapped[bool] = mapped_column(Boolean, default=False)
    carries_phc: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    territory: Mapped[Territory | None] = relationship(back_populates="structures")

    @property
    def programmes(self) -> list[Programme]:
        carried = [(self.carries_cvg, Programme.CVG), (self.carries_phc, Programme.PHC)]
        return [programme for flag, programme in carried if flag]


cp_domains = Table(
    "cp_domains",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("domain_code", ForeignKey("domains.code", ondelete="RESTRICT"), primary_key=True),
)


class User(Base):
    """A person using the service, with one role and the scope that goes with it (DESIGN §8).

    A CIP belongs to a structure; a CP or a coordinator to a territory; the national team to
    neither. The database refuses any other combination.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name="email_normalised"),
        CheckConstraint(
            "(role = 'cip' AND structure_id IS NOT NULL AND territory_id IS NULL)"
            " OR (role IN ('cp', 'coordinator') AND territory_id IS NOT NULL AND structure_id IS NULL)"
            " OR (role = 'admin' AND territory_id IS NULL AND structure_id IS NULL)",
            name="scope_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(160))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    structure_id: Mapped[int | None] = mapped_column(
        ForeignKey("structures.id", ondelete="RESTRICT"), index=True
    )
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territories.id", ondelete="RESTRICT"), index=True
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Stored in every page session at login and compared on each request: raising it (logout,
    # password change, deactivation) ends all of this user's sessions at once, wherever their
    # cookies are — the session cookie itself cannot be recalled.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Two-factor sign-in (TOTP, RFC 6238): the shared secret once confirmed by a first code, and
    # the last time step accepted, so that a code seen over someone's shoulder cannot be replayed.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # The ProConnect identity (OpenID Connect `sub`) linked to this account, by verified e-mail.
    proconnect_sub: Mapped[str | None] = mapped_column(String(255), unique=True)

    structure: Mapped[Structure | None] = relationship()
    territory: Mapped[Territory | None] = relationship()
    domains: Mapped[list[Domain]] = relationship(secondary=cp_domains, order_by="Domain.position")

    @property
    def scope_territory_id(self) -> int | None:
        """The territory whose network this user works in (a CIP's is their structure's)."""
        if self.structure is not None:
            return self.structure.territory_id
        return self.territory_id

    @property
    def domain_codes(self) -> list[str]:
        return [domain.code for domain in self.domains]


class ApiToken(Base):
    """A bearer token for API clients: stored hashed, revocable, with an expiry.

    Only the SHA-256 of the token is kept (tokens are long random strings, so a fast hash is
    enough and lets the lookup use an index); the token itself is shown once, at creation.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_creation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One try to log in or to obtain a token, kept to limit attempts per account and address.

    The e-mail is recorded as typed (lower-cased) whether or not an account has it, so that
    limiting behaves the same for unknown addresses and reveals nothing.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    remote_addr: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


# --- Accounts people manage themselves (issue 19) ----------------------------------------------

SCOPE_MATCHES_ROLE = (
    "(role = 'cip' AND structure_id IS NOT NULL AND territory_id IS NULL)"
    " OR (role IN ('cp', 'coordinator') AND territory_id IS NOT NULL AND structure_id IS NULL)"
    " OR (role = 'admin' AND territory_id IS NULL AND structure_id IS NULL)"
)


class InvitationState(LabelledEnum):
    PENDING = ("pending", "En attente")
    ACCEPTED = ("accepted", "Acceptée")
    CANCELLED = ("cancelled", "Annulée")
    EXPIRED = ("expired", "Expirée")


class Invitation(Base):
    """An account offered to someone by e-mail, with its role and scope fixed by who invited them.

    The link carries a random token of which only the SHA-256 is kept; it works once (the
    account it opens records `accepted_at`) and until `expires_at`. Resending draws a new token,
    so an earlier e-mail's link stops working.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name="email_normalised"),
        CheckConstraint(SCOPE_MATCHES_ROLE, name="scope_matches_role"),
        CheckConstraint("accepted_at IS NULL OR cancelled_at IS NULL", name="accepted_or_cancelled"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        Index("ix_invitations_email_created_at", "email", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(160))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    structure_id: Mapped[int | None] = mapped_column(
        ForeignKey("structures.id", ondelete="RESTRICT"), index=True
    )
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territories.id", ondelete="RESTRICT"), index=True
    )
    # A CP's domains (codes of `domains`), copied to the account when it is opened.
    domains: Mapped[list[str]] = mapped_column(default=list)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    structure: Mapped[Structure | None] = relationship()
    territory: Mapped[Territory | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    def state(self, now: datetime) -> InvitationState:
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.cancelled_at is not None:
            return InvitationState.CANCELLED
        if self.expires_at <= now:
            return InvitationState.EXPIRED
        return InvitationState.PENDING


class PasswordReset(Base):
    """A « mot de passe oublié » link: single use, valid one hour, stored as its SHA-256."""

    __tablename__ = "password_resets"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_creation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A one-time code that replaces the authenticator app once (lost phone); kept hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
