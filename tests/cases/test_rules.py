"""The path rules as plain functions: contracts, hours, path end (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from referral.cases.rules import (
    ContractSpan,
    Renewal,
    add_months,
    contract_problems,
    months_between,
    path_dates,
)

ENTRY = date(2025, 1, 6)
PATH = path_dates("PHC", ENTRY, [])


def problems(new: ContractSpan, *existing: ContractSpan) -> dict[str, list[str]]:
    return contract_problems(new, list(existing), PATH)


def test_add_months_keeps_the_day_or_takes_the_month_end() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert months_between(date(2025, 1, 6), date(2025, 7, 5)) == 5
    assert months_between(date(2025, 1, 6), date(2025, 7, 6)) == 6


@pytest.mark.parametrize(("hours", "accepted"), [(4, True), (20, True), (3.5, False), (20.5, False)])
def test_phc_is_four_to_twenty_hours(hours: float, accepted: bool) -> None:
    result = problems(ContractSpan("cddi_phc", hours, ENTRY, None))
    assert (result == {}) is accepted
    if not accepted:
        assert result["weekly_hours"] == ["Un contrat Premières Heures compte de 4 à 20 heures par semaine."]


def test_phc_hours_progress_and_never_step_back() -> None:
    first = ContractSpan("cddi_phc", 6, ENTRY, date(2025, 2, 28))
    assert problems(ContractSpan("cddi_phc", 8, date(2025, 3, 1), None), first) == {}
    refused = problems(ContractSpan("cddi_phc", 4, date(2025, 3, 1), None), first)
    assert "n'est pas une progression" in refused["weekly_hours"][0]


def test_same_kind_contracts_never_overlap() -> None:
    first = ContractSpan("cddi_phc", 4, ENTRY, date(2025, 2, 28))
    assert problems(ContractSpan("cddi_phc", 6, date(2025, 3, 1), None), first) == {}  # the next day: fine
    refused = problems(ContractSpan("cddi_phc", 6, date(2025, 2, 28), None), first)
    assert "chevauche" in refused["starts_on"][0]


def test_cdi_and_cddi_together_stay_within_35_hours() -> None:
    path = path_dates("CVG", ENTRY, [])
    cddi = ContractSpan("cddi_cvg", 26, ENTRY, date(2025, 12, 31))
    assert (
        contract_problems(ContractSpan("cdi", 9, date(2025, 6, 1), None), [cddi], path) == {}
    )  # 35 h exactly
    refused = contract_problems(ContractSpan("cdi", 10, date(2025, 6, 1), None), [cddi], path)
    assert refused["weekly_hours"] == [
        "Le cumul des contrats (CDI et CDDI) atteindrait 36 h par semaine : 35 h au plus."
    ]
    # Once the CDDI has ended, the CDI may grow.
    assert contract_problems(ContractSpan("cdi", 30, date(2026, 1, 1), None), [cddi], path) == {}


def test_no_insertion_contract_beyond_the_authorised_end() -> None:
    assert PATH.authorised_end == date(2027, 1, 5)
    assert problems(ContractSpan("cddi_phc", 4, ENTRY, date(2027, 1, 5))) == {}
    refused = problems(ContractSpan("cddi_phc", 4, ENTRY, date(2027, 1, 6)))
    assert "fin de parcours autorisée (05/01/2027)" in refused["ends_on"][0]


def test_convergence_path_grows_a_year_per_renewal_up_to_five_years() -> None:
    plain = path_dates("CVG", ENTRY, [])
    assert plain.authorised_end == date(2027, 1, 5)
    assert plain.next_decision_due == date(2027, 1, 5)
    renewed = path_dates("CVG", ENTRY, [Renewal(True, date(2028, 1, 5)), Renewal(False, None)])
    assert renewed.authorised_end == date(2028, 1, 5)
    at_limit = path_dates("CVG", ENTRY, [Renewal(True, date(2031, 1, 5))])
    assert at_limit.authorised_end == date(2030, 1, 5)  # never beyond five years
    assert at_limit.next_decision_due is None
