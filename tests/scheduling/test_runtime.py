"""The `referral scheduler` command and the optional e-mail copies."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from referral.cli import main
from referral.scheduling.jobs import JOBS
from referral.tasks import mail, services
from referral.territories.queries import user_by_email
from tests.helpers import DEMO


def test_run_once_runs_every_job_and_twice_changes_nothing(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(main, ["scheduler", "--run-once"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    # Each job once, by its French description, and no raw dict nor log copy (issue 16).
    for job in JOBS:
        assert first.output.count(job.description) == 1, first.output
    assert "{" not in first.output
    assert "INFO" not in first.output
    second = runner.invoke(
        main, ["scheduler", "--run-once", "--job", "follow_ups", "--job", "renewals"], catch_exceptions=False
    )
    assert "Suivis post-sortie à 6 et 12 mois : rien à faire" in second.output
    assert "Décisions de renouvellement et limite des cinq ans : rien à faire" in second.output


def test_the_demo_accounts_are_printed_as_a_table(app: Flask) -> None:
    output = app.test_cli_runner().invoke(main, ["demo-accounts"], catch_exceptions=False).output
    lines = output.splitlines()
    assert lines[1].split() == ["E-mail", "Rôle", "Périmètre"]
    assert set(lines[2].replace(" ", "")) == {"-"}
    columns = {line.index("@demo") < lines[1].index("Rôle") for line in lines[3:] if "@demo" in line}
    assert columns == {True}


def test_unknown_job_is_refused_in_french(app: Flask) -> None:
    result = app.test_cli_runner().invoke(main, ["scheduler", "--run-once", "--job", "ménage"])
    assert result.exit_code == 1
    assert "Tâche(s) inconnue(s) : ménage" in result.output


def test_no_email_unless_configured(session: Session, monkeypatch) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(mail, "send", lambda address, subject, body: sent.append((address, subject)))
    monkeypatch.delenv("REFERRAL_SMTP_HOST", raising=False)
    user = user_by_email(session, DEMO["cip"])
    services.notify(session, user_id=user.id, kind="test", message="Sans courriel", key="mail:1")
    session.commit()
    assert sent == []

    monkeypatch.setenv("REFERRAL_SMTP_HOST", "127.0.0.1")
    services.notify(session, user_id=user.id, kind="test", message="Avec courriel", key="mail:2")
    assert sent == []  # not before the commit
    session.commit()
    from referral.db import run_on_commit_callbacks

    run_on_commit_callbacks(session)  # what the request wrapper and atomic() do after committing
    assert sent == [(DEMO["cip"], "Avec courriel")]
