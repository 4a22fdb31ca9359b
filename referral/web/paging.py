"""How the API and the pages ask for a page of a list and say where the others are.

The API's lists keep their body — a JSON array, as DESIGN §9 has always published them — and say
the rest in headers, the way GitHub's and many public APIs do (RFC 8288 ``Link``):

- ``?limit=`` rows per page (default 50, at most 200) and ``?page=`` (1 is the first);
- ``Link: <…?page=2&limit=50>; rel="next", <…>; rel="last", <…>; rel="first"`` (and ``prev``):
  a client follows ``next`` until there is none;
- ``X-Total-Count``: the number of rows of the whole list.

Why not an envelope (``{"items": […], "next": …}``): every client written against the contract
reads an array; an envelope would break all of them at once, while headers break none. A client
that ignores the headers now gets the first 50 rows instead of all of them: the price of lists
that no longer grow with the network (issue 20), said in the README and in the OpenAPI document.
A bad ``limit`` or ``page`` answers 422 problem+json with the field and a French message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import request
from marshmallow import fields

from referral.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, Page, PageRequest
from referral.web.schemas.base import BaseSchema, number_range


class PageQuerySchema(BaseSchema):
    """``limit`` and ``page`` of a list; query schemas of lists with filters derive from it."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=number_range(minimum=1, maximum=MAX_LIMIT),
        metadata={"description": f"lignes par page (défaut {DEFAULT_LIMIT}, au plus {MAX_LIMIT})"},
    )
    page = fields.Integer(
        load_default=1,
        validate=number_range(minimum=1, maximum=MAX_PAGE),
        metadata={"description": "numéro de la page, 1 pour la première ; voir l'en-tête `Link`"},
    )


# The response headers of a list, for the OpenAPI document.
PAGE_HEADERS: dict[str, Any] = {
    "Link": {
        "description": 'Les autres pages (RFC 8288) : rel="first", "prev", "next", "last". '
        "Suivre `next` jusqu'à ce qu'il n'y en ait plus.",
        "schema": {"type": "string"},
    },
    "X-Total-Count": {
        "description": "Nombre total d'éléments de la liste, toutes pages comprises.",
        "schema": {"type": "integer"},
    },
}


def page_request(query: Mapping[str, Any]) -> PageRequest:
    """The page a parsed query asks for (its `limit` and `page` are removed from it when it is a
    dict, so the rest can be passed on as filters)."""
    if isinstance(query, dict):
        return PageRequest(limit=query.pop("limit", DEFAULT_LIMIT), number=query.pop("page", 1))
    return PageRequest(limit=query.get("limit", DEFAULT_LIMIT), number=query.get("page", 1))


def page_url(number: int, limit: int) -> str:
    """This request's address for page `number`, every other argument kept."""
    arguments = [
        (key, value) for key, value in request.args.items(multi=True) if key not in ("page", "limit")
    ]
    arguments += [("page", str(number)), ("limit", str(limit))]
    return f"{request.base_url}?{urlencode(arguments)}"


def page_headers(page: Page[Any]) -> dict[str, str]:
    links = [(1, "first")]
    if page.has_previous:
        links.append((min(page.number - 1, page.last_number), "prev"))
    if page.has_next:
        links.append((page.number + 1, "next"))
    links.append((page.last_number, "last"))
    return {
        "Link": ", ".join(f'<{page_url(number, page.limit)}>; rel="{rel}"' for number, rel in links),
        "X-Total-Count": str(page.total),
    }


def paged(page: Page[Any]) -> tuple[list[Any], int, dict[str, str]]:
    """A view's answer for one page: the rows (dumped by the view's response schema), 200, and
    the headers that point to the other pages."""
    return page.items, 200, page_headers(page)


def page_number(args: Mapping[str, str], name: str = "page") -> int:
    """The page a page's address asks for (``?page=``, or ``?<name>=`` for a page's second list):
    a person who edits the address by hand gets the first page rather than an error page when it
    is not a number in range."""
    raw = args.get(name, "")
    # ASCII digits only ("²".isdigit() is true), and few of them.
    if raw.isascii() and raw.isdigit() and len(raw) <= 6:
        return min(max(int(raw), 1), MAX_PAGE)
    return 1


def page_link(number: int, name: str = "page") -> str:
    """This page's address for page `number` of its list (`name`: the argument of a page's second
    list), its search, filters and other lists' pages kept."""
    arguments = [(key, value) for key, value in request.args.items(multi=True) if key != name]
    arguments.append((name, str(number)))
    return f"{request.path}?{urlencode(arguments)}"
