"""The JSON of every response, written by orjson (issue 20).

Turning the answer into JSON took about a fifth of an API request's time with the standard
library's encoder (sorted keys, ASCII escapes). orjson writes the same documents several times
faster: same keys in the same (sorted) order, compact, and what Flask's provider converts itself
— dates and times as HTTP dates, decimals, UUIDs, dataclasses, ``__html__`` — still converted by
Flask's own function, so a value keeps its shape. What differs is only the spelling: characters
beyond ASCII are written as UTF-8 rather than ``\\u`` escapes (the same JSON for any client).

Anything orjson refuses (an integer beyond 64 bits, a key that is neither text nor a number) goes
through the standard library as before; pretty-printing (debug mode) and calls asking for
options of their own too. Reading JSON stays the standard library's: request bodies are small
and `referral.web.limits` vets them by their text.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from flask.json.provider import DefaultJSONProvider, _default
from werkzeug.sansio.response import Response

OPTIONS = (
    orjson.OPT_SORT_KEYS  # Flask's default order: answers stay byte-stable from one call to the next
    | orjson.OPT_NON_STR_KEYS  # {1: …} → {"1": …}, as the standard library writes it
    | orjson.OPT_PASSTHROUGH_DATETIME  # dates and times through Flask's own conversion
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _fallback(value: Any) -> Any:
    if isinstance(value, float):  # a subclass orjson leaves aside (NumPy's float64)
        return float(value)
    return _default(value)


class FastJSONProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=_fallback, option=OPTIONS).decode()
        except orjson.JSONEncodeError:
            return super().dumps(obj)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        try:
            body = orjson.dumps(obj, default=_fallback, option=OPTIONS | orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:
            return super().response(*args, **kwargs)
        # Flask's typing knows its response class only as werkzeug's sans-I/O base.
        return cast(Response, cast(Any, self._app.response_class)(body, mimetype=self.mimetype))
