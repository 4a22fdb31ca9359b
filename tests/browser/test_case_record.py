"""In Chromium: a CIP opens a record, adds a PHC contract of 4 h then 6 h, a housing need and a
consent, and finds them on the timeline."""

from __future__ import annotations

from datetime import timedelta

from referral import clock
from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in
from tests.helpers import DEMO


def open_form(page, label: str) -> None:
    """The record's forms open on demand (issue 16): unfold the one named `label`."""
    page.locator("details.on-demand > summary", has_text=label).click()


def test_cip_builds_a_record_and_reads_its_timeline(live_server: LiveServer, page) -> None:
    entry = clock.today() - timedelta(days=40)
    step = entry + timedelta(days=21)
    sign_in(page, live_server, DEMO["cip"])
    page.get_by_role("link", name="Mes salarié·es").click()
    page.get_by_role("link", name="Nouveau dossier").click()

    page.get_by_label("Prénom").fill("Aïcha")
    page.locator("#last_name").fill("Navigatrice")
    page.get_by_label("Date de naissance").fill("1979-09-12")
    page.get_by_label("Programme").select_option("PHC")
    page.get_by_label("Date d'entrée").fill(entry.isoformat())
    page.locator("#housing_status").select_option("rue")
    page.get_by_label("Couverture santé").select_option("aucune")
    page.get_by_label("Situation administrative").select_option("francaise")
    page.get_by_role("button", name="Créer le dossier").click()
    page.get_by_text("Dossier de Aïcha Navigatrice créé.").wait_for()

    for starts_on, hours in ((entry, "4"), (step, "6")):
        open_form(page, "Ajouter un contrat")
        contracts = page.get_by_role("form", name="Ajouter un contrat")
        contracts.get_by_label("Type de contrat").select_option("cddi_phc")
        contracts.get_by_label("Heures par semaine").fill(hours)
        contracts.get_by_label("Début").fill(starts_on.isoformat())
        contracts.get_by_role("button", name="Ajouter le contrat").click()
        page.get_by_text("Contrat enregistré.").wait_for()

    open_form(page, "Ajouter un frein")
    needs = page.get_by_role("form", name="Ajouter un frein")
    needs.get_by_label("Domaine").select_option("logement")
    needs.get_by_role("button", name="Ajouter le frein").click()
    page.get_by_text("Frein enregistré.").wait_for()

    open_form(page, "Enregistrer un consentement")
    consent = page.get_by_role("form", name="Enregistrer un consentement")
    consent.get_by_label("Destinataires").select_option("cp")
    consent.get_by_label("Données").select_option("situation")
    consent.get_by_role("button", name="Enregistrer le consentement").click()
    page.get_by_text("Consentement enregistré.").wait_for()

    page.get_by_role("link", name="Chronologie").click()
    timeline = page.locator("#chronologie").inner_text()
    assert "Entrée dans le parcours (Premières Heures en Chantier)" in timeline
    assert "CDDI Premières Heures (CDDI-PHC) : 4 h par semaine" in timeline
    assert "CDDI Premières Heures (CDDI-PHC) : 6 h par semaine" in timeline
    assert "Frein identifié : Logement" in timeline
    assert "Consentement : Identité et situation → Chargé·es de partenariats" in timeline
    # In date order: the 4 h step comes before the 6 h one.
    assert timeline.index(": 4 h par semaine") < timeline.index(": 6 h par semaine")


def test_a_refused_contract_explains_itself(live_server: LiveServer, page) -> None:
    sign_in(page, live_server, DEMO["cip"])
    page.get_by_role("link", name="Mes salarié·es").click()
    page.locator("#liste-salaries tbody a").first.click()
    open_form(page, "Ajouter un contrat")
    contracts = page.get_by_role("form", name="Ajouter un contrat")
    contracts.get_by_label("Type de contrat").select_option("cddi_phc")
    contracts.get_by_label("Heures par semaine").fill("25")
    contracts.get_by_label("Début").fill(clock.today().isoformat())
    contracts.get_by_role("button", name="Ajouter le contrat").click()
    assert page.get_by_text(
        "Un contrat Premières Heures compte de 4 à 20 heures par semaine."
    ).first.is_visible()
