"""The template filters that turn stored values into what a French reader expects.

- ``|jour``: a date, or a stored instant read in Paris, as ``01/12/2026``;
- ``|heure``: a stored instant as the Paris wall clock shows it, ``19:06``;
- ``|jour_heure``: both, ``01/12/2026 à 19:06``;
- ``|jour_paris``: a stored instant's Paris calendar day (a date, to count days with);
- ``|libelle``: the French label of a reference code (domain, sub-theme, coded list, labelled enum).

One filter per kind of value, so no template formats a date itself or shows a code: the time zone
comes from the one clock, the labels from the reference tables (read once per request).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import Flask, g

from referral import clock
from referral.reference import queries as reference
from referral.web.request_session import db_session

DAY = "%d/%m/%Y"
TIME = "%H:%M"


def day(value: date | datetime | str | None) -> str:
    """``01/12/2026``; an instant is first read on the Paris calendar.

    A string is an ISO date or instant from a stored document (the dossier shared with a partner).
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        value = clock.in_paris(value)
    return value.strftime(DAY)


def time_of_day(value: datetime | None) -> str:
    """``19:06``, Paris time."""
    if value is None:
        return ""
    return clock.in_paris(value).strftime(TIME)


def day_and_time(value: datetime | None) -> str:
    """``01/12/2026 à 19:06``, Paris time."""
    if value is None:
        return ""
    return f"{day(value)} à {time_of_day(value)}"


def local_time(moment: datetime | None, pattern: str = "%d/%m/%Y à %H:%M") -> str:
    """A stored instant with a pattern of its own, Paris time (kept for the older templates)."""
    if moment is None:
        return ""
    return clock.in_paris(moment).strftime(pattern)


def _labels() -> dict[tuple[str | None, str], str]:
    """Every reference label of this request, keyed by (list, code) and by (None, code)."""
    cached = g.get("_reference_labels")
    if cached is None:
        session = db_session()
        cached = {}
        for item in reference.all_codes(session):
            cached[(item.list_name, item.code)] = item.label
            cached.setdefault((None, item.code), item.label)
        for code, label in reference.subtype_labels(session).items():
            cached[("subtype", code)] = label
            cached[(None, code)] = label
        for domain in reference.domains(session):
            cached[("domain", domain.code)] = domain.label
            cached[(None, domain.code)] = domain.label
        g._reference_labels = cached
    return cached


def label(value: Any, list_name: str | None = None) -> str:
    """The French label of a code; a labelled enum says its own label.

    `list_name` picks the list when a code means different things in two lists; without it the
    domains and sub-themes win, then the first coded list that knows the code. An unknown code is
    shown as it is (the browser tour fails on it, so it gets a label).
    """
    if value is None or value == "":
        return ""
    if isinstance(value, Enum):
        return str(getattr(value, "label", value.value))
    labels = _labels()
    code = str(value)
    return labels.get((list_name, code)) or labels.get((None, code)) or code


def init_app(app: Flask) -> None:
    app.add_template_filter(day, "jour")
    app.add_template_filter(time_of_day, "heure")
    app.add_template_filter(day_and_time, "jour_heure")
    app.add_template_filter(local_time, "heure_locale")
    app.add_template_filter(label, "libelle")
    app.add_template_filter(clock.paris_day, "jour_paris")  # a stored instant's Paris day, to count days
