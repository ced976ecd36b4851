"""Service-time distributions that sample *and* know their analytic moments.

Every time in a scenario (desk intake, back-office processing, ...) is one of
these, written in YAML as a mapping with a ``dist`` key::

    intake_minutes: {dist: lognormal, mean: 8, sd: 3}

Like Ciw's distributions, each object carries its analytic ``mean`` and
``variance`` so that tests and documentation compare the simulation with
queueing theory without re-deriving formulas. Sampling is vectorised: the model
draws a whole day of service times in one call, which keeps a replication fast
and makes each stream's consumption independent of staffing (common random
numbers).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class _Distribution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def variance(self) -> float:
        raise NotImplementedError

    @property
    def cv(self) -> float:
        """Coefficient of variation: standard deviation / mean."""
        return math.sqrt(self.variance) / self.mean if self.mean > 0 else 0.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent values (minutes) from ``rng``."""
        raise NotImplementedError


class Exponential(_Distribution):
    """Memoryless times: the M in M/M/c. Variance = mean²."""

    dist: Literal["exponential"]
    mean_: Positive = Field(alias="mean")

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.mean_**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)


class Lognormal(_Distribution):
    """Right-skewed handling times, given by their own mean and sd (not mu/sigma)."""

    dist: Literal["lognormal"]
    mean_: Positive = Field(alias="mean")
    sd: Positive

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.sd**2

    def _mu_sigma(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        return math.log(self.mean_) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        mu, sigma = self._mu_sigma()
        return rng.lognormal(mu, sigma, size)


class Gamma(_Distribution):
    """Gamma times by mean and coefficient of variation (cv = 1 is exponential)."""

    dist: Literal["gamma"]
    mean_: Positive = Field(alias="mean")
    cv_: Positive = Field(alias="cv")

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return (self.mean_ * self.cv_) ** 2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv_**2
        return rng.gamma(shape, self.mean_ / shape, size)


class Triangular(_Distribution):
    """Expert estimates: shortest, most likely and longest time."""

    dist: Literal["triangular"]
    min: NonNegative
    mode: NonNegative
    max: NonNegative

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.min <= self.mode <= self.max) or self.min == self.max:
            raise ValueError(
                f"expected min <= mode <= max with min < max, found "
                f"min={self.min}, mode={self.mode}, max={self.max}"
            )
        return self

    @property
    def mean(self) -> float:
        return (self.min + self.mode + self.max) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.min, self.mode, self.max
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.min, self.mode, self.max, size)


class Uniform(_Distribution):
    """Any time between min and max equally likely."""

    dist: Literal["uniform"]
    min: NonNegative
    max: NonNegative

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.min >= self.max:
            raise ValueError(f"expected min < max, found min={self.min}, max={self.max}")
        return self

    @property
    def mean(self) -> float:
        return (self.min + self.max) / 2

    @property
    def variance(self) -> float:
        return (self.max - self.min) ** 2 / 12

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.min, self.max, size)


class Fixed(_Distribution):
    """A deterministic time (the D in M/D/c); ``value: 0`` means no time at all."""

    dist: Literal["fixed"]
    value: NonNegative

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # Draw anyway so that switching a source between fixed and random
        # leaves every other stream where it was.
        rng.random(size)
        return np.full(size, self.value)


def empirical_sha256(values: Sequence[float] | np.ndarray) -> str:
    """The fingerprint of an empirical distribution's values, as ``sha256:`` records it.

    SHA-256 of the values, in order, as little-endian 64-bit floats: the same
    numbers give the same fingerprint whether they were written inline or read
    from a CSV column.
    """
    return hashlib.sha256(np.asarray(values, dtype="<f8").tobytes()).hexdigest()


class _ValuesArray:
    """The values as a read-only array, kept beside the model (not part of equality)."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray):
        self.array = array

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ValuesArray)  # the values field itself is compared

    __hash__ = None  # type: ignore[assignment]


class Empirical(_Distribution):
    """Resampling of observed times (e.g. a week of stopwatch measurements).

    A scenario file gives the values inline (``values: [4.5, 6, ...]``) or as a
    column of a CSV file (``file: times.csv, column: minutes``, relative to the
    scenario file). This model never reads files: the scenario loader reads the
    column into ``values`` and leaves ``file`` and ``column`` as a record of
    where they came from. ``sha256`` (of the values as little-endian 64-bit
    floats) pins them: a scenario written back with a file reference refuses a
    file that changed.
    """

    dist: Literal["empirical"]
    values: Annotated[list[NonNegative], Field(min_length=1)] | None = Field(
        default=None, description="Observed times; or give file and column instead."
    )
    file: str | None = Field(
        default=None,
        description="CSV file (relative to the scenario file) whose column holds the values.",
    )
    column: str | None = Field(
        default=None, description="The CSV column with the values (optional if it is the only one)."
    )
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None,
        description="Fingerprint of the values; loading refuses different values.",
    )
    _cache: _ValuesArray | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _has_values(self) -> Empirical:
        if self.values is None:
            if self.file is not None:
                raise ValueError(
                    f"expected the values of {self.file} read by the scenario loader "
                    f"(load_scenario), found none"
                )
            raise ValueError("expected values, or file and column, found neither")
        array = np.asarray(self.values, dtype=float)
        array.setflags(write=False)
        if self.sha256 is not None:
            found = empirical_sha256(array)
            if found != self.sha256:
                where = (
                    f"column {self.column!r} of {self.file}"
                    if self.file is not None
                    else "the values"
                )
                raise ValueError(
                    f"expected values with sha256 {self.sha256[:12]}..., found different values "
                    f"in {where} (sha256 {found[:12]}...): the data changed since this "
                    f"scenario was written"
                )
        self._cache = _ValuesArray(array)
        return self

    def __eq__(self, other: object) -> bool:
        """Equal when the values are: ``file``, ``column`` and ``sha256`` only say where
        they came from (a run folder may store them inline or as a file reference)."""
        if not isinstance(other, Empirical):
            return NotImplemented
        return self.values == other.values

    __hash__ = None  # type: ignore[assignment]  # a list of values is not hashable

    @property
    def array(self) -> np.ndarray:
        """The values as a read-only float array (converted once, not per draw)."""
        if self._cache is None:  # built without validation (model_construct)
            self._cache = _ValuesArray(np.asarray(self.values, dtype=float))
        return self._cache.array

    @property
    def mean(self) -> float:
        return float(np.mean(self.array))

    @property
    def variance(self) -> float:
        return float(np.var(self.array))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(self.array, size)


Distribution = Annotated[
    Exponential | Lognormal | Gamma | Triangular | Uniform | Fixed | Empirical,
    Field(discriminator="dist"),
]
"""Any of the distributions above, chosen by the ``dist`` key."""

DISTRIBUTION_NAMES = (
    "exponential",
    "lognormal",
    "gamma",
    "triangular",
    "uniform",
    "fixed",
    "empirical",
)
