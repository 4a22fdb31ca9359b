"""The data·inclusion schema v1, through its official package (``data-inclusion-schema``).

Every row read from or written to data·inclusion is validated by the package's pydantic models
(`v1.Structure`, `v1.Service`): the field lists, enums (thématiques, publics, frais, réseaux
porteurs…), lengths and formats are the package's, never copied here, so they cannot drift from
the schema. This module only translates the package's errors into French, one reason per field,
and reads a JSON document so that one unreadable row never costs the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pydantic
from data_inclusion.schema import v1
from pydantic_core import ErrorDetails

# Our identifier as a data·inclusion producer (« source »).
SOURCE = "reseau-convergence"

THEMATIQUES: frozenset[str] = frozenset(item.value for item in v1.Thematique)
CATEGORIES: frozenset[str] = frozenset(item.value for item in v1.Categorie)
RESEAUX_PORTEURS: frozenset[str] = frozenset(item.value for item in v1.ReseauPorteur)
STRUCTURE_FIELDS: tuple[str, ...] = tuple(v1.Structure.model_fields)
SERVICE_FIELDS: tuple[str, ...] = tuple(v1.Service.model_fields)

Kind = Literal["structure", "service"]
MODELS: dict[str, type[pydantic.BaseModel]] = {"structure": v1.Structure, "service": v1.Service}

# A v1 row is an object of scalars and lists of scalars (depth 2). Producers add fields of their
# own; past this depth a row is not data but an attack or a bug, and is refused before anything
# walks it recursively.
MAX_DEPTH = 16

# What a code field expects, said in French when the package refuses its format.
FORMAT_HINTS = {
    "code_postal": "code postal à 5 chiffres",
    "code_insee": "code commune INSEE à 5 caractères",
    "siret": "SIRET à 14 chiffres",
    "zone_eligibilite": "codes commune, département, EPCI, pays ou « france »",
}
# Characters no text column can hold: lone surrogates (not encodable in UTF-8, so PostgreSQL and
# every printer refuse them) and NUL (PostgreSQL's text refuses it).
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")
# The package's messages quote codes in Markdown backquotes.
_CODE = re.compile(r"`([^`]*)`")


class UnreadableRow:
    """A row the JSON reader could not read on its own (nested past what it accepts)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def shown(value: Any, limit: int = 60) -> str:
    """`value` as text safe to print anywhere (for reports, never stored): unstorable characters
    replaced, cut at `limit` characters."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float | bool) or value is None:
        text = str(value)
    else:
        text = f"<{type(value).__name__}>"
    text = _UNSTORABLE.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _walk(row: Mapping[str, Any]) -> Iterator[tuple[str, int, Any]]:
    """Every (top-level field, depth, value) of `row`, iteratively (no recursion to overflow)."""
    stack: list[tuple[str, int, Any]] = [(str(key), 1, value) for key, value in row.items()]
    while stack:
        field, depth, value = stack.pop()
        yield field, depth, value
        if isinstance(value, Mapping):
            stack.extend((field, depth + 1, item) for item in (*value.keys(), *value.values()))
        elif isinstance(value, list):
            stack.extend((field, depth + 1, item) for item in value)


def unsafe_fields(row: Mapping[str, Any]) -> dict[str, list[str]]:
    """What makes `row` unfit to be validated or stored at all, per field (empty when fit)."""
    problems: dict[str, list[str]] = {}
    for key in row:
        if isinstance(key, str) and _UNSTORABLE.search(key):
            problems.setdefault(shown(key), []).append("nom de champ illisible (caractère Unicode invalide)")
    for field, depth, value in _walk(row):
        if depth > MAX_DEPTH:
            problems.setdefault(shown(field), []).append(f"imbrication de plus de {MAX_DEPTH} niveaux")
            break
        if isinstance(value, str) and (found := _UNSTORABLE.search(value)):
            character = f"U+{ord(found.group()):04X}"
            message = f"caractère invalide {character} (texte illisible ou tronqué)"
            if message not in problems.get(shown(field), []):
                problems.setdefault(shown(field), []).append(message)
    return problems


def _reason(error: ErrorDetails, field: str) -> str:
    """One of the package's errors, in French."""
    kind = error["type"]
    context = error.get("ctx") or {}
    value = error.get("input")
    if field == "zone_eligibilite" and len(error["loc"]) > 1:
        return f"code géographique invalide « {shown(value)} » ({FORMAT_HINTS[field]})"
    if kind == "missing":
        return "champ obligatoire absent"
    if kind == "string_unicode":
        return "texte illisible (caractère Unicode invalide)"
    if kind == "string_type":
        return "texte attendu"
    if field in FORMAT_HINTS and kind.startswith("string_"):
        return f"« {shown(value)} » n'est pas un {FORMAT_HINTS[field]}"
    if kind == "string_too_short":
        return f"au moins {context['min_length']} caractères"
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "?"
        return f"au plus {context['max_length']} caractères ({length} reçus) : refusé plutôt que tronqué"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"date invalide « {shown(value)} » (AAAA-MM-JJ attendu)"
    if kind == "enum":
        return f"valeur inconnue du schéma data·inclusion : « {shown(value)} »"
    if kind.startswith("url"):
        return f"adresse web invalide « {shown(value)} »"
    if kind == "value_error" and field == "courriel":
        return f"adresse électronique invalide « {shown(value)} »"
    if kind == "value_error":
        # The package's own validators speak French already (dates, « tous-publics »…).
        return _CODE.sub(r"« \1 »", str(context.get("error") or error["msg"])).rstrip(".")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"nombre entier attendu, « {shown(value)} » reçu"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"nombre attendu, « {shown(value)} » reçu"
    if kind == "greater_than_equal":
        return f"au moins {context['ge']}, « {shown(value)} » reçu"
    if kind == "too_short":
        return "liste vide"
    if kind in ("list_type", "set_type", "frozen_set_type"):
        return "liste attendue"
    if kind == "set_item_not_hashable":
        return "liste de valeurs simples attendue"
    if kind == "model_type" or kind == "dict_type":
        return "objet JSON attendu"
    return f"valeur refusée par le schéma ({kind})"


def french_errors(error: pydantic.ValidationError) -> dict[str, list[str]]:
    """The package's validation errors as French reasons, per field, each said once."""
    reasons: dict[str, list[str]] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "ligne"
        message = _reason(item, field)
        if message not in reasons.setdefault(field, []):
            reasons[field].append(message)
    return reasons


def explain(reasons: Mapping[str, list[str]]) -> str:
    """Per-field reasons as one French sentence for a report line."""
    return " ; ".join(f"« {field} » : {', '.join(messages)}" for field, messages in reasons.items()) + "."


@dataclass(frozen=True)
class Checked:
    """A row checked against the schema: its model when valid, else the reasons per field."""

    model: Any
    reasons: dict[str, list[str]]


def check(kind: Kind, row: Any) -> Checked:
    """Validate one row with the package's model for `kind`, never raising."""
    if isinstance(row, UnreadableRow):
        return Checked(None, {"ligne": [row.reason]})
    if not isinstance(row, Mapping):
        return Checked(None, {"ligne": ["objet JSON attendu"]})
    unsafe = unsafe_fields(row)
    if unsafe:
        return Checked(None, unsafe)
    try:
        return Checked(MODELS[kind].model_validate(dict(row)), {})
    except pydantic.ValidationError as error:
        return Checked(None, french_errors(error))
    except (RecursionError, ValueError, TypeError) as error:
        return Checked(None, {"ligne": [f"ligne illisible ({type(error).__name__})"]})


# --- Reading a document -------------------------------------------------------------------------


def read_document(text: str) -> Any:
    """The JSON document in `text`.

    Python's JSON reader gives up on the whole text when one value is nested too deep; then the
    rows are cut apart and read one by one, and the unreadable one becomes an `UnreadableRow`
    (rejected by the import with its reason) instead of costing the file. Raises ValueError when
    the text is not JSON at all.
    """
    try:
        return json.loads(text)
    except RecursionError:
        return _read_rows_apart(text)


def _parse_row(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        return UnreadableRow("ligne imbriquée trop profondément pour être lue")
    except ValueError:
        return UnreadableRow("ligne qui n'est pas du JSON valide")


def _read_rows_apart(text: str) -> Any:
    """Cut the document's rows apart by scanning brackets and strings, and read each alone.

    Accepted shapes are the import's: a list of rows, or an object whose values are lists of
    rows (``{"structures": [...], "services": [...]}``); other top-level values are kept only
    when they are plain.
    """
    top: str | None = None
    depth = 0
    in_string = escaped = False
    string_start = 0
    last_string: str | None = None
    rows_depth: int | None = None  # depth at which the current list's rows sit
    section: str | None = None
    start: int | None = None
    sections: dict[str, list[Any]] = {}
    rows: list[Any] = []

    def close_row(end: int) -> None:
        nonlocal start
        if start is not None:
            item = _parse_row(text[start:end])
            (rows if top == "[" else sections.setdefault(section or "", [])).append(item)
            start = None

    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if depth == 1 and top == "{":
                    last_string = json.loads(text[string_start : index + 1])
            continue
        if char in " \t\r\n:":
            continue
        at_row_level = rows_depth is not None and depth == rows_depth
        if char == '"':
            in_string, string_start = True, index
            if at_row_level and start is None:
                start = index
        elif char in "[{":
            if at_row_level and start is None:
                start = index
            depth += 1
            if depth == 1:
                top = char
                rows_depth = 1 if char == "[" else None
            elif depth == 2 and top == "{" and char == "[":
                rows_depth, section = 2, last_string
        elif char in "]}":
            if at_row_level:
                close_row(index)
                rows_depth = None
            depth -= 1
            if depth < 0:
                raise ValueError("crochets ou accolades mal appariés")
        elif char == ",":
            if at_row_level:
                close_row(index)
        elif at_row_level and start is None:
            start = index
    if depth != 0 or in_string or top is None:
        raise ValueError("document JSON incomplet")
    return rows if top == "[" else sections
