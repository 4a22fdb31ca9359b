"""French wording of the ecosystem's figures: numbers as a French page writes them, and the scope
(« du territoire », « du réseau national ») the sentences of `analytics` and `centrality` name.
"""

from __future__ import annotations

from referral.network.snapshot import NetworkSnapshot

NBSP = "\u00a0"
NNBSP = "\u202f"


def fr_int(value: int) -> str:
    """``12345 -> "12 345"`` (thin no-break space, French typography)."""
    return f"{value:,}".replace(",", NNBSP)


def fr_decimal(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def fr_percent(share: float) -> str:
    """``0.724 -> "72 %"``."""
    return f"{round(100 * share)}{NBSP}%"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(3, "besoin ouvert", "besoins ouverts") -> "3 besoins ouverts"``."""
    word = singular if count <= 1 else (plural_form or singular + "s")
    return f"{fr_int(count)} {word}"


def of_scope(snapshot: NetworkSnapshot) -> str:
    """« du territoire » or, for the national snapshot, « du réseau national »."""
    return "du territoire" if snapshot.territory_slug else "du réseau national"


def in_scope(snapshot: NetworkSnapshot) -> str:
    return "sur le territoire" if snapshot.territory_slug else "au niveau national"


def the_scope(snapshot: NetworkSnapshot) -> str:
    return "le territoire" if snapshot.territory_slug else "le réseau national"


def domain_phrase(snapshot: NetworkSnapshot, domain: str, subtype: str | None) -> str:
    label = snapshot.domain_label(domain)
    if subtype is None:
        return label
    return f"{label} — {snapshot.subtype_label(subtype)}"
