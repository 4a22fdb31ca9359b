"""The right-of-access export (« droit d'accès », DESIGN §8): the whole record of one person,
JSON-ready, for the CIP of their structure only, and itself logged as a read of the record."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from referral import clock
from referral.audit.models import AuditAction, AuditEntry
from referral.audit.queries import logged_about
from referral.cases import export as record_export
from referral.cases import path, rules, services, transfers
from referral.cases.exceptions import ParticipantNotFound, RecordsNotVisible
from referral.cases.models import ContractKind, Participant
from referral.db import utcnow
from referral.partners.models import OfficeHour
from referral.reference import queries as reference
from referral.referrals.models import ReferralState, ReferralTransition
from referral.territories.models import Role
from tests import factories
from tests.helpers import acting, demo_user

TODAY = clock.today()
# A Convergence path in its last six months of the first 24: a renewal may be asked for today.
ENTRY = rules.add_months(TODAY, -22)
EXPORT_ENTRY = {"what": "export du dossier (droit d'accès)"}


user = demo_user


def exports_logged(session: Session, participant_id: int) -> list[AuditEntry]:
    return logged_about(session, participant_id, AuditAction.EXPORT)


@pytest.fixture
def record(session: Session) -> int:
    """A record with something in every section, written through the services by its CIP (and a
    transfer asked for by another structure's)."""
    cip = acting(session, "cip")
    person = factories.participant(
        session,
        last_name="Exportée",
        programme="CVG",
        entered_on=ENTRY,
        referent_id=cip.id,
        monthly_resources=610,
    )
    pid = person.id
    factories.contract(
        session, participant_id=pid, kind=ContractKind.CDDI_CVG, weekly_hours=26, starts_on=ENTRY
    )
    services.add_need(
        session,
        cip,
        pid,
        {"domain": "logement", "subtype": "logement.social", "priority": 1, "opened_on": ENTRY},
    )
    services.record_consent(
        session, cip, pid, {"recipient": "cp", "data_category": "health", "given_on": ENTRY}
    )
    services.add_referent(
        session, cip, pid, {"name": "Mme Dupont", "organisation": "SIAO 69", "role": "siao"}
    )
    services.add_note(
        session, cip, pid, {"body": "Premier entretien : demande de logement social.", "domain": "logement"}
    )
    services.update_health(
        session, cip, pid, {"rqth": True, "treating_doctor": "Dr Martin", "addictions": "Tabac"}
    )
    renewal = path.request_renewal(session, cip, pid, {"motivation": "Démarches de logement en cours."})
    path.decide_renewal(session, cip, pid, renewal.id, {"granted": True})
    path.record_exit(session, cip, pid, {"exited_on": TODAY, "exit_type": "cdi"})
    six_months = person.follow_ups[0]
    path.record_follow_up(
        session,
        cip,
        pid,
        six_months.id,
        {"outcome": "emploi_meme_employeur", "comment": "Toujours en poste."},
    )

    cp = user(session, "cp_logement")
    landlord = factories.partner(session, name="Bailleur du Rhône")
    opportunity = factories.opportunity(session, partner_id=landlord.id, title="Logement accompagné")
    referral = factories.referral(
        session,
        participant_id=pid,
        opportunity_id=opportunity.id,
        state=ReferralState.REFUSED,
        created_by_id=cip.id,
    )
    session.add_all(
        [
            ReferralTransition(
                referral_id=referral.id,
                action="submit",
                from_state=ReferralState.DRAFT,
                to_state=ReferralState.SUBMITTED,
                actor_id=cip.id,
                actor_role=Role.CIP,
            ),
            ReferralTransition(
                referral_id=referral.id,
                action="partner_refuse",
                from_state=ReferralState.SENT,
                to_state=ReferralState.REFUSED,
                actor_id=cp.id,
                actor_role=Role.CP,
                reason="pas_de_place",
                comment="Plus de place avant juin.",
            ),
        ]
    )
    starts = utcnow() + timedelta(days=3)
    session.add(
        OfficeHour(
            territory_id=factories.territory(session).id,
            cp_id=cp.id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            booked_by_id=cip.id,
            participant_id=pid,
            topic="Dossier de logement social",
        )
    )
    session.flush()

    other = acting(session, "cip_other")
    person = session.get(Participant, pid)
    transfers.request_transfer(
        session,
        other,
        first_name=person.first_name,
        last_name=person.last_name,
        birth_date=person.birth_date,
        consent_given_on=TODAY,
        comment="Rejoint notre chantier.",
    )
    acting(session, "cip")
    return pid


def test_the_export_holds_the_whole_record_with_codes_and_labels(session: Session, record: int) -> None:
    cip, cp = user(session, "cip"), user(session, "cp_logement")
    export = record_export.export_record(session, cip, record)

    assert json.loads(json.dumps(export)) == export  # JSON-ready as it is
    assert "droit d'accès" in export["about"]
    assert datetime.fromisoformat(export["exported_at"]).tzinfo is not None
    assert export["exported_by"]["name"] == cip.full_name

    assert export["identity"]["last_name"] == "Exportée"
    assert export["identity"]["birth_date"] == "1985-03-14"
    situation = export["situation"]
    housing = reference.labels(session, "housing_status")
    assert situation["housing_status"] == {"code": "chu", "label": housing["chu"]}
    assert situation["housing_status_at_entry"] == {"code": "chu", "label": housing["chu"]}
    assert situation["objects_to_evaluation"] is False
    assert situation["programme"] == {"code": "CVG", "label": "Convergence"}
    assert situation["entered_on"] == ENTRY.isoformat()
    assert situation["monthly_resources"] == 610
    assert situation["referent"] == cip.full_name

    (contract,) = export["contracts"]
    assert contract["kind"] == {"code": "cddi_cvg", "label": "CDDI Convergence (CDDI-CVG)"}
    assert contract["ends_on"] == TODAY.isoformat()  # closed by the exit
    (need,) = export["needs"]
    assert need["domain"] == {"code": "logement", "label": "Logement"}
    assert need["subtype"]["code"] == "logement.social"
    assert need["subtype"]["label"] not in ("", "logement.social")
    (consent,) = export["consents"]
    assert consent["data_category"] == {"code": "health", "label": "Santé"}
    assert consent["recorded_by"] == cip.full_name
    (referent,) = export["external_referents"]
    assert referent["role"]["code"] == "siao"
    assert referent["role"]["label"].startswith("SIAO")
    (note,) = export["notes"]
    assert note["body"] == "Premier entretien : demande de logement social."
    assert note["author"] == cip.full_name
    assert note["domain"]["label"] == "Logement"

    # Health is kept apart in the record, but the person is entitled to all of it.
    health = export["health"]
    assert health["rqth"] is True
    assert health["treating_doctor"] == "Dr Martin"
    assert health["has_treating_doctor"] is True
    assert health["addictions"] == "Tabac"
    assert health["updated_by"] == cip.full_name

    (renewal,) = export["renewals"]
    assert renewal["outcome"]["code"] == "granted"
    assert renewal["requested_by"] == cip.full_name
    assert renewal["valid_until"] is not None
    assert export["exit"]["exit_type"] == {
        "code": "cdi",
        "label": reference.labels(session, "exit_type")["cdi"],
    }
    assert [f["kind"]["code"] for f in export["follow_ups"]] == ["six_months", "twelve_months"]
    assert export["follow_ups"][0]["outcome"]["code"] == "emploi_meme_employeur"
    assert export["follow_ups"][0]["done_on"] == TODAY.isoformat()
    assert export["follow_ups"][1]["done_on"] is None

    (transfer,) = export["transfers"]
    assert transfer["state"]["code"] == "requested"
    assert transfer["requested_by"] == user(session, "cip_other").full_name
    assert transfer["comment"] == "Rejoint notre chantier."

    (referral,) = export["referrals"]
    assert referral["opportunity"] == "Logement accompagné"
    assert referral["partner"] == "Bailleur du Rhône"
    assert referral["state"] == {"code": "refused", "label": "Refusée par le partenaire"}
    assert referral["created_on"] == utcnow().date().isoformat()
    submit, refuse = referral["transitions"]
    assert submit["action"] == {"code": "submit", "label": "Soumettre"}
    assert submit["by"] == cip.full_name
    assert refuse["action"]["code"] == "partner_refuse"
    assert refuse["to_state"]["label"] == "Refusée par le partenaire"
    assert refuse["reason"] == {"code": "pas_de_place", "label": "Plus de place disponible"}
    assert refuse["comment"] == "Plus de place avant juin."
    assert refuse["by"] == cp.full_name
    assert refuse["by_role"]["code"] == "cp"
    assert datetime.fromisoformat(refuse["at"])

    (slot,) = export["office_hours"]
    assert slot["with"] == cp.full_name
    assert slot["topic"] == "Dossier de logement social"


def test_the_access_list_says_who_read_or_changed_what(session: Session, record: int) -> None:
    cip = user(session, "cip")
    services.get_participant(session, cip, record)
    services.get_health(session, cip, record)
    accesses = record_export.export_record(session, cip, record)["accesses"]

    cip_role = {"code": "cip", "label": Role.CIP.label}
    assert {"who": cip.full_name, "role": cip_role, "what": "Dossier"} in [
        {key: a[key] for key in ("who", "role", "what")} for a in accesses if a["action"]["code"] == "create"
    ]
    reads = [
        (a["who"], a["what"]) for a in accesses if a["action"] == {"code": "read", "label": "Consultation"}
    ]
    assert (cip.full_name, "Dossier") in reads
    assert (cip.full_name, "Santé") in reads
    # Changes name the fields, never their values.
    assert any(a["what"] == "Contrat (champs : ends_on)" for a in accesses)
    other = user(session, "cip_other")
    assert any(a["who"] == other.full_name and a["what"] == "Transfert" for a in accesses)
    assert [a["at"] for a in accesses] == sorted(a["at"] for a in accesses)


def test_an_export_is_itself_logged_and_listed(session: Session, record: int) -> None:
    cip = user(session, "cip")
    first = record_export.export_record(session, cip, record)
    (logged,) = [entry for entry in exports_logged(session, record) if entry.details == EXPORT_ENTRY]
    assert logged.actor_id == cip.id
    assert first["accesses"][-1]["what"] == "Export du dossier (droit d'accès)"
    assert first["accesses"][-1]["who"] == cip.full_name

    second = record_export.export_record(session, cip, record)
    exports = [a for a in second["accesses"] if a["what"] == "Export du dossier (droit d'accès)"]
    assert len(exports) == 2


def test_a_bare_record_exports_empty_sections(session: Session) -> None:
    cip = acting(session, "cip")
    person = factories.participant(session)
    export = record_export.export_record(session, cip, person.id)
    assert export["health"] is None
    assert export["exit"] is None
    for section in ("contracts", "needs", "consents", "notes", "referrals", "transfers", "follow_ups"):
        assert export[section] == [], section
    assert export["situation"]["referent"] is None
    assert export["situation"]["language_level"] is None
    assert [(a["action"]["code"], a["what"]) for a in export["accesses"]] == [
        ("create", "Dossier"),
        ("export", "Export du dossier (droit d'accès)"),
    ]


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("cip_other", ParticipantNotFound),
        ("cp_sante", RecordsNotVisible),
        ("coordinator", RecordsNotVisible),
        ("admin", RecordsNotVisible),
    ],
)
def test_only_the_cip_of_the_structure_may_export(
    session: Session, record: int, who: str, refusal: type[Exception]
) -> None:
    before = len(exports_logged(session, record))
    with pytest.raises(refusal):
        record_export.export_record(session, acting(session, who), record)
    assert len(exports_logged(session, record)) == before  # a refused export is not logged


def test_another_structure_s_person_answers_like_a_missing_one(session: Session, record: int) -> None:
    other = acting(session, "cip_other")
    with pytest.raises(ParticipantNotFound) as out_of_scope:
        record_export.export_record(session, other, record)
    with pytest.raises(ParticipantNotFound) as missing:
        record_export.export_record(session, other, 999_999)
    assert out_of_scope.value.message == missing.value.message
    assert out_of_scope.value.status == missing.value.status == 404
