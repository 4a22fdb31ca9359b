"""The edges of what a request may carry: ids, text, and JSON bodies.

Whatever arrives, the answer is a French 4xx, never a 500 (issue 14, found by fuzzing):

- ids: the database's integers stop at 2³¹−1 (PostgreSQL ``integer``; SQLite overflows at 2⁶³).
  Path ids go through `BoundedIntegerConverter`, registered as Flask's ``int`` converter, so an
  id out of range matches no route and answers 404 like a missing one; body and query ids go
  through the schemas' `Id` field (`referral.web.schemas.base`), with the same bounds.
- text: control characters (PostgreSQL refuses NUL) and unpaired surrogates (they cannot be
  encoded) are refused; tab and line breaks only in free text. Schemas apply `text_problem` to
  every string they load; `guard_request_text` applies it to query strings and path values.
- JSON: its size and nesting depth are checked before anything parses it (a body nested 50,000
  levels deep exhausts the parser's recursion).
"""

from __future__ import annotations

import re
import unicodedata

from flask import Flask, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from referral.exceptions import DomainError, InvalidInput

# Ids are the database's ``integer`` primary keys: 1 … 2³¹−1 on both databases.
ID_MIN = 1
ID_MAX = 2**31 - 1

MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32


def digits_at_most(maximum: int) -> str:
    """A regular expression matching the decimal numbers from 0 to `maximum` (no sign)."""
    text = str(maximum)
    choices = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for position, digit in enumerate(text):
        if digit != "0":
            rest = len(text) - position - 1
            lower = "0" if digit == "1" else f"[0-{int(digit) - 1}]"
            choices.append(text[:position] + lower + (rf"\d{{{rest}}}" if rest else ""))
    choices.append(text)
    return "(?:" + "|".join(choices) + ")"


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to the database's integer range: beyond it, no route matches (404).

    The bound is in the regular expression, not only in `to_python`: werkzeug answers 405
    rather than 404 when a path matches a rule's pattern for another method, even if the
    converter then refuses the value.
    """

    regex = digits_at_most(ID_MAX)

    def __init__(
        self,
        map: Map,  # noqa: A002 - werkzeug's parameter name
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002
        max: int | None = ID_MAX,  # noqa: A002
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(value: str) -> int:
    """An id typed as text (a form's hidden field): `ValueError` unless 1 … 2³¹−1.

    Usable as werkzeug's ``type=`` (``request.form.get("partner_id", type=parse_id)``), which
    turns the `ValueError` into its default.
    """
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        raise ValueError(f"not an id: {value!r}")
    number = int(value)
    if not ID_MIN <= number <= ID_MAX:
        raise ValueError(f"id out of range: {number}")
    return number


def ids_in(values: list[str]) -> list[int]:
    """The values that are ids in range (a page's checkboxes); anything else is dropped."""
    ids = []
    for value in values:
        try:
            ids.append(parse_id(value))
        except ValueError:
            continue
    return ids


# --- text ------------------------------------------------------------------------------------

# Characters that show nothing and are not a letter: whitespace, format characters (zero-width
# space and joiners, BOM, soft hyphen, direction marks) and the fillers fonts draw as blanks.
FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

CONTROL_MESSAGE = "Caractère de contrôle non accepté (retirez les caractères invisibles ou spéciaux)."
LINE_BREAK_MESSAGE = "Texte sur une seule ligne attendu (sans tabulation ni retour à la ligne)."
SURROGATE_MESSAGE = "Texte invalide : caractère Unicode incomplet (demi-paire de substitution)."


def is_invisible(character: str) -> bool:
    return character.isspace() or character in FILLERS or unicodedata.category(character) == "Cf"


def trim(value: str) -> str:
    """Strip whitespace and invisible characters at both ends.

    A value made only of invisible characters becomes empty; the schemas refuse it as such.
    """
    start, end = 0, len(value)
    while start < end and is_invisible(value[start]):
        start += 1
    while end > start and is_invisible(value[end - 1]):
        end -= 1
    return value[start:end]


# Every control character (Unicode category Cc is exactly these two ranges) but tab and line
# breaks; then the halves of surrogate pairs, which a JSON ``\ud800`` escape can produce alone.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE = re.compile("[\t\n\r]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str, *, multiline: bool) -> str | None:
    """The French reason why `value` cannot be stored as text, or None when it can."""
    if _SURROGATE.search(value):
        return SURROGATE_MESSAGE
    if _CONTROL.search(value):
        return CONTROL_MESSAGE
    if not multiline and _LINE.search(value):
        return LINE_BREAK_MESSAGE
    return None


# --- requests --------------------------------------------------------------------------------


class RequestTooDeep(DomainError):
    status = 400
    title = "Requête invalide"


# Arguments judged by their own view rather than refused here: the login page's `next` must
# send people to the home page, not to an error page, when it is not a local path.
UNCHECKED_ARGUMENTS = frozenset({"next"})

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `data` nests arrays and objects more than `limit` levels (strings skipped)."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b"", data)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def guard_json_body() -> None:
    """Refuse a JSON body too large (413) or too deeply nested (400) before anyone parses it."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise RequestEntityTooLarge()
    data = request.get_data(cache=True)
    if len(data) > MAX_JSON_BYTES:
        raise RequestEntityTooLarge()
    if json_too_deep(data):
        raise RequestTooDeep(
            f"Le JSON envoyé est imbriqué trop profondément (au plus {MAX_JSON_DEPTH} niveaux)."
        )


def guard_request_text() -> None:
    """Query strings, path values and form fields: no control character, no unpaired surrogate.

    Form fields may be free text (a textarea): tabs and line breaks pass here, and the form's
    schema says where they may not.
    """
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and text_problem(value, multiline=False):
            raise NotFound()  # no page has such a name
    errors: dict[str, list[str]] = {}
    for name, values in request.args.lists():
        problem = text_problem(name, multiline=False)
        if problem:
            errors["_"] = [problem]
            continue
        if name in UNCHECKED_ARGUMENTS:
            continue
        for value in values:
            problem = text_problem(value, multiline=False)
            if problem:
                errors[name] = [problem]
    if errors:
        raise InvalidInput("Certains paramètres de l'adresse sont invalides.", errors=errors)
    for name, values in request.form.lists():
        if name in UNCHECKED_ARGUMENTS:
            continue
        for value in values:
            problem = text_problem(value, multiline=True)
            if problem:
                errors[name] = [problem]
    if errors:
        raise InvalidInput("Certaines données du formulaire sont invalides.", errors=errors)


def init_app(app: Flask) -> None:
    """Register the converter (before any route) and the guards (before authentication)."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(guard_json_body)
    app.before_request(guard_request_text)
