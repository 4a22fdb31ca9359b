"""How a referral is named in lists and notifications: the need it answers and who sent it, in French.

Below `services` (which tells the CPs with these words) and `summaries` (which lists them).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from referral.reference import queries as reference
from referral.referrals.models import Referral


def need_labels(session: Session) -> dict[str, str]:
    """French labels of every need domain and subtype."""
    labels = {domain.code: domain.label for domain in reference.domains(session)}
    labels.update(reference.subtype_labels(session))
    return labels


def need_text(referral: Referral, labels: dict[str, str]) -> str | None:
    need = referral.need
    if need is None:
        return None
    code = need.subtype_code or need.domain_code
    return f"{labels.get(code, code)}, priorité {need.priority}"


def sender_text(referral: Referral) -> str:
    """« Awa Diallo (CIP), ACI Les Jardins » — the structure is the person's."""
    author = referral.created_by
    structure = referral.participant.structure.name
    return f"{author.full_name} (CIP), {structure}" if author is not None else structure
