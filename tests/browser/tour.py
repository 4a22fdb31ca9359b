"""The tour of every page of each demo role, shared by the layout and the accessibility tests.

Starting from the home page, the crawler follows every link of the site (GET only, no file
downloads, no sign-out) and keeps one page per route: ``/salaries/12`` and ``/salaries/40`` are the
same template, so the second is not visited again. What is left is « every page of the role ».
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urldefrag, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.db import LabelledEnum
from referral.reference.models import Domain, DomainSubtype, ReferenceCode
from tests.browser.conftest import LiveServer
from tests.helpers import DEMO

ROLES = {
    "cip": DEMO["cip"],
    "cp": DEMO["cp_emploi"],
    "coordinator": DEMO["coordinator"],
    "admin": DEMO["admin"],
}
PAGES_PER_ROLE = 45
SKIPPED = re.compile(
    r"(/api/|/deconnexion|/export|\.(csv|json|xlsx|svg|pdf|png|txt)$|/telecharger|/imprimer)"
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def route_of(url: str) -> tuple[str, tuple[str, ...]]:
    """The route a URL shows: its path with numbers as ``N`` and the names of its parameters."""
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/N", parts.path)
    return path, tuple(sorted({name for name, _ in parse_qsl(parts.query)} - {"page"}))


def crawl(page, server: LiveServer, limit: int = PAGES_PER_ROLE) -> list[str]:
    """The signed-in person's pages, one per route, breadth first from the home page."""
    queue, seen_routes, found = [f"{server.url}/"], set(), []
    while queue and len(found) < limit:
        url = queue.pop(0)
        route = route_of(url)
        if route in seen_routes:
            continue
        seen_routes.add(route)
        response = page.goto(url)
        if (
            response is None
            or response.status != 200
            or "text/html" not in response.headers.get("content-type", "")
        ):
            continue
        found.append(url)
        # getAttribute: a link inside an SVG (the ecosystem map) has no string ``href`` property.
        hrefs = page.eval_on_selector_all(
            "a[href]:not([download])",
            "links => links.map(link => new URL(link.getAttribute('href'), document.baseURI).href)",
        )
        for href in hrefs:
            target, _ = urldefrag(href)
            if not target.startswith(server.url) or SKIPPED.search(urlsplit(target).path):
                continue
            if route_of(target) not in seen_routes:
                queue.append(target)
    return found


_CRAWLED: dict[tuple[str, str], list[str]] = {}


def pages_of(page, server: LiveServer, role: str) -> list[str]:
    """`crawl` once per role and server: the layout tour and the accessibility test share it."""
    key = (server.url, role)
    if key not in _CRAWLED:
        _CRAWLED[key] = crawl(page, server)
    return _CRAWLED[key]


def reference_codes(session: Session) -> set[str]:
    """The codes no page may show as a word.

    A code written like a French word of some label (``emploi``, ``autre``) is a word, not a code;
    one with ``_`` or ``.`` (``acces_droits``, ``budget.protection``) or without its accents
    (``sante``, ``educateur``) is a code.
    """
    pairs = [
        *session.execute(select(Domain.code, Domain.label)).all(),
        *session.execute(select(DomainSubtype.code, DomainSubtype.label)).all(),
        *session.execute(select(ReferenceCode.code, ReferenceCode.label)).all(),
    ]
    for enum in _labelled_enums(LabelledEnum):
        pairs.extend((member.value, member.label) for member in enum)
    words = {word for _, label in pairs for word in re.findall(r"\w+", label.lower())}
    return {
        code
        for code, _ in pairs
        if isinstance(code, str)
        and len(code) > 2
        and ("_" in code or "." in code or code.lower() not in words)
    }


def _labelled_enums(base: type) -> Iterable[type]:
    for sub in base.__subclasses__():
        yield sub
        yield from _labelled_enums(sub)


EMAIL = re.compile(r"\S+@\S+")
# A whole word: not the end of « présent » (\w knows accented letters), dots inside allowed.
TOKEN = re.compile(r"(?<![\w.])[a-z0-9][a-z0-9_]*(?:\.[a-z0-9_]+)*(?!\w)")


def codes_shown(text: str, codes: set[str]) -> set[str]:
    """The codes that appear as whole words in a page's visible text (addresses left aside)."""
    text = EMAIL.sub(" ", text)
    return {token for token in TOKEN.findall(text) if token in codes}


def visible_words(page) -> str:
    """The page's visible text, less what it shows *as* code on purpose: ``<code>`` (a secret key)
    and what is marked ``data-codes`` (the data dictionary of the evaluation file, which documents
    the file's codes)."""
    return page.evaluate(
        """() => {
          let text = document.body.innerText;
          for (const el of document.querySelectorAll('code, kbd, samp, [data-codes]')) {
            text = text.replace(el.innerText, ' ');
          }
          return text;
        }"""
    )


def horizontal_overflow(page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits its viewport)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def widest_elements(page) -> list[str]:
    """The elements sticking out on the right, to say what to fix."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          return [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > width + 1)
            .slice(0, 5)
            .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                 (typeof el.className === 'string' && el.className
                   ? '.' + el.className.split(' ').join('.') : ''));
        }"""
    )
