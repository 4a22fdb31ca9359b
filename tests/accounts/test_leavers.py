"""Leavers (issue 19, point 3): closing an account hands its records and open tasks to a colleague
chosen in the same form, ends its sessions and tokens at once, is audited; a monthly job lists
unused accounts to the coordinator."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.audit.models import AuditAction, AuditEntry
from referral.audit.services import Actor, set_actor
from referral.cases import leavers
from referral.db import utcnow
from referral.exceptions import InvalidInput, PermissionDenied
from referral.scheduling.accounts import report_unused_accounts
from referral.tasks.models import Notification, Task, TaskKind, TaskStatus
from referral.tasks.services import ensure_task
from referral.territories import accounts
from referral.territories.models import ApiToken, Role, User
from referral.territories.services import hash_password, issue_token
from tests import factories
from tests.accounts.conftest import demo
from tests.helpers import DEMO, DEMO_PASSWORD, csrf_token, login
from tests.test_cli import run


def colleague_of(session: Session, user: User, name: str = "Colin Collègue") -> User:
    colleague = User(
        email=f"{name.split()[0].lower()}@example.org",
        full_name=name,
        role=user.role,
        structure_id=user.structure_id,
        territory_id=user.territory_id,
        password_hash=hash_password(DEMO_PASSWORD),
    )
    session.add(colleague)
    session.flush()
    return colleague


def task(session: Session, user: User, key: str) -> Task:
    ensure_task(
        session, user_id=user.id, key=key, kind=TaskKind.FOLLOW_UP, title=key, due_on=date(2027, 1, 1)
    )
    found = session.scalar(select(Task).where(Task.user_id == user.id, Task.key == key))
    assert found is not None
    return found


@pytest.fixture
def leaver(session: Session) -> User:
    return demo(session, "cip")


def test_closing_hands_records_and_tasks_to_the_chosen_colleague(session: Session, leaver: User) -> None:
    colleague = colleague_of(session, leaver)
    followed = factories.participant(session, structure_id=leaver.structure_id, referent_id=leaver.id)
    mine = task(session, leaver, "follow_up:test-1")
    shared = task(session, leaver, "follow_up:test-2")
    theirs = task(session, colleague, "follow_up:test-2")
    token, _row = issue_token(session, leaver)
    generation = leaver.session_generation
    records, tasks = leavers.work_of(session, leaver)
    assert followed in records

    handover = leavers.close_leaver_account(
        session, demo(session, "coordinator"), leaver, hand_to_id=colleague.id
    )

    assert (handover.records, handover.tasks, handover.tasks_closed) == (len(records), len(tasks) - 1, 1)
    assert {record.referent_id for record in records} == {colleague.id}
    assert mine.user_id == colleague.id
    assert mine.status is TaskStatus.OPEN
    assert shared.status is TaskStatus.CANCELLED  # the colleague already had the same task
    assert theirs.status is TaskStatus.OPEN
    assert not leaver.is_active
    assert leaver.session_generation > generation
    assert session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == leaver.id)).all() != [None]


def test_a_colleague_must_be_chosen_when_there_is_work_and_someone_to_take_it(
    session: Session, leaver: User
) -> None:
    colleague_of(session, leaver)
    factories.participant(session, structure_id=leaver.structure_id, referent_id=leaver.id)
    with pytest.raises(InvalidInput) as refusal:
        leavers.close_leaver_account(session, demo(session, "coordinator"), leaver, hand_to_id=None)
    assert "hand_to" in refusal.value.errors
    assert leaver.is_active
    other_structure_cip = demo(session, "cip_other")
    with pytest.raises(InvalidInput, match="même rôle"):
        leavers.close_leaver_account(
            session, demo(session, "coordinator"), leaver, hand_to_id=other_structure_cip.id
        )


def test_without_a_colleague_records_lose_their_referent_and_tasks_close(
    session: Session, leaver: User
) -> None:
    followed = factories.participant(session, structure_id=leaver.structure_id, referent_id=leaver.id)
    open_task = task(session, leaver, "follow_up:test-3")
    assert leavers.colleagues(session, leaver) == []
    leavers.close_leaver_account(session, demo(session, "admin"), leaver, hand_to_id=None)
    assert followed.referent_id is None
    assert open_task.status is TaskStatus.CANCELLED


@pytest.mark.parametrize("who", ["cp_emploi", "cip_other"])
def test_only_whoever_may_invite_the_account_closes_it(session: Session, leaver: User, who: str) -> None:
    with pytest.raises(PermissionDenied):
        leavers.close_leaver_account(session, demo(session, who), leaver, hand_to_id=None)
    assert leaver.is_active


def test_a_colleague_cip_may_close_and_nobody_closes_their_own(session: Session, leaver: User) -> None:
    colleague = colleague_of(session, leaver)
    with pytest.raises(PermissionDenied, match="propre compte"):
        accounts.deactivate(session, leaver, leaver)
    leavers.close_leaver_account(session, colleague, leaver, hand_to_id=colleague.id)
    assert not leaver.is_active


def test_closing_and_reopening_are_in_the_audit_log(session: Session, leaver: User) -> None:
    coordinator = demo(session, "coordinator")
    set_actor(session, Actor(user_id=coordinator.id, email=coordinator.email, role="coordinator"))
    leavers.close_leaver_account(session, coordinator, leaver, hand_to_id=None)
    accounts.reactivate(session, coordinator, leaver)
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity == "users",
            AuditEntry.entity_id == leaver.id,
            AuditEntry.action == AuditAction.UPDATE,
        )
        .order_by(AuditEntry.id)
    ).all()
    changed = [entry.details["fields"] for entry in entries]
    assert [fields for fields in changed if "is_active" in fields] == [
        ["is_active", "session_generation"],
        ["is_active"],
    ]
    assert {entry.actor_id for entry in entries} == {coordinator.id}


def test_a_role_or_scope_change_is_audited(session: Session, leaver: User) -> None:
    """Whatever changes a role or a scope (the seed, a command), the users table is audited."""
    leaver.structure_id = demo(session, "cip_other").structure_id
    session.flush()
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "users", AuditEntry.entity_id == leaver.id)
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert entry.details["fields"] == ["structure_id"]


# --- The job -------------------------------------------------------------------------------------


def test_the_job_lists_unused_accounts_to_their_coordinator_once_a_month(session: Session) -> None:
    now = utcnow()
    stale = demo(session, "cip_other")
    stale.created_at = now - timedelta(days=400)
    stale.last_login_at = now - timedelta(days=200)
    recent = demo(session, "cip")
    recent.created_at = now - timedelta(days=400)
    recent.last_login_at = now - timedelta(days=10)
    never = demo(session, "cp_logement")
    never.created_at = now - timedelta(days=190)
    token_user = demo(session, "cp_sante")
    token_user.created_at = now - timedelta(days=400)
    _token, row = issue_token(session, token_user)
    row.last_used_at = now - timedelta(days=3)
    session.flush()

    assert report_unused_accounts(session, now) == 1
    coordinator = demo(session, "coordinator")
    message = session.scalar(select(Notification.message).where(Notification.user_id == coordinator.id))
    assert message is not None
    assert stale.full_name in message
    assert never.full_name in message
    assert recent.full_name not in message
    assert token_user.full_name not in message
    assert report_unused_accounts(session, now + timedelta(days=1)) == 0


# --- Pages and API: cut off at the next request -----------------------------------------------


def test_pages_close_the_account_and_the_leavers_cookie_and_token_stop_at_once(
    client: FlaskClient, session: Session, leaver: User, bearer
) -> None:
    colleague = colleague_of(session, leaver)
    followed = factories.participant(session, structure_id=leaver.structure_id, referent_id=leaver.id)
    session.commit()
    headers = bearer("cip")
    leaver_browser = client.application.test_client()
    login(leaver_browser, DEMO["cip"])
    assert leaver_browser.get(f"/salaries/{followed.id}").status_code == 200
    assert client.application.test_client().get("/api/v1/participants", headers=headers).status_code == 200

    login(client, DEMO["coordinator"])
    listing = client.get("/comptes").get_data(as_text=True)
    assert leaver.full_name in listing
    form = client.get(f"/comptes/{leaver.id}/fermer")
    assert colleague.full_name in form.get_data(as_text=True)
    missing = client.post(
        f"/comptes/{leaver.id}/fermer", data={"csrf_token": csrf_token(form.get_data(as_text=True))}
    )
    assert missing.status_code == 422
    assert "Choisissez la personne qui reprend" in missing.get_data(as_text=True)
    done = client.post(
        f"/comptes/{leaver.id}/fermer",
        data={"hand_to": str(colleague.id), "csrf_token": csrf_token(form.get_data(as_text=True))},
    )
    assert done.status_code == 302

    assert leaver_browser.get(f"/salaries/{followed.id}").status_code == 302  # to the login page
    refused = client.application.test_client().get("/api/v1/participants", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["detail"] == "Jeton d'accès invalide, expiré ou révoqué."
    assert login(leaver_browser, DEMO["cip"]).status_code == 401
    session.expire_all()
    assert session.get(type(followed), followed.id).referent_id == colleague.id


def test_api_closes_within_scope_only(client: FlaskClient, session: Session, bearer) -> None:
    leaver = demo(session, "cp_logement")
    session.commit()
    leaver_headers = bearer("cp_logement")
    assert (
        client.post(f"/api/v1/users/{leaver.id}/deactivate", json={}, headers=bearer("cip")).status_code
        == 404
    )
    listed = client.get("/api/v1/users", headers=bearer("coordinator")).get_json()
    assert {row["role"] for row in listed} == {Role.CP.value, Role.CIP.value}
    response = client.post(f"/api/v1/users/{leaver.id}/deactivate", json={}, headers=bearer("coordinator"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["to_user_id"] is None
    assert client.get("/api/v1/me/tasks", headers=leaver_headers).status_code == 401
    again = client.post(f"/api/v1/users/{leaver.id}/deactivate", json={}, headers=bearer("coordinator"))
    assert again.status_code == 409
    reopened = client.post(f"/api/v1/users/{leaver.id}/reactivate", headers=bearer("coordinator"))
    assert reopened.get_json()["is_active"] is True
    assert client.get("/api/v1/me/tasks", headers=leaver_headers).status_code == 401  # old tokens stay dead


def test_the_command_line_revokes_the_tokens_too(app, client: FlaskClient, session: Session, bearer) -> None:
    headers = bearer("cip")
    assert client.get("/api/v1/me/tasks", headers=headers).status_code == 200
    assert run(app, "users", "deactivate", "--email", DEMO["cip"]).exit_code == 0
    assert client.get("/api/v1/me/tasks", headers=headers).status_code == 401
    session.expire_all()
    leaver = demo(session, "cip")
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == leaver.id)).all()
    assert tokens
    assert all(token.revoked_at is not None for token in tokens)  # a reopened account's stay dead
