"""Forms of the pages (parsed with marshmallow too).

Most pages load the API's own schemas (`referral.web.forms.load_form`). A `PageFormSchema`
describes a whole HTML form instead: every one of its inputs is on the page, so a blank input
or an unticked box is a value (none, false, an empty list), not an absent one; see `load_form`.
"""

from __future__ import annotations

from marshmallow import fields

from referral.web.schemas.base import BaseSchema, length


class PageFormSchema(BaseSchema):
    """A whole form of a page: a blank input is a value, not an absent field (`load_form`).

    List fields may say how the page lays them out, in their metadata: ``separator`` for a list
    typed in one input (``","``, or ``"\\n"``: one per line); ``rows`` for a list of objects typed
    in numbered rows ``<rows>-<index>-<name>``, a row whose ``row_key`` input (without one: every
    input) is blank being no row.
    """


class LoginFormSchema(BaseSchema):
    class Meta:
        unknown = "exclude"  # the form also carries csrf_token

    # `next` is judged by the login view (`_safe_next`): a bad one sends home, not to an error.
    unchecked_fields = frozenset({"next"})

    email = fields.String(required=True, validate=length(minimum=3, maximum=254))
    password = fields.String(required=True, validate=length(minimum=1, maximum=1024))
    next = fields.String(load_default="", validate=length(maximum=500))
