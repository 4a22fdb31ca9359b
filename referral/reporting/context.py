"""What every indicator query shares: the scope, the period, the programme, and the few SQL
expressions that differ between SQLite and PostgreSQL (days between two dates, the month of a
date). No rule on who may see what: `services.py` resolves the scope before building this.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any, Literal, TypeVar, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TypedReturnsRows

from referral import clock
from referral.cases.models import Participant
from referral.db import days_between_timestamps
from referral.territories.models import Programme, Structure

PARIS = clock.PARIS  # the one clock names the zone
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])
RowTs = TypeVarTuple("RowTs")
NEVER = date(9999, 12, 31)
MANY_IDS = 500  # `Context.among`
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def paris_today() -> date:
    """Today as people in France count days (the server may run in UTC)."""
    return clock.today()


@dataclass(frozen=True)
class Scope:
    """Whose people are counted: one structure, one territory, or everyone."""

    kind: Literal["structure", "territory", "all"]
    id: int | None
    label: str
    # Outside the structure, small counts are protected (figures.py).
    protected: bool
    territory_id: int | None = None  # the territory of a structure scope, when it has one

    @property
    def code(self) -> str:
        """As the URL, the CLI and the API write it: ``structure:12``, ``territory:lyon``, ``all``."""
        if self.kind == "all":
            return "all"
        return f"{self.kind}:{self.slug_or_id}"

    slug_or_id: str = ""


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included."""

    start: date
    end: date

    @property
    def label(self) -> str:
        return f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"

    def bounds(self) -> tuple[datetime, datetime]:
        """Aware datetimes [start, end) in Paris time, to compare with UTC timestamps."""
        return (
            datetime.combine(self.start, time.min, PARIS),
            datetime.combine(self.end + timedelta(days=1), time.min, PARIS),
        )

    def months(self) -> list[str]:
        """Every month of the period, as ``YYYY-MM``."""
        out = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{MONTHS_FR[int(month) - 1]} {year}"


@dataclass(frozen=True)
class Context:
    session: Session
    scope: Scope
    period: Period
    programme: Programme | None
    today: date

    def rows(self, statement: TypedReturnsRows[*RowTs]) -> Result[*RowTs]:
        """Rows of a statement of columns, through the session's connection: the ORM's handling
        of each row (for entities the report never loads) cost a tenth of reading a large
        grouping's rows."""
        return self.session.connection().execute(statement)

    def among(self, statement: SelectT, column: Any, ids: Collection[int]) -> SelectT:
        """`statement` limited to the rows whose `column` is one of `ids` — when they are few (a
        page's partners or worksites). The country's thousands are read with the whole table
        and picked in Python: thousands of bound parameters would cost more than the rows."""
        if len(ids) <= MANY_IDS:
            return statement.where(column.in_(list(ids)))
        return statement

    @property
    def sqlite(self) -> bool:
        return self.session.get_bind().dialect.name == "sqlite"

    def structure_ids(self) -> Select[Any]:
        if self.scope.kind == "structure":
            return select(Structure.id).where(Structure.id == self.scope.id)
        if self.scope.kind == "territory":
            return select(Structure.id).where(Structure.territory_id == self.scope.id)
        return select(Structure.id)

    @cached_property
    def territory_structures(self) -> list[int]:
        """The structures of a territory scope, read once per report: written into each
        statement as a list of ids, the database looks the people up by structure (index
        `ix_participants_structure_id_last_name`) knowing how few they are. Behind a subquery,
        PostgreSQL misjudged how many people a territory has and read all of them, then hashed
        every offer of the country to join a hundred referrals (issue 17, point 11)."""
        return list(self.session.scalars(self.structure_ids().order_by(Structure.id)))

    def paths(self) -> ColumnElement[bool]:
        """The records counted: those of the scope's structures, of the chosen programme."""
        if self.scope.kind == "structure":
            condition: ColumnElement[bool] = Participant.structure_id == self.scope.id
        elif self.scope.kind == "territory":
            condition = Participant.structure_id.in_(self.territory_structures)
        else:
            condition = true()
        if self.programme is not None:
            condition = condition & (Participant.programme == self.programme)
        return condition

    @property
    def everyone(self) -> bool:
        """Every record counts (all territories, both programmes): no condition on the person."""
        return self.scope.kind == "all" and self.programme is None

    def scoped(self, query: SelectT, participant_id: Any) -> SelectT:
        """`query` limited to the records counted, joined to `Participant` through its
        `participant_id` column — or left alone when every record counts: the national report
        then reads the follow-ups, exits or referrals alone rather than looking up each one's
        person (the foreign key already says the person exists)."""
        if self.everyone:
            return query
        return query.join(Participant, Participant.id == participant_id).where(self.paths())

    @staticmethod
    def flag(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        """1 when `condition` holds, else 0, with the constants written in the statement: a
        grouped expression must read the same in SELECT and GROUP BY, and PostgreSQL does not
        see two bound parameters as the same expression."""
        return case((condition, literal_column("1")), else_=literal_column("0"))

    @staticmethod
    def out_on(day: Any) -> ColumnElement[Any]:
        """A possibly missing end date (an exit, a need's resolution) with « never » as a far day.

        ``COALESCE(d, '9999-12-31') >= x`` rather than ``d IS NULL OR d >= x``: PostgreSQL
        estimates an OR of two conditions on an outer-joined table as almost nothing, and then
        plans nested loops that rerun a grouped subquery for every row (minutes on the national
        benchmark); one expression keeps its estimate sane.
        """
        return func.coalesce(day, literal(NEVER, Date))

    def epoch(self) -> ColumnElement[Any]:
        """A fixed day written in the statement (1 January 2000), to count days from."""
        return literal_column("'2000-01-01'" if self.sqlite else "DATE '2000-01-01'")

    def end(self) -> ColumnElement[Any]:
        return literal(self.period.end, Date)

    def days(self, earlier: Any, later: Any) -> ColumnElement[Any]:
        """Whole days from the date `earlier` to the date `later` (NULL when either is)."""
        if self.sqlite:
            return cast(func.julianday(later) - func.julianday(earlier), Integer)
        return cast(later - earlier, Integer)

    def days_between_times(self, earlier: Any, later: Any) -> ColumnElement[Any]:
        """Days (with decimals) between two timestamps."""
        return days_between_timestamps(self.session.get_bind().dialect.name, earlier, later)

    def month(self, day: Any) -> ColumnElement[Any]:
        """``YYYY-MM`` of a date column."""
        if self.sqlite:
            return func.strftime(literal_column("'%Y-%m'"), day)
        return func.to_char(day, literal_column("'YYYY-MM'"))

    @staticmethod
    def person_columns() -> tuple[Any, ...]:
        """Who the person is across their records (a person who left and came back has two):
        names folded to lower case and the birth date. To group by (three expressions rather
        than one concatenated string: nothing to build per row, and no separator a name could
        contain)."""
        return (func.lower(Participant.first_name), func.lower(Participant.last_name), Participant.birth_date)
