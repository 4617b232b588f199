"""Which keep ratios to offer: an evolutionary search over per-layer keep ratios of a length-adaptive model for
the front of F1 against cost, and the budgets picked from it (Length-Adaptive Transformer, section 4).

F1 is measured on held-out training questions (never an evaluation set). Cost is the share of the full
network's work a ratio vector leaves: token positions each layer's feed-forward block reads, summed over the
layers, over a full window; the chosen budgets are then timed on this machine (`time_budgets`).
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Budgets offered to the user: a name and the speed-up over the full network it must reach (by cost).
BUDGET_TARGETS = (("careful", 1.0), ("balanced", 1.5), ("fast", 2.0), ("fastest", 3.0))
WINDOW = 384


@dataclass(frozen=True)
class Point:
    """A ratio vector with its cost (1.0: the full network) and its F1 on the search's questions."""

    ratios: tuple[float, ...]
    cost: float
    f1: float


def relative_cost(ratios: Sequence[float], length: int = WINDOW) -> float:
    """Token positions read by the layers (each keeps ceil(ratio x the tokens before it)) over layers x length."""
    tokens, total = length, 0
    for ratio in ratios:
        tokens = min(tokens, max(1, math.ceil(tokens * ratio)))
        total += tokens
    return total / (len(ratios) * length)


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """The points no other point beats on both cost and F1, cheapest first."""
    front: list[Point] = []
    for point in sorted(points, key=lambda p: (p.cost, -p.f1)):
        if not front or point.f1 > front[-1].f1:
            front.append(point)
    return front


def _mutate(ratios: tuple[float, ...], rng: random.Random, low: float, step: float) -> tuple[float, ...]:
    changed = list(ratios)
    for layer in range(len(changed)):
        if rng.random() < 0.5:
            changed[layer] = min(1.0, max(low, changed[layer] + rng.uniform(-step, step)))
    return tuple(round(r, 2) for r in changed)


def _crossover(a: tuple[float, ...], b: tuple[float, ...], rng: random.Random) -> tuple[float, ...]:
    return tuple(x if rng.random() < 0.5 else y for x, y in zip(a, b))


def evolve(
    f1_of: Callable[[tuple[float, ...]], float],
    layers: int,
    *,
    generations: int = 8,
    population: int = 12,
    low: float = 0.5,
    step: float = 0.15,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> list[Point]:
    """Search ratio vectors (each ratio in [low, 1]) and return the front of everything measured.

    The first generation holds the full network and uniform ratios from 0.95 down to `low`; each later one
    is made of mutations and crossovers of the current front, each vector measured once.
    """
    rng = random.Random(seed)
    seen: dict[tuple[float, ...], Point] = {}

    def measure(ratios: tuple[float, ...]) -> None:
        if ratios not in seen:
            seen[ratios] = Point(ratios, relative_cost(ratios), f1_of(ratios))

    levels = [1.0] + [round(1.0 - step * i / 3, 2) for i in range(1, 100) if 1.0 - step * i / 3 >= low]
    for level in levels[:population]:
        measure((level,) * layers)
    for generation in range(generations):
        front = pareto_front(list(seen.values()))
        children: list[tuple[float, ...]] = []
        attempts = 0
        while len(children) < population and attempts < 50 * population:
            attempts += 1
            parent = rng.choice(front).ratios
            if len(front) > 1 and rng.random() < 0.3:
                parent = _crossover(parent, rng.choice(front).ratios, rng)
            child = _mutate(parent, rng, low, step)
            if child not in seen and child not in children:
                children.append(child)
        for child in children:
            measure(child)
        if log:
            best = pareto_front(list(seen.values()))
            log(f"generation {generation + 1}: {len(seen)} measured, front of {len(best)}")
    return pareto_front(list(seen.values()))


def choose_budgets(front: Sequence[Point], targets=BUDGET_TARGETS) -> list[tuple[str, Point]]:
    """For each (name, speed-up), the best-F1 point of the front whose cost is at most 1 / speed-up; targets
    no point reaches are left out."""
    chosen = []
    for name, speedup in targets:
        affordable = [p for p in front if p.cost <= 1.0 / speedup + 1e-9]
        if affordable:
            chosen.append((name, max(affordable, key=lambda p: (p.f1, -p.cost))))
    return chosen


def time_budgets(
    run: Callable[[tuple[float, ...]], None], budgets: Sequence[tuple[str, Point]], rounds: int = 5
) -> dict[str, float]:
    """Median seconds of `run(ratios)` per budget, the budgets interleaved in each round so that they all see
    the same load on the machine."""
    samples: dict[str, list[float]] = {name: [] for name, _ in budgets}
    for _ in range(rounds):
        for name, point in budgets:
            started = time.perf_counter()
            run(point.ratios)
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def search_model(
    model_dir,
    questions: int = 600,
    generations: int = 8,
    population: int = 12,
    write: bool = False,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Run the search on a length-adaptive model folder with held-out training questions (the 1,000 the export
    chose its int8 variant on are skipped), time the chosen budgets, and with `write` store them in the
    manifest as `length_budgets`. Returns the budgets."""
    import json
    from pathlib import Path

    from qa_reader.evaluate import evaluate_paragraphs
    from qa_reader.reader.build import build_reader
    from qa_reader.training.data import default_train_dir
    from qa_reader.training.loop import TrainConfig, held_out_questions

    reader = build_reader(model_dir)
    if not reader.session.adaptive:
        raise SystemExit(f"{model_dir} has no keep_ratios input: export it with --length-adaptive")
    pool = held_out_questions(default_train_dir(), 1000 + questions, TrainConfig().seed)[1000:]

    def f1_of(ratios: tuple[float, ...]) -> float:
        reader.session.set_keep_ratios(ratios)
        report, _ = evaluate_paragraphs(reader, pool)
        return report.f1

    front = evolve(f1_of, reader.session.layers, generations=generations, population=population, log=log)
    budgets = choose_budgets(front)
    timed = pool[:100]

    def run(ratios: tuple[float, ...]) -> None:
        reader.session.set_keep_ratios(ratios)
        evaluate_paragraphs(reader, timed)

    layers = reader.session.layers
    every_token = ("every token", Point((1.0,) * layers, 1.0, float("nan")))
    seconds = time_budgets(run, [every_token, *budgets])  # the speed-ups are against every token, same run
    full = seconds["every token"]
    result = []
    for name, point in budgets:
        ms = 1000 * seconds[name] / len(timed)
        entry = {
            "name": name,
            "keep_ratios": list(point.ratios),
            "relative_cost": round(point.cost, 3),
            "held_out_f1": round(point.f1, 2),
            "ms_per_question": round(ms, 2),
            "speedup": round(full / seconds[name], 2),
        }
        result.append(entry)
        log(json.dumps(entry))
    if write:
        path = Path(model_dir) / "manifest.json"
        manifest = json.loads(path.read_text())
        manifest["length_budgets"] = result
        manifest["length_search"] = {
            "questions": len(pool),
            "generations": generations,
            "population": population,
            "front": [
                {"keep_ratios": list(p.ratios), "relative_cost": round(p.cost, 3), "f1": round(p.f1, 2)} for p in front
            ],
            "timed_on": f"{len(timed)} of those questions, paragraph by paragraph, medians of 5 interleaved rounds",
        }
        path.write_text(json.dumps(manifest, indent=2))
    return result
