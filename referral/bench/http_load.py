"""The load generator of `referral bench http`: locust used as a library, one phase per run.

Run by the bench as ``python -m referral.bench.http_load SPEC.json RESULT.json`` — a process of
its own because locust patches the standard library for gevent when imported, which the bench's
own process (SQLAlchemy, the seed, gunicorn's supervision) must not undergo.

The mix is the one of issue 20, each virtual user with a token of its own:

- CIP: the first pages of « Mes salarié·es » (50 a page), a record, its proposals, its timeline;
- CP: the referrals (first page), a partner search with a typo, an opportunity's matches;
- coordinator: the territory's network analytics and its node-link JSON;
- and ``/healthz``.

Paced users wait 0.5–1.5 s between two requests, like people clicking; saturating users send
the next one as soon as the last one answered. Every request is recorded (its start, name,
duration, success); the figures are computed over the measuring window, after the ramp-up.
The ``single`` phase sends one request at a time, a list of API calls and pages in turn.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, User, between, constant, events, task
from locust.env import Environment

SPEC: dict[str, Any] = {}
RECORDS: list[tuple[float, str, float, bool]] = []
FAILURES: dict[str, int] = {}
TOKENS: dict[str, list[str]] = {}


@events.request.add_listener
def _record(
    request_type: str, name: str, response_time: float, response_length: int, exception: Any, **kw: Any
):
    # `start_time` is the request's start (seconds since the epoch); locust passes it along.
    RECORDS.append((kw.get("start_time") or time.time(), name, float(response_time), exception is None))
    if exception is not None:
        reason = f"{name}: {exception}"[:200]
        FAILURES[reason] = FAILURES.get(reason, 0) + 1


class _BenchUser(HttpUser):
    abstract = True
    role = ""

    def on_start(self) -> None:
        # One token per virtual user: the pool was made for the largest phase.
        self.headers = {"Authorization": f"Bearer {TOKENS[self.role].pop()}"}
        self.random = random.Random(len(TOKENS[self.role]))

    def get(self, name: str, path: str) -> None:
        with self.client.get(
            path, headers={**self.headers, "X-Bench-Name": name}, name=name, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")


class CipUser(_BenchUser):
    weight = 4
    role = "cip"

    @task(3)
    def participants(self) -> None:
        page = self.random.randint(1, max(1, SPEC["ids"]["participant_pages"]))
        self.get("GET /participants", f"/api/v1/participants?page={page}")

    @task(2)
    def record(self) -> None:
        self.get("GET /participants/{id}", f"/api/v1/participants/{self._person()}")

    @task(2)
    def proposals(self) -> None:
        self.get("GET /participants/{id}/proposals", f"/api/v1/participants/{self._person()}/proposals")

    @task(1)
    def timeline(self) -> None:
        self.get("GET /participants/{id}/timeline", f"/api/v1/participants/{self._person()}/timeline")

    def _person(self) -> int:
        return int(self.random.choice(SPEC["ids"]["participants"]))


class CpUser(_BenchUser):
    weight = 3
    role = "cp"

    @task(3)
    def referrals(self) -> None:
        self.get("GET /referrals", "/api/v1/referrals")

    @task(2)
    def search(self) -> None:
        query = self.random.choice(SPEC["ids"]["typos"])
        self.get("GET /partners/search", f"/api/v1/partners/search?q={query}")

    @task(2)
    def matches(self) -> None:
        opportunity = self.random.choice(SPEC["ids"]["opportunities"])
        self.get("GET /opportunities/{id}/matches", f"/api/v1/opportunities/{opportunity}/matches")


class CoordinatorUser(_BenchUser):
    weight = 1
    role = "coordinator"

    @task(1)
    def analytics(self) -> None:
        self.get(
            "GET /territories/{slug}/network/analytics",
            f"/api/v1/territories/{SPEC['slug']}/network/analytics",
        )

    @task(1)
    def network(self) -> None:
        self.get("GET /territories/{slug}/network", f"/api/v1/territories/{SPEC['slug']}/network")


class HealthUser(HttpUser):
    weight = 1

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="GET /healthz", headers={"X-Bench-Name": "GET /healthz"})


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class SingleUser(HttpUser):
    """One request at a time: each API call and page of the list in turn, `repeat` times."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.calls = list(SPEC["single"]["calls"])
        codes = dict(SPEC["phase"].get("second_factor", {}))
        self.pages = {
            role: self._login(email, codes.get(role)) for role, email in SPEC["single"]["logins"].items()
        }

    def _form_token(self, path: str) -> str:
        token = CSRF.search(self.client.get(path, name="login").text)
        assert token, f"no CSRF token on {path}"
        return token.group(1)

    def _login(self, email: str, code: str | None) -> dict[str, str]:
        # Pages use the session cookie: sign in with the form, keep the cookie for that role.
        self.client.cookies.clear()
        answer = self.client.post(
            "/connexion",
            data={
                "email": email,
                "password": SPEC["single"]["password"],
                "csrf_token": self._form_token("/connexion"),
            },
            name="login",
            allow_redirects=False,
        )
        if answer.headers.get("Location", "").endswith("/connexion/code"):
            # Two-factor (the national team): one of the recovery codes the bench's setup got by
            # enrolling the account, each single-use, one per phase (a TOTP code would be refused
            # twice within the same 30 s step).
            assert code, f"{email} asks for a second factor and the phase has no code for it"
            answer = self.client.post(
                "/connexion/code",
                data={"code": code, "csrf_token": self._form_token("/connexion/code")},
                name="login",
                allow_redirects=False,
            )
        if answer.status_code != 302 or "/connexion" in answer.headers.get("Location", ""):
            raise RuntimeError(f"sign-in of {email} failed: {answer.status_code}")
        cookies = dict(self.client.cookies)
        self.client.cookies.clear()
        return cookies

    @task
    def sequence(self) -> None:
        for _round in range(int(SPEC["phase"].get("repeat", 1))):
            for call in self.calls:
                headers = {"X-Bench-Name": call["name"]}
                cookies = None
                self.client.cookies.clear()
                if call.get("token"):
                    headers["Authorization"] = f"Bearer {call['token']}"
                else:
                    cookies = self.pages[call["role"]]
                with self.client.get(
                    call["path"],
                    headers=headers,
                    cookies=cookies,
                    name=call["name"],
                    catch_response=True,
                    allow_redirects=False,
                ) as response:
                    if response.status_code != 200:
                        response.failure(f"{response.status_code}")
        self.environment.runner.quit()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(records: list[tuple[float, str, float, bool]], seconds: float) -> dict[str, Any]:
    """Requests, errors, req/s and p50/p95/p99 (ms), for the whole and per endpoint."""

    def figures(rows: list[tuple[float, str, float, bool]]) -> dict[str, Any]:
        times = [row[2] for row in rows]
        return {
            "requests": len(rows),
            "errors": sum(1 for row in rows if not row[3]),
            "rps": round(len(rows) / seconds, 2) if seconds else None,
            "p50_ms": round(_percentile(times, 0.50), 1),
            "p95_ms": round(_percentile(times, 0.95), 1),
            "p99_ms": round(_percentile(times, 0.99), 1),
        }

    names = sorted({row[1] for row in records})
    return {
        **figures(records),
        "seconds": round(seconds, 1),
        "endpoints": {name: figures([row for row in records if row[1] == name]) for name in names},
    }


def run(spec: dict[str, Any]) -> dict[str, Any]:
    SPEC.update(spec)
    TOKENS.update({role: list(tokens) for role, tokens in spec["tokens"].items()})
    phase = spec["phase"]
    kind = phase["kind"]
    wait = between(0.5, 1.5) if phase.get("paced") else constant(0)
    if kind == "single":
        classes: list[type[User]] = [SingleUser]
    elif kind == "healthz":
        classes = [HealthUser]
    else:
        classes = [CipUser, CpUser, CoordinatorUser, HealthUser]
    for cls in classes:
        if cls is not SingleUser:
            cls.wait_time = wait
    env = Environment(user_classes=classes, host=spec["host"], events=events)
    runner = env.create_local_runner()
    users = 1 if kind == "single" else int(phase["users"])
    ramp = 0.0 if kind == "single" else float(phase.get("ramp", 3.0))
    started = time.time()
    runner.start(users, spawn_rate=max(users / max(ramp, 0.1), 1))
    if kind == "single":
        runner.greenlet.join()  # the user quits once through its list
    else:
        gevent.sleep(max(0.0, started + ramp + float(phase["duration"]) - time.time()))
        runner.quit()
    ended = time.time()
    window_start = started + ramp
    measured = [row for row in RECORDS if row[0] >= window_start and row[1] != "login"]
    return {**summary(measured, ended - window_start), "failures": FAILURES}


def main() -> None:
    spec_path, result_path = sys.argv[1], sys.argv[2]
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    Path(result_path).write_text(json.dumps(run(spec), indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
