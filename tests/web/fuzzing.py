"""Property-based fuzzing of the JSON API against its own OpenAPI document (schemathesis).

For every operation the document describes, and for each role, schemathesis generates requests
from the document — valid ones and invalid ones — and sends them to the application in-process
(WSGI, no server). A campaign fails on any 5xx and on any answer the document does not describe:
an undocumented status, another content type, a body that does not match its schema.

`tests/web/test_fuzz.py` runs a short campaign in the suite; `make fuzz` a long one
(``FUZZ_EXAMPLES``, and ``TEST_DATABASE_URL`` for PostgreSQL).

Each request runs inside `isolated()`, which the caller makes undo its writes (the test
rolls back a savepoint of its transaction): every request starts from the same database, and on
PostgreSQL the locks a request takes are released with it. Kept for the whole campaign inside
the test's one transaction, the writes of thousands of requests each held a lock (one per
subtransaction id) until the end, and a long campaign filled the server's lock table
(« out of shared memory », blocking every other connection).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Revoking the campaign's own token would leave the rest of the campaign answering 401.
SKIPPED = {("DELETE", "/api/v1/tokens/current")}


@dataclass
class Report:
    operations: int = 0
    examples: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(count for code, count in self.statuses.items() if code >= 500)

    def summary(self) -> str:
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))
        return (
            f"{self.operations} operations, {self.examples} examples, {self.requests} requests, "
            f"{len(self.failures)} failures, {self.server_errors} server errors, "
            f"in {self.seconds:.0f} s (statuses {codes})"
        )


def _describe(error: BaseException) -> str:
    exceptions = getattr(error, "exceptions", None)
    if exceptions:
        return " | ".join(_describe(inner) for inner in exceptions)
    title = getattr(error, "title", None)
    message = getattr(error, "message", None) or str(error)
    return f"{title}: {message}" if title else message


def campaign(
    app: Any,
    headers_by_role: Mapping[str, Callable[[], dict[str, str]]],
    *,
    examples: int,
    isolated: Callable[[], AbstractContextManager[object]],
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    progress: Callable[[str], None] = lambda _line: None,
) -> Report:
    """Fuzz every operation; each generated request is sent once as each role.

    `headers_by_role` makes each role's headers (a fresh bearer token) once per campaign, before
    the first example, so that the tokens outlive every example's undoing. `isolated()` wraps
    each request (one example sent as one role) and undoes what it wrote: every request meets the
    same database, and a failure's curl command reproduces it on a fresh one. `progress` hears
    of each operation done and each failure found.
    Generation is derandomised: the same requests every run, on every machine.
    """
    started = time.monotonic()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    roles = {role: make() for role, make in headers_by_role.items()}
    report = Report()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        report.operations += 1
        failures, requests = len(report.failures), report.requests
        for mode in modes:
            _fuzz(operation, mode, roles, examples, isolated, report)
        # A long campaign runs for an hour: say where it is, and each failure as soon as found.
        progress(
            f"{report.operations:3} {operation.method.upper()} {operation.path}: "
            f"{report.requests - requests} requests, {time.monotonic() - started:.0f} s"
        )
        for failure in report.failures[failures:]:
            progress(f"    FAILURE {failure}")
    report.seconds = time.monotonic() - started
    return report


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    roles: Mapping[str, dict[str, str]],
    examples: int,
    isolated: Callable[[], AbstractContextManager[object]],
    report: Report,
) -> None:
    seen: set[str] = set()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        report.examples += 1
        for role, headers in roles.items():
            with isolated():
                _send(case, operation, mode, role, headers, report, seen)

    with contextlib.suppress(Unsatisfiable):  # nothing to generate in this mode (no parameter to spoil)
        run()


def _send(
    case: Any,
    operation: Any,
    mode: GenerationMode,
    role: str,
    headers: dict[str, str],
    report: Report,
    seen: set[str],
) -> None:
    report.requests += 1
    try:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        report.statuses[response.status_code] += 1
    except (Exception, BaseExceptionGroup) as error:  # collected: the campaign goes on
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status:
            report.statuses[status] += 1
        key = f"{operation.method.upper()} {operation.path} [{role}, {mode.value}]: {_describe(error)}"
        if key[:600] not in seen:
            seen.add(key[:600])
            report.failures.append(f"{key[:600]}\n    {case.as_curl_command()}"[:1500])
