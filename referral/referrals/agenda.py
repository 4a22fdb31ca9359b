"""The referrals' part of a mutualisation meeting's agenda: how each partner answered.

Meetings belong to `referral.partners`, a layer below referrals: it cannot read referrals, so
this module provides the section (`install`, called by `create_app` like the other hooks).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from referral.partners import meetings
from referral.partners.meetings import AgendaLine, AgendaPeriod
from referral.referrals import queries


def answers_section(session: Session, territory_id: int, period: AgendaPeriod) -> list[AgendaLine]:
    """Referrals per partner in the period: created, sent, answered, and the answer rate."""
    stats = queries.referral_stats_by_partner(session, territory_id, period.since, period.until)
    if not stats:
        return []
    body_lines = []
    for item in stats:
        rate = f"{round(100 * item.answer_rate)} %" if item.answer_rate is not None else "—"
        body_lines.append(
            f"{item.partner_name} : {item.created} nouvelle(s) orientation(s), {item.sent} transmise(s), "
            f"{item.answered} réponse(s) (taux de réponse {rate})"
        )
    return [
        AgendaLine(
            "Orientations et réponses des partenaires",
            "\n".join(body_lines),
            {
                "kind": "referral_stats",
                "partners": [
                    {
                        "partner_id": item.partner_id,
                        "partner_name": item.partner_name,
                        "created": item.created,
                        "sent": item.sent,
                        "answered": item.answered,
                        "answer_rate": item.answer_rate,
                    }
                    for item in stats
                ],
            },
        )
    ]


def install() -> None:
    """Have every meeting's agenda end with the partners' answers (idempotent)."""
    meetings.add_agenda_section(answers_section)
