"""Plain-value helpers the package's rooms share: trimmed text, a list of tags, Paris time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from referral import clock

PARIS = clock.PARIS  # the one clock names the zone


def clean_text(values: Mapping[str, Any], name: str) -> str | None:
    """`values[name]` trimmed; None when absent or blank."""
    value = values.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def clean_tags(tags: Iterable[Any] | None) -> list[str]:
    """Trimmed tags in their order, without blanks or case-insensitive repeats."""
    cleaned: list[str] = []
    for tag in tags or ():
        text = str(tag).strip()
        if text and text.casefold() not in {existing.casefold() for existing in cleaned}:
            cleaned.append(text)
    return cleaned


def local(moment: datetime) -> datetime:
    """A stored UTC time in Paris time (a meeting's day, a slot's day)."""
    return moment.astimezone(PARIS)
