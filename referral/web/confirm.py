"""The confirmation step of destructive actions, without JavaScript.

A destructive form (cancel, refuse, decline, abandon a referral; withdraw a consent) posts once
without ``confirme``: the view answers with a page that says what will happen and repeats every
posted field (the chosen reason, the comment…) as hidden inputs, with a « Confirmer » button that
posts them again with ``confirme=1``. Only that second post acts. Nothing is written by the first.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import render_template, request

CONFIRMED = "confirme"
# Fields never repeated: the CSRF token is rendered afresh, the flag is added by the page.
NOT_CARRIED = {"csrf_token", CONFIRMED}


def confirmed() -> bool:
    """Whether this post is the second one, from the confirmation page."""
    return request.form.get(CONFIRMED) == "1"


def confirmation_page(
    *,
    title: str,
    question: str,
    consequences: Iterable[str],
    confirm_label: str,
    back_url: str,
    details: Iterable[tuple[str, str]] = (),
) -> str:
    """The page asking to confirm what the current post would do, carrying its fields."""
    carried = [(name, value) for name, value in request.form.items(multi=True) if name not in NOT_CARRIED]
    return render_template(
        "confirm.html",
        title=title,
        question=question,
        consequences=list(consequences),
        details=list(details),
        confirm_label=confirm_label,
        action=request.path,
        carried=carried,
        back_url=back_url,
        confirmed_field=CONFIRMED,
    )
