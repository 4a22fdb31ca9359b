"""Loading the reference lists from their seed files (idempotent: loading twice changes nothing)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from referral.db import assign_changed
from referral.exceptions import InvalidInput
from referral.reference.models import Domain, DomainSubtype, ReferenceCode


def load_domains(session: Session, domains: Sequence[Mapping[str, Any]]) -> int:
    """Create or update the domains and their subtypes; returns how many rows were written."""
    written = 0
    for position, item in enumerate(domains):
        code = item["code"]
        domain = session.get(Domain, code) or Domain(code=code)
        written += assign_changed(
            domain, label=item["label"], position=position, datainclusion=list(item.get("datainclusion", []))
        )
        session.add(domain)
        for sub_position, sub in enumerate(item.get("subtype", [])):
            sub_code = sub["code"]
            if not sub_code.startswith(f"{code}."):
                raise InvalidInput(
                    f"Le sous-thème « {sub_code} » doit commencer par le code de son domaine « {code}. ».",
                    errors={"subtype": [f"« {sub_code} » n'appartient pas au domaine « {code} »."]},
                )
            subtype = session.get(DomainSubtype, sub_code) or DomainSubtype(code=sub_code)
            written += assign_changed(
                subtype,
                domain_code=code,
                label=sub["label"],
                position=sub_position,
                datainclusion=list(sub.get("datainclusion", [])),
            )
            session.add(subtype)
    session.flush()
    return written


def load_lists(session: Session, lists: Mapping[str, Sequence[Mapping[str, Any]]]) -> int:
    """Create or update every coded list (``{list_name: [{code, label, …extra}]}``)."""
    written = 0
    for list_name, items in lists.items():
        for position, item in enumerate(items):
            extra = {key: value for key, value in item.items() if key not in ("code", "label")}
            row = session.get(ReferenceCode, (list_name, item["code"])) or ReferenceCode(
                list_name=list_name, code=item["code"]
            )
            written += assign_changed(row, label=item["label"], position=position, extra=extra)
            session.add(row)
    session.flush()
    return written
