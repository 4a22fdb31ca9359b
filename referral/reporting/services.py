"""The reporting services: who may see which scope, and the indicators as that person sees them.

Scopes (DESIGN §8): a CIP sees their structure; a CP and a coordinator their territory (all of it,
or one of its structures); the national team everything. A scope outside one's own answers 404
like an unknown one; a role asking for a wider kind of scope than its own is refused (403).
Everyone but a CIP looking at their own structure sees protected figures (`figures.protect`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.reporting import cache, charts, indicators
from referral.reporting.context import Context, Period, Scope, paris_today
from referral.reporting.exceptions import InvalidReportRequest, ScopeNotFound, ScopeRefused
from referral.reporting.figures import Report, protect
from referral.territories.models import Programme, Role, Structure, Territory, User

# Ten years is more than any funder asks for, and keeps a mistyped year from scanning a century.
MAX_PERIOD_DAYS = 3660
READERS = (Role.CIP, Role.CP, Role.COORDINATOR, Role.ADMIN)


@dataclass(frozen=True)
class ReportRequest:
    scope: Scope
    period: Period
    programme: Programme | None


def default_scope_code(actor: User) -> str:
    if actor.role is Role.CIP:
        return f"structure:{actor.structure_id}"
    if actor.role is Role.ADMIN:
        return "all"
    territory = actor.territory
    return f"territory:{territory.slug}" if territory is not None else "all"


def resolve_scope(session: Session, actor: User, code: str | None) -> Scope:
    """The scope `code` (``structure:12``, ``territory:lyon``, ``all``) if `actor` may see it."""
    if actor.role not in READERS:
        raise ScopeRefused("Votre rôle ne donne pas accès aux indicateurs.")
    code = (code or "").strip() or default_scope_code(actor)
    kind, _, key = code.partition(":")
    if kind == "all" and not key:
        if actor.role is not Role.ADMIN:
            raise ScopeRefused("Les indicateurs de tous les territoires sont réservés à l'équipe nationale.")
        return Scope("all", None, "Tous les territoires", protected=True)
    if kind == "territory" and key:
        if actor.role is Role.CIP:
            raise ScopeRefused("Un·e CIP voit les indicateurs de sa structure.")
        territory = session.scalar(select(Territory).where(Territory.slug == key))
        if territory is None or (actor.role is not Role.ADMIN and actor.territory_id != territory.id):
            raise ScopeNotFound(code)
        return Scope(
            "territory",
            territory.id,
            f"Territoire : {territory.name}",
            protected=True,
            territory_id=territory.id,
            slug_or_id=territory.slug,
        )
    if kind == "structure" and key.isdigit() and len(key) < 10:
        structure = session.get(Structure, int(key))
        if structure is None:
            raise ScopeNotFound(code)
        if actor.role is Role.CIP:
            allowed = structure.id == actor.structure_id
        elif actor.role is Role.ADMIN:
            allowed = True
        else:
            allowed = structure.territory_id is not None and structure.territory_id == actor.territory_id
        if not allowed:
            raise ScopeNotFound(code)
        return Scope(
            "structure",
            structure.id,
            f"Structure : {structure.name} ({structure.town})",
            protected=actor.role is not Role.CIP,
            territory_id=structure.territory_id,
            slug_or_id=str(structure.id),
        )
    raise InvalidReportRequest(
        f"Périmètre illisible : « {code} ».",
        errors={"scope": ["Écrire « structure:<numéro> », « territory:<territoire> » ou « all »."]},
    )


def make_period(start: date | None, end: date | None, today: date | None = None) -> Period:
    """The period asked for; by default the current calendar year."""
    today = today or paris_today()
    start = start or date(today.year, 1, 1)
    end = end or date(start.year, 12, 31)
    if end < start:
        raise InvalidReportRequest(
            "La fin de la période précède son début.", errors={"to": ["La fin précède le début."]}
        )
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidReportRequest(
            "La période dépasse dix ans.", errors={"to": ["Choisir une période de dix ans au plus."]}
        )
    return Period(start, end)


def make_programme(code: str | None) -> Programme | None:
    if not code:
        return None
    try:
        return Programme(code)
    except ValueError:
        raise InvalidReportRequest(
            f"Programme inconnu : « {code} ».", errors={"programme": ["Programmes possibles : CVG, PHC."]}
        ) from None


def report_request(
    session: Session,
    actor: User,
    *,
    scope: str | None,
    start: date | None,
    end: date | None,
    programme: str | None,
    today: date | None = None,
) -> ReportRequest:
    return ReportRequest(
        resolve_scope(session, actor, scope), make_period(start, end, today), make_programme(programme)
    )


@dataclass
class ShownReport:
    """A report as its reader sees it, and its pictures, drawn the first time they are asked for
    (the API and the exports never ask)."""

    report: Report
    _pictures: dict[str, str] | None = field(default=None, repr=False)

    def pictures(self) -> dict[str, str]:
        if self._pictures is None:
            self._pictures = charts.pictures(self.report.tables())
        return self._pictures


def shown_report(
    session: Session, actor: User, request: ReportRequest, *, today: date | None = None
) -> ShownReport:
    """The indicators of `request` as `actor` may see them: exact for a CIP's own structure,
    protected for everyone else (`figures.protect`); kept by this worker while the records stay
    the same (`cache`), with their pictures."""
    # The scope was resolved for this actor; checked again so a request built for someone else
    # cannot be replayed (the CLI builds requests for the national team only).
    resolve_scope(session, actor, request.scope.code)
    day = today or paris_today()

    def compute() -> ShownReport:
        ctx = Context(session, request.scope, request.period, request.programme, day)
        report = indicators.compute(ctx)
        return ShownReport(protect(report) if request.scope.protected else report)

    key = (request.scope.code, request.scope.protected, request.period, request.programme)
    return cache.kept(session, key, day, compute)


def indicators_report(
    session: Session, actor: User, request: ReportRequest, *, today: date | None = None
) -> Report:
    """The indicators of `request` as `actor` may see them (`shown_report`)."""
    return shown_report(session, actor, request, today=today).report


def scope_options(session: Session, actor: User) -> list[tuple[str, str]]:
    """The scopes the page's filter offers `actor`: their territory (or every territory) and its
    structures; a CIP has only their structure."""
    if actor.role is Role.CIP:
        structure = actor.structure
        return [(f"structure:{actor.structure_id}", structure.name if structure else "Ma structure")]
    options: list[tuple[str, str]] = []
    if actor.role is Role.ADMIN:
        options.append(("all", "Tous les territoires"))
        for territory in session.scalars(select(Territory).order_by(Territory.name)):
            options.append((f"territory:{territory.slug}", f"Territoire : {territory.name}"))
        structures = session.scalars(select(Structure).order_by(Structure.name, Structure.id))
    else:
        own = actor.territory
        if own is None:
            return options
        territory = own
        options.append((f"territory:{territory.slug}", f"Territoire : {territory.name}"))
        structures = session.scalars(
            select(Structure)
            .where(Structure.territory_id == territory.id)
            .order_by(Structure.name, Structure.id)
        )
    options += [(f"structure:{s.id}", f"— {s.name} ({s.town})") for s in structures]
    return options
