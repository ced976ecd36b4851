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

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class Empirical(_Distribution):
    """Resampling of observed times (e.g. a week of stopwatch measurements)."""

    dist: Literal["empirical"]
    values: Annotated[list[NonNegative], Field(min_length=1)]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def variance(self) -> float:
        return float(np.var(self.values))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size)


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
