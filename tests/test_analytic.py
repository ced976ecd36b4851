"""Tests for simulator.analytic against independent formulas and published values."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import gammainc, gammaln

from simulator.analytic import (
    DEFAULT_MAX_OCCUPANCY,
    erlang_a,
    erlang_a_service_level,
    erlang_b,
    erlang_c_mean_wait,
    erlang_c_service_level,
    erlang_c_wait_exceeds,
    erlang_c_wait_probability,
    erlang_c_wait_quantile,
    erlang_table,
    min_servers_for_occupancy,
    min_servers_for_service_level,
    min_servers_for_wait,
    min_servers_for_wait_quantile,
)

# ---------------------------------------------------------------------------------------
# Independent reference formulas (direct factorials: fine at these small sizes)
# ---------------------------------------------------------------------------------------


def direct_erlang_b(c: int, a: float) -> float:
    return (a**c / math.factorial(c)) / sum(a**k / math.factorial(k) for k in range(c + 1))


def direct_erlang_c(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def direct_mmc_queue_length(c: int, a: float, n_max: int = 2000) -> float:
    """E[queue] from the M/M/c state probabilities, summed term by term."""
    weights = [a**n / math.factorial(n) for n in range(c + 1)]
    rho = a / c
    weights += [weights[c] * rho**k for k in range(1, n_max)]
    total = sum(weights)
    return sum(max(n - c, 0) * w for n, w in enumerate(weights)) / total


SMALL_CASES = [(1, 0.5), (2, 1.0), (3, 2.0), (5, 4.2), (12, 10.0), (30, 25.0)]


# ---------------------------------------------------------------------------------------
# Erlang B / C known values
# ---------------------------------------------------------------------------------------


def test_erlang_c_a10_c12_matches_direct_formula_and_published_value():
    value = erlang_c_wait_probability(12, 10.0)
    assert round(value, 4) == round(direct_erlang_c(12, 10.0), 4)
    assert value == pytest.approx(direct_erlang_c(12, 10.0), rel=1e-12)
    assert abs(value - 0.4494) < 5e-4


def test_published_erlang_values():
    assert abs(erlang_b(10, 5.0) - 0.01838) < 1e-5  # standard Erlang B table
    assert erlang_c_wait_probability(3, 2.0) == pytest.approx(4 / 9, abs=1e-12)
    assert erlang_b(2, 1.0) == pytest.approx(0.2, abs=1e-12)
    # M/M/2 with rho = 1/2: P(wait) = 2 rho^2 / (1 + rho) = 1/3
    assert erlang_c_wait_probability(2, 1.0) == pytest.approx(1 / 3, abs=1e-12)
    # M/M/1: P(wait) = rho, E[Wq] = rho s / (1 - rho)
    assert erlang_c_wait_probability(1, 0.75) == pytest.approx(0.75, abs=1e-12)
    assert erlang_c_mean_wait(1, 0.75, 4.0) == pytest.approx(12.0, rel=1e-12)


@pytest.mark.parametrize(("c", "a"), SMALL_CASES)
def test_erlang_b_and_c_match_direct_formulas(c, a):
    assert erlang_b(c, a) == pytest.approx(direct_erlang_b(c, a), rel=1e-10)
    assert erlang_c_wait_probability(c, a) == pytest.approx(direct_erlang_c(c, a), rel=1e-10)


@pytest.mark.parametrize(("c", "a"), SMALL_CASES)
def test_erlang_c_from_erlang_b_identity(c, a):
    b = direct_erlang_b(c, a)
    assert erlang_c_wait_probability(c, a) == pytest.approx(c * b / (c - a * (1 - b)), rel=1e-10)


@pytest.mark.parametrize(("c", "a"), SMALL_CASES)
def test_littles_law_for_erlang_c(c, a):
    arrival_rate, mean_service = a / 3.0, 3.0  # lambda * s = a
    queue_length = direct_mmc_queue_length(c, a)
    assert arrival_rate * erlang_c_mean_wait(c, a, mean_service) == pytest.approx(
        queue_length, rel=1e-9
    )


def test_unstable_erlang_c_conventions():
    assert erlang_c_wait_probability(5, 5.0) == 1.0
    assert erlang_c_mean_wait(5, 6.0, 1.0) == math.inf
    assert erlang_c_wait_exceeds(5, 6.0, 1.0, 10.0) == 1.0
    assert erlang_c_service_level(5, 6.0, 1.0, 10.0) == 0.0
    assert erlang_c_wait_quantile(5, 6.0, 1.0, 0.9) == math.inf


def test_wait_tail_is_exponential():
    c, a, s, t = 12, 10.0, 5.0, 2.0
    expected = direct_erlang_c(c, a) * math.exp(-(c - a) * t / s)
    assert erlang_c_wait_exceeds(c, a, s, t) == pytest.approx(expected, rel=1e-12)
    assert erlang_c_service_level(c, a, s, 0.0) == pytest.approx(1 - direct_erlang_c(c, a))


# ---------------------------------------------------------------------------------------
# Large loads
# ---------------------------------------------------------------------------------------


def test_large_load_is_finite_monotone_and_warning_free():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        servers = range(510, 561)
        blocking = [erlang_b(c, 500.0) for c in servers]
        waiting = [erlang_c_wait_probability(c, 500.0) for c in servers]
        waits = [erlang_c_mean_wait(c, 500.0, 10.0) for c in servers]
        result = erlang_a(520, 50.0, 10.0, 30.0)
    for series in (blocking, waiting):
        assert all(math.isfinite(x) and 0.0 <= x <= 1.0 for x in series)
        assert all(later < earlier for earlier, later in zip(series, series[1:], strict=False))
    assert all(math.isfinite(w) and w >= 0 for w in waits)
    assert all(later < earlier for earlier, later in zip(waits, waits[1:], strict=False))
    assert 0 < waiting[0] < 1 and waiting[-1] < 1e-2
    assert all(math.isfinite(x) for x in vars(result).values())
    assert 0 < result.abandon_probability < result.p_wait < 1


# ---------------------------------------------------------------------------------------
# Quantiles and service level
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "a"), [(3, 2.0), (12, 10.0), (530, 500.0)])
@pytest.mark.parametrize("q", [0.8, 0.9, 0.95, 0.999])
def test_service_level_inverts_quantile(c, a, q):
    quantile = erlang_c_wait_quantile(c, a, 7.0, q)
    if q <= 1 - erlang_c_wait_probability(c, a):
        assert quantile == 0.0
    else:
        assert quantile > 0
        assert erlang_c_service_level(c, a, 7.0, quantile) == pytest.approx(q, abs=1e-12)


def test_quantile_is_zero_below_no_wait_share():
    c, a = 20, 10.0
    assert 1 - erlang_c_wait_probability(c, a) > 0.9
    assert erlang_c_wait_quantile(c, a, 1.0, 0.9) == 0.0


# ---------------------------------------------------------------------------------------
# Erlang A
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "arrival_rate", "mean_service"), [(12, 2.0, 5.0), (3, 1.0, 2.0)])
def test_erlang_a_converges_to_erlang_c(c, arrival_rate, mean_service):
    a = arrival_rate * mean_service
    result = erlang_a(c, arrival_rate, mean_service, 1e7 * mean_service)
    assert result.p_wait == pytest.approx(erlang_c_wait_probability(c, a), rel=1e-4)
    assert result.mean_wait == pytest.approx(erlang_c_mean_wait(c, a, mean_service), rel=1e-4)
    assert result.occupancy == pytest.approx(a / c, rel=1e-4)
    assert result.abandon_probability < 1e-6
    t = mean_service / 2
    assert erlang_a_service_level(c, arrival_rate, mean_service, 1e7 * mean_service, t) == (
        pytest.approx(erlang_c_service_level(c, a, mean_service, t), rel=1e-4)
    )


@pytest.mark.parametrize(
    ("c", "arrival_rate", "mean_service", "mean_patience"),
    [(1, 0.8, 1.0, 2.0), (4, 6.0, 1.0, 0.5), (10, 1.0, 12.0, 20.0), (350, 50.0, 10.0, 30.0)],
)
def test_erlang_a_flow_balance_and_abandonment(c, arrival_rate, mean_service, mean_patience):
    result = erlang_a(c, arrival_rate, mean_service, mean_patience)
    served_flow = arrival_rate * (1 - result.abandon_probability)
    busy_servers = c * result.occupancy
    assert served_flow == pytest.approx(busy_servers / mean_service, rel=1e-9)
    assert result.abandon_probability == pytest.approx(
        result.mean_queue_length / mean_patience / arrival_rate, rel=1e-12
    )
    assert result.mean_queue_length == pytest.approx(arrival_rate * result.mean_wait, rel=1e-12)
    assert 0 <= result.abandon_probability <= result.p_wait <= 1


@pytest.mark.parametrize(
    ("arrival_rate", "mean_service", "mean_patience"),
    [(0.8, 1.0, 2.0), (3.0, 1.0, 0.7), (0.5, 4.0, 10.0)],
)
def test_erlang_a_single_server_matches_incomplete_gamma_closed_form(
    arrival_rate, mean_service, mean_patience
):
    # M/M/1+M: pi_{1+k} = pi_1 x^k / ((b+1)...(b+k)) with x = lambda/theta, b = mu/theta, and
    # S = sum_k x^k / (b+1)_k = Gamma(b+1) e^x x^-b P(b, x), sum_k k x^k / (b+1)_k = b + (x-b) S.
    a = arrival_rate * mean_service
    x = arrival_rate * mean_patience
    b = mean_patience / mean_service
    tail_sum = math.exp(gammaln(b + 1) + x - b * math.log(x)) * gammainc(b, x)
    normaliser = 1 + a * tail_sum
    queue_length = a * (b + (x - b) * tail_sum) / normaliser
    result = erlang_a(1, arrival_rate, mean_service, mean_patience)
    assert result.p_wait == pytest.approx(a * tail_sum / normaliser, rel=1e-9)
    assert result.mean_queue_length == pytest.approx(queue_length, rel=1e-9)
    assert result.abandon_probability == pytest.approx(
        queue_length / (mean_patience * arrival_rate), rel=1e-9
    )


def test_erlang_a_service_level_matches_pure_death_matrix_exponential():
    # Independent check: for k citizens ahead, the virtual wait is the absorption time of a
    # pure-death chain with rates c mu + j theta; evaluate it with expm and weight by pi.
    c, arrival_rate, mean_service, mean_patience, t = 2, 3.0, 1.0, 2.5, 0.7
    mu, theta = 1 / mean_service, 1 / mean_patience
    a = arrival_rate * mean_service
    weights = [a**n / math.factorial(n) for n in range(c + 1)]
    for k in range(1, 80):
        weights.append(weights[-1] * arrival_rate / (c * mu + k * theta))
    pi = np.array(weights) / sum(weights)
    exceed = 0.0
    for k, p_state in enumerate(pi[c:]):
        rates = [c * mu + j * theta for j in range(k, -1, -1)]
        generator = np.zeros((k + 2, k + 2))
        for i, rate in enumerate(rates):
            generator[i, i], generator[i, i + 1] = -rate, rate
        exceed += p_state * (1 - expm(generator * t)[0, -1])
    assert erlang_a_service_level(c, arrival_rate, mean_service, mean_patience, t) == (
        pytest.approx(1 - exceed, rel=1e-9)
    )
    assert erlang_a_service_level(c, arrival_rate, mean_service, mean_patience, 0.0) == (
        pytest.approx(1 - pi[c:].sum(), rel=1e-9)
    )


def test_erlang_a_is_stable_when_overloaded():
    result = erlang_a(5, 2.0, 5.0, 3.0)  # a = 10 on 5 counters
    assert 0.5 < result.abandon_probability < 1
    assert result.mean_wait < 3.0  # everybody leaves after patience at the latest
    assert result.occupancy == pytest.approx(
        2.0 * (1 - result.abandon_probability) * 5.0 / 5, rel=1e-9
    )


def test_erlang_a_infinite_patience_is_erlang_c():
    result = erlang_a(12, 2.0, 5.0, math.inf)
    assert result.p_wait == pytest.approx(direct_erlang_c(12, 10.0), rel=1e-12)
    assert result.abandon_probability == 0.0
    assert erlang_a(5, 2.0, 5.0, math.inf).mean_wait == math.inf


# ---------------------------------------------------------------------------------------
# Staffing
# ---------------------------------------------------------------------------------------

STAFFING_CASES = [(0.3, 1.0), (2.0, 5.0), (1.0, 12.0), (50.0, 10.0)]  # (rate, mean service)


def _is_stable(c: int, a: float) -> bool:
    return c >= 1 and a < c


@pytest.mark.parametrize(("arrival_rate", "mean_service"), STAFFING_CASES)
def test_min_servers_for_wait_is_smallest(arrival_rate, mean_service):
    a = arrival_rate * mean_service
    target = mean_service / 10
    c = min_servers_for_wait(arrival_rate, mean_service, target)
    assert erlang_c_mean_wait(c, a, mean_service) <= target
    assert not (_is_stable(c - 1, a) and erlang_c_mean_wait(c - 1, a, mean_service) <= target)


@pytest.mark.parametrize(("arrival_rate", "mean_service"), STAFFING_CASES)
def test_min_servers_for_service_level_is_smallest(arrival_rate, mean_service):
    a = arrival_rate * mean_service
    t, level = mean_service / 5, 0.8
    c = min_servers_for_service_level(arrival_rate, mean_service, t, level)
    assert erlang_c_service_level(c, a, mean_service, t) >= level
    assert not (_is_stable(c - 1, a) and erlang_c_service_level(c - 1, a, mean_service, t) >= level)


@pytest.mark.parametrize(("arrival_rate", "mean_service"), STAFFING_CASES)
def test_min_servers_for_wait_quantile_is_smallest(arrival_rate, mean_service):
    a = arrival_rate * mean_service
    q, max_wait = 0.9, mean_service / 4
    c = min_servers_for_wait_quantile(arrival_rate, mean_service, q, max_wait)
    assert erlang_c_wait_quantile(c, a, mean_service, q) <= max_wait
    assert not (
        _is_stable(c - 1, a) and erlang_c_wait_quantile(c - 1, a, mean_service, q) <= max_wait
    )


@pytest.mark.parametrize(("arrival_rate", "mean_service"), STAFFING_CASES)
def test_min_servers_for_occupancy_is_smallest(arrival_rate, mean_service):
    a = arrival_rate * mean_service
    c = min_servers_for_occupancy(arrival_rate, mean_service, 0.85)
    assert a < c and a / c <= 0.85
    assert not (_is_stable(c - 1, a) and a / (c - 1) <= 0.85)


def test_min_servers_for_occupancy_exact_boundary_and_full_occupancy():
    assert min_servers_for_occupancy(3.5, 1.0, 0.7) == 5  # a / c == 0.7 exactly
    assert min_servers_for_occupancy(4.0, 1.0, 1.0) == 5  # c = a is not stable


# ---------------------------------------------------------------------------------------
# erlang_table
# ---------------------------------------------------------------------------------------

ROW_KEYS = ["staff", "p_wait", "mean_wait_minutes", "service_level", "occupancy"]


def _check_shape(table: dict, first_staff: int, keys: list[str]) -> None:
    assert list(table) == ["answer", "offered_load", "rows"]
    json.dumps(table, allow_nan=False)
    staff = [row["staff"] for row in table["rows"]]
    assert staff == list(range(first_staff, first_staff + len(staff)))
    for row in table["rows"]:
        assert list(row) == keys
        assert 0 <= row["p_wait"] <= 1 and 0 < row["occupancy"] <= 1
    if table["answer"] is not None:
        assert staff[-1] == table["answer"] + 3


def test_table_service_level_mode():
    table = erlang_table(210, 1.0, wait_target_minutes=0.25, service_level=0.8)
    assert table["offered_load"] == pytest.approx(3.5)
    _check_shape(table, 4, ROW_KEYS)
    assert table["answer"] == min_servers_for_service_level(3.5, 1.0, 0.25, 0.8)
    row = next(r for r in table["rows"] if r["staff"] == 4)
    assert row["p_wait"] == pytest.approx(direct_erlang_c(4, 3.5), rel=1e-12)
    assert row["service_level"] == pytest.approx(erlang_c_service_level(4, 3.5, 1.0, 0.25))
    met = [r["staff"] for r in table["rows"] if r["service_level"] >= 0.8]
    assert table["answer"] == min(met)


def test_table_mean_wait_mode():
    table = erlang_table(30, 10.0, wait_target_minutes=2.0)  # a = 5
    _check_shape(table, 6, ROW_KEYS)
    assert table["answer"] == min_servers_for_wait(0.5, 10.0, 2.0)
    answer_row = table["rows"][table["answer"] - 6]
    assert answer_row["mean_wait_minutes"] <= 2.0 < table["rows"][0]["mean_wait_minutes"]
    assert all(r["service_level"] is not None for r in table["rows"])


def test_table_occupancy_mode_is_the_default():
    table = erlang_table(210, 1.0)
    _check_shape(table, 4, ROW_KEYS)
    assert table["answer"] == 5 == min_servers_for_occupancy(3.5, 1.0, DEFAULT_MAX_OCCUPANCY)
    assert all(r["service_level"] is None for r in table["rows"])


def test_table_max_staff_caps_rows_and_can_leave_no_answer():
    table = erlang_table(30, 10.0, wait_target_minutes=0.01, max_staff=7)
    assert table["answer"] is None
    assert [r["staff"] for r in table["rows"]] == [6, 7]
    assert erlang_table(30, 10.0, max_staff=3) == {"answer": None, "offered_load": 5.0, "rows": []}


def test_table_with_patience_uses_erlang_a():
    table = erlang_table(
        60, 10.0, wait_target_minutes=5.0, service_level=0.8, patience_minutes=15.0
    )  # a = 10
    _check_shape(table, 7, [*ROW_KEYS, "abandon_share"])
    rows = {r["staff"]: r for r in table["rows"]}
    assert min(rows) <= 10  # Erlang A rows may be at or below the offered load
    expected = erlang_a(9, 1.0, 10.0, 15.0)
    assert rows[9]["abandon_share"] == pytest.approx(expected.abandon_probability)
    assert rows[9]["mean_wait_minutes"] == pytest.approx(expected.mean_wait)
    assert rows[9]["service_level"] == pytest.approx(
        erlang_a_service_level(9, 1.0, 10.0, 15.0, 5.0)
    )
    met = [s for s, r in rows.items() if r["service_level"] >= 0.8]
    assert table["answer"] == min(met)
    assert rows[table["answer"] - 1]["service_level"] < 0.8


@pytest.mark.parametrize(
    "kwargs",
    [
        {"per_hour": 0, "handle_minutes": 5},
        {"per_hour": 10, "handle_minutes": -1},
        {"per_hour": 10, "handle_minutes": 5, "wait_target_minutes": 0},
        {"per_hour": 10, "handle_minutes": 5, "wait_target_minutes": 2, "service_level": 1.0},
        {"per_hour": 10, "handle_minutes": 5, "wait_target_minutes": 2, "service_level": 0},
        {"per_hour": 10, "handle_minutes": 5, "service_level": 0.8},
        {"per_hour": 10, "handle_minutes": 5, "patience_minutes": 0},
        {"per_hour": 10, "handle_minutes": 5, "max_staff": 0},
        {"per_hour": math.nan, "handle_minutes": 5},
    ],
)
def test_table_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        erlang_table(**kwargs)


def test_functions_reject_bad_input():
    with pytest.raises(ValueError, match="servers"):
        erlang_b(0, 1.0)
    with pytest.raises(ValueError, match="offered_load"):
        erlang_c_wait_probability(3, -1.0)
    with pytest.raises(ValueError, match="mean_service"):
        erlang_c_mean_wait(3, 1.0, 0.0)
    with pytest.raises(ValueError, match="q"):
        erlang_c_wait_quantile(3, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="arrival_rate"):
        min_servers_for_wait(0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="service_level"):
        min_servers_for_service_level(1.0, 1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="mean_patience"):
        erlang_a(2, 1.0, 1.0, -3.0)
