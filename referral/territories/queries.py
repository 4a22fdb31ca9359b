"""Reads of territories, structures and accounts (no rules, no HTTP)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import Session

from referral.paging import Page, PageRequest, page_of
from referral.territories.models import Structure, Territory, User


def territories(session: Session) -> list[Territory]:
    return list(session.scalars(select(Territory).order_by(Territory.name, Territory.id)))


def territory_by_slug(session: Session, slug: str) -> Territory | None:
    return session.scalar(select(Territory).where(Territory.slug == slug))


def structures(
    session: Session, *, where: ColumnElement[bool] | None = None, territory_id: int | None = None
) -> list[Structure]:
    return list(session.scalars(_structures_query(where, territory_id)))


def structures_page(
    session: Session, request: PageRequest, *, territory_id: int | None = None
) -> Page[Structure]:
    """One page of `structures` (4,000 of them nationally: never all at once)."""
    return page_of(session, _structures_query(None, territory_id), request)


def _structures_query(where: ColumnElement[bool] | None, territory_id: int | None) -> Select[Structure]:
    query = select(Structure).where(where if where is not None else true())
    if territory_id is not None:
        query = query.where(Structure.territory_id == territory_id)
    return query.order_by(Structure.name, Structure.town, Structure.id)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))
