"""The network's French pages through the test client: forms, duplicate warning, criteria
editor, states, history, search without JavaScript, meetings, office hours, workshops."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral import clock
from referral.partners.models import NetworkMeeting, Opportunity, OpportunityStatus, Partner, PartnerTerritory
from tests import factories
from tests.helpers import DEMO, csrf_token, login


@pytest.fixture
def cp_client(client: FlaskClient) -> FlaskClient:
    login(client, DEMO["cp_logement"])
    return client


def form_token(client: FlaskClient, path: str) -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def landlord(session: Session) -> Partner:
    return session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))


def test_navigation_of_each_role(client: FlaskClient) -> None:
    login(client, DEMO["cp_logement"])
    html = client.get("/reseau/").get_data(as_text=True)
    for label in ("Réseau", "Réunions", "Permanences", "Ateliers"):
        assert f">{label}</a>" in html
    assert "Ajouter un partenaire" in html
    client.post("/deconnexion", data={"csrf_token": csrf_token(html)})
    login(client, DEMO["coordinator"])
    html = client.get("/reseau/").get_data(as_text=True)
    assert "Ajouter un partenaire" not in html
    assert ">Permanences</a>" not in html


def test_creating_a_partner_shows_the_likely_duplicate_then_confirms(
    cp_client: FlaskClient, session: Session
) -> None:
    token = form_token(cp_client, "/reseau/partenaires/nouveau")
    form = {
        "csrf_token": token,
        "name": "Habitat Rhone Solidaire demo",
        "kind": "bailleur_social",
        "town": "lyon",
        "deployment_status": "deployed",
        "contact-0-name": "Inès Garnier",
        "contact-0-email": "ines@exemple.org",
    }
    before = session.scalar(select(func.count(Partner.id)))
    warned = cp_client.post("/reseau/partenaires/nouveau", data=form)
    assert warned.status_code == 409
    html = warned.get_data(as_text=True)
    assert "Ce partenaire existe peut-être déjà" in html
    assert f'href="/reseau/partenaires/{landlord(session).id}"' in html
    assert "Ouvrir la fiche existante" in html
    assert 'value="Inès Garnier"' in html  # what was typed is kept
    assert session.scalar(select(func.count(Partner.id))) == before

    created = cp_client.post("/reseau/partenaires/nouveau", data=form | {"confirm_new": "on"})
    assert created.status_code == 302
    partner_page = cp_client.get(created.headers["Location"]).get_data(as_text=True)
    assert "Partenaire « Habitat Rhone Solidaire demo » ajouté au réseau." in partner_page
    assert "Inès Garnier" in partner_page


def test_partner_form_errors_are_french_and_beside_the_field(cp_client: FlaskClient) -> None:
    token = form_token(cp_client, "/reseau/partenaires/nouveau")
    response = cp_client.post(
        "/reseau/partenaires/nouveau",
        data={
            "csrf_token": token,
            "name": "",
            "kind": "association",
            "siret": "123",
            "contact-0-name": "",
            "contact-0-email": "x",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Le SIRET compte exactement 14 chiffres." in html or "Entre 1 et 200 caractères." in html
    assert 'id="name-erreur"' in html


def test_an_opportunity_from_draft_to_published_with_history(
    cp_client: FlaskClient, session: Session
) -> None:
    partner = landlord(session)
    path = f"/reseau/opportunites/nouvelle?partner_id={partner.id}"
    token = form_token(cp_client, path)
    created = cp_client.post(
        "/reseau/opportunites/nouvelle",
        data={
            "csrf_token": token,
            "partner_id": str(partner.id),
            "title": "Logement très social (PLAI)",
            "domain": "logement",
            "subtypes": "logement.social",
            "capacity": "2",
            "answer_delay_days": "45",
            "requires_cp_validation": "on",
            "shared_categories": ["situation", "resources"],
            "documents_required": "Avis d'imposition\nPièce d'identité",
            "criterion-0-field": "housing_status",
            "criterion-0-op": "in",
            "criterion-0-value": "chu, chrs",
            "criterion-0-hard": "on",
            "criterion-0-weight": "1",
            "criterion-1-field": "age",
            "criterion-1-op": "between",
            "criterion-1-value": "18 et 30",
            "criterion-1-weight": "2,5",
            "criterion-2-field": "",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    opportunity = session.scalar(
        select(Opportunity).where(Opportunity.title == "Logement très social (PLAI)")
    )
    assert opportunity.status is OpportunityStatus.DRAFT
    assert [(c.field, c.op, c.value, c.hard, c.weight) for c in opportunity.criteria] == [
        ("housing_status", "in", ["chu", "chrs"], True, 1.0),
        ("age", "between", [18, 30], False, 2.5),
    ]
    assert opportunity.documents_required == ["Avis d'imposition", "Pièce d'identité"]
    page = cp_client.get(f"/reseau/opportunites/{opportunity.id}").get_data(as_text=True)
    assert (
        "Situation de logement parmi Centre d’hébergement d’urgence (CHU), "
        "Centre d’hébergement et de réinsertion sociale (CHRS) (obligatoire)"
    ) in page
    assert "Âge entre 18 et 30 ans (préférence, poids 2.5)" in page

    token = csrf_token(page)
    published = cp_client.post(
        f"/reseau/opportunites/{opportunity.id}/publish", data={"csrf_token": token, "version": "1"}
    )
    assert published.status_code == 302
    session.expire_all()
    assert session.get(Opportunity, opportunity.id).status is OpportunityStatus.PUBLISHED

    refused = cp_client.post(f"/reseau/opportunites/{opportunity.id}/publish", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "ne peut pas être publiée" in refused.get_data(as_text=True)

    edit_page = cp_client.get(f"/reseau/opportunites/{opportunity.id}/modifier").get_data(as_text=True)
    assert 'value="chu, chrs"' in edit_page
    edited = cp_client.post(
        f"/reseau/opportunites/{opportunity.id}/modifier",
        data={
            "csrf_token": csrf_token(edit_page),
            "version": "2",
            "title": "Logement très social (PLAI)",
            "domain": "logement",
            "subtypes": "logement.social",
            "capacity": "4",
            "answer_delay_days": "45",
            "requires_cp_validation": "on",
            "criterion-0-field": "housing_status",
            "criterion-0-op": "in",
            "criterion-0-value": "chu, chrs",
            "criterion-0-hard": "on",
            "criterion-0-weight": "1",
        },
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)
    page = cp_client.get(f"/reseau/opportunites/{opportunity.id}").get_data(as_text=True)
    assert "<strong>Modifiée</strong> le" in page
    assert "nombre de places" in page

    stale = cp_client.post(
        f"/reseau/opportunites/{opportunity.id}/modifier",
        data={"csrf_token": token, "version": "2", "title": "Autre titre", "domain": "logement"},
    )
    assert stale.status_code == 409
    assert "modifiée entre-temps" in stale.get_data(as_text=True)


def test_bad_criteria_are_shown_on_their_row(cp_client: FlaskClient, session: Session) -> None:
    partner = landlord(session)
    token = form_token(cp_client, f"/reseau/opportunites/nouvelle?partner_id={partner.id}")
    response = cp_client.post(
        "/reseau/opportunites/nouvelle",
        data={
            "csrf_token": token,
            "partner_id": str(partner.id),
            "title": "Critères fautifs",
            "domain": "logement",
            "criterion-0-field": "age",
            "criterion-0-op": "gte",
            "criterion-0-value": "dix-huit",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "« Âge » attend un nombre." in html
    assert 'id="criterion-0-erreur"' in html


def test_search_works_without_javascript(client: FlaskClient) -> None:
    login(client, DEMO["cip"])
    html = client.get("/reseau/?q=habitat+rhone+solidiare").get_data(as_text=True)
    assert "Habitat Rhône Solidaire (démo)" in html
    assert 'src="/static/partners-search.js"' in html
    with client.get("/static/partners-search.js") as script:
        assert script.status_code == 200
        assert "textContent" in script.get_data(as_text=True)


def test_a_meeting_page_with_its_agenda_and_printable_version(
    cp_client: FlaskClient, session: Session
) -> None:
    session.add(
        NetworkMeeting(
            territory_id=factories.territory(session).id,
            held_at=datetime.now().astimezone(),
            title="Précédente",
        )
    )
    opportunity = factories.opportunity(
        session,
        partner_id=landlord(session).id,
        territory_id=factories.territory(session).id,
        title="Offre du mois",
        status=OpportunityStatus.DRAFT,
    )
    session.commit()
    token = form_token(cp_client, f"/reseau/opportunites/{opportunity.id}")
    cp_client.post(f"/reseau/opportunites/{opportunity.id}/publish", data={"csrf_token": token})
    when = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    created = cp_client.post(
        "/reseau/reunions",
        data={"csrf_token": token, "title": "Réunion de mutualisation", "held_at": when, "place": "Salle 1"},
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    page = cp_client.get(created.headers["Location"]).get_data(as_text=True)
    assert "Nouvelle opportunité : Offre du mois" in page
    assert 'href="/static/partners.css"' in page
    meeting_path = created.headers["Location"]
    added = cp_client.post(f"{meeting_path}/points", data={"csrf_token": token, "title": "Tour de table"})
    assert added.status_code == 302
    minutes = cp_client.post(
        f"{meeting_path}/compte-rendu", data={"csrf_token": token, "minutes": "Bonne réunion."}
    )
    assert minutes.status_code == 302
    printable = cp_client.get(f"{meeting_path}/impression").get_data(as_text=True)
    assert "Tour de table" in printable
    assert "Bonne réunion." in printable
    with cp_client.get("/static/partners.css") as stylesheet:
        assert "@media print" in stylesheet.get_data(as_text=True)
    refused = cp_client.post(f"{meeting_path}/points", data={"csrf_token": token, "title": ""})
    assert refused.status_code == 422


def test_office_hours_pages(client: FlaskClient, session: Session) -> None:
    login(client, DEMO["cp_logement"])
    token = form_token(client, "/reseau/permanences")
    when = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    published = client.post(
        "/reseau/permanences",
        data={"csrf_token": token, "starts_at": when, "duration": "60", "place": "Bureau CP"},
    )
    assert published.status_code == 302, published.get_data(as_text=True)
    bad = client.post("/reseau/permanences", data={"csrf_token": token, "starts_at": "", "duration": "5"})
    assert bad.status_code == 422
    client.post("/deconnexion", data={"csrf_token": token})

    person = factories.participant(session, first_name="Yanis", last_name="Quarante")
    session.commit()
    login(client, DEMO["cip"])
    page = client.get("/reseau/permanences").get_data(as_text=True)
    assert "Bureau CP" in page
    slot_id = int(page.split("/reseau/permanences/")[1].split("/")[0])
    booked = client.post(
        f"/reseau/permanences/{slot_id}/reservation",
        data={"csrf_token": csrf_token(page), "participant_id": str(person.id), "topic": "Accès au logement"},
    )
    assert booked.status_code == 302
    assert "Yanis" in client.get("/reseau/permanences").get_data(as_text=True)
    client.post("/deconnexion", data={"csrf_token": csrf_token(page)})

    login(client, DEMO["cp_logement"])
    cp_page = client.get("/reseau/permanences").get_data(as_text=True)
    assert "Y. Q. · " in cp_page
    assert "Quarante" not in cp_page


def test_workshops_page(cp_client: FlaskClient) -> None:
    token = form_token(cp_client, "/reseau/ateliers")
    created = cp_client.post(
        "/reseau/ateliers",
        data={
            "csrf_token": token,
            "held_on": clock.today().isoformat(),
            "theme": "Les droits du locataire",
            "audience": "salaries",
            "domain": "logement",
            "attendance_count": "9",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    page = cp_client.get("/reseau/ateliers").get_data(as_text=True)
    assert "Les droits du locataire" in page
    refused = cp_client.post(
        "/reseau/ateliers", data={"csrf_token": token, "held_on": "", "theme": "", "audience": "x"}
    )
    assert refused.status_code == 422


def test_the_national_team_picks_a_territory(client: FlaskClient) -> None:
    login(client, DEMO["admin"])
    html = client.get("/reseau/").get_data(as_text=True)
    assert "Choisissez le territoire à consulter." in html
    lyon = client.get("/reseau/?territoire=lyon").get_data(as_text=True)
    assert "Habitat Rhône Solidaire (démo)" in lyon
    assert "CPAM de Paris" not in lyon


def test_pages_need_no_inline_script_or_style(cp_client: FlaskClient, session: Session) -> None:
    """The CSP is « default-src 'self' »: an inline script or style attribute would be ignored."""
    import re

    partner = landlord(session)
    opportunity = session.scalar(
        select(Opportunity).where(Opportunity.partner_id == partner.id).order_by(Opportunity.id)
    )
    for path in (
        "/reseau/",
        "/reseau/partenaires/nouveau",
        f"/reseau/partenaires/{partner.id}",
        f"/reseau/opportunites/nouvelle?partner_id={partner.id}",
        f"/reseau/opportunites/{opportunity.id}",
        f"/reseau/opportunites/{opportunity.id}/modifier",
        "/reseau/reunions",
        "/reseau/permanences",
        "/reseau/ateliers",
    ):
        response = cp_client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert ' style="' not in html, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path


def test_the_network_page_reads_a_fixed_number_of_times(
    cp_client: FlaskClient, session: Session, demo_connection
) -> None:
    """No query per partner or per opportunity (N+1): more rows, the same number of queries."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def queries_for(path: str) -> int:
        statements.clear()
        event.listen(demo_connection, "before_cursor_execute", count)
        try:
            assert cp_client.get(path).status_code == 200
        finally:
            event.remove(demo_connection, "before_cursor_execute", count)
        return len(statements)

    before = queries_for("/reseau/")
    lyon = factories.territory(session)
    for index in range(5):
        partner = factories.partner(session, name=f"Partenaire compté {index}")
        session.add(PartnerTerritory(partner_id=partner.id, territory_id=lyon.id))
        factories.opportunity(
            session, partner_id=partner.id, territory_id=lyon.id, title=f"Offre comptée {index}"
        )
    session.commit()
    assert queries_for("/reseau/") == before


# --- The network page, 50 partners and 50 opportunities a page (issue 20) ---------------------


def _grow_network(session: Session, count: int, prefix: str) -> None:
    lyon = factories.territory(session)
    for index in range(count):
        partner = factories.partner(session, name=f"{prefix} {index:03d}")
        session.add(PartnerTerritory(partner_id=partner.id, territory_id=lyon.id))
        factories.opportunity(
            session, partner_id=partner.id, territory_id=lyon.id, title=f"{prefix} offre {index:03d}"
        )
    session.commit()


def _names(html: str, prefix: str) -> list[str]:
    return re.findall(rf">({prefix}(?: offre)? \d{{3}})</a>", html)


def _totals(html: str) -> tuple[int, int]:
    partners, offers = re.findall(
        r'(?:Partenaires|Opportunités) <span class="badge bg-secondary">(\d+)</span>', html
    )
    return int(partners), int(offers)


def test_the_network_page_shows_fifty_partners_a_page_with_the_search_over_all(
    cp_client: FlaskClient, session: Session, count_statements
) -> None:
    _grow_network(session, 60, "Zzpagine")
    first = cp_client.get("/reseau/").get_data(as_text=True)
    partners_total, offers_total = _totals(first)
    last_partners, last_offers = -(-partners_total // 50), -(-offers_total // 50)
    assert min(last_partners, last_offers) >= 2
    assert f"page 1 sur {last_partners}" in first
    assert f"page 1 sur {last_offers}" in first
    assert 'href="/reseau/?page=2" rel="next"' in first
    assert 'href="/reseau/?page_offres=2" rel="next"' in first

    # Every partner and opportunity is reached exactly once, page after page, at most 50 a page;
    # the last page of a list has no next link.
    seen: list[str] = []
    for number in range(1, max(last_partners, last_offers) + 1):
        html = cp_client.get(f"/reseau/?page={number}&page_offres={number}").get_data(as_text=True)
        partner_links = re.findall(r'href="/reseau/partenaires/\d+"', html)
        offer_links = re.findall(r'href="/reseau/opportunites/\d+"', html)
        assert len(partner_links) == min(50, max(0, partners_total - 50 * (number - 1)))
        assert len(offer_links) == min(50, max(0, offers_total - 50 * (number - 1)))
        if number == last_partners:
            assert f"page {number} sur {number}" in html
            assert f"page={number + 1}" not in html
        seen += _names(html, "Zzpagine")
    expected = [f"Zzpagine {i:03d}" for i in range(60)] + [f"Zzpagine offre {i:03d}" for i in range(60)]
    assert sorted(seen) == sorted(expected)

    # Each list's links keep the other's page.
    middle = cp_client.get("/reseau/?page_offres=2").get_data(as_text=True)
    assert "/reseau/?page_offres=2&amp;page=2" in middle
    assert "/reseau/?page_offres=1" in middle

    # A page number that is not one shows the first page; one past the last, an empty list.
    for bad in ("abc", "0", "-2", "²", "9" * 20):
        response = cp_client.get(f"/reseau/?page={bad}")
        assert response.status_code == 200
        assert f"page 1 sur {last_partners}" in response.get_data(as_text=True)
    beyond = cp_client.get("/reseau/?page=999&page_offres=999").get_data(as_text=True)
    assert _names(beyond, "Zzpagine") == []
    assert _totals(beyond) == (partners_total, offers_total)

    # The search looks through the whole network, not the page shown.
    found = cp_client.get("/reseau/?q=zzpagine 059").get_data(as_text=True)
    assert "Zzpagine 059" in found

    # As many statements for a page whatever the network's size, and for any page.
    with count_statements() as sent:
        assert cp_client.get("/reseau/").status_code == 200
    before = len(sent)
    _grow_network(session, 30, "Encore")
    with count_statements() as sent:
        assert cp_client.get("/reseau/").status_code == 200
    assert len(sent) == before
    with count_statements() as sent:
        assert cp_client.get("/reseau/?page=2&page_offres=2").status_code == 200
    assert len(sent) == before
