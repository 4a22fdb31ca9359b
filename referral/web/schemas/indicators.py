"""The indicators at the boundary: the filter in (scope, period, programme), the report out.

``?scope=territory:lyon&from=2026-01-01&to=2026-12-31&programme=CVG``: every argument optional
(by default one's own scope, the current year, both programmes). An empty argument is no argument:
the page's form sends ``programme=`` for « both ».
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields, pre_load

from referral.web.schemas.base import BaseSchema, length, one_of


class IndicatorsQuerySchema(BaseSchema):
    scope = fields.String(
        validate=length(maximum=80),
        metadata={"description": "« structure:<id> », « territory:<slug> » ou « all » ; par défaut le sien."},
    )
    start = fields.Date(data_key="from", metadata={"description": "Premier jour de la période (inclus)."})
    end = fields.Date(data_key="to", metadata={"description": "Dernier jour de la période (inclus)."})
    programme = fields.String(
        validate=one_of(["CVG", "PHC"]), metadata={"description": "CVG ou PHC ; les deux si absent."}
    )

    @pre_load
    def _drop_blank(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, Mapping):
            return {
                key: value.strip() if isinstance(value, str) else value
                for key, value in data.items()
                if not (isinstance(value, str) and not value.strip())
            }
        return data


class EvaluationQuerySchema(BaseSchema):
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)


class ExportQuerySchema(IndicatorsQuerySchema):
    format = fields.String(required=True, validate=one_of(["csv", "xlsx"]))


class ColumnSchema(BaseSchema):
    key = fields.String()
    label = fields.String()
    kind = fields.String(metadata={"description": "count, share (pourcentage), months, weeks, days."})


class FigureField(fields.Field):
    """A figure as the page shows it: a number, « < 5 » (petit effectif masqué), or null."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class RowSchema(BaseSchema):
    key = fields.String()
    label = fields.String()
    total = fields.Boolean()
    values = fields.List(FigureField(metadata={"description": "Nombre, « < 5 » ou null."}))


class TableSchema(BaseSchema):
    key = fields.String()
    title = fields.String()
    definition = fields.String(metadata={"description": "La définition en français."})
    columns = fields.List(fields.Nested(ColumnSchema))
    rows = fields.List(fields.Nested(RowSchema))


class SectionSchema(BaseSchema):
    key = fields.String()
    title = fields.String()
    tables = fields.List(fields.Nested(TableSchema))


class IndicatorsSchema(BaseSchema):
    scope = fields.String()
    period = fields.String()
    programme = fields.String()
    protected = fields.Boolean(
        metadata={"description": "Effectifs arrondis à 5, « < 5 » sous 5 (hors de sa propre structure)."}
    )
    sections = fields.List(fields.Nested(SectionSchema))
