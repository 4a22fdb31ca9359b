"""The navigation of each role: only pages that role may use (links, not permissions — the
services still refuse what a role may not do)."""

from __future__ import annotations

from referral.territories.models import Role, User

NAVIGATION: dict[Role, list[tuple[str, str]]] = {
    Role.CIP: [
        ("pages.home", "Accueil"),
        ("cases.index", "Mes salarié·es"),
        ("referral_pages.index", "Mes orientations"),
        ("partner_pages.index", "Réseau"),
        ("partner_pages.office_hours", "Permanences"),
        ("indicator_pages.index", "Indicateurs"),
        ("account_pages.index", "Comptes"),
    ],
    Role.CP: [
        ("pages.home", "Mon territoire"),
        ("referral_pages.index", "Orientations"),
        ("partner_pages.index", "Réseau"),
        ("partner_pages.meetings", "Réunions"),
        ("partner_pages.office_hours", "Permanences"),
        ("partner_pages.workshops", "Ateliers"),
        ("network_pages.index", "Écosystème"),
        ("indicator_pages.index", "Indicateurs"),
    ],
    Role.COORDINATOR: [
        ("pages.home", "Vue d'ensemble"),
        ("network_pages.index", "Écosystème"),
        ("partner_pages.index", "Réseau"),
        ("partner_pages.meetings", "Réunions"),
        ("partner_pages.workshops", "Ateliers"),
        ("indicator_pages.index", "Indicateurs"),
        ("account_pages.index", "Comptes"),
    ],
    Role.ADMIN: [
        ("pages.home", "Territoires"),
        ("network_pages.index", "Écosystème"),
        ("indicator_pages.index", "Indicateurs"),
        ("account_pages.index", "Comptes"),
        ("account_pages.new_territory", "Nouveau territoire"),
        ("audit_pages.index", "Journal des accès"),
    ],
}


def navigation(user: User) -> list[tuple[str, str]]:
    return NAVIGATION.get(user.role, [])
