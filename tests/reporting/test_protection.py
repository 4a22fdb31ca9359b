"""Small counts outside the structure, the differencing case, and who may see which scope."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from referral.reference import queries as reference
from referral.reporting import services
from referral.reporting.definitions import HOUSING_GROUP_OF
from referral.reporting.exceptions import InvalidReportRequest, ScopeNotFound, ScopeRefused
from referral.reporting.figures import SMALL, Ratio, Report, Stat, cell_value, protect_cell, round_count
from referral.seeding import seed_reference
from referral.territories.models import Programme, User
from tests.reporting import dataset
from tests.reporting.dataset import END, START, TODAY, World


@pytest.fixture
def world(empty_session: Session) -> World:
    return dataset.build(empty_session)


def published(
    session: Session,
    actor: User,
    scope: str | None,
    start: date = START,
    end: date = END,
    programme: str | None = None,
) -> Report:
    request = services.report_request(
        session, actor, scope=scope, start=start, end=end, programme=programme, today=TODAY
    )
    return services.indicators_report(session, actor, request, today=TODAY)


def people(report: Report) -> object:
    """People in the file active, all programmes."""
    return cell_value(report.table("activity").cell("people", "total"))


def test_rounding_rule() -> None:
    assert [round_count(n) for n in (0, 1, 4, 5, 7, 8, 12, 13, 102)] == [
        0,
        SMALL,
        SMALL,
        5,
        5,
        10,
        10,
        15,
        100,
    ]
    # A share is recomputed from the protected counts, hidden when either is small.
    assert protect_cell(Ratio(7, 13)) == Ratio(5, 15)
    assert cell_value(protect_cell(Ratio(3, 40))) == SMALL
    assert cell_value(protect_cell(Ratio(0, 40))) == 0.0
    # A median of fewer than 5 people is not shown.
    assert cell_value(protect_cell(Stat(12.0, 4))) == SMALL
    assert cell_value(protect_cell(Stat(12.0, 6))) == 12.0


def add_entries(
    session: Session, structure_id: int, count: int, month: int, programme: Programme = Programme.CVG
) -> None:
    for i in range(count):
        dataset.person(
            session,
            structure_id,
            f"Personne{structure_id}x{month}x{i}",
            f"Nom{i}",
            f"2026-{month:02d}-10",
            birth_date=date(1981, 1, 1 + i % 28),
            programme=programme,
        )


def test_differencing_two_overlapping_filters_cannot_reveal_one_person(
    empty_session: Session, world: World
) -> None:
    """The territory counts one person more than structure A: the coordinator reads both, and
    the difference must not say « 1 ». Same with a period one month longer, and with both
    programmes against one."""
    session = empty_session
    add_entries(session, world.a.id, 9, 3)  # structure A: 3 already + 9 = 12 people in 2026
    # Lyon = A (12) + B (3 PHC people) = 15; one more person in B in July.
    add_entries(session, world.b.id, 1, 7, Programme.PHC)
    coordinator = world.coordinator
    territory = published(session, coordinator, "territory:lyon")
    only_a = published(session, coordinator, f"structure:{world.a.id}")
    exact_territory = published(session, world.admin, "territory:lyon")  # also protected
    assert exact_territory.protected
    assert territory.protected
    assert only_a.protected
    t, a = people(territory), people(only_a)
    # True counts: 16 and 12 (Alice counted once). Published: 15 and 10. Each stands for 5
    # possible true values, so the difference (5) says only « between 0 and 8 ».
    assert (t, a) == (15, 10)
    assert people(published(session, coordinator, f"structure:{world.b.id}")) == SMALL

    # A period one month longer: Jan–Jun against Jan–Jul, the July newcomer is the difference.
    june = published(session, coordinator, "territory:lyon", START, date(2026, 6, 30))
    july = published(session, coordinator, "territory:lyon", START, date(2026, 7, 31))
    entries_june = cell_value(june.table("activity").cell("entries", "total"))
    entries_july = cell_value(july.table("activity").cell("entries", "total"))
    # True entries: 13 by June (Alice, Chloé, Damien, Farid, 9 newcomers), 14 by July.
    assert (entries_june, entries_july) == (15, 15)

    # Both programmes against one: PHC adds 4 people; the published difference is not 4.
    cvg = published(session, coordinator, "territory:lyon", programme="CVG")
    both = published(session, coordinator, "territory:lyon")
    assert cell_value(cvg.table("activity").cell("people", "CVG")) == 10  # true 12
    assert cell_value(both.table("activity").cell("people", "total")) == 15  # true 16

    # Complementary cells: a total minus the other cells cannot recover a cell of one.
    total = both.table("activity")
    assert cell_value(total.cell("people", "PHC")) == SMALL


@pytest.mark.parametrize("true_counts", [(12, 11), (13, 12), (11, 10), (6, 5), (5, 4)])
def test_no_two_published_counts_differ_by_exactly_one_person(true_counts: tuple[int, int]) -> None:
    """Whatever two true counts differ by one, their published values differ by 0 or 5, or one
    of them is hidden: never by 1."""
    bigger, smaller = (round_count(n) for n in true_counts)
    if SMALL in (bigger, smaller):
        return
    assert isinstance(bigger, int)
    assert isinstance(smaller, int)
    assert bigger - smaller in (0, 5)


def test_a_cip_sees_exact_counts_of_their_structure(empty_session: Session, world: World) -> None:
    report = published(empty_session, world.cip_a, None)
    assert not report.protected
    assert cell_value(report.table("activity").cell("people", "total")) == 3
    assert cell_value(report.table("exits_by_family").cell("emploi_durable", "exits")) == 1
    # The coordinator looking at the same structure sees it protected.
    seen = published(empty_session, world.coordinator, f"structure:{world.a.id}")
    assert cell_value(seen.table("activity").cell("people", "total")) == SMALL


def test_scopes_by_role(empty_session: Session, world: World) -> None:
    session = empty_session
    with pytest.raises(ScopeNotFound):
        published(session, world.cip_a, f"structure:{world.b.id}")
    with pytest.raises(ScopeRefused):
        published(session, world.cip_a, "territory:lyon")
    with pytest.raises(ScopeRefused):
        published(session, world.coordinator, "all")
    with pytest.raises(ScopeNotFound):
        published(session, world.coordinator, "territory:lille")
    with pytest.raises(ScopeNotFound):
        published(session, world.coordinator, f"structure:{world.c.id}")
    with pytest.raises(ScopeNotFound):
        published(session, world.admin, "territory:nowhere")
    with pytest.raises(InvalidReportRequest):
        published(session, world.admin, "territoire lyon")
    with pytest.raises(InvalidReportRequest):
        published(session, world.admin, "all", start=date(2026, 5, 1), end=date(2026, 4, 1))
    with pytest.raises(InvalidReportRequest):
        published(session, world.admin, "all", programme="XYZ")
    assert published(session, world.cp, "territory:lyon").protected
    assert published(session, world.admin, "all").scope_label == "Tous les territoires"
    assert services.default_scope_code(world.coordinator) == "territory:lyon"
    options = [code for code, _label in services.scope_options(session, world.coordinator)]
    assert options == ["territory:lyon", f"structure:{world.a.id}", f"structure:{world.b.id}"]


def test_every_housing_status_has_a_group(empty_session: Session) -> None:
    seed_reference(empty_session)
    assert set(reference.labels(empty_session, "housing_status")) == set(HOUSING_GROUP_OF)
