"""Closed-form M/M/c queueing theory: Erlang B, Erlang C, Erlang A and staffing.

A commune service center is, to a first approximation, a pool of ``c`` identical
counters (servers) fed by citizens arriving at random. If arrivals form a
Poisson process with rate ``lambda`` and service times are exponential with mean
``s`` (rate ``mu = 1 / s``), the center is the textbook **M/M/c** queue. Its key
quantity is the **offered load** ``a = lambda * s`` in *Erlangs*: the average
number of counters that would be busy if nobody ever had to wait. A center is
**stable** only when ``a < c``; otherwise the queue grows without bound.

Three classic models are implemented here:

* **Erlang B** (M/M/c/c, *loss* system): nobody can wait; a citizen who finds
  all counters busy leaves. ``B(c, a)`` is the share of citizens blocked.
* **Erlang C** (M/M/c, *delay* system): everybody waits as long as needed.
  ``C(c, a)`` is the share who wait at all; given that they wait, the wait is
  exponential with rate ``(c - a) / s``.
* **Erlang A** (M/M/c+M): everybody is willing to wait, but only for an
  exponential *patience* with mean ``mean_patience``; then they abandon
  (go home and come back another day). Erlang A is always stable, because
  abandonment removes the excess load.

The simulator measures the same quantities empirically (wait percentiles, share
of abandonments, counter occupancy), so these formulas are the sanity checks
and the quick staffing answers that the simulation must reproduce when its
assumptions are switched to Poisson/exponential.

Numerical stability: factorials never appear. Erlang B is computed with the
recursion ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))``, which stays in
``[0, 1]`` for any load (``a = 500``, ``c = 520`` is routine), and the Erlang A
birth-death chain is summed in log space.

Units: every function takes rates and times in *one consistent unit* of your
choosing (minutes, hours, ...), and returns times in that same unit. Only
:func:`erlang_table` fixes units (arrivals per hour, times in minutes).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import gammaln

__all__ = [
    "DEFAULT_MAX_OCCUPANCY",
    "ErlangAResult",
    "erlang_a",
    "erlang_a_service_level",
    "erlang_b",
    "erlang_c_mean_wait",
    "erlang_c_service_level",
    "erlang_c_wait_exceeds",
    "erlang_c_wait_probability",
    "erlang_c_wait_quantile",
    "erlang_table",
    "min_servers_for_occupancy",
    "min_servers_for_service_level",
    "min_servers_for_wait",
    "min_servers_for_wait_quantile",
]

DEFAULT_MAX_OCCUPANCY = 0.85
"""Occupancy ceiling used by :func:`erlang_table` when no wait target is given."""

_TABLE_ROWS_PAST_ANSWER = 3
_ERLANG_A_START_FRACTION = 0.7  # Erlang A tables start at floor(0.7 a) staff
_LOG_NEGLIGIBLE = 40.0  # states below exp(-40) ~ 4e-18 of the largest one are dropped
_MAX_ERLANG_A_QUEUE_STATES = 5_000_000


# --------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------


def _check_servers(servers: int) -> int:
    if isinstance(servers, bool):
        raise ValueError(f"servers must be an integer >= 1, got {servers!r}")
    try:
        count = operator.index(servers)
    except TypeError:
        raise ValueError(f"servers must be an integer >= 1, got {servers!r}") from None
    if count < 1:
        raise ValueError(f"servers must be an integer >= 1, got {servers!r}")
    return count


def _check_positive(name: str, value: float, *, allow_inf: bool = False) -> float:
    value = float(value)
    if not value > 0 or (math.isinf(value) and not allow_inf):
        kind = "a positive number" if allow_inf else "a positive finite number"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return value


def _check_nonnegative(name: str, value: float) -> float:
    value = float(value)
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def _check_open_unit(name: str, value: float) -> float:
    value = float(value)
    if not 0 < value < 1:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return value


def _offered_load(arrival_rate: float, mean_service: float) -> float:
    arrival_rate = _check_positive("arrival_rate", arrival_rate)
    mean_service = _check_positive("mean_service", mean_service)
    return arrival_rate * mean_service


# --------------------------------------------------------------------------------------
# Erlang B and Erlang C
# --------------------------------------------------------------------------------------


def _erlang_b_unchecked(servers: int, offered_load: float) -> float:
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return blocking


def _erlang_c_from_b(servers: int, offered_load: float, blocking: float) -> float:
    if offered_load >= servers:
        return 1.0
    return servers * blocking / (servers - offered_load * (1.0 - blocking))


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of the Erlang loss system M/M/c/c.

    In a loss system there is no waiting room: a citizen who arrives while all
    ``servers`` counters are busy is turned away. With Poisson arrivals the
    share turned away depends on the service-time distribution only through its
    mean, and equals the Erlang B formula
    ``B(c, a) = (a^c / c!) / sum_{k=0..c} a^k / k!``.
    It is evaluated with the stable recursion
    ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))`` (no factorials).

    Erlang B is also the building block of Erlang C (see
    :func:`erlang_c_wait_probability`).

    Args:
        servers: number of counters ``c`` (integer >= 1).
        offered_load: ``a = arrival_rate * mean_service`` in Erlangs (>= 0).

    Returns:
        Probability in ``[0, 1]`` that an arrival finds every counter busy.
    """
    servers = _check_servers(servers)
    offered_load = _check_nonnegative("offered_load", offered_load)
    return _erlang_b_unchecked(servers, offered_load)


def erlang_c_wait_probability(servers: int, offered_load: float) -> float:
    """Probability that an arrival has to wait at all in an M/M/c queue (Erlang C).

    In the delay system M/M/c everybody who finds all counters busy queues up.
    By PASTA (Poisson arrivals see time averages) the share of citizens who
    wait equals the long-run fraction of time all ``c`` counters are busy:
    ``C(c, a) = c B / (c - a (1 - B))`` with ``B = erlang_b(c, a)``.
    It only exists when the queue is stable, ``a < c``; for ``a >= c`` the
    queue grows forever and everybody eventually waits, so 1.0 is returned.

    Args:
        servers: number of counters ``c`` (integer >= 1).
        offered_load: ``a = arrival_rate * mean_service`` in Erlangs (>= 0).

    Returns:
        ``P(wait > 0)`` in ``[0, 1]``.
    """
    servers = _check_servers(servers)
    offered_load = _check_nonnegative("offered_load", offered_load)
    if offered_load >= servers:
        return 1.0
    return _erlang_c_from_b(servers, offered_load, _erlang_b_unchecked(servers, offered_load))


def erlang_c_mean_wait(servers: int, offered_load: float, mean_service: float) -> float:
    """Mean time in queue of an M/M/c queue, averaged over all arrivals.

    A waiting citizen leaves the queue whenever any of the ``c`` busy counters
    frees up, i.e. at rate ``c / s``, while new citizens pile up at rate
    ``a / s``; conditional on waiting, the wait is exponential with rate
    ``(c - a) / s``. Averaging over everyone (including those who do not wait)
    gives ``E[W] = C(c, a) * s / (c - a)``.

    Args:
        servers: number of counters ``c``.
        offered_load: ``a`` in Erlangs.
        mean_service: mean service time ``s``; the result has the same unit.

    Returns:
        Mean wait in the unit of ``mean_service``; ``math.inf`` when ``a >= c``.
    """
    servers = _check_servers(servers)
    offered_load = _check_nonnegative("offered_load", offered_load)
    mean_service = _check_positive("mean_service", mean_service)
    if offered_load >= servers:
        return math.inf
    wait_probability = erlang_c_wait_probability(servers, offered_load)
    return wait_probability * mean_service / (servers - offered_load)


def erlang_c_wait_exceeds(
    servers: int, offered_load: float, mean_service: float, t: float
) -> float:
    """Probability that the wait in an M/M/c queue exceeds ``t``.

    The wait is zero with probability ``1 - C`` and otherwise exponential with
    rate ``(c - a) / s``, hence ``P(W > t) = C * exp(-(c - a) t / s)``.
    Call-center *service levels* ("80 % answered within 20 s") and the
    simulator's wait percentiles are read off this tail.

    Args:
        servers: number of counters ``c``.
        offered_load: ``a`` in Erlangs.
        mean_service: mean service time ``s``.
        t: wait threshold (>= 0), same unit as ``mean_service``.

    Returns:
        ``P(W > t)``; 1.0 when unstable (``a >= c``).
    """
    servers = _check_servers(servers)
    offered_load = _check_nonnegative("offered_load", offered_load)
    mean_service = _check_positive("mean_service", mean_service)
    t = _check_nonnegative("t", t)
    if offered_load >= servers:
        return 1.0
    wait_probability = erlang_c_wait_probability(servers, offered_load)
    return wait_probability * math.exp(-(servers - offered_load) * t / mean_service)


def erlang_c_service_level(
    servers: int, offered_load: float, mean_service: float, t: float
) -> float:
    """Service level of an M/M/c queue: probability that the wait is at most ``t``.

    ``P(W <= t) = 1 - C * exp(-(c - a) t / s)``; see :func:`erlang_c_wait_exceeds`.
    At ``t = 0`` this is the share served immediately, ``1 - C``.

    Args:
        servers: number of counters ``c``.
        offered_load: ``a`` in Erlangs.
        mean_service: mean service time ``s``.
        t: wait threshold (>= 0), same unit as ``mean_service``.

    Returns:
        ``P(W <= t)``; 0.0 when unstable (``a >= c``).
    """
    return 1.0 - erlang_c_wait_exceeds(servers, offered_load, mean_service, t)


def erlang_c_wait_quantile(
    servers: int, offered_load: float, mean_service: float, q: float
) -> float:
    """The ``q``-quantile of the wait in an M/M/c queue (e.g. ``q=0.9`` for the p90).

    Because a share ``1 - C`` of citizens does not wait at all, every quantile
    ``q <= 1 - C`` is exactly zero. Above that, invert the exponential tail
    ``C * exp(-(c - a) t / s) = 1 - q``:
    ``t_q = s / (c - a) * ln(C / (1 - q))``.

    Args:
        servers: number of counters ``c``.
        offered_load: ``a`` in Erlangs.
        mean_service: mean service time ``s``.
        q: quantile level in ``[0, 1)``.

    Returns:
        The smallest ``t`` with ``P(W <= t) >= q``, in the unit of ``mean_service``;
        ``math.inf`` when unstable (``a >= c``) and ``q > 0``.
    """
    servers = _check_servers(servers)
    offered_load = _check_nonnegative("offered_load", offered_load)
    mean_service = _check_positive("mean_service", mean_service)
    q = float(q)
    if not 0 <= q < 1:
        raise ValueError(f"q must be in [0, 1), got {q!r}")
    if q == 0:
        return 0.0
    if offered_load >= servers:
        return math.inf
    wait_probability = erlang_c_wait_probability(servers, offered_load)
    if q <= 1.0 - wait_probability:
        return 0.0
    return mean_service / (servers - offered_load) * math.log(wait_probability / (1.0 - q))


# --------------------------------------------------------------------------------------
# Erlang A (M/M/c+M)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErlangAResult:
    """Steady-state performance of an Erlang A (M/M/c+M) queue.

    Attributes:
        p_wait: probability that an arrival finds all counters busy and queues.
        abandon_probability: share of arrivals who give up before service.
        mean_wait: mean time in queue over *all* arrivals, served or abandoning,
            in the unit of ``mean_service`` (Little: ``mean_queue_length / lambda``).
        mean_queue_length: time-average number of citizens waiting.
        occupancy: time-average share of counters busy, ``E[busy] / c`` (the
            *carried* load per counter; abandonment keeps it below 1).
    """

    p_wait: float
    abandon_probability: float
    mean_wait: float
    mean_queue_length: float
    occupancy: float

    @property
    def utilization(self) -> float:
        """Alias of :attr:`occupancy`."""
        return self.occupancy


def _erlang_a_state_probabilities(
    servers: int, arrival_rate: float, mean_service: float, mean_patience: float
) -> np.ndarray:
    """Stationary distribution ``pi[n]`` of the M/M/c+M birth-death chain.

    Births at rate ``lambda``; deaths in state ``n`` at rate
    ``min(n, c) mu + max(n - c, 0) theta``. Weights are built in log space,
    ``log pi[n] = log pi[n-1] + log(birth / death(n))``, and the chain is
    truncated once the remaining tail is below ``exp(-40)`` of the largest state.
    """
    service_rate = 1.0 / mean_service
    abandon_rate = 1.0 / mean_patience
    log_arrival_rate = math.log(arrival_rate)

    # n = 0..c: Poisson-like weights a^n / n!.
    states = np.arange(servers + 1, dtype=float)
    log_head = states * math.log(arrival_rate * mean_service) - gammaln(states + 1.0)
    pieces = [log_head]
    log_last = float(log_head[-1])
    log_max = float(log_head.max())

    # n = c + k: each extra waiting citizen multiplies by lambda / (c mu + k theta).
    full_service_rate = servers * service_rate
    queued = 0
    chunk = 1024
    while True:
        k = np.arange(queued + 1, queued + chunk + 1, dtype=float)
        log_ratio = log_arrival_rate - np.log(full_service_rate + k * abandon_rate)
        log_tail = log_last + np.cumsum(log_ratio)
        pieces.append(log_tail)
        queued += chunk
        log_last = float(log_tail[-1])
        log_max = max(log_max, float(log_tail.max()))
        last_log_ratio = float(log_ratio[-1])
        if last_log_ratio < 0:
            # Ratios only shrink from here on, so the rest of the tail is below a
            # geometric series: sum <= pi_last / (1 - ratio_last).
            log_rest_bound = log_last - math.log(-math.expm1(last_log_ratio))
            if log_rest_bound < log_max - _LOG_NEGLIGIBLE:
                break
        if queued >= _MAX_ERLANG_A_QUEUE_STATES:
            raise ValueError(
                "Erlang A chain needs more than "
                f"{_MAX_ERLANG_A_QUEUE_STATES} queue states: mean_patience is too long "
                "relative to mean_service for this overload; use Erlang C (if stable) "
                "or a shorter patience"
            )
        chunk = min(2 * chunk, 1 << 20)

    log_weights = np.concatenate(pieces)
    weights = np.exp(log_weights - log_max)
    return weights / weights.sum()


def erlang_a(
    servers: int, arrival_rate: float, mean_service: float, mean_patience: float
) -> ErlangAResult:
    """Performance of the Erlang A queue M/M/c+M (waiting with exponential patience).

    Real citizens do not wait forever. In Erlang A each waiting citizen gives
    up after an exponential patience with mean ``mean_patience`` (rate
    ``theta``) unless service starts first. The number in the center is then a
    birth-death chain: births at rate ``lambda``, deaths at rate
    ``min(n, c) mu`` (services) ``+ max(n - c, 0) theta`` (abandonments). Its
    stationary distribution ``pi`` is computed in log space and truncated where
    the remaining mass is negligible. From it:

    * ``p_wait = P(n >= c)`` (PASTA),
    * ``mean_queue_length = E[max(n - c, 0)]``,
    * ``abandon_probability = theta * E[queue] / lambda`` (abandonment flow over
      arrival flow),
    * ``mean_wait = E[queue] / lambda`` (Little's law, over all arrivals),
    * ``occupancy = E[min(n, c)] / c``; flow balance gives
      ``lambda (1 - abandon_probability) = mu E[min(n, c)]``.

    Erlang A is stable for any load because abandonment absorbs the excess.
    As ``mean_patience -> inf`` it converges to Erlang C (when ``a < c``);
    ``mean_patience = math.inf`` is accepted and returns the Erlang C values
    (with ``p_wait = 1`` and infinite waits if ``a >= c``).

    Args:
        servers: number of counters ``c``.
        arrival_rate: ``lambda``, arrivals per time unit.
        mean_service: mean service time ``1 / mu``.
        mean_patience: mean patience ``1 / theta`` (may be ``math.inf``).

    Returns:
        An :class:`ErlangAResult`; times in the unit of ``mean_service``.

    Raises:
        ValueError: on invalid input, or when an extremely long patience combined
            with overload would need millions of queue states.
    """
    servers = _check_servers(servers)
    offered_load = _offered_load(arrival_rate, mean_service)
    mean_patience = _check_positive("mean_patience", mean_patience, allow_inf=True)
    if math.isinf(mean_patience):
        if offered_load >= servers:
            return ErlangAResult(1.0, 0.0, math.inf, math.inf, 1.0)
        mean_wait = erlang_c_mean_wait(servers, offered_load, mean_service)
        return ErlangAResult(
            p_wait=erlang_c_wait_probability(servers, offered_load),
            abandon_probability=0.0,
            mean_wait=mean_wait,
            mean_queue_length=arrival_rate * mean_wait,
            occupancy=offered_load / servers,
        )

    probabilities = _erlang_a_state_probabilities(
        servers, arrival_rate, mean_service, mean_patience
    )
    tail = probabilities[servers:]
    queue_lengths = np.arange(tail.size, dtype=float)
    mean_queue_length = float(queue_lengths @ tail)
    busy = np.minimum(np.arange(probabilities.size, dtype=float), servers)
    mean_busy = float(busy @ probabilities)
    return ErlangAResult(
        p_wait=min(1.0, float(tail.sum())),
        abandon_probability=mean_queue_length / (mean_patience * arrival_rate),
        mean_wait=mean_queue_length / arrival_rate,
        mean_queue_length=mean_queue_length,
        occupancy=mean_busy / servers,
    )


def erlang_a_service_level(
    servers: int, arrival_rate: float, mean_service: float, mean_patience: float, t: float
) -> float:
    """Probability that an Erlang A arrival would reach a counter within ``t``.

    With abandonment the natural wait to measure is the *virtual* (offered)
    wait ``V``: the time until service would start for a citizen who never
    gives up. (The actual wait ``min(V, patience)`` is short for those who
    leave, which would flatter the service level.) A citizen arriving when
    ``c + k`` are present has ``k`` people ahead; the next of them leaves the
    queue, by service or by abandonment, at rate ``c mu + j theta`` when ``j``
    are ahead, so ``V`` is a sum of exponentials with rates
    ``c mu + j theta, j = 0..k``. That sum has the closed-form tail
    ``P(V > t | k) = P(NegBin(b, e^{-theta t}) <= k)`` with ``b = c mu / theta``
    (the order-statistics view of the pure-death process), so, with ``pi`` the
    arrival-state distribution (PASTA),
    ``P(V > t) = sum_j NegBin_pmf(j) * P(queue ahead >= j)``, all in log space.

    This equals :func:`erlang_c_service_level` as ``mean_patience -> inf``.

    Args:
        servers: number of counters ``c``.
        arrival_rate: ``lambda``, arrivals per time unit.
        mean_service: mean service time ``1 / mu``.
        mean_patience: mean patience ``1 / theta`` (may be ``math.inf``).
        t: wait threshold (>= 0), same unit as ``mean_service``.

    Returns:
        ``P(V <= t)`` in ``[0, 1]``.
    """
    servers = _check_servers(servers)
    offered_load = _offered_load(arrival_rate, mean_service)
    mean_patience = _check_positive("mean_patience", mean_patience, allow_inf=True)
    t = _check_nonnegative("t", t)
    if math.isinf(mean_patience):
        return erlang_c_service_level(servers, offered_load, mean_service, t)

    probabilities = _erlang_a_state_probabilities(
        servers, arrival_rate, mean_service, mean_patience
    )
    tail = probabilities[servers:]
    if t == 0:
        return max(0.0, 1.0 - float(tail.sum()))
    at_least_ahead = np.cumsum(tail[::-1])[::-1]  # P(arrival finds >= j waiting ahead)

    abandon_rate = 1.0 / mean_patience
    shape = servers / mean_service / abandon_rate  # b = c mu / theta
    log_p = math.log(-math.expm1(-abandon_rate * t))  # p = 1 - e^{-theta t}
    j = np.arange(1, tail.size, dtype=float)
    log_pmf_steps = log_p + np.log(shape + j - 1.0) - np.log(j)
    log_pmf_first = -servers * t / mean_service  # b log(e^{-theta t}) = -c mu t
    log_pmf = np.concatenate(([log_pmf_first], log_pmf_first + np.cumsum(log_pmf_steps)))
    exceed = float(np.exp(log_pmf) @ at_least_ahead)
    return min(1.0, max(0.0, 1.0 - exceed))


# --------------------------------------------------------------------------------------
# Staffing
# --------------------------------------------------------------------------------------


def _erlang_c_by_servers(offered_load: float, first_servers: int):
    """Yield ``(c, C(c, a))`` for ``c = first_servers, first_servers + 1, ...``.

    Erlang B is updated incrementally so a search over ``c`` costs O(c_final).
    """
    servers = first_servers
    blocking = _erlang_b_unchecked(servers, offered_load)
    while True:
        yield servers, _erlang_c_from_b(servers, offered_load, blocking)
        servers += 1
        blocking = offered_load * blocking / (servers + offered_load * blocking)


def _first_stable_servers(offered_load: float) -> int:
    return max(1, math.floor(offered_load) + 1)


def min_servers_for_wait(arrival_rate: float, mean_service: float, max_mean_wait: float) -> int:
    """Fewest counters whose M/M/c mean wait is at most ``max_mean_wait``.

    The mean wait ``C s / (c - a)`` falls monotonically as counters are added,
    so the search starts at the smallest stable count ``floor(a) + 1`` and
    walks upward.

    Args:
        arrival_rate: ``lambda``, arrivals per time unit.
        mean_service: mean service time, same time unit.
        max_mean_wait: target mean wait (> 0), same time unit.

    Returns:
        The smallest ``c`` with ``erlang_c_mean_wait(c, a, s) <= max_mean_wait``.
    """
    offered_load = _offered_load(arrival_rate, mean_service)
    max_mean_wait = _check_positive("max_mean_wait", max_mean_wait)
    for servers, wait_probability in _erlang_c_by_servers(
        offered_load, _first_stable_servers(offered_load)
    ):
        if wait_probability * mean_service / (servers - offered_load) <= max_mean_wait:
            return servers
    raise AssertionError("unreachable")  # pragma: no cover


def min_servers_for_service_level(
    arrival_rate: float, mean_service: float, wait_target: float, service_level: float
) -> int:
    """Fewest counters meeting a service level "share ``p`` waits at most ``t``".

    The service level ``P(W <= t) = 1 - C exp(-(c - a) t / s)`` rises
    monotonically with ``c``; this returns the first ``c >= floor(a) + 1``
    reaching ``service_level``.

    Args:
        arrival_rate: ``lambda``, arrivals per time unit.
        mean_service: mean service time, same time unit.
        wait_target: ``t`` (>= 0), same time unit.
        service_level: ``p`` strictly between 0 and 1.

    Returns:
        The smallest ``c`` with ``erlang_c_service_level(c, a, s, t) >= p``.
    """
    offered_load = _offered_load(arrival_rate, mean_service)
    wait_target = _check_nonnegative("wait_target", wait_target)
    service_level = _check_open_unit("service_level", service_level)
    for servers, wait_probability in _erlang_c_by_servers(
        offered_load, _first_stable_servers(offered_load)
    ):
        decay = math.exp(-(servers - offered_load) * wait_target / mean_service)
        if 1.0 - wait_probability * decay >= service_level:
            return servers
    raise AssertionError("unreachable")  # pragma: no cover


def min_servers_for_wait_quantile(
    arrival_rate: float, mean_service: float, q: float, max_wait: float
) -> int:
    """Fewest counters whose wait ``q``-quantile is at most ``max_wait``.

    Simulation targets are often phrased on a percentile ("p90 wait under 15
    minutes"). The ``q``-quantile is at most ``T`` exactly when
    ``P(W <= T) >= q``, so this is :func:`min_servers_for_service_level` with
    ``wait_target = max_wait`` and ``service_level = q``.

    Args:
        arrival_rate: ``lambda``, arrivals per time unit.
        mean_service: mean service time, same time unit.
        q: quantile level strictly between 0 and 1 (0.9 for the p90).
        max_wait: ceiling for that quantile (>= 0), same time unit.

    Returns:
        The smallest ``c`` with ``erlang_c_wait_quantile(c, a, s, q) <= max_wait``.
    """
    return min_servers_for_service_level(arrival_rate, mean_service, max_wait, q)


def min_servers_for_occupancy(
    arrival_rate: float, mean_service: float, max_occupancy: float
) -> int:
    """Fewest counters keeping occupancy ``a / c`` at or below ``max_occupancy``.

    Occupancy (utilization) is the share of time a counter is busy. In a
    stable M/M/c it equals ``a / c``. Running counters close to 100 % makes
    waits explode (the ``1 / (c - a)`` factor), so planners cap it, e.g. at 85 %.
    The result is always stable (``c > a``).

    Args:
        arrival_rate: ``lambda``, arrivals per time unit.
        mean_service: mean service time, same time unit.
        max_occupancy: ceiling in ``(0, 1]``.

    Returns:
        The smallest ``c > a`` with ``a / c <= max_occupancy``.
    """
    offered_load = _offered_load(arrival_rate, mean_service)
    max_occupancy = float(max_occupancy)
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy!r}")
    servers = max(_first_stable_servers(offered_load), math.ceil(offered_load / max_occupancy) - 2)
    while offered_load / servers > max_occupancy:
        servers += 1
    return servers


# --------------------------------------------------------------------------------------
# Table for the CLI
# --------------------------------------------------------------------------------------


def _erlang_c_row(
    staff: int, offered_load: float, handle_minutes: float, wait_target_minutes: float | None
) -> dict[str, Any]:
    service_level = None
    if wait_target_minutes is not None:
        service_level = erlang_c_service_level(
            staff, offered_load, handle_minutes, wait_target_minutes
        )
    return {
        "staff": staff,
        "p_wait": erlang_c_wait_probability(staff, offered_load),
        "mean_wait_minutes": erlang_c_mean_wait(staff, offered_load, handle_minutes),
        "service_level": service_level,
        "occupancy": offered_load / staff,
    }


def _erlang_a_row(
    staff: int,
    per_minute: float,
    handle_minutes: float,
    patience_minutes: float,
    wait_target_minutes: float | None,
) -> dict[str, Any]:
    result = erlang_a(staff, per_minute, handle_minutes, patience_minutes)
    service_level = None
    if wait_target_minutes is not None:
        service_level = erlang_a_service_level(
            staff, per_minute, handle_minutes, patience_minutes, wait_target_minutes
        )
    return {
        "staff": staff,
        "p_wait": result.p_wait,
        "mean_wait_minutes": result.mean_wait,
        "service_level": service_level,
        "occupancy": result.occupancy,
        "abandon_share": result.abandon_probability,
    }


def erlang_table(
    per_hour: float,
    handle_minutes: float,
    wait_target_minutes: float | None = None,
    service_level: float | None = None,
    patience_minutes: float | None = None,
    max_staff: int | None = None,
) -> dict:
    """Staffing table: queue performance for a range of counter counts, plus an answer.

    The offered load is ``a = per_hour * handle_minutes / 60`` Erlangs. Each row
    gives, for ``staff`` counters, the probability of waiting, the mean wait in
    minutes (over all citizens), the service level ``P(wait <= wait_target_minutes)``
    (``None`` without a wait target) and the occupancy. The ``answer`` is:

    * with ``wait_target_minutes`` **and** ``service_level``: the smallest staff
      with ``P(wait <= wait_target_minutes) >= service_level``;
    * with ``wait_target_minutes`` alone: the smallest staff whose mean wait is
      at most ``wait_target_minutes``;
    * with neither: the smallest stable staff whose offered occupancy ``a / staff``
      is at most 0.85 (:data:`DEFAULT_MAX_OCCUPANCY`).

    Without ``patience_minutes`` the model is Erlang C and rows start at the
    smallest stable count ``floor(a) + 1``. With ``patience_minutes`` the model
    is Erlang A: ``p_wait``, ``mean_wait_minutes`` (over all arrivals, including
    those who abandon, hence never above the mean patience),
    ``service_level`` (virtual wait, see :func:`erlang_a_service_level`) and
    ``occupancy`` (carried load per counter) come from the M/M/c+M chain, each
    row gains ``abandon_share``, and rows start at ``max(1, floor(0.7 a))``
    because Erlang A is stable even when ``staff <= a``. The occupancy rule
    still uses the offered ``a / staff`` so that abandonment cannot "help"
    meet it.

    Rows run up to ``answer + 3`` (capped by ``max_staff``). ``answer`` is
    ``None`` when no count up to ``max_staff`` meets the target; then rows run
    to ``max_staff``.

    Returns:
        ``{"answer": int | None, "offered_load": float, "rows": [{"staff": int,
        "p_wait": float, "mean_wait_minutes": float, "service_level": float | None,
        "occupancy": float[, "abandon_share": float]}, ...]}``; JSON-serialisable,
        values unrounded.

    Raises:
        ValueError: for non-positive rates or times, ``service_level`` outside
            ``(0, 1)`` or given without ``wait_target_minutes``, or ``max_staff < 1``.
    """
    per_hour = _check_positive("per_hour", per_hour)
    handle_minutes = _check_positive("handle_minutes", handle_minutes)
    if wait_target_minutes is not None:
        wait_target_minutes = _check_positive("wait_target_minutes", wait_target_minutes)
    if service_level is not None:
        service_level = _check_open_unit("service_level", service_level)
        if wait_target_minutes is None:
            raise ValueError("service_level requires wait_target_minutes")
    if patience_minutes is not None:
        patience_minutes = _check_positive("patience_minutes", patience_minutes)
    if max_staff is not None:
        try:
            max_staff = _check_servers(max_staff)
        except ValueError:
            raise ValueError(f"max_staff must be an integer >= 1, got {max_staff!r}") from None

    offered_load = per_hour * handle_minutes / 60.0
    per_minute = per_hour / 60.0
    if patience_minutes is None:
        staff = _first_stable_servers(offered_load)
    else:
        staff = max(1, math.floor(_ERLANG_A_START_FRACTION * offered_load))

    def meets_target(row: dict[str, Any]) -> bool:
        if service_level is not None:
            return row["service_level"] >= service_level
        if wait_target_minutes is not None:
            return row["mean_wait_minutes"] <= wait_target_minutes
        return offered_load < row["staff"] and offered_load / row["staff"] <= (
            DEFAULT_MAX_OCCUPANCY
        )

    answer: int | None = None
    rows: list[dict[str, Any]] = []
    while max_staff is None or staff <= max_staff:
        if patience_minutes is None:
            row = _erlang_c_row(staff, offered_load, handle_minutes, wait_target_minutes)
        else:
            row = _erlang_a_row(
                staff, per_minute, handle_minutes, patience_minutes, wait_target_minutes
            )
        rows.append(row)
        if answer is None and meets_target(row):
            answer = staff
        if answer is not None and staff >= answer + _TABLE_ROWS_PAST_ANSWER:
            break
        staff += 1
    return {"answer": answer, "offered_load": offered_load, "rows": rows}
