"""What higher rooms contribute to a person's record, registered rather than imported.

`cases` sits below `referrals` and `partners` (DESIGN §5), yet the record's timeline, its
right-of-access export and its anonymisation must include the referrals and office hours about the
person. So those packages provide them: `referral.referrals.record_sources.install()` and
`referral.partners.record_sources.install()` register their providers with the registries of
`cases.timeline`, `cases.export` and `cases.retention`. `create_app` calls both (so every web
worker and every `referral …` command, the scheduler included, has them), and so does the test
conftest, the way `audit.install()` is called.

Each registry names the contributions it expects, in the order it uses them: one missing (an
`install()` forgotten in a new process) is an error, never a silently shorter export or a record
left half anonymised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

P = TypeVar("P")


class MissingProvider(RuntimeError):
    """A registry is used before the package that provides one of its parts was installed."""


class Providers(Generic[P]):
    """Named providers of one kind, used in the order `expected` gives (whatever the order of
    registration). Registering a name again replaces its provider: `install()` is idempotent."""

    def __init__(self, what: str, expected: Sequence[str]) -> None:
        self.what = what
        self.expected = tuple(expected)
        self._registered: dict[str, P] = {}

    def register(self, name: str, provider: P) -> None:
        if name not in self.expected:
            raise ValueError(
                f"{self.what} has no place for « {name} » (expected: {', '.join(self.expected)})."
            )
        self._registered[name] = provider

    def all(self) -> list[tuple[str, P]]:
        """Every provider with its name, in the expected order."""
        missing = [name for name in self.expected if name not in self._registered]
        if missing:
            raise MissingProvider(
                f"{self.what}: nothing registered for {', '.join(missing)} "
                "(call the providing package's record_sources.install(), as create_app does)."
            )
        return [(name, self._registered[name]) for name in self.expected]
