"""Every indicator on the hand-built dataset of `dataset.py`, answers worked out here by hand.

The figures are computed exactly (`indicators.compute`, no protection): what people outside the
structure see is the same figures protected, tested in `test_protection.py`.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from referral.cases import entry_situation
from referral.cases import services as cases
from referral.cases.models import Participant
from referral.reporting import indicators
from referral.reporting.context import Context, Period, Scope
from referral.reporting.definitions import DAYS_PER_MONTH
from referral.reporting.figures import Ratio, Report, Stat, cell_value
from referral.territories.models import Programme
from tests.reporting import dataset
from tests.reporting.dataset import END, START, TODAY, World


@pytest.fixture
def world(empty_session: Session) -> World:
    return dataset.build(empty_session)


def lyon(world: World, start: date = START, end: date = END, programme: Programme | None = None) -> Scope:
    return Scope("territory", world.lyon.id, "Lyon", protected=False, slug_or_id="lyon")


def compute(
    session: Session, scope: Scope, start: date = START, end: date = END, programme: Programme | None = None
) -> Report:
    return indicators.compute(Context(session, scope, Period(start, end), programme, TODAY))


def value(report: Report, table: str, row: str, column: str) -> object:
    return cell_value(report.table(table).cell(row, column))


def test_activity_counts_people_once_and_paths_twice(empty_session: Session, world: World) -> None:
    report = compute(empty_session, lyon(world))
    # Active in 2026: Alice's two paths, Bruno, Chloé (CVG); Damien, Emma, Farid (PHC). Gilles
    # left in 2025; Hugo is in Lille.
    assert value(report, "activity", "people", "CVG") == 3  # Alice once, Bruno, Chloé
    assert value(report, "activity", "paths", "CVG") == 4  # Alice twice
    assert value(report, "activity", "people", "PHC") == 3
    assert value(report, "activity", "people", "total") == 6
    assert value(report, "activity", "paths", "total") == 7
    # Entries of 2026: Alice's return, Chloé, Damien, Farid.
    assert value(report, "activity", "entries", "CVG") == 2
    assert value(report, "activity", "entries", "PHC") == 2
    # Exits of 2026: Alice's first path, Bruno, Chloé.
    assert value(report, "activity", "exits", "CVG") == 3
    assert value(report, "activity", "exits", "PHC") == 0
    lengths = [
        (date(2026, 2, 28) - date(2025, 3, 1)).days,  # 364
        (date(2026, 3, 15) - date(2024, 1, 15)).days,  # 790
        (date(2026, 11, 30) - date(2026, 2, 1)).days,  # 302
    ]
    assert lengths == [364, 790, 302]
    mean = report.table("activity").cell("mean_months", "CVG")
    median = report.table("activity").cell("median_months", "CVG")
    assert isinstance(mean, Stat)
    assert isinstance(median, Stat)
    assert mean.n == 3
    assert mean.value == pytest.approx(sum(lengths) / 3 / DAYS_PER_MONTH)
    assert median.value == pytest.approx(364 / DAYS_PER_MONTH)
    # Only Bruno's path lasted more than 730 days (Emma's has 486 at the end of 2026).
    assert value(report, "activity", "past_24_months", "total") == 1
    # Bruno's renewal: asked in 2025, granted in January 2026.
    assert value(report, "activity", "renewals_requested", "total") == 0
    assert value(report, "activity", "renewals_granted", "CVG") == 1
    assert value(report, "activity", "renewals_pending", "total") == 0
    monthly = report.table("activity_monthly")
    assert [row.key for row in monthly.rows][:2] == ["2026-01", "2026-02"]
    assert monthly.cell("2026-06", "entries") == 1  # Alice came back
    assert monthly.cell("2026-02", "exits") == 1
    assert monthly.cell("2026-03", "exits") == 1
    assert monthly.cell("2026-11", "exits") == 1


def test_a_path_over_two_periods_counts_in_both_but_enters_once(empty_session: Session, world: World) -> None:
    before = compute(empty_session, lyon(world), date(2025, 1, 1), date(2025, 12, 31))
    # 2025: Alice's first path (entered), Bruno (under way), Emma (entered), Gilles (left).
    assert value(before, "activity", "paths", "total") == 4
    assert value(before, "activity", "entries", "total") == 2
    assert value(before, "activity", "exits", "total") == 1  # Gilles
    assert value(before, "activity", "renewals_requested", "CVG") == 1
    assert value(before, "activity", "renewals_pending", "CVG") == 1  # decided in January 2026
    after = compute(empty_session, lyon(world))
    assert value(after, "activity", "entries", "total") == 4  # Bruno is not an entry of 2026


def test_exits_by_family_and_dynamic_rate(empty_session: Session, world: World) -> None:
    report = compute(empty_session, lyon(world))
    assert value(report, "exits_by_family", "emploi_durable", "exits") == 1  # Alice, CDI
    assert value(report, "exits_by_family", "sortie_positive", "exits") == 1  # Chloé, training
    assert value(report, "exits_by_family", "autre_sortie", "exits") == 1  # Bruno
    assert value(report, "exits_by_family", "emploi_transition", "exits") == 0
    assert value(report, "exits_by_family", "dynamic", "exits") == 2
    assert value(report, "exits_by_family", "dynamic", "share") == pytest.approx(66.7)
    assert value(report, "exits_by_type", "cdi", "exits") == 1
    assert [row.key for row in report.table("exits_by_type").rows] == [
        "cdi",
        "formation_qualifiante",
        "recherche_emploi",
    ]


def test_entry_to_exit_housing_health_and_rights(empty_session: Session, world: World) -> None:
    report = compute(empty_session, lyon(world))
    flows = report.table("housing_flows")
    assert flows.cell("rue", "logement") == 1  # Alice: street → social housing
    assert flows.cell("urgence", "urgence") == 1  # Bruno: CHU → CHU
    assert flows.cell("insertion", "logement_accompagne") == 1  # Chloé: chez un tiers → résidence sociale
    assert flows.cell("total", "total") == 3
    assert report.table("housing_share").cell("entry", "share") == Ratio(0, 3)
    assert report.table("housing_share").cell("exit", "share") == Ratio(2, 3)
    health = report.table("health")
    # Better care: Alice (aucune → CSS), Bruno (doctor found); not Chloé (AME → AME).
    assert health.cell("better_health_care", "share") == Ratio(2, 3)
    # More rights: Alice only (a right opened at exit); Bruno kept the PUMa he had.
    assert health.cell("more_rights", "share") == Ratio(1, 3)
    assert health.cell("doctor_exit", "people") == 2
    assert health.cell("covered_entry", "people") == 2  # Bruno (PUMa), Chloé (AME)
    assert report.table("coverage_flows").cell("aucune", "css") == 1


def test_entry_figures_keep_the_situation_the_record_had_at_entry(
    empty_session: Session, world: World
) -> None:
    """The CIP updates the record as the situation changes (Alice housed, her coverage and
    Bruno's doctor found during the path): « à l'entrée » still says what the record said when
    it was created, so the progress stays visible."""
    cases.update_participant(
        empty_session,
        world.cip_a,
        world.people["alice1"].id,
        {"housing_status": "logement_social", "health_coverage": "css"},
    )
    cases.update_health(empty_session, world.cip_a, world.people["bruno"].id, {"has_treating_doctor": True})
    alice = empty_session.get_one(Participant, world.people["alice1"].id)
    assert (alice.housing_status, alice.housing_status_at_entry) == ("logement_social", "rue")
    assert (alice.health_coverage, alice.health_coverage_at_entry) == ("css", "aucune")

    report = compute(empty_session, lyon(world))
    assert report.table("housing_flows").cell("rue", "logement") == 1  # not « logement → logement »
    assert report.table("housing_share").cell("entry", "share") == Ratio(0, 3)
    assert report.table("coverage_flows").cell("aucune", "css") == 1
    health = report.table("health")
    assert health.cell("doctor_entry", "people") == 0  # Bruno's doctor came during the path
    assert health.cell("better_health_care", "share") == Ratio(2, 3)


def test_entry_figures_count_a_corrected_entry_situation(empty_session: Session, world: World) -> None:
    """A record created with a wrong situation at entry, corrected through the service: the
    entry → exit figures count the corrected entry, not the one first typed."""
    created = cases.create_participant(
        empty_session,
        world.cip_a,
        {
            "first_name": "Inès",
            "last_name": "Lefort",
            "birth_date": date(1984, 2, 9),
            "programme": "CVG",
            "entered_on": date(2026, 3, 2),
            "housing_status": "chu",  # typed by mistake: she slept in the street
            "health_coverage": "puma",
            "residence_status": "francaise",
        },
        confirm_new=True,
    )
    dataset.leave(
        empty_session, created, "2026-11-30", "cdi", housing_status="logement_social", health_coverage="puma"
    )
    before = compute(empty_session, lyon(world)).table("housing_flows")
    assert (before.cell("urgence", "logement"), before.cell("rue", "logement")) == (1, 1)  # Inès; Alice

    entry_situation.correct_entry_situation(
        empty_session,
        world.cip_a,
        created.id,
        {
            "housing_status_at_entry": "rue",
            "health_coverage_at_entry": "aucune",
            "reason": "Erreur de saisie.",
        },
    )
    report = compute(empty_session, lyon(world))
    flows = report.table("housing_flows")
    assert flows.cell("urgence", "logement") == 0
    assert flows.cell("rue", "logement") == 2  # Alice and Inès
    assert flows.cell("total", "total") == 4
    assert report.table("coverage_flows").cell("aucune", "puma") == 1  # Inès, now « aucune » at entry
    assert report.table("housing_share").cell("entry", "share") == Ratio(0, 4)


def test_premieres_heures_progression(empty_session: Session, world: World) -> None:
    report = compute(empty_session, lyon(world))
    progression = report.table("phc_progression")
    assert progression.cell("4", "start") == 2  # Damien, Farid
    assert progression.cell("5_8", "start") == 1  # Emma
    assert progression.cell("20", "top") == 2  # Damien (20 h), Emma (CDDI 26 h)
    assert progression.cell("4", "top") == 1  # Farid
    summary = report.table("phc_summary")
    assert summary.cell("paths", "value") == 3
    assert summary.cell("reached", "share") == Ratio(2, 3)
    # Damien 119 days = 17 weeks, Emma 371 days = 53 weeks: median 35.
    assert summary.cell("median_weeks", "value") == Stat(35.0, 2)
    assert report.table("phc_by_structure").cell(str(world.b.id), "paths") == 3
    assert "phc_progression" not in [
        t.key for t in compute(empty_session, lyon(world), programme=Programme.CVG).tables()
    ]


def test_follow_ups_due_done_late_and_an_exit_without_follow_up_yet(
    empty_session: Session, world: World
) -> None:
    report = compute(empty_session, lyon(world))
    table = report.table("follow_ups")
    # Due in 2026: Alice's 6-month (done), Bruno's 6-month (late), Gilles's 12-month (done).
    assert table.cell("due", "six_months") == 2
    assert table.cell("due", "twelve_months") == 1
    assert table.cell("done", "total") == 2
    assert table.cell("late", "total") == 1
    assert table.cell("upcoming", "total") == 0
    # Chloé left in November: her first follow-up is due in May 2027.
    assert table.cell("exits_not_yet_due", "total") == 1
    outcomes = report.table("follow_up_outcomes")
    assert outcomes.cell("emploi", "six_months") == 1
    assert outcomes.cell("contact_perdu", "twelve_months") == 1
    assert outcomes.cell("contact_perdu", "share") == Ratio(1, 2)


def test_referrals_acceptance_delays_reasons_and_needs_without_answer(
    empty_session: Session, world: World
) -> None:
    report = compute(empty_session, lyon(world))
    by_domain = report.table("referrals_by_domain")
    # Logement: Alice accepted in 4 days, Bruno refused in 10. Santé: Damien waitlisted in 2
    # days (an answer for the delay, not for the rate), then abandoned. Chloé's is of 2025.
    assert by_domain.cell("logement", "referrals") == 2
    assert by_domain.cell("logement", "acceptance") == Ratio(1, 2)
    assert by_domain.cell("logement", "answer_days") == Stat(7.0, 2)
    assert by_domain.cell("sante", "answered") == 0
    assert by_domain.cell("total", "referrals") == 3
    assert by_domain.cell("total", "answer_days") == Stat(4.0, 3)
    states = report.table("referrals_by_state")
    assert {row.key: row.cells[0] for row in states.rows} == {"accepted": 1, "refused": 1, "abandoned": 1}
    reasons = report.table("referral_reasons")
    assert reasons.cell("partner_refuse:pas_de_place", "referrals") == 1
    assert reasons.cell("abandon:injoignable", "referrals") == 1
    partners = {row.label: row.cells for row in report.table("referrals_by_partner").rows}
    assert partners["Bailleur du Rhône"][0] == 2
    needs = report.table("needs_without_answer")
    # Open at the end of 2026: Alice's logement (referred), Damien's santé (referred), Farid's
    # mobilité (nothing, and no mobility offer in Lyon). Emma's is resolved; Bruno left.
    assert needs.cell("total", "open") == 3
    assert needs.cell("mobilite", "without_referral") == 1
    assert needs.cell("mobilite", "without_offer") == 1
    assert needs.cell("logement", "without_offer") == 0
    assert needs.cell("total", "without_referral") == 1


def test_scope_of_one_structure_and_of_everyone(empty_session: Session, world: World) -> None:
    structure_a = Scope("structure", world.a.id, "A", protected=False, slug_or_id=str(world.a.id))
    report = compute(empty_session, structure_a)
    assert value(report, "activity", "people", "total") == 3
    assert value(report, "activity", "paths", "PHC") == 0
    everyone = compute(empty_session, Scope("all", None, "Tous", protected=False))
    assert value(everyone, "activity", "people", "total") == 7  # Hugo in Lille too
    only_phc = compute(empty_session, lyon(world), programme=Programme.PHC)
    assert [c.key for c in only_phc.table("activity").columns] == ["PHC"]
    assert value(only_phc, "activity", "people", "PHC") == 3
