"""What the browser tests share: signing in through the form, and the small worlds they build in
the live server's database (a partner of Lyon with one opportunity, a person followed by the demo
CIP's structure, the consents that person gave)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory, Need, Participant
from referral.partners.models import Opportunity, OpportunityStatus, Partner
from referral.territories.models import Programme, Structure, Territory
from tests.browser.conftest import LiveServer
from tests.helpers import DEMO_PASSWORD

DEMO_STRUCTURE = "fndsa-lyon"  # the demo CIP's structure


def sign_in(page, server: LiveServer, email: str) -> None:
    """Through the sign-in form, as a person would; waits for the home page."""
    page.goto(f"{server.url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{server.url}/")


def lyon_opportunity(
    session: Session,
    *,
    partner: str,
    kind: str,
    title: str,
    domain: str,
    shared: list[str],
    capacity: int = 2,
) -> Opportunity:
    """A new partner of Lyon and its published opportunity, validated by the CPs."""
    lyon = session.scalar(select(Territory).where(Territory.slug == "lyon"))
    assert lyon is not None
    owner = Partner(name=partner, kind=kind, town="Lyon")
    session.add(owner)
    session.flush()
    opportunity = Opportunity(
        partner_id=owner.id,
        territory_id=lyon.id,
        title=title,
        domain_code=domain,
        capacity=capacity,
        status=OpportunityStatus.PUBLISHED,
        requires_cp_validation=True,
        shared_categories=shared,
    )
    session.add(opportunity)
    session.flush()
    return opportunity


def demo_person(
    session: Session,
    *,
    first_name: str,
    last_name: str,
    birth_date: date,
    in_programme_days: int,
    housing_status: str,
    need_domain: str | None = None,
) -> Participant:
    """A person followed by the demo CIP's structure for `in_programme_days` days, with an open
    need of priority 1 in `need_domain` when given."""
    structure = session.scalar(select(Structure).where(Structure.key == DEMO_STRUCTURE))
    assert structure is not None
    person = Participant(
        structure_id=structure.id,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        programme=Programme.CVG,
        entered_on=clock.today() - timedelta(days=in_programme_days),
        housing_status=housing_status,
        health_coverage="puma",
        residence_status="francaise",
    )
    session.add(person)
    session.flush()
    if need_domain is not None:
        session.add(
            Need(participant_id=person.id, domain_code=need_domain, priority=1, opened_on=person.entered_on)
        )
    return person


def consents(
    session: Session,
    person: Participant,
    given: Iterable[tuple[ConsentRecipient, DataCategory]],
    *,
    on: date | None = None,
) -> None:
    """The person agreed, on `on` (today by default), to share each category with each recipient
    (the CPs, or any partner)."""
    for recipient, category in given:
        session.add(
            Consent(
                participant_id=person.id,
                recipient=recipient,
                data_category=category,
                given_on=on or clock.today(),
            )
        )
    session.flush()
