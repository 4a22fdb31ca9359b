"""Reference data (« référentiels ») loaded from `seeds/reference/`.

Domains and their subtypes are tables that other rows point at with foreign keys, so a need or an
opportunity can only use a known domain. The other coded lists (housing status, exit types,
refusal reasons…) share one table keyed by (list, code); services check codes against it and the
interface reads the French labels from it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db import Base


class Domain(Base):
    """A field of difficulty and of partnership (« domaine ») : emploi, logement, santé…"""

    __tablename__ = "domains"
    __table_args__ = (CheckConstraint("code <> ''", name="code_not_empty"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # data·inclusion « thématiques » this domain maps to, for import and export.
    datainclusion: Mapped[list[str]] = mapped_column(default=list)

    subtypes: Mapped[list[DomainSubtype]] = relationship(
        back_populates="domain", order_by="DomainSubtype.position"
    )


class DomainSubtype(Base):
    """A finer need or opportunity within a domain (« sous-thème »), coded ``domain.subtype``."""

    __tablename__ = "domain_subtypes"
    __table_args__ = (CheckConstraint("code <> ''", name="code_not_empty"),)

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    domain_code: Mapped[str] = mapped_column(ForeignKey("domains.code", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(160))
    position: Mapped[int] = mapped_column(Integer, default=0)
    datainclusion: Mapped[list[str]] = mapped_column(default=list)

    domain: Mapped[Domain] = relationship(back_populates="subtypes")


class ReferenceCode(Base):
    """One code of a coded list (« liste de référence ») with its French label.

    `extra` holds list-specific attributes from the seed file (precarity of a housing status,
    the DGEFP family of an exit type, the CECRL rank of a language level…).
    """

    __tablename__ = "reference_codes"
    __table_args__ = (CheckConstraint("list_name <> '' AND code <> ''", name="not_empty"),)

    list_name: Mapped[str] = mapped_column(String(60), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
