"""The case record through the API and the services: each rule accepted, at its edge, and refused
with its French message; a refused change leaves the record exactly as it was."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases import listing, services
from referral.cases.models import ConsentRecipient, DataCategory, Need, NeedStatus, Participant
from referral.paging import PageRequest
from referral.territories.models import User
from referral.territories.queries import user_by_email
from tests.helpers import DEMO

TODAY = clock.today()
ENTRY = TODAY - timedelta(days=60)


def new_person(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "first_name": "Yasmine",
        "last_name": "Benaïssa",
        "birth_date": "1988-04-02",
        "programme": "PHC",
        "entered_on": ENTRY.isoformat(),
        "housing_status": "chu",
        "health_coverage": "aucune",
        "residence_status": "francaise",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def cip(bearer) -> dict[str, str]:
    return bearer("cip")


@pytest.fixture
def person(client: FlaskClient, cip: dict[str, str]) -> dict:
    response = client.post("/api/v1/participants", json=new_person(), headers=cip)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def snapshot(session: Session, participant_id: int) -> dict:
    session.expire_all()
    person = session.get(Participant, participant_id)
    return {
        "row": {column.key: getattr(person, column.key) for column in Participant.__table__.columns},
        "contracts": [(c.kind, c.weekly_hours, c.starts_on, c.ends_on) for c in person.contracts],
        "needs": [(n.domain_code, n.status) for n in person.needs],
        "consents": [(c.recipient, c.data_category, c.revoked_on) for c in person.consents],
    }


# --- Creating and editing -----------------------------------------------------------------


def test_create_then_read_the_record(client: FlaskClient, cip, person: dict) -> None:
    assert person["programme"] == "PHC"
    assert person["path"]["authorised_end"] is not None
    again = client.get(f"/api/v1/participants/{person['id']}", headers=cip).get_json()
    assert again["last_name"] == "Benaïssa"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "Entre 1 et 120 caractères."),
        ({"housing_status": "chateau"}, "housing_status", "Code inconnu : « chateau »."),
        ({"programme": "XYZ"}, "programme", "Valeur inconnue"),
        (
            {"birth_date": "2030-01-01"},
            "birth_date",
            "La date de naissance doit précéder l'entrée dans le parcours.",
        ),
        ({"household_size": 2, "children": 2}, "children", "moins d'enfants que de personnes"),
        ({"residence_status": "titre_valide"}, "residence_permit_expires_on", "Indiquez la date de fin"),
        ({"monthly_resources": "beaucoup"}, "monthly_resources", "Nombre entier attendu."),
        ({"birth_date": "02/04/1988"}, "birth_date", "Date invalide (format AAAA-MM-JJ attendu)."),
    ],
)
def test_create_refuses_bad_input_in_french(
    client: FlaskClient, cip, session: Session, overrides: dict, field: str, message: str
) -> None:
    before = len(session.scalars(select(Participant)).all())
    response = client.post("/api/v1/participants", json=new_person(**overrides), headers=cip)
    assert response.status_code == 422
    assert any(message in text for text in response.get_json()["errors"][field])
    assert len(session.scalars(select(Participant)).all()) == before


def test_a_programme_the_structure_does_not_carry_is_refused(client: FlaskClient, bearer) -> None:
    # The second Lyon demo structure carries Convergence only.
    response = client.post(
        "/api/v1/participants", json=new_person(programme="PHC"), headers=bearer("cip_other")
    )
    assert response.status_code == 422
    assert "ne porte pas le programme" in response.get_json()["errors"]["programme"][0]


def test_a_refused_edit_leaves_the_record_as_it_was(
    client: FlaskClient, cip, session: Session, person: dict
) -> None:
    before = snapshot(session, person["id"])
    response = client.patch(
        f"/api/v1/participants/{person['id']}",
        json={"monthly_resources": 500, "housing_status": "inconnu"},
        headers=cip,
    )
    assert response.status_code == 422
    assert snapshot(session, person["id"]) == before
    ok = client.patch(f"/api/v1/participants/{person['id']}", json={"monthly_resources": 500}, headers=cip)
    assert ok.get_json()["monthly_resources"] == 500


# --- Duplicates and transfers -------------------------------------------------------------


def test_someone_followed_elsewhere_is_flagged_then_transferred(
    client: FlaskClient, bearer, session: Session, person: dict
) -> None:
    other_cip = bearer("cip_other")
    typo = new_person(first_name="yasmine", last_name="Benaissa", programme="CVG")
    response = client.post("/api/v1/participants", json=typo, headers=other_cip)
    assert response.status_code == 409
    body = response.get_json()
    (candidate,) = body["candidates"]
    assert candidate["structure_name"]
    assert "autre structure du territoire" in body["detail"]
    assert "first_name" not in candidate  # nothing more of the record than who follows it
    assert "participant_id" not in candidate  # nor a handle on it

    # The transfer names the person as the warning found them.
    transfer = client.post(
        "/api/v1/transfers",
        json={
            "first_name": "yasmine",
            "last_name": "Benaissa",
            "birth_date": "1988-04-02",
            "consent_given_on": TODAY.isoformat(),
        },
        headers=other_cip,
    )
    assert transfer.status_code == 202
    # The holding structure sees the request and which structure asks.
    (pending,) = client.get("/api/v1/transfers", headers=bearer("cip")).get_json()
    assert pending["participant_id"] == person["id"]
    assert (
        pending["to_structure_name"]
        == session.get(User, user_by_email(session, DEMO["cip_other"]).id).structure.name
    )
    # The asking structure sees nothing pending: that would say whom the request matched.
    assert client.get("/api/v1/transfers", headers=other_cip).get_json() == []
    # Only the structure that follows the person may hand the record over.
    assert (
        client.post(
            f"/api/v1/transfers/{pending['id']}/decision",
            json={"accept": True},
            headers=other_cip,
        ).status_code
        == 404
    )
    decided = client.post(
        f"/api/v1/transfers/{pending['id']}/decision",
        json={"accept": True},
        headers=bearer("cip"),
    )
    assert decided.get_json()["state"] == "accepted"
    moved = client.get(f"/api/v1/participants/{person['id']}", headers=other_cip)
    assert moved.status_code == 200
    assert client.get(f"/api/v1/participants/{person['id']}", headers=bearer("cip")).status_code == 404


def test_a_different_person_may_be_confirmed(client: FlaskClient, bearer, person: dict) -> None:
    payload = new_person(programme="CVG", confirm_new=True)
    assert client.post("/api/v1/participants", json=payload, headers=bearer("cip_other")).status_code == 201


def test_another_birth_date_is_not_a_duplicate(client: FlaskClient, bearer, person: dict) -> None:
    payload = new_person(programme="CVG", birth_date="1988-04-03")
    assert client.post("/api/v1/participants", json=payload, headers=bearer("cip_other")).status_code == 201


# --- Contracts ----------------------------------------------------------------------------


def post_contract(client: FlaskClient, cip, person: dict, **values: object):
    return client.post(f"/api/v1/participants/{person['id']}/contracts", json=values, headers=cip)


def test_phc_progression_closes_the_previous_step(client: FlaskClient, cip, person: dict) -> None:
    assert (
        post_contract(
            client, cip, person, kind="cddi_phc", weekly_hours=4, starts_on=ENTRY.isoformat()
        ).status_code
        == 201
    )
    step = ENTRY + timedelta(days=30)
    response = post_contract(client, cip, person, kind="cddi_phc", weekly_hours=6, starts_on=step.isoformat())
    assert response.status_code == 201
    contracts = client.get(f"/api/v1/participants/{person['id']}", headers=cip).get_json()["contracts"]
    assert [(c["weekly_hours"], c["ends_on"]) for c in contracts] == [
        (4, (step - timedelta(days=1)).isoformat()),
        (6, None),
    ]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"kind": "cddi_phc", "weekly_hours": 3}, "weekly_hours", "de 4 à 20 heures"),
        ({"kind": "cddi_phc", "weekly_hours": 22}, "weekly_hours", "de 4 à 20 heures"),
        ({"kind": "cdi", "weekly_hours": 10}, "employer_name", "Champ obligatoire pour un CDI."),
        (
            {"kind": "cddi", "weekly_hours": 26, "employer_name": "Franprix"},
            "employer_name",
            "Réservé au CDI.",
        ),
        ({"kind": "cddi_phc", "weekly_hours": 4, "starts_on": "2001-01-01"}, "starts_on", "avant l'entrée"),
        ({"kind": "nimporte", "weekly_hours": 4}, "kind", "Valeur inconnue"),
    ],
)
def test_contract_rules_refuse_in_french(
    client: FlaskClient, cip, session: Session, person: dict, values: dict, field: str, message: str
) -> None:
    before = snapshot(session, person["id"])
    values.setdefault("starts_on", ENTRY.isoformat())
    response = post_contract(client, cip, person, **values)
    assert response.status_code == 422
    assert any(message in text for text in response.get_json()["errors"][field])
    assert snapshot(session, person["id"]) == before


def test_progressive_hiring_keeps_35_hours_together(client: FlaskClient, bearer) -> None:
    cip = bearer("cip_other")
    created = client.post(
        "/api/v1/participants",
        json=new_person(programme="CVG", first_name="Karim", last_name="Haddad"),
        headers=cip,
    ).get_json()
    assert (
        post_contract(
            client,
            cip,
            created,
            kind="cddi_cvg",
            weekly_hours=26,
            starts_on=ENTRY.isoformat(),
            ends_on=(ENTRY + timedelta(days=300)).isoformat(),
        ).status_code
        == 201
    )
    franprix = ENTRY + timedelta(days=40)
    assert (
        post_contract(
            client,
            cip,
            created,
            kind="cdi",
            weekly_hours=9,
            employer_name="Franprix",
            starts_on=franprix.isoformat(),
        ).status_code
        == 201
    )
    refused = post_contract(
        client,
        cip,
        created,
        kind="cdi",
        weekly_hours=12,
        employer_name="Franprix",
        starts_on=(franprix + timedelta(days=30)).isoformat(),
    )
    assert refused.status_code == 422
    assert "35 h au plus" in refused.get_json()["errors"]["weekly_hours"][0]


def test_no_contract_past_the_authorised_end(client: FlaskClient, cip, person: dict) -> None:
    end = date.fromisoformat(person["path"]["authorised_end"])
    response = post_contract(
        client,
        cip,
        person,
        kind="cddi_phc",
        weekly_hours=4,
        starts_on=ENTRY.isoformat(),
        ends_on=(end + timedelta(days=1)).isoformat(),
    )
    assert response.status_code == 422
    assert "fin de parcours autorisée" in response.get_json()["errors"]["ends_on"][0]


# --- Needs, consents, referents, notes, health --------------------------------------------


def test_needs_open_and_resolve(client: FlaskClient, cip, person: dict) -> None:
    need = client.post(
        f"/api/v1/participants/{person['id']}/needs",
        json={"domain": "logement", "subtype": "logement.social", "priority": 1},
        headers=cip,
    )
    assert need.status_code == 201
    need_id = need.get_json()["id"]
    bad = client.post(
        f"/api/v1/participants/{person['id']}/needs",
        json={"domain": "logement", "subtype": "sante.medecin_traitant"},
        headers=cip,
    )
    assert bad.status_code == 422
    assert "subtype" in bad.get_json()["errors"]
    resolved = client.patch(
        f"/api/v1/participants/{person['id']}/needs/{need_id}", json={"status": "resolved"}, headers=cip
    )
    assert resolved.get_json()["resolved_on"] == TODAY.isoformat()


def test_consent_answers_may_share_until_revoked(
    client: FlaskClient, cip, session: Session, person: dict
) -> None:
    pid = person["id"]
    assert not services.may_share(
        session, pid, recipient=ConsentRecipient.CP, category=DataCategory.RESOURCES
    )
    given = client.post(
        f"/api/v1/participants/{pid}/consents",
        json={"recipient": "cp", "data_category": "resources"},
        headers=cip,
    ).get_json()
    assert services.may_share(session, pid, recipient=ConsentRecipient.CP, category=DataCategory.RESOURCES)
    # Consent is per category and per recipient.
    assert not services.may_share(session, pid, recipient=ConsentRecipient.CP, category=DataCategory.HEALTH)
    assert not services.may_share(
        session, pid, recipient=ConsentRecipient.PARTNER, category=DataCategory.RESOURCES
    )
    client.post(f"/api/v1/participants/{pid}/consents/{given['id']}/revoke", json={}, headers=cip)
    assert not services.may_share(
        session, pid, recipient=ConsentRecipient.CP, category=DataCategory.RESOURCES
    )
    assert (
        services.may_share(
            session,
            pid,
            recipient=ConsentRecipient.CP,
            category=DataCategory.RESOURCES,
            on=TODAY - timedelta(days=1),
        )
        is False
    )  # given today: not before


def test_consent_for_one_partner_or_all(client: FlaskClient, cip, session: Session, person: dict) -> None:
    from referral.partners.models import Partner

    landlord = session.scalars(select(Partner).order_by(Partner.id)).first()
    client.post(
        f"/api/v1/participants/{person['id']}/consents",
        json={"recipient": "partner", "data_category": "situation", "partner_id": landlord.id},
        headers=cip,
    )
    assert services.may_share(
        session,
        person["id"],
        recipient=ConsentRecipient.PARTNER,
        category=DataCategory.SITUATION,
        partner_id=landlord.id,
    )
    assert not services.may_share(
        session,
        person["id"],
        recipient=ConsentRecipient.PARTNER,
        category=DataCategory.SITUATION,
        partner_id=landlord.id + 1,
    )
    refused = client.post(
        f"/api/v1/participants/{person['id']}/consents",
        json={"recipient": "cp", "data_category": "situation", "partner_id": landlord.id},
        headers=cip,
    )
    assert refused.status_code == 422


def test_health_details_only_for_the_cip(client: FlaskClient, cip, bearer, person: dict) -> None:
    url = f"/api/v1/participants/{person['id']}/health"
    assert (
        client.put(url, json={"rqth": True, "treating_doctor": "Dr Martin"}, headers=cip).status_code == 200
    )
    assert client.get(url, headers=cip).get_json()["has_treating_doctor"] is True
    for role in ("cp_sante", "coordinator", "admin", "cip_other"):
        assert client.get(url, headers=bearer(role)).status_code in (403, 404)


def test_referents_and_notes(client: FlaskClient, cip, person: dict) -> None:
    referent = client.post(
        f"/api/v1/participants/{person['id']}/referents",
        json={"name": "Mme Dupont", "organisation": "SIAO 69", "role": "siao"},
        headers=cip,
    )
    assert referent.status_code == 201
    unknown = client.post(
        f"/api/v1/participants/{person['id']}/referents", json={"name": "X", "role": "sorcier"}, headers=cip
    )
    assert unknown.status_code == 422
    assert (
        client.post(
            f"/api/v1/participants/{person['id']}/notes", json={"body": "  "}, headers=cip
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/participants/{person['id']}/notes", json={"body": "RDV CPAM"}, headers=cip
        ).status_code
        == 201
    )


# --- Path: renewals, exit, follow-ups -----------------------------------------------------


def convergence_person(client: FlaskClient, cip, months_ago: int) -> dict:
    entered = TODAY - timedelta(days=months_ago * 30)
    response = client.post(
        "/api/v1/participants",
        json={
            **new_person(
                programme="CVG",
                first_name="Léa",
                last_name=f"Parcours{months_ago}",
                entered_on=entered.isoformat(),
            ),
            # Parcours30 and Parcours36 share a birth date and nearly a name: within one structure
            # that is now a likely duplicate (issue 15); these are two people on purpose.
            "confirm_new": True,
        },
        headers=cip,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_renewal_from_the_third_year(client: FlaskClient, cip) -> None:
    early = convergence_person(client, cip, 6)
    refused = client.post(
        f"/api/v1/participants/{early['id']}/renewals", json={"motivation": "Motivée"}, headers=cip
    )
    assert refused.status_code == 422
    assert "Trop tôt" in refused.get_json()["detail"]

    due = convergence_person(client, cip, 22)
    end = date.fromisoformat(due["path"]["authorised_end"])
    request = client.post(
        f"/api/v1/participants/{due['id']}/renewals",
        json={"motivation": "Relogement en cours, mobilisation forte."},
        headers=cip,
    )
    assert request.status_code == 201
    twice = client.post(
        f"/api/v1/participants/{due['id']}/renewals", json={"motivation": "Encore"}, headers=cip
    )
    assert twice.status_code == 409
    decided = client.post(
        f"/api/v1/participants/{due['id']}/renewals/{request.get_json()['id']}/decision",
        json={"granted": True},
        headers=cip,
    )
    assert decided.status_code == 200
    record = client.get(f"/api/v1/participants/{due['id']}", headers=cip).get_json()
    assert date.fromisoformat(record["path"]["authorised_end"]) > end + timedelta(days=360)


def test_phc_paths_are_not_renewed_by_the_commission(client: FlaskClient, cip, person: dict) -> None:
    response = client.post(
        f"/api/v1/participants/{person['id']}/renewals", json={"motivation": "x"}, headers=cip
    )
    assert response.status_code == 409


def test_exit_creates_follow_ups_at_six_and_twelve_months(client: FlaskClient, cip, person: dict) -> None:
    exit_day = TODAY - timedelta(days=1)
    response = client.post(
        f"/api/v1/participants/{person['id']}/exit",
        json={
            "exited_on": exit_day.isoformat(),
            "exit_type": "cdi",
            "housing_status": "logement_social",
            "continued_accompaniment": True,
        },
        headers=cip,
    )
    assert response.status_code == 201
    follow_ups = response.get_json()["follow_ups"]
    from referral.cases.rules import add_months

    assert [f["due_on"] for f in follow_ups] == [
        add_months(exit_day, 6).isoformat(),
        add_months(exit_day, 12).isoformat(),
    ]
    again = client.post(
        f"/api/v1/participants/{person['id']}/exit",
        json={"exited_on": TODAY.isoformat(), "exit_type": "cdi"},
        headers=cip,
    )
    assert again.status_code == 409
    bad = client.post(
        f"/api/v1/participants/{person['id']}/followups",
        json={"follow_up_id": follow_ups[0]["id"], "outcome": "inconnu"},
        headers=cip,
    )
    assert bad.status_code == 422
    done = client.post(
        f"/api/v1/participants/{person['id']}/followups",
        json={"follow_up_id": follow_ups[0]["id"], "outcome": "emploi_meme_employeur"},
        headers=cip,
    )
    assert done.status_code == 200
    assert done.get_json()["done_on"] == TODAY.isoformat()


def test_exit_type_must_be_known(client: FlaskClient, cip, person: dict) -> None:
    response = client.post(
        f"/api/v1/participants/{person['id']}/exit",
        json={"exited_on": TODAY.isoformat(), "exit_type": "evaporation"},
        headers=cip,
    )
    assert response.status_code == 422
    assert "exit_type" in response.get_json()["errors"]


# --- Timeline and list --------------------------------------------------------------------


def test_timeline_in_date_order(client: FlaskClient, cip, person: dict) -> None:
    pid = person["id"]
    post_contract(client, cip, person, kind="cddi_phc", weekly_hours=4, starts_on=ENTRY.isoformat())
    post_contract(
        client,
        cip,
        person,
        kind="cddi_phc",
        weekly_hours=6,
        starts_on=(ENTRY + timedelta(days=20)).isoformat(),
    )
    client.post(
        f"/api/v1/participants/{pid}/needs",
        json={"domain": "logement", "opened_on": ENTRY.isoformat()},
        headers=cip,
    )
    client.post(
        f"/api/v1/participants/{pid}/consents",
        json={"recipient": "cp", "data_category": "situation"},
        headers=cip,
    )
    events = client.get(f"/api/v1/participants/{pid}/timeline", headers=cip).get_json()
    titles = [event["title"] for event in events]
    assert titles[0].startswith("Entrée dans le parcours")
    assert any("4 h par semaine" in t for t in titles)
    assert any("6 h par semaine" in t for t in titles)
    assert any(t.startswith("Frein identifié : Logement") for t in titles)
    assert any(t.startswith("Consentement") for t in titles)
    days = [event["on"] for event in events]
    assert days == sorted(days)


def test_list_search_is_typo_and_accent_tolerant(session: Session, person: dict) -> None:
    actor = user_by_email(session, DEMO["cip"])
    everyone = PageRequest(limit=200)
    found = listing.case_lines(session, actor, everyone, query="benaisa yasmin").items
    assert person["id"] in [line.id for line in found]
    assert listing.case_lines(session, actor, everyone, query="zzzz qqqq").items == []
    housing = {line.id for line in listing.case_lines(session, actor, everyone, need_domain="logement").items}
    with_open_housing_need = set(
        session.scalars(
            select(Need.participant_id).where(
                Need.domain_code == "logement", Need.status != NeedStatus.RESOLVED
            )
        )
    )
    assert housing
    assert housing == with_open_housing_need & {
        line.id for line in listing.case_lines(session, actor, everyone).items
    }
    phc = listing.case_lines(session, actor, everyone, programme="PHC").items
    assert phc
    assert all(line.programme.value == "PHC" for line in phc)
    assert listing.case_lines(session, actor, everyone, programme="XYZ").items == []
