"""Page blueprints of each domain (login, logout and the home pages are in `home.py`, registered first).

Each module defines ``bp`` (or shares another's); `blueprints()` lists them for `create_app()`.
"""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint

# One line per module of pages; the order does not matter. The partner network's pages are
# several modules sharing the `partner_pages` blueprint of `partners` (one endpoint prefix).
MODULES = [
    "referral.web.views.cases",
    "referral.web.views.referrals",
    "referral.web.views.partners",
    "referral.web.views.opportunities",
    "referral.web.views.meetings",
    "referral.web.views.office_hours",
    "referral.web.views.workshops",
    "referral.web.views.network",
    "referral.web.views.health",
    "referral.web.views.accounts",
    "referral.web.views.audit",
    "referral.web.views.indicators",
]


def blueprints() -> list[Blueprint]:
    """Each blueprint once, its modules' routes all declared (so before it is registered)."""
    found: list[Blueprint] = []
    for name in MODULES:
        blueprint = import_module(name).bp
        if blueprint not in found:
            found.append(blueprint)
    return found
