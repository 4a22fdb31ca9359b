"""Reads of the reference lists: codes, labels, and the attributes the engines use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.reference.models import Domain, DomainSubtype, ReferenceCode


def codes(session: Session, list_name: str) -> list[ReferenceCode]:
    return list(
        session.scalars(
            select(ReferenceCode)
            .where(ReferenceCode.list_name == list_name)
            .order_by(ReferenceCode.position, ReferenceCode.code)
        )
    )


def all_codes(session: Session) -> list[ReferenceCode]:
    """Every code of every coded list, for the one label filter of the pages."""
    return list(
        session.scalars(
            select(ReferenceCode).order_by(
                ReferenceCode.list_name, ReferenceCode.position, ReferenceCode.code
            )
        )
    )


def code_set(session: Session, list_name: str) -> frozenset[str]:
    return frozenset(session.scalars(select(ReferenceCode.code).where(ReferenceCode.list_name == list_name)))


def labels(session: Session, list_name: str) -> dict[str, str]:
    return {item.code: item.label for item in codes(session, list_name)}


def extras(session: Session, list_name: str) -> dict[str, dict[str, Any]]:
    return {item.code: item.extra for item in codes(session, list_name)}


def domains(session: Session) -> list[Domain]:
    return list(session.scalars(select(Domain).order_by(Domain.position, Domain.code)))


def domain_codes(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(Domain.code)))


def subtype_codes(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(DomainSubtype.code)))


def subtype_labels(session: Session) -> dict[str, str]:
    return dict(session.execute(select(DomainSubtype.code, DomainSubtype.label)).all())
