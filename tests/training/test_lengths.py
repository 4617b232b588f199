"""The search for keep ratios: cost, the front, the evolution and the budgets picked from it."""

import pytest

from qa_reader.training.lengths import Point, choose_budgets, evolve, pareto_front, relative_cost


def test_cost_counts_the_tokens_each_layer_reads_over_a_full_window():
    assert relative_cost((1.0, 1.0, 1.0)) == 1.0
    # 8 tokens: the first layer keeps 4, the second 2 of those: 6 of 16 positions.
    assert relative_cost((0.5, 0.5), length=8) == pytest.approx(6 / 16)
    # Rounded up, and never below one token.
    assert relative_cost((0.3, 0.01), length=10) == pytest.approx((3 + 1) / 20)


def test_the_front_keeps_only_points_nothing_beats_on_both_cost_and_f1():
    points = [
        Point((1.0,), 1.0, 80.0),
        Point((0.9,), 0.9, 81.0),  # cheaper and better than the full one
        Point((0.8,), 0.8, 70.0),
        Point((0.7,), 0.7, 72.0),  # beats 0.8 on both
        Point((0.5,), 0.5, 60.0),
    ]
    assert [p.ratios for p in pareto_front(points)] == [(0.5,), (0.7,), (0.9,)]


def test_each_budget_is_the_best_point_within_its_cost():
    front = [Point((0.3,), 0.3, 50.0), Point((0.45,), 0.45, 62.0), Point((0.6,), 0.6, 70.0), Point((1.0,), 1.0, 75.0)]
    chosen = dict(choose_budgets(front, (("full", 1.0), ("fast", 2.0), ("fastest", 3.0), ("instant", 10.0))))
    assert chosen["full"].f1 == 75.0
    assert chosen["fast"].f1 == 62.0  # 0.6 costs more than half
    assert chosen["fastest"].f1 == 50.0
    assert "instant" not in chosen


def test_the_search_finds_that_the_first_layer_matters_most():
    # A made-up model: dropping tokens early costs five times what it costs in the later layers.
    def f1_of(ratios):
        return 100.0 - 50.0 * (1.0 - ratios[0]) - 10.0 * sum(1.0 - r for r in ratios[1:])

    measured = []

    def recording(ratios):
        measured.append(ratios)
        return f1_of(ratios)

    front = evolve(recording, 4, generations=6, population=10, low=0.5, seed=1)
    assert len(measured) == len(set(measured))  # each vector measured once
    everything = [Point(r, relative_cost(r), f1_of(r)) for r in measured]
    for point in front:
        assert not any(o.cost <= point.cost and o.f1 > point.f1 for o in everything)
    assert front[-1].ratios == (1.0,) * 4
    uniform_half = max((p for p in everything if len(set(p.ratios)) == 1 and p.cost <= 0.5), key=lambda p: p.f1)
    best_half = max((p for p in front if p.cost <= 0.5), key=lambda p: p.f1)
    assert best_half.f1 > uniform_half.f1
    assert best_half.ratios[0] > sum(best_half.ratios[1:]) / 3
