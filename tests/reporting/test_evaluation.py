"""The evaluation export: keyed pseudonyms, no name or free text or exact date, objections left
out, k-anonymity, the national team only, audited; and the objection field on the record."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.audit.models import AuditEntry
from referral.cases.models import CaseNote, Need, Participant
from referral.reporting import evaluation
from referral.reporting.evaluation import COLUMNS, evaluation_export, k_anonymise
from referral.reporting.exceptions import EvaluationExportRefused, InvalidReportRequest
from referral.territories.queries import user_by_email
from tests.helpers import DEMO, csrf_token, login
from tests.reporting import dataset
from tests.reporting.dataset import TODAY, World

KEY = "clé-de-l-équipe-nationale-2026"
OTHER_KEY = "une-autre-clé-tout-aussi-longue"


@pytest.fixture
def world(empty_session: Session) -> World:
    return dataset.build(empty_session)


def export(
    session: Session, world: World, key: str = KEY, k: int = evaluation.K
) -> evaluation.EvaluationExport:
    return evaluation_export(
        session, world.admin, key, start=date(2020, 1, 1), end=date(2026, 12, 31), today=TODAY, k=k
    )


def test_rows_pseudonyms_and_codes(empty_session: Session, world: World) -> None:
    # k = 1 here: the hand-built dataset is far too small for groups of 5.
    result = export(empty_session, world, k=1)
    assert result.rows
    by_path = {row["parcours"]: row for row in result.rows}
    alice = [
        evaluation.pseudonym(KEY.encode(), f"parcours|{world.people[k].id}") for k in ("alice1", "alice2")
    ]
    first, second = by_path[alice[0]], by_path[alice[1]]
    # The same person across her two records, two paths.
    assert first["personne"] == second["personne"]
    assert first["entree"] == "2025-03"
    assert first["sortie"] == "2026-02"
    assert first["famille_sortie"] == "emploi_durable"
    assert first["logement_entree"] == "rue"
    assert first["logement_sortie"] == "logement_social"
    assert first["droits_ouverts"] == 1
    assert first["suivi_6_mois"] == "emploi_meme_employeur"
    assert second["domaines_acceptes"] == "logement"
    damien = by_path[evaluation.pseudonym(KEY.encode(), f"parcours|{world.people['damien'].id}")]
    assert (damien["heures_depart"], damien["heures_max"], damien["semaines_vers_20h"]) == (4, 20, 17)
    assert damien["orientations_abandonnees"] == 1
    bruno = by_path[evaluation.pseudonym(KEY.encode(), f"parcours|{world.people['bruno'].id}")]
    assert bruno["suivi_6_mois"] == "non fait"
    assert bruno["tranche_age_entree"] == "46 à 55 ans"  # born 1975, entered 2024
    assert list(first) == list(COLUMNS)


def test_pseudonyms_stable_with_the_same_key_different_with_another(
    empty_session: Session, world: World
) -> None:
    person = world.people["chloe"]
    one = evaluation.person_pseudonym(KEY.encode(), person.first_name, person.last_name, person.birth_date)
    again = evaluation.person_pseudonym(KEY.encode(), "  CHLOÉ ", "durand", person.birth_date)
    other = evaluation.person_pseudonym(
        OTHER_KEY.encode(), person.first_name, person.last_name, person.birth_date
    )
    assert one == again
    assert one != other
    assert re.fullmatch(r"[0-9a-f]{64}", one)


def test_objections_are_left_out_and_counted(empty_session: Session, world: World) -> None:
    before = export(empty_session, world, k=1)
    world.people["emma"].objects_to_evaluation = True
    empty_session.flush()
    after = export(empty_session, world, k=1)
    emma = evaluation.pseudonym(KEY.encode(), f"parcours|{world.people['emma'].id}")
    assert emma in {row["parcours"] for row in before.rows}
    assert emma not in {row["parcours"] for row in after.rows}
    assert (before.excluded_objections, after.excluded_objections) == (0, 1)


def test_k_anonymity_generalises_then_removes() -> None:
    def row(age: str, structure: str, month: str) -> dict[str, str]:
        return {"tranche_age_entree": age, "structure": structure, "entree": month}

    common = [row("26 à 35 ans", "a", "2026-01") for _ in range(5)]
    same_year = [row("36 à 45 ans", "b", f"2026-{m:02d}") for m in range(1, 6)]  # 5 months → one year
    alone = [row("56 ans et plus", "c", "2024-07")]
    kept, generalised, removed = k_anonymise(common + same_year + alone, k=5)
    assert generalised == 6
    assert removed == 1
    assert len(kept) == 10
    assert {r["entree"] for r in kept if r["structure"] == "b"} == {"2026"}
    assert all(r["entree"] == "2026-01" for r in kept if r["structure"] == "a")


def test_national_team_only_a_key_needed_and_audited(empty_session: Session, world: World) -> None:
    with pytest.raises(EvaluationExportRefused):
        evaluation_export(
            empty_session, world.coordinator, KEY, start=date(2026, 1, 1), end=date(2026, 12, 31), today=TODAY
        )
    with pytest.raises(InvalidReportRequest) as refused:
        evaluation_export(
            empty_session, world.admin, "court", start=date(2026, 1, 1), end=date(2026, 12, 31), today=TODAY
        )
    assert "key" in refused.value.errors
    result = export(empty_session, world)
    # Nine paths: generalised to (tous âges, généralisé, year), the five entered in 2026 share
    # a group and stay; the four of 2023, 2024 and 2025 are removed.
    assert result.generalised == 9
    assert result.removed == 4
    assert {row["entree"] for row in result.rows} == {"2026"}
    entry = empty_session.scalars(select(AuditEntry).where(AuditEntry.entity == "evaluation_export")).one()
    assert entry.details["removed"] == 4
    assert entry.details["key_id"] == result.key_id
    assert KEY not in str(entry.details)


def test_no_name_free_text_note_or_birth_date_in_the_files(session: Session) -> None:
    """On the demo territory: every demo person's names, birth dates, notes and comments are
    searched for in the XLSX and the CSV."""
    admin = user_by_email(session, DEMO["admin"])
    assert admin is not None
    # k = 1 keeps every row, to search them all.
    result = evaluation_export(
        session, admin, KEY, start=date(2000, 1, 1), end=date(2030, 12, 31), today=date(2026, 12, 1), k=1
    )
    people = session.execute(
        select(Participant.first_name, Participant.last_name, Participant.birth_date)
    ).all()
    assert len(result.rows) == len(people)
    workbook = load_workbook(io.BytesIO(result.to_xlsx()))
    data_sheet = " | ".join(
        str(v) for row in workbook["Données"].iter_rows(values_only=True) for v in row if v is not None
    )
    texts = [data_sheet, result.to_csv().decode("utf-8-sig")]
    notes = [body for (body,) in session.execute(select(CaseNote.body))]
    comments = [c for (c,) in session.execute(select(Need.comment).where(Need.comment.is_not(None)))]
    for text in texts:
        for first, last, born in people:
            assert not re.search(rf"\b{re.escape(first)}\b", text), first
            assert not re.search(rf"\b{re.escape(last)}\b", text), last
            assert born.isoformat() not in text
            assert f"{born:%d/%m/%Y}" not in text
        for free_text in notes + comments:
            assert free_text not in text
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", texts[1])  # no exact date at all


def test_the_objection_is_on_the_record_form_and_the_api(
    client: FlaskClient, session: Session, bearer
) -> None:  # type: ignore[no-untyped-def]
    cip = bearer("cip")
    listing = client.get("/api/v1/participants", headers=cip).get_json()
    person_id = (listing["items"] if isinstance(listing, dict) else listing)[0]["id"]
    shown = client.get(f"/api/v1/participants/{person_id}", headers=cip).get_json()
    assert shown["objects_to_evaluation"] is False
    changed = client.patch(
        f"/api/v1/participants/{person_id}", json={"objects_to_evaluation": True}, headers=cip
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["objects_to_evaluation"] is True
    login(client, DEMO["cip"])
    page = client.get(f"/salaries/{person_id}").get_data(as_text=True)
    assert (
        "Opposition à l&#39;utilisation pour l&#39;évaluation" in page
        or "Opposition à l'utilisation pour l'évaluation" in page
    )
    form = client.post(
        f"/salaries/{person_id}/situation",
        data={"csrf_token": csrf_token(page), "objects_to_evaluation": "false"},
    )
    assert form.status_code in (302, 303)
    assert session.get(Participant, person_id).objects_to_evaluation is False  # type: ignore[union-attr]


def test_the_evaluation_page_is_for_the_national_team(client: FlaskClient) -> None:
    login(client, DEMO["coordinator"])
    assert client.get("/indicateurs/evaluation").status_code == 403
    client.post("/deconnexion", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    login(client, DEMO["admin"])
    page = client.get("/indicateurs/evaluation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Dictionnaire des données" in html
    token = csrf_token(html)
    short = client.post(
        "/indicateurs/evaluation",
        data={"csrf_token": token, "from": "2020-01-01", "to": "2026-12-31", "key": "x"},
    )
    assert short.status_code == 422
    assert "Au moins 16 caractères" in short.get_data(as_text=True)
    done = client.post(
        "/indicateurs/evaluation",
        data={"csrf_token": token, "from": "2020-01-01", "to": "2026-12-31", "key": KEY},
    )
    assert done.status_code == 200
    workbook = load_workbook(io.BytesIO(done.data))
    assert workbook.sheetnames == ["Lisez-moi", "Données", "Dictionnaire"]
