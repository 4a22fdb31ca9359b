"""The indicators kept per worker (`reporting/cache.py`): a view seen again is neither computed
nor drawn again; a change of the records — made here, in place, or by another worker — is seen;
and the protected and exact views of one structure are kept apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from referral.cases.models import Exit
from referral.reporting import cache, charts, indicators, services
from referral.reporting.figures import SMALL, Report, cell_value
from referral.territories.models import User
from tests.reporting import dataset
from tests.reporting.dataset import END, START, TODAY, World


@pytest.fixture
def world(empty_session: Session) -> World:
    return dataset.build(empty_session)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times the indicators were computed and their pictures drawn."""
    calls = {"compute": 0, "pictures": 0}

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(indicators, "compute", counting("compute", indicators.compute))
    monkeypatch.setattr(charts, "pictures", counting("pictures", charts.pictures))
    return calls


def view(session: Session, actor: User, scope: str | None = None) -> services.ShownReport:
    request = services.report_request(
        session, actor, scope=scope, start=START, end=END, programme=None, today=TODAY
    )
    return services.shown_report(session, actor, request, today=TODAY)


def exits(report: Report) -> Any:
    return cell_value(report.table("activity").cell("exits", "total"))


def test_a_view_seen_again_is_neither_computed_nor_drawn_again(
    empty_session: Session, world: World, counted: dict[str, int]
) -> None:
    first = view(empty_session, world.cip_a)
    pictures = first.pictures()
    assert pictures  # the structure has exits, referrals… to draw
    again = view(empty_session, world.cip_a)
    assert again.report == first.report
    assert again.pictures() == pictures
    assert counted == {"compute": 1, "pictures": 1}
    # Another period is another view.
    request = services.report_request(
        empty_session, world.cip_a, scope=None, start=START, end=START, programme=None, today=TODAY
    )
    services.shown_report(empty_session, world.cip_a, request, today=TODAY)
    assert counted["compute"] == 2


def test_an_edit_of_something_else_keeps_the_views(
    empty_session: Session, world: World, counted: dict[str, int]
) -> None:
    view(empty_session, world.cip_a)
    world.admin.full_name = "Équipe nationale"  # an account, which no indicator reads
    empty_session.flush()
    view(empty_session, world.cip_a)
    assert counted["compute"] == 1


def test_a_record_corrected_in_place_is_seen_at_once(empty_session: Session, world: World) -> None:
    """An exit's housing corrected: no count moves, yet the next view shows it (this worker
    noted the flush)."""
    housed = view(empty_session, world.cip_a).report.table("housing_share").cell("exit", "housed")
    bruno = world.people["bruno"]  # left in March from a shelter (« chu »), to a shelter
    exit_row = empty_session.scalars(select(Exit).where(Exit.participant_id == bruno.id)).one()
    exit_row.housing_status = "logement_social"
    empty_session.flush()
    now_housed = view(empty_session, world.cip_a).report.table("housing_share").cell("exit", "housed")
    assert now_housed == housed + 1


def test_another_workers_new_rows_are_seen_once_the_version_is_read(
    empty_session: Session, world: World, counted: dict[str, int]
) -> None:
    """Rows written without this worker's session noticing (as another worker's commit): seen
    when the version is next read, here at once rather than after `CHECK_EVERY_SECONDS`."""
    before = exits(view(empty_session, world.cip_a).report)
    newcomer = dataset.person(empty_session, world.a.id, "Nadia", "Nouvelle", "2026-02-02")
    cache.forget()  # as if the flush above had happened in another worker
    view(empty_session, world.cip_a)
    counted["compute"] = 0
    # Another worker's write: a Core statement, no flush of this worker's.
    empty_session.execute(
        insert(Exit).values(participant_id=newcomer.id, exited_on=START.replace(month=5), exit_type="cdi")
    )
    cache.VIEWS.check_now()
    assert exits(view(empty_session, world.cip_a).report) == before + 1
    assert counted["compute"] == 1


def test_the_protected_and_exact_views_of_a_structure_are_kept_apart(
    empty_session: Session, world: World
) -> None:
    scope = f"structure:{world.a.id}"
    exact = view(empty_session, world.cip_a, scope).report
    protected = view(empty_session, world.coordinator, scope).report
    assert not exact.protected
    assert protected.protected
    count = exits(exact)
    assert 0 < count < 5
    assert exits(protected) == SMALL
    # Kept, each as it was: the CIP still sees the exact figure after the coordinator's view.
    assert exits(view(empty_session, world.cip_a, scope).report) == count
    assert exits(view(empty_session, world.coordinator, scope).report) == SMALL
