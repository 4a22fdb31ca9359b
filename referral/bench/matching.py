"""`referral bench matching`: the engine against its two baselines, on generated national-scale data.

Measured in one run, on the same data (`bench.synthetic.generate(scale, seed)`), so that ratios
hold on a shared, noisy machine:

(a) proposals for one participant, pure engine: median and p95 over many participants, for the
    ranking alone and with the French explanations of the first ten proposals;
(b) the proposals service call with the database — not measured by this module, which needs no
    database: `bench/matching_service.py` fills the slot ``service_call_with_database`` that the
    JSON keeps for it (`referral bench matching` runs both, in that order);
(c) proposals for every participant (the national batch).

The baselines are `DoubleLoop` and `NumpyReference` of `bench/baselines.py` (also the property
tests' oracles); the run checks that the top 10 of the engine and of both baselines agree.

No Flask, no session: the engine and the baselines take the generated snapshots as they are.
"""

from __future__ import annotations

import functools
import gc
import json
import math
import os
import pathlib
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from referral.bench import matching_quality
from referral.bench.baselines import TOP_K, DoubleLoop, NumpyReference, Top
from referral.bench.synthetic import Dataset, generate
from referral.matching.batch import BatchResult, match_batch
from referral.matching.index import MatchingIndex
from referral.matching.snapshot import ParticipantSnapshot
from referral.matching.table import ParticipantTable

ONE_PARTICIPANT_SAMPLE = 3000
DOUBLE_LOOP_ONE_SAMPLE = 300
TOP10_SAMPLE = 1000
# The double loop runs on everybody up to this many participants, else on one in DOUBLE_LOOP_STRIDE.
DOUBLE_LOOP_FULL = 20_000
DOUBLE_LOOP_STRIDE = 10

TARGETS = {
    "one_participant_median_ms": 0.2,
    "one_participant_vs_numpy_max": 2.0,
    "batch_vs_numpy_max": 1.5,
    "batch_speedup_vs_double_loop_min": 5.0,
}

# ---------------------------------------------------------------------------------------------
# The run.


def _ms(ns: Sequence[int]) -> dict[str, float]:
    values = sorted(ns)
    p95 = values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]
    return {
        "median_ms": statistics.median(values) / 1e6,
        "p95_ms": p95 / 1e6,
        "mean_ms": statistics.fmean(values) / 1e6,
        "samples": len(values),
    }


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _sample(count: int, size: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(size, size=min(count, size), replace=False).tolist())


def _same_top(a: Top, b: Top) -> bool:
    return [oid for oid, _ in a] == [oid for oid, _ in b] and all(
        math.isclose(x, y, rel_tol=0.0, abs_tol=1e-12) for (_, x), (_, y) in zip(a, b, strict=True)
    )


def run(
    output: pathlib.Path, *, scale: float = 1.0, seed: int = 20261123, echo: Callable[[str], Any] = print
) -> dict[str, Any]:
    """Generate the dataset of (scale, seed), measure (a) and (c) against both baselines, write the
    figures and ratios to `output` (JSON) and print a table. Returns what it wrote."""
    output = pathlib.Path(output)
    echo(f"Génération des données (échelle {scale}, graine {seed})…")
    generation_s, data = _timed(lambda: generate(scale, seed))
    today = data.today
    reference = data.reference
    open_opportunities = [o for o in data.opportunities if o.status == "published"]
    echo(
        f"  {len(data.territories)} territoires, {len(data.participants)} participant·es, "
        f"{len(open_opportunities)} opportunités ouvertes ({len(data.opportunities)} en tout) "
        f"— {generation_s:.1f} s"
    )

    echo("Construction des index…")

    def build_index() -> MatchingIndex:
        built = MatchingIndex(data.opportunities, reference)
        for territory in built.territories.values():
            territory.day(today)  # the opportunity-only part of the score, computed once a day
        return built

    index_s, index = _timed(build_index)
    numpy_setup_s, numpy_ref = _timed(lambda: NumpyReference(data.opportunities, reference, today))
    loop_setup_s, loop = _timed(lambda: DoubleLoop(data.opportunities, reference))
    opportunities_per_territory = [t.size for t in index.territories.values()]
    # Hundreds of thousands of long-lived snapshots: move them out of the collector's way, as a
    # worker that keeps an index in memory should (gc.freeze after loading), so that a full
    # collection triggered by unrelated garbage does not walk them during a measurement.
    gc.collect()
    gc.freeze()
    try:
        return _measure(
            output,
            scale,
            seed,
            echo,
            data,
            index,
            numpy_ref,
            loop,
            opportunities_per_territory,
            {
                "generation_s": generation_s,
                "engine_index_build_s": index_s,
                "numpy_reference_setup_s": numpy_setup_s,
                "double_loop_setup_s": loop_setup_s,
            },
        )
    finally:
        gc.unfreeze()


class _Clock:
    """Wall and CPU time of what runs inside it, added up (CPU time is what this process used:
    it moves less than wall time when other processes share the machine)."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def __enter__(self) -> _Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu

    def as_dict(self) -> dict[str, float]:
        return {"wall_s": self.wall, "cpu_s": self.cpu}


def _measure(
    output: pathlib.Path,
    scale: float,
    seed: int,
    echo: Callable[[str], Any],
    data: Dataset,
    index: MatchingIndex,
    numpy_ref: NumpyReference,
    loop: DoubleLoop,
    opportunities_per_territory: list[int],
    setup: dict[str, float],
) -> dict[str, Any]:
    today = data.today
    reference = data.reference
    people = data.participants
    open_opportunities = [o for o in data.opportunities if o.status == "published"]
    load_before = os.getloadavg()

    # (c) the national batch — first, so that (a) then runs on warm caches, as in a long-lived
    # worker. Engine and NumPy reference alternate territory by territory (one first, then the
    # other), so that a change of load on a shared machine weighs on both alike.
    echo("(c) Calcul national : moteur et référence NumPy, territoire par territoire…")
    table_clock, engine_clock, numpy_clock = _Clock(), _Clock(), _Clock()
    with table_clock:
        table = ParticipantTable(people, reference, today)
    with numpy_clock:
        columns = numpy_ref.participant_columns(table)
    batch = BatchResult.empty(table, TOP_K)
    numpy_top = (np.full((table.size, TOP_K), -1, dtype=np.int64), np.full((table.size, TOP_K), np.nan))
    for turn, territory_id in enumerate(sorted(table.by_territory)):
        runs = [
            (engine_clock, lambda t=territory_id: match_batch(index, table, territory_ids=[t], into=batch)),
            (
                numpy_clock,
                lambda t=territory_id: numpy_ref.match_batch(
                    table, columns=columns, territory_ids=[t], into=numpy_top
                ),
            ),
        ]
        for clock, action in runs if turn % 2 == 0 else runs[::-1]:
            with clock:
                action()

    # The double loop takes minutes at national scale: it runs on a systematic sample of every
    # territory (one participant in DOUBLE_LOOP_STRIDE) and its time is extrapolated territory by
    # territory. Below DOUBLE_LOOP_FULL participants it runs on everybody.
    echo("(c) Calcul national : double boucle Python…")
    stride = 1 if len(people) <= DOUBLE_LOOP_FULL else DOUBLE_LOOP_STRIDE
    loop_tops: dict[int, Top] = {}
    loop_clock = _Clock()
    loop_extrapolated = 0.0
    loop_measured_people = 0
    for _, positions in sorted(table.by_territory.items()):
        sample_positions = positions[::stride].tolist()
        before = loop_clock.wall
        with loop_clock:
            for position in sample_positions:
                person = people[position]
                loop_tops[person.id] = loop.match(person, today)[0]
        loop_measured_people += len(sample_positions)
        loop_extrapolated += (loop_clock.wall - before) * len(positions) / len(sample_positions)

    # Identical top 10: the engine's batch and single calls against the double loop on a sample of
    # participants, and the batch against the NumPy reference on everybody.
    sample = _sample(TOP10_SAMPLE, len(people), seed + 1)
    for row in sample:
        person = people[row]
        if person.id not in loop_tops:
            loop_tops[person.id] = loop.match(person, today)[0]
    mismatches_loop = sum(
        1 for row in sample if not _same_top(batch.top(people[row].id), loop_tops[people[row].id])
    )
    mismatches_single = 0
    for row in sample:
        person = people[row]
        single = index.match(person, today, data.histories.get(person.id))
        ranked = single.scores()
        if not _same_top([(oid, ranked[oid]) for oid in single.eligible_ids[:TOP_K]], loop_tops[person.id]):
            mismatches_single += 1
    numpy_ids, numpy_scores = numpy_top
    same_ids = (numpy_ids == batch.top_ids).all(axis=1)
    same_scores = np.isclose(numpy_scores, batch.top_scores, rtol=0.0, atol=1e-12, equal_nan=True).all(axis=1)
    mismatches_numpy_all = int(np.count_nonzero(~(same_ids & same_scores)))

    # (a) one participant, interleaved the same way: engine, engine with words, NumPy reference.
    echo("(a) Un·e participant·e, moteur pur…")
    rows = _sample(ONE_PARTICIPANT_SAMPLE, len(people), seed + 2)
    for row in rows:  # warm-up: caches of needs, situations and wordings, as in a long-lived worker
        warm = index.match(people[row], today)
        warm.eligible(TOP_K)
        warm.near_misses(TOP_K)
        numpy_ref.match_one(table, columns, row)
    wall_ns = time.perf_counter_ns
    cpu_ns = time.process_time_ns
    timings: dict[str, tuple[list[int], list[int]]] = {
        name: ([], [])
        for name in ("engine", "engine_with_explanations_top10", "numpy_reference", "double_loop")
    }

    def timed(name: str, action: Callable[[], Any]) -> None:
        wall, cpu = wall_ns(), cpu_ns()
        action()
        timings[name][1].append(cpu_ns() - cpu)
        timings[name][0].append(wall_ns() - wall)

    def explained(person: ParticipantSnapshot, history: Any) -> None:
        result = index.match(person, today, history)
        result.eligible(TOP_K)
        result.near_misses(TOP_K)

    for row in rows:
        person = people[row]
        history = data.histories.get(person.id)
        timed("engine", functools.partial(index.match, person, today, history))
        timed("engine_with_explanations_top10", functools.partial(explained, person, history))
        timed("numpy_reference", functools.partial(numpy_ref.match_one, table, columns, row))
    for row in rows[:DOUBLE_LOOP_ONE_SAMPLE]:
        timed("double_loop", functools.partial(loop.match, people[row], today))
    one: dict[str, dict[str, Any]] = {
        name: {**_ms(wall), "cpu": _ms(cpu)} for name, (wall, cpu) in timings.items()
    }
    one_ratio = one["engine"]["median_ms"] / one["numpy_reference"]["median_ms"]
    one_ratio_cpu = one["engine"]["cpu"]["median_ms"] / one["numpy_reference"]["cpu"]["median_ms"]

    engine_total = table_clock.wall + engine_clock.wall
    numpy_total = table_clock.wall + numpy_clock.wall
    results: dict[str, Any] = {
        "benchmark": "matching",
        "scale": scale,
        "seed": seed,
        "today": today.isoformat(),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": list(load_before),
            "load_average_after": list(os.getloadavg()),
        },
        "dataset": {
            "territories": len(data.territories),
            "structures": len(data.structures),
            "participants": len(people),
            "open_opportunities": len(open_opportunities),
            "opportunities_including_not_open": len(data.opportunities),
            "offers_per_territory_median": statistics.median(opportunities_per_territory)
            if opportunities_per_territory
            else 0,
            "offers_per_territory_max": max(opportunities_per_territory, default=0),
            "pairs_evaluated": int(
                sum(
                    index.territories[t].size * len(p)
                    for t, p in table.by_territory.items()
                    if t in index.territories
                )
            ),
            "generation_s": setup["generation_s"],
        },
        "setup": {key: value for key, value in setup.items() if key != "generation_s"},
        "one_participant": {
            **one,
            "ratio_engine_to_numpy_median": one_ratio,
            "ratio_engine_to_numpy_median_cpu": one_ratio_cpu,
            "ratio_engine_to_double_loop_median": one["engine"]["median_ms"]
            / one["double_loop"]["median_ms"],
        },
        "service_call_with_database": {
            "status": "not_measured",
            "note": (
                "Slot for (b), the proposals service call with the database (loader + engine), p95 on "
                "SQLite and PostgreSQL; to be filled by the benchmark of referral/referrals/."
            ),
            "sqlite": None,
            "postgresql": None,
        },
        "national_batch": {
            "participant_table": table_clock.as_dict(),
            "engine": engine_clock.as_dict(),
            "numpy_reference": numpy_clock.as_dict(),
            "engine_s": engine_clock.wall,
            "engine_total_s": engine_total,
            "numpy_reference_s": numpy_clock.wall,
            "numpy_reference_total_s": numpy_total,
            "double_loop_s": loop_extrapolated,
            "double_loop_measured": {
                **loop_clock.as_dict(),
                "participants": loop_measured_people,
                "extrapolated": stride > 1,
                "note": (
                    f"one participant in {stride} of every territory, time extrapolated per territory"
                    if stride > 1
                    else "every participant"
                ),
            },
            "ratio_engine_to_numpy": engine_clock.wall / numpy_clock.wall,
            "ratio_engine_to_numpy_cpu": engine_clock.cpu / numpy_clock.cpu,
            "ratio_engine_to_numpy_total": engine_total / numpy_total,
            "speedup_engine_vs_double_loop": loop_extrapolated / engine_total,
        },
        "top10_check": {
            "sample": len(sample),
            "batch_vs_double_loop_mismatches": mismatches_loop,
            "single_vs_double_loop_mismatches": mismatches_single,
            "batch_vs_numpy_mismatches_all_participants": mismatches_numpy_all,
            "identical": mismatches_loop == 0 and mismatches_single == 0 and mismatches_numpy_all == 0,
        },
    }
    batch_ratio = results["national_batch"]["ratio_engine_to_numpy_total"]
    speedup = results["national_batch"]["speedup_engine_vs_double_loop"]
    identical = results["top10_check"]["identical"]
    echo("Qualité du classement (le frein d'abord)…")
    quality = matching_quality.measure(
        index, data.participants, data.opportunities, today, histories=data.histories, loop=loop
    )
    results["quality"] = quality
    share = quality["share_first_proposal_answers_need"]
    results["targets_apply_at_scale"] = 1.0
    results["targets"] = {
        "one_participant_median_ms": _target(
            "<= 0.2", one["engine"]["median_ms"], TARGETS["one_participant_median_ms"]
        ),
        "one_participant_vs_numpy": _target("<= 2x", one_ratio, TARGETS["one_participant_vs_numpy_max"]),
        "batch_vs_numpy": _target("<= 1.5x", batch_ratio, TARGETS["batch_vs_numpy_max"]),
        "batch_speedup_vs_double_loop": {
            "target": ">= 5x",
            "value": speedup,
            "met": speedup >= TARGETS["batch_speedup_vs_double_loop_min"],
        },
        "top10_identical": {"target": "identical", "value": identical, "met": identical},
        "first_proposal_answers_need": {
            "target": "100 %",
            "value": share,
            "met": share is None or share == 1.0,
        },
        "service_call_sqlite_p95_ms": {"target": "<= 5", "value": None, "met": None},
        "service_call_postgresql_p95_ms": {"target": "<= 10", "value": None, "met": None},
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print_table(results, echo)
    for line in matching_quality.quality_lines(quality):
        echo(line)
    return results


def _target(text: str, value: float, limit: float) -> dict[str, Any]:
    return {"target": text, "value": value, "met": value <= limit}


def _print_table(results: dict[str, Any], echo: Callable[[str], Any]) -> None:
    one = results["one_participant"]
    batch = results["national_batch"]

    def cpu(name: str) -> float:
        return float(one[name]["cpu"]["median_ms"])

    lines = [
        "",
        f"{'mesure':<46} {'moteur':>12} {'réf. NumPy':>12} {'double boucle':>14}",
        "-" * 88,
        f"{'(a) un·e participant·e, médiane (ms)':<46} {one['engine']['median_ms']:>12.4f} "
        f"{one['numpy_reference']['median_ms']:>12.4f} {one['double_loop']['median_ms']:>14.4f}",
        f"{'(a) un·e participant·e, p95 (ms)':<46} {one['engine']['p95_ms']:>12.4f} "
        f"{one['numpy_reference']['p95_ms']:>12.4f} {one['double_loop']['p95_ms']:>14.4f}",
        f"{'(a) avec explications des 10 premières (ms)':<46} "
        f"{one['engine_with_explanations_top10']['median_ms']:>12.4f} {'':>12} {'':>14}",
        f"{'(a) médiane en temps CPU (ms)':<46} {cpu('engine'):>12.4f} "
        f"{cpu('numpy_reference'):>12.4f} {cpu('double_loop'):>14.4f}",
        f"{'(c) calcul national (s, table incluse)':<46} {batch['engine_total_s']:>12.2f} "
        f"{batch['numpy_reference_total_s']:>12.2f} {batch['double_loop_s']:>14.2f}"
        + (" (extrapolé)" if batch["double_loop_measured"]["extrapolated"] else ""),
        f"{'(c) temps CPU hors table (s)':<46} {batch['engine']['cpu_s']:>12.2f} "
        f"{batch['numpy_reference']['cpu_s']:>12.2f} {batch['double_loop_measured']['cpu_s']:>14.2f}"
        + (" (mesuré)" if batch["double_loop_measured"]["extrapolated"] else ""),
        "-" * 88,
        "(b) appel du service avec la base : non mesuré ici (emplacement réservé dans le JSON)",
        f"charge de la machine (1 min) : {results['machine']['load_average_before'][0]:.2f} avant, "
        f"{results['machine']['load_average_after'][0]:.2f} après, {results['machine']['cpus']} processeurs",
        "",
    ]
    for name, target in results["targets"].items():
        value = target["value"]
        shown = "—" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
        verdict = {True: "atteint", False: "MANQUÉ", None: "à mesurer"}[target["met"]]
        if results["scale"] < 1.0 and target["met"] is not None:
            # The targets are set for the national scale; a small run only shows the trend.
            verdict += " (indicatif : cibles fixées à l'échelle 1.0)"
        lines.append(f"  {name:<34} {target['target']:>12}  {shown:>10}  {verdict}")
    for line in lines:
        echo(line)
