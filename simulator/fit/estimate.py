"""What a scenario needs, estimated from a center's records, with its uncertainty.

Everything here works on the tables :mod:`simulator.fit.columns` reads and
is vectorised (pandas, numpy, scipy.stats), so a year of a large province
(a million rows) fits in seconds, not hours.

* **Arrivals.** Records per channel by weekday and clock hour: a
  non-homogeneous Poisson process whose rate in each cell is the count over
  the number of such days, with the exact (Garwood) Poisson interval. Whether
  counts *are* Poisson-like is checked by the index of dispersion: within
  each weekday × hour cell the counts of the weeks should vary as much as
  their mean; the pooled statistic ``Σ (x - x̄)² / x̄`` is χ² with ``Σ (n - 1)``
  degrees of freedom under a Poisson process. Call-center and service counts
  are often over-dispersed (Kim and Whitt, "Are call center and hospital
  arrivals well modeled by nonhomogeneous Poisson processes?", MSOM 16(3),
  2014), which widens real queues beyond what a Poisson model predicts.
* **Shares** (channels, procedures, priority, rejected, sent back for a
  supplement): a count over a total with the Wilson score interval.
* **Desk intake time** per procedure (or field, or all, when a procedure has
  too few tickets): exponential, lognormal and gamma fitted by maximum
  likelihood and ranked by AIC. Times a system rounds to whole minutes are
  fitted as interval-censored values (the likelihood of each minute's
  interval, not of its midpoint). The best family is checked with
  ``scipy.stats.goodness_of_fit`` (Anderson-Darling, a parametric bootstrap
  that re-fits the parameters on every simulated sample, so the p-value is
  valid with estimated parameters); when no family passes, the observed
  quantiles become an empirical distribution.
* **Time to result** per procedure in working days (the model's own clock:
  working days back to back, weekends and holidays skipped), with records
  still open at the export date right-censored: the Kaplan-Meier estimate
  (``scipy.stats.ecdf`` on ``scipy.stats.CensoredData``). Dropping the open
  records instead would keep only the quick ones and bias the estimate down.
* **Deadlines** from the due dates: the most common number of working days
  between receipt and the appointment date.
* The **observed figures** (records filed, completed, rejected, in progress,
  the on-time share, mean wait and handle time) as a ``calibration:`` block,
  so that ``pasc check`` compares the fitted model with the export itself.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulator.fit.columns import ExportError, Table
from simulator.scenario.channels import CHANNEL_KINDS
from simulator.scenario.models import WEEKDAYS, Calendar, Scenario

#: Fixed-date public holidays of Vietnam (Labour Code 2019, art. 112): New Year,
#: Reunification Day, Labour Day, National Day (2 September and the day before
#: or after, set each year). Tết and Hùng Kings' day follow the lunar calendar:
#: give them with ``--holiday`` (or ``holidays:`` in the column map).
FIXED_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 2))
#: A weekday with no record at all is taken for a closing day (a holiday) when
#: at least this many records are expected per day: a Poisson count is then
#: zero with probability below e^-5 < 1 %.
CLOSED_DAY_MIN_RATE = 5.0
FAMILIES = ("lognormal", "gamma", "exponential")
CONFIDENCE = 0.95


@dataclass
class FitOptions:
    """What the data cannot tell, and how hard to look.

    ``top``: procedures kept by name, the rest pooled per field.
    ``min_samples``: tickets needed to fit a procedure on its own (else its
    field's, else all tickets). ``gof_samples``: bootstrap samples of the
    goodness-of-fit test (its p-value resolution is 1 / (samples + 1));
    ``procedure_ids``, ``field_ids``: ids for names as the export writes them
    (from the column map), e.g. to match a base scenario's procedures.
    ``gof_max_n``: at most this many values (a fixed random subset) enter the
    test, which keeps it quick and stops it from rejecting a family for
    differences no planner would notice. ``gof_alpha``: a family is rejected
    at this p-value or below (or at the bootstrap's floor 1 / (samples + 1), when
    no simulated sample was as extreme as the data)."""

    top: int = 10
    min_samples: int = 30
    gof_samples: int = 99
    gof_max_n: int = 1000
    gof_alpha: float = 0.01
    seed: int = 1
    as_of: pd.Timestamp | None = None
    holidays: list[np.datetime64] = field(default_factory=list)
    base: Scenario | None = None
    staff: int | None = None
    name: str | None = None
    procedure_ids: dict[str, str] = field(default_factory=dict)
    field_ids: dict[str, str] = field(default_factory=dict)


def slug(text: str, fallback: str = "x") -> str:
    """A scenario id from a name as the system writes it (``Đăng ký khai sinh`` ->
    ``dang-ky-khai-sinh``)."""
    s = unicodedata.normalize("NFD", str(text).lower().replace("đ", "d"))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:60].strip("-")
    return s or fallback


def map_distinct(values: pd.Series, fn: Any) -> pd.Series:
    """``values.map(fn)`` computed once per distinct value (a million rows hold a few
    hundred procedure or field names)."""
    cat = pd.Categorical(values.astype(str))
    mapped = np.array([fn(c) for c in cat.categories] + [None], dtype=object)
    codes = np.where(cat.codes < 0, len(cat.categories), cat.codes)
    return pd.Series(mapped[codes], index=values.index)


# -- intervals -----------------------------------------------------------------------


def poisson_interval(count: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) 95 % interval of a Poisson rate: count events over exposure."""
    from scipy.stats import chi2

    k = np.asarray(count, dtype=float)
    t = np.asarray(exposure, dtype=float)
    a = 1 - CONFIDENCE
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(k > 0, chi2.ppf(a / 2, 2 * k) / 2, 0.0) / t
        high = chi2.ppf(1 - a / 2, 2 * k + 2) / 2 / t
    return low, high


@dataclass
class Share:
    """A count over a total, with its Wilson score 95 % interval."""

    count: int
    total: int

    @property
    def value(self) -> float:
        return self.count / self.total if self.total else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        if not self.total:
            return math.nan, math.nan
        z = 1.959963984540054
        p, n = self.value, self.total
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    def text(self) -> str:
        lo, hi = self.interval
        return f"{self.count}/{self.total} = {self.value:.3f}, 95% CI {lo:.3f}-{hi:.3f}"


# -- working days --------------------------------------------------------------------


@dataclass
class WorkCalendar:
    """The working calendar of the export: weekdays, sessions, holidays."""

    weekmask: str
    holidays: list[np.datetime64]
    calendar: Calendar

    def roll(self, dates: np.ndarray) -> np.ndarray:
        """Each date, or the next working date when it is not one."""
        return np.busday_offset(
            dates, 0, roll="forward", weekmask=self.weekmask, holidays=self.holidays
        )

    def working_days_between(self, start: pd.Series, end: pd.Series) -> np.ndarray:
        """Elapsed time in the model's working days (weekends and holidays left out).

        ``working days between the dates + (clock time at the end - clock time at the
        start) / 24 h``: exactly the model's clock, where working day ``d`` spans
        minutes ``[1440 d, 1440 (d + 1))``. A time on a closed day counts from the
        start of the next working day."""
        s_date, s_frac = self._split(start)
        e_date, e_frac = self._split(end)
        days = np.busday_count(s_date, e_date, weekmask=self.weekmask, holidays=self.holidays)
        return days + e_frac - s_frac

    def _split(self, times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        t = times.to_numpy(dtype="datetime64[ns]")
        date = t.astype("datetime64[D]")
        rolled = self.roll(date)
        frac = (t - date.astype("datetime64[ns]")).astype("int64") / 86_400e9
        return rolled, np.where(rolled == date, frac, 0.0)

    def day_index(self, times: pd.Series, first: np.datetime64) -> np.ndarray:
        """The working day (0 = ``first``) each time falls on."""
        date = self.roll(times.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"))
        return np.busday_count(first, date, weekmask=self.weekmask, holidays=self.holidays)


def fixed_holidays(first: np.datetime64, last: np.datetime64) -> list[np.datetime64]:
    """The fixed-date public holidays between two dates."""
    years = range(int(str(first)[:4]), int(str(last)[:4]) + 1)
    return [np.datetime64(f"{y}-{m:02d}-{d:02d}") for y in years for m, d in FIXED_HOLIDAYS]


# -- arrivals ------------------------------------------------------------------------


@dataclass
class Dispersion:
    """The index-of-dispersion check of one channel's hourly counts."""

    channel: str
    statistic: float
    dof: int
    p_value: float

    @property
    def ratio(self) -> float:
        return self.statistic / self.dof if self.dof else math.nan

    @property
    def verdict(self) -> str:
        if not self.dof:
            return "too few weeks to tell"
        if self.p_value < 0.01 and self.ratio > 1:
            return "over-dispersed: counts vary more than a Poisson process allows"
        if self.p_value > 0.99 and self.ratio < 1:
            return "under-dispersed: counts more regular than Poisson (appointments?)"
        return "Poisson-like"


@dataclass
class Arrivals:
    """Arrival estimates: cells (channel × weekday × hour), days, dispersion."""

    cells: pd.DataFrame  # channel, weekday, hour, count, days, per_day, ci_low, ci_high
    working_days: int
    records_per_day: float
    per_day_interval: tuple[float, float]
    weekday_rates: pd.DataFrame  # weekday, days, count, per_day, ci_low, ci_high, working
    hourly_profile: dict[int, float]
    dispersion: list[Dispersion]
    closed_days: list[str]
    outside_hours: Share


def _dispersion(counts: pd.DataFrame, channel: str) -> Dispersion:
    """Pooled index of dispersion over weekday × hour cells of ``counts`` (one row per
    date × hour with columns weekday, hour, n)."""
    from scipy.stats import chi2

    g = counts.groupby(["weekday", "hour"])["n"]
    mean = g.transform("mean")
    size = g.transform("size")
    use = (mean > 0) & (size > 1)
    stat = float((((counts["n"] - mean) ** 2)[use] / mean[use]).sum())
    dof = int((g.size()[g.mean() > 0] - 1).clip(lower=0).sum())
    p = float(chi2.sf(stat, dof)) if dof else math.nan
    return Dispersion(channel, stat, dof, p)


def estimate_arrivals(
    records: pd.DataFrame, cal: WorkCalendar, first: np.datetime64, last: np.datetime64
) -> Arrivals:
    """Rates per channel, weekday and hour; records per working day; dispersion."""
    received = records["received_at"]
    dates = received.dt.normalize().to_numpy().astype("datetime64[D]")
    all_dates = np.arange(first, last + 1, dtype="datetime64[D]")
    open_dates = all_dates[np.is_busday(all_dates, weekmask=cal.weekmask, holidays=cal.holidays)]
    working_days = max(1, len(open_dates))
    n = len(records)
    per_day = n / working_days
    lo, hi = poisson_interval(np.array([n]), np.array([working_days]))
    frame = pd.DataFrame(
        {
            "channel": records["channel"].astype(str).to_numpy(),
            "date": dates,
            "weekday": received.dt.day_of_week.to_numpy(),
            "hour": received.dt.hour.to_numpy(),
        }
    )
    # Exposure: the dates of each weekday the center was open (other weekdays: every
    # date, for filings on the portal at weekends).
    date_index = pd.DatetimeIndex(all_dates)
    open_set = set(open_dates.tolist())
    is_open = np.array([d in open_set for d in all_dates.tolist()])
    exposure = {}
    for wd in range(7):
        on_wd = date_index.day_of_week == wd
        opened = on_wd & is_open
        exposure[wd] = int(opened.sum()) if opened.any() else int(on_wd.sum())
    cells = frame.groupby(["channel", "weekday", "hour"]).size().rename("count").reset_index()
    cells["days"] = cells["weekday"].map(exposure).clip(lower=1)
    cells["per_day"] = cells["count"] / cells["days"]
    cells["ci_low"], cells["ci_high"] = poisson_interval(cells["count"], cells["days"])
    cells["weekday"] = cells["weekday"].map(lambda i: WEEKDAYS[i])
    by_wd = frame.groupby("weekday").size().reindex(range(7), fill_value=0)
    wd_rates = pd.DataFrame(
        {
            "weekday": [WEEKDAYS[i] for i in range(7)],
            "days": [exposure[i] for i in range(7)],
            "count": by_wd.to_numpy(),
        }
    )
    wd_rates["per_day"] = wd_rates["count"] / wd_rates["days"].clip(lower=1)
    wd_rates["ci_low"], wd_rates["ci_high"] = poisson_interval(
        wd_rates["count"], wd_rates["days"].clip(lower=1)
    )
    wd_rates["working"] = [cal.weekmask[i] == "1" for i in range(7)]
    # Hourly profile of walk-in and postal filings (the online portal is open all day):
    # an intensity per open minute of each clock hour, scaled to mean 1.
    spans = cal.calendar.open_spans_minutes()
    in_person = frame[frame["channel"].isin(["walk_in", "postal"])]
    open_minutes = {}
    for a, b in spans:
        for h in range(a // 60, (b + 59) // 60):
            overlap = min(b, (h + 1) * 60) - max(a, h * 60)
            if overlap > 0:
                open_minutes[h] = open_minutes.get(h, 0) + overlap
    minute_of_day = received.dt.hour * 60 + received.dt.minute
    inside = np.zeros(n, dtype=bool)
    for a, b in spans:
        inside |= ((minute_of_day >= a) & (minute_of_day < b)).to_numpy()
    person = records["channel"].astype(str).isin(["walk_in", "postal"]).to_numpy()
    outside = Share(int((person & ~inside).sum()), int(person.sum()))
    hour_counts = in_person.groupby("hour").size()
    intensity = {h: hour_counts.get(h, 0) / m for h, m in open_minutes.items()}
    mean = np.mean(list(intensity.values())) if intensity else 0.0
    profile = {h: round(v / mean, 4) for h, v in sorted(intensity.items())} if mean > 0 else {}
    # Dispersion: counts per open date × hour, zeros included.
    dispersion = []
    hours = sorted(open_minutes) or list(range(24))
    for ch in sorted(frame["channel"].unique()):
        sub = frame[frame["channel"] == ch]
        use_hours = hours if ch != "online" else sorted(sub["hour"].unique())
        grid = pd.MultiIndex.from_product([open_dates, use_hours], names=["date", "hour"])
        c = sub.groupby(["date", "hour"]).size().reindex(grid, fill_value=0).rename("n")
        c = c.reset_index()
        c["weekday"] = pd.DatetimeIndex(c["date"]).day_of_week
        dispersion.append(_dispersion(c, ch))
    return Arrivals(
        cells=cells,
        working_days=working_days,
        records_per_day=per_day,
        per_day_interval=(float(lo[0]), float(hi[0])),
        weekday_rates=wd_rates,
        hourly_profile=profile,
        dispersion=dispersion,
        closed_days=[],
        outside_hours=outside,
    )


# -- desk intake times ---------------------------------------------------------------


@dataclass
class Candidate:
    family: str
    params: dict[str, float]
    loglik: float
    aic: float
    p_value: float = math.nan

    def distribution(self) -> dict[str, Any]:
        """The scenario's distribution mapping with these parameters."""
        p = self.params
        if self.family == "exponential":
            return {"dist": "exponential", "mean": _r(p["scale"])}
        if self.family == "lognormal":
            mean = p["scale"] * math.exp(p["s"] ** 2 / 2)
            sd = mean * math.sqrt(math.expm1(p["s"] ** 2))
            return {"dist": "lognormal", "mean": _r(mean), "sd": _r(sd)}
        mean = p["a"] * p["scale"]
        return {"dist": "gamma", "mean": _r(mean), "cv": _r(1 / math.sqrt(p["a"]))}

    @property
    def mean(self) -> float:
        d = self.distribution()
        return float(d["mean"])


def _r(x: float) -> float:
    return float(f"{x:.4g}")


def _scipy(family: str):
    from scipy import stats

    return {"exponential": stats.expon, "lognormal": stats.lognorm, "gamma": stats.gamma}[family]


def _frozen(family: str, params: dict[str, float]):
    return _scipy(family)(**params, loc=0)


@dataclass
class IntakeFit:
    """Desk intake times of one procedure, field or of all tickets."""

    level: str  # procedure, field, all, assumed
    group: str
    values: np.ndarray
    resolution_minutes: float  # 0: exact times; 1: whole minutes
    candidates: list[Candidate]
    chosen: str  # a family, or "empirical", or "assumed"
    dist: dict[str, Any]
    p_value: float

    @property
    def n(self) -> int:
        return int(self.values.size)

    @property
    def mean_interval(self) -> tuple[float, float, float]:
        """Sample mean with its normal-theory 95 % interval (n is in the tens at least)."""
        x = self.values
        if x.size < 2:
            return (float(x.mean()) if x.size else math.nan, math.nan, math.nan)
        m, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))
        return m, m - 1.96 * se, m + 1.96 * se

    def comment(self) -> str:
        if self.chosen == "assumed":
            return "ASSUMED: no ticket log for this procedure (from the base scenario or a default)"
        m, lo, hi = self.mean_interval
        where = {"procedure": "its own", "field": f"field {self.group}", "all": "all"}[self.level]
        rounding = ", whole minutes fitted as intervals" if self.resolution_minutes else ""
        head = f"{self.n} tickets ({where}){rounding}; mean {m:.2f} min (95% CI {lo:.2f}-{hi:.2f})"
        if self.chosen == "empirical":
            best = min(self.candidates, key=lambda c: c.aic)
            return (
                f"{head}; no family passed (best {best.family} AIC {best.aic:.1f}, "
                f"AD p={best.p_value:.3f}): empirical quantiles"
            )
        c = next(c for c in self.candidates if c.family == self.chosen)
        others = ", ".join(
            f"{o.family} {o.aic - c.aic:+.1f}" for o in self.candidates if o is not c
        )
        return f"{head}; {c.family} AIC {c.aic:.1f} (dAIC {others}), AD p={self.p_value:.3f}"


def detect_resolution(values: np.ndarray) -> float:
    """1.0 when (nearly) every time is a whole number of minutes, as systems that print
    HH:MM give them; 0.0 for times with seconds."""
    if values.size == 0:
        return 0.0
    whole = np.isclose(values, np.round(values), atol=1e-6)
    return 1.0 if whole.mean() >= 0.98 else 0.0


def _continuous_mle(family: str, x: np.ndarray) -> dict[str, float]:
    if family == "exponential":
        return {"scale": float(x.mean())}
    if family == "lognormal":
        lx = np.log(x)
        return {"s": float(lx.std()), "scale": float(math.exp(lx.mean()))}
    a, _, scale = _scipy("gamma").fit(x, floc=0)
    return {"a": float(a), "scale": float(scale)}


def _interval_mle(
    family: str, values: np.ndarray, resolution: float, start: dict[str, float]
) -> tuple[dict[str, float], float]:
    """MLE when each value ``k`` stands for a time in ``[k - r/2, k + r/2]`` (cut at 0):
    the log-likelihood is ``Σ log(F(k + r/2) - F(k - r/2))``, over distinct values
    with their counts (a million rounded times have a few hundred distinct ones)."""
    from scipy.optimize import minimize

    ks, counts = np.unique(values, return_counts=True)
    lo = np.maximum(ks - resolution / 2, 0.0)
    hi = ks + resolution / 2
    names = list(start)

    def nll(theta: np.ndarray) -> float:
        params = dict(zip(names, np.exp(theta), strict=True))
        d = _frozen(family, params)
        p = d.cdf(hi) - d.cdf(lo)
        return float(-(counts * np.log(np.maximum(p, 1e-300))).sum())

    theta0 = np.log([start[k] for k in names])
    res = minimize(nll, theta0, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-6})
    return dict(zip(names, np.exp(res.x), strict=True)), -float(res.fun)


def fit_candidates(values: np.ndarray, resolution: float) -> list[Candidate]:
    """Every family fitted by maximum likelihood, best AIC first."""
    x = np.asarray(values, dtype=float)
    floor = resolution / 4 if resolution else 1 / 120  # half a second
    xc = np.maximum(x, floor)
    out = []
    for family in FAMILIES:
        params = _continuous_mle(family, xc)
        if resolution:
            params, ll = _interval_mle(family, x, resolution, params)
        else:
            ll = float(_frozen(family, params).logpdf(xc).sum())
        k = 1 if family == "exponential" else 2
        out.append(Candidate(family, params, ll, 2 * k - 2 * ll))
    return sorted(out, key=lambda c: c.aic)


def gof_p_value(family: str, values: np.ndarray, resolution: float, options: FitOptions) -> float:
    """Anderson-Darling p-value by ``scipy.stats.goodness_of_fit`` (parameters re-fitted
    on every bootstrap sample, so valid when they were estimated from the data).
    Rounded times are spread uniformly over their minute first (fixed seed), so that
    ties do not reject every family; at most ``gof_max_n`` values are used."""
    from scipy import stats

    rng = np.random.default_rng(options.seed)
    x = np.asarray(values, dtype=float)
    if x.size > options.gof_max_n:
        x = rng.choice(x, options.gof_max_n, replace=False)
    if resolution:
        x = x + rng.uniform(-resolution / 2, resolution / 2, x.size)
        x = np.where(x <= 0, rng.uniform(0, resolution / 2, x.size), x)
    x = np.maximum(x, 1 / 120)
    res = stats.goodness_of_fit(
        _scipy(family),
        x,
        known_params={"loc": 0},
        statistic="ad",
        n_mc_samples=options.gof_samples,
        rng=rng,
    )
    return float(res.pvalue)


def empirical_values(values: np.ndarray, points: int = 200) -> list[float]:
    """The observed distribution as ``points`` evenly spaced quantiles (a scenario
    stays small however many tickets there were)."""
    x = np.asarray(values, dtype=float)
    if x.size <= points:
        return [round(float(v), 3) for v in np.sort(x)]
    q = (np.arange(points) + 0.5) / points
    return [round(float(v), 3) for v in np.quantile(x, q)]


def fit_intake(values: np.ndarray, options: FitOptions, level: str, group: str) -> IntakeFit:
    """Fit the candidate families, rank by AIC, test in that order, keep the first that
    passes (else empirical)."""
    x = np.asarray(values, dtype=float)
    resolution = detect_resolution(x)
    cands = fit_candidates(x, resolution)
    chosen, dist, p_best = "empirical", {}, math.nan
    # A bootstrap p-value is at least 1 / (samples + 1): reaching that floor means no
    # simulated sample was as far from the family as the data, which rejects too.
    reject_at = max(options.gof_alpha, 1 / (options.gof_samples + 1))
    for c in cands:
        c.p_value = gof_p_value(c.family, x, resolution, options)
        if c.p_value > reject_at + 1e-12:
            chosen, dist, p_best = c.family, c.distribution(), c.p_value
            break
    if chosen == "empirical":
        dist = {"dist": "empirical", "values": empirical_values(x)}
        p_best = max(c.p_value for c in cands)
    return IntakeFit(level, group, x, resolution, cands, chosen, dist, p_best)


# -- time to result ------------------------------------------------------------------


@dataclass
class ResultTime:
    """Time to result of one procedure in working days, open records right-censored."""

    resolved: np.ndarray
    open_: np.ndarray
    km_times: np.ndarray
    km_sf: np.ndarray
    median: float
    median_interval: tuple[float, float]
    naive_median: float

    @property
    def n(self) -> int:
        return int(self.resolved.size + self.open_.size)

    def quantile(self, p: float) -> float:
        """The Kaplan-Meier p-quantile (NaN beyond the curve's reach)."""
        hit = np.nonzero(1 - self.km_sf >= p - 1e-12)[0]
        return float(self.km_times[hit[0]]) if hit.size else math.nan

    def delay_values(self, points: int = 100) -> list[float]:
        """Quantiles of the Kaplan-Meier curve as empirical values; where censoring
        leaves the curve short of 1, the longest time observed stands in."""
        longest = float(max(self.resolved.max(initial=0), self.open_.max(initial=0)))
        out = []
        for p in (np.arange(points) + 0.5) / points:
            q = self.quantile(p)
            out.append(round(longest if math.isnan(q) else q, 3))
        return out

    @property
    def reach(self) -> float:
        """The share of records the curve accounts for (1 - last survival value)."""
        return float(1 - self.km_sf[-1]) if self.km_sf.size else 0.0


def kaplan_meier(resolved: np.ndarray, open_: np.ndarray) -> ResultTime:
    """Kaplan-Meier time to result (``scipy.stats.ecdf``), median with its 95 % interval
    (Brookmeyer-Crowley: where the pointwise band crosses 1/2), and the naive median of
    resolved records only, for comparison."""
    from scipy import stats

    resolved = np.asarray(resolved, dtype=float)
    open_ = np.asarray(open_, dtype=float)
    data = stats.CensoredData(uncensored=resolved, right=open_)
    res = stats.ecdf(data)
    times, sf = res.sf.quantiles, res.sf.probabilities
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        band = res.sf.confidence_interval(CONFIDENCE)
    lo_sf, hi_sf = band.low.probabilities, band.high.probabilities

    def first_below(s: np.ndarray) -> float:
        hit = np.nonzero(np.nan_to_num(s, nan=0.0) <= 0.5)[0]
        return float(times[hit[0]]) if hit.size else math.nan

    return ResultTime(
        resolved,
        open_,
        times,
        sf,
        first_below(sf),
        (first_below(lo_sf), first_below(hi_sf)),
        float(np.median(resolved)) if resolved.size else math.nan,
    )


# -- procedures ----------------------------------------------------------------------


@dataclass
class ProcedureFit:
    id: str
    name: str
    field: str
    members: list[str]
    count: int
    share: Share
    reject: Share
    supplement: Share
    supplement_returned: Share
    supplement_delay: list[float]
    deadline_working_days: int | None
    deadline_n: int
    intake: IntakeFit | None = None
    result_time: ResultTime | None = None
    base_processing: dict[str, Any] | None = None


@dataclass
class Desk:
    name: str
    count: int
    fields: list[str]
    note: str


@dataclass
class FittedExport:
    """Everything estimated from an export, ready to be written as a scenario."""

    options: FitOptions
    files: list[str]
    tickets_file: str | None
    records_read: int
    records_used: int
    bad_rows: pd.DataFrame
    bad_summary: list[str]
    ticket_bad_summary: list[str]
    tickets_used: int
    first: np.datetime64
    as_of: pd.Timestamp
    work: WorkCalendar
    arrivals: Arrivals
    channels: dict[str, Share]
    priority: Share | None
    procedures: list[ProcedureFit]
    desks: list[Desk]
    postal_agents: int
    observed: list[dict[str, Any]]
    notes: list[str]
    name: str
    fields: list[str]


def _infer_weekdays(records: pd.DataFrame, first: np.datetime64, last: np.datetime64) -> str:
    """Working weekdays: those with in-person filings on at least a fifth of the
    busiest weekday's rate (a Saturday-morning session counts as a working day)."""
    person = records[records["channel"].astype(str) != "online"]
    if person.empty:
        person = records
    dates = np.arange(first, last + 1, dtype="datetime64[D]")
    wd_days = pd.Series(pd.DatetimeIndex(dates).day_of_week).value_counts()
    counts = person["received_at"].dt.day_of_week.value_counts()
    rate = {wd: counts.get(wd, 0) / max(1, wd_days.get(wd, 0)) for wd in range(7)}
    top = max(rate.values())
    mask = "".join("1" if top > 0 and rate[wd] >= top / 5 else "0" for wd in range(7))
    return mask if "1" in mask else "1111100"


def fit_export(
    records_table: Table, tickets_table: Table | None = None, options: FitOptions | None = None
) -> FittedExport:
    """Estimate a scenario's inputs from a read export (and ticket log).

    ``records_table`` and ``tickets_table`` come from :func:`read_export` and
    :func:`read_tickets`; ``options`` says what the data cannot (a base
    scenario, staff) and how hard to test the fits."""
    opts = options or FitOptions()
    base = opts.base
    rec = records_table.frame.copy()
    notes: list[str] = []
    if "channel" not in rec:
        rec["channel"] = pd.Categorical(["walk_in"] * len(rec))
        notes.append("no channel column: every record counted as a walk-in")
    if "field" not in rec:
        rec["field"] = "general"
    rec["field"] = rec["field"].astype(str).replace("", "general")
    status = rec["status"].astype(str)
    time_cols = [
        c for c in ("received_at", "completed_at", "returned_at", "supplement_at") if c in rec
    ]
    latest = max(rec[c].max() for c in time_cols)
    as_of = pd.Timestamp(opts.as_of) if opts.as_of is not None else pd.Timestamp(latest)
    later = rec["received_at"] > as_of
    if later.any():
        notes.append(f"{int(later.sum())} records received after --as-of {as_of} left out")
        rec = rec[~later].reset_index(drop=True)
        if rec.empty:
            raise ExportError(f"--as-of {as_of}: expected records received by then, found none")
        status = rec["status"].astype(str)
    first = np.datetime64(rec["received_at"].min().date(), "D")
    # Arrivals are counted from the first to the last day with a filing (results keep
    # coming after the last filing; those days say nothing about demand).
    last = min(
        np.datetime64(as_of.date(), "D"), np.datetime64(rec["received_at"].max().date(), "D")
    )
    if base is not None:
        calendar = base.calendar
        weekmask = "".join("1" if d in calendar.weekdays else "0" for d in WEEKDAYS)
    else:
        weekmask = _infer_weekdays(rec, first, last)
        calendar = Calendar(
            weekdays=[d for d, m in zip(WEEKDAYS, weekmask, strict=True) if m == "1"]
        )
    holidays = sorted(set(fixed_holidays(first, last)) | set(opts.holidays))
    # Closed weekdays seen in the data: nothing at all filed on a working weekday.
    dates = np.arange(first, last + 1, dtype="datetime64[D]")
    busy = set(rec["received_at"].dt.normalize().to_numpy().astype("datetime64[D]").tolist())
    workdays = dates[np.is_busday(dates, weekmask=weekmask, holidays=holidays)]
    per_day = len(rec) / max(1, len(workdays))
    closed = []
    if per_day >= CLOSED_DAY_MIN_RATE:
        closed = [d for d in workdays.tolist() if d not in busy and np.datetime64(d) < last]
        holidays = sorted(set(holidays) | {np.datetime64(d, "D") for d in closed})
    work = WorkCalendar(weekmask, holidays, calendar)
    if closed:
        notes.append(
            f"{len(closed)} working weekdays without any record taken as closing days: "
            + ", ".join(str(d) for d in closed[:10])
        )
    arrivals = estimate_arrivals(rec, work, first, last)
    arrivals.closed_days = [str(d) for d in closed]
    n = len(rec)
    channels = {ch: Share(int((rec["channel"].astype(str) == ch).sum()), n) for ch in CHANNEL_KINDS}
    # Time to result, in working days from receipt.
    end = rec["returned_at"] if "returned_at" in rec else pd.Series(pd.NaT, index=rec.index)
    if "completed_at" in rec:
        end = end.fillna(rec["completed_at"])
    resolved_status = status.isin(["on_time", "late", "completed"])
    open_status = status == "in_progress"
    rec["_elapsed"] = np.nan
    has_end = resolved_status & end.notna()
    rec.loc[has_end, "_elapsed"] = work.working_days_between(
        rec.loc[has_end, "received_at"], end[has_end]
    )
    as_of_series = pd.Series(as_of, index=rec.index[open_status])
    rec.loc[open_status, "_elapsed"] = np.maximum(
        work.working_days_between(rec.loc[open_status, "received_at"], as_of_series), 0.0
    )
    no_date = int((resolved_status & end.isna()).sum())
    if no_date:
        notes.append(
            f"{no_date} resolved records without a result date: left out of time to result"
        )
    # Deadlines: working days from the day of receipt to the appointment date.
    if "due_at" in rec:
        recv_day = work.roll(
            rec["received_at"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        )
        due_day = rec["due_at"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        ok = rec["due_at"].notna().to_numpy()
        dl = np.full(n, np.nan)
        dl[ok] = np.busday_count(recv_day[ok], due_day[ok], weekmask=weekmask, holidays=holidays)
        minute = (rec["received_at"].dt.hour * 60 + rec["received_at"].dt.minute).to_numpy()
        if base is None:
            found = infer_cutoff(rec["procedure"].astype(str).to_numpy(), dl, minute, calendar)
            if found is not None:
                calendar = calendar.model_copy(update={"same_day_cutoff": found})
                work.calendar = calendar
                notes.append(
                    f"same-day cut-off {found} inferred from the due dates (records received "
                    "later are due a working day later)"
                )
        before_cutoff = pd.Series(minute < calendar.cutoff_minute)
        rec["_deadline"] = dl
        rec["_before_cutoff"] = before_cutoff.to_numpy()
    # Procedure mix: the top N by count keep their names; the rest pooled per field.
    counts = (
        rec.groupby("procedure", observed=True).size().sort_values(ascending=False, kind="stable")
    )
    top = list(counts.index[: opts.top])
    proc_field = rec.groupby("procedure", observed=True)["field"].agg(lambda s: s.mode().iloc[0])
    group_of: dict[str, tuple[str, str, str]] = {}  # export name -> (id, name, field)
    used_ids: set[str] = set()

    def fid(f: object) -> str:
        """A field's id: the column map's, else the name made a slug."""
        return opts.field_ids.get(str(f)) or slug(str(f), "general")

    def pid_of(name: object) -> str:
        return opts.procedure_ids.get(str(name)) or slug(str(name), "procedure")

    def unique(i: str) -> str:
        k, out = 2, i
        while out in used_ids:
            out, k = f"{i}-{k}", k + 1
        used_ids.add(out)
        return out

    for name in top:
        group_of[name] = (
            unique(pid_of(name)),
            str(name),
            fid(proc_field[name]),
        )
    rest = [p for p in counts.index if p not in group_of]
    rest_by_field: dict[str, list[str]] = {}
    for p in rest:
        rest_by_field.setdefault(str(proc_field[p]), []).append(p)
    for fld, members in rest_by_field.items():
        if len(members) == 1:
            p = members[0]
            group_of[p] = (unique(pid_of(p)), str(p), fid(fld))
            continue
        pid = unique(f"other-{fid(fld)}")
        label = f"Other {fld} procedures ({len(members)} pooled)"
        for p in members:
            group_of[p] = (pid, label, fid(fld))
    rec["_pid"] = map_distinct(rec["procedure"], lambda p: group_of[p][0])
    # Tickets: desk intake times, waits, counters, priority.
    tickets = tickets_table.frame.copy() if tickets_table is not None else None
    priority: Share | None = None
    if tickets is not None:
        tickets["_minutes"] = (
            tickets["service_end"] - tickets["service_start"]
        ).dt.total_seconds() / 60.0
        tickets["_wait"] = (
            tickets["service_start"] - tickets["issued_at"]
        ).dt.total_seconds() / 60.0
        tickets["_pid"] = None
        tickets["_field"] = None
        if "record_id" in tickets and "record_id" in rec:
            ids = rec.set_index("record_id")
            tickets["_pid"] = tickets["record_id"].map(ids["_pid"])
            tickets["_field"] = tickets["record_id"].map(map_distinct(ids["field"], fid))
        if "procedure" in tickets:
            by_name = map_distinct(
                tickets["procedure"], lambda p: group_of[p][0] if p in group_of else None
            )
            tickets["_pid"] = tickets["_pid"].fillna(by_name)
        if "field" in tickets:
            tickets["_field"] = tickets["_field"].fillna(
                map_distinct(tickets["field"], lambda f: fid(f) if f else None)
            )
        if "priority" in tickets:
            priority = Share(int(tickets["priority"].sum()), len(tickets))
    if priority is None and "priority" in rec:
        person = rec["channel"].astype(str) != "online"
        priority = Share(int(rec.loc[person, "priority"].sum()), int(person.sum()))
    procedures: list[ProcedureFit] = []
    fit_cache: dict[tuple[str, str], IntakeFit] = {}
    pid_order = list(dict.fromkeys(group_of[p][0] for p in counts.index))
    for pid in pid_order:
        members = [p for p, g in group_of.items() if g[0] == pid]
        _, label, fld = group_of[members[0]]
        sub = rec[rec["_pid"] == pid]
        st = sub["status"].astype(str)
        k = len(sub)
        supp_at = (
            sub["supplement_at"].notna()
            if "supplement_at" in sub
            else pd.Series(False, index=sub.index)
        )
        supplemented = supp_at | (st == "supplement")
        delays: list[float] = []
        if supp_at.any():
            d = work.working_days_between(
                sub.loc[supp_at, "received_at"], sub.loc[supp_at, "supplement_at"]
            )
            delays = empirical_values(np.maximum(d, 0.0), 50)
        deadline, dn = None, 0
        if "_deadline" in sub:
            dls = sub["_deadline"].dropna()
            before = sub.loc[dls.index, "_before_cutoff"].astype(bool)
            if before.sum() >= 5:
                dls = dls[before]
            if len(dls):
                deadline, dn = int(max(0, dls.mode().iloc[0])), int(len(dls))
        pf = ProcedureFit(
            id=pid,
            name=label,
            field=fld,
            members=[str(m) for m in members],
            count=k,
            share=Share(k, n),
            reject=Share(int((st == "rejected").sum()), k),
            supplement=Share(int(supplemented.sum()), k),
            supplement_returned=Share(int(supp_at.sum()), int(supplemented.sum())),
            supplement_delay=delays,
            deadline_working_days=deadline,
            deadline_n=dn,
        )
        done = sub["_elapsed"][
            sub["status"].astype(str).isin(["on_time", "late", "completed"])
        ].dropna()
        still = sub["_elapsed"][sub["status"].astype(str) == "in_progress"].dropna()
        if len(done):
            pf.result_time = kaplan_meier(done.to_numpy(), still.to_numpy())
        if tickets is not None:
            own = tickets.loc[tickets["_pid"] == pid, "_minutes"].dropna().to_numpy()
            if own.size >= opts.min_samples:
                key = ("procedure", pid)
                values = own
            else:
                in_field = tickets.loc[tickets["_field"] == fld, "_minutes"].dropna().to_numpy()
                if in_field.size >= opts.min_samples:
                    key, values = ("field", fld), in_field
                else:
                    key, values = ("all", "all"), tickets["_minutes"].dropna().to_numpy()
            if values.size >= 2:
                if key not in fit_cache:
                    fit_cache[key] = fit_intake(values, opts, *key)
                pf.intake = fit_cache[key]
        procedures.append(pf)
    if base is not None:
        base_procs = {p.id: p for p in base.procedures}
        for pf in procedures:
            if pf.id in base_procs and base_procs[pf.id].processing_minutes is not None:
                pf.base_processing = base_procs[pf.id].processing_minutes.model_dump(
                    by_alias=True, exclude_none=True
                )
    fields = sorted({p.field for p in procedures})
    desks, postal_agents = _staff(tickets, fields, base, opts, arrivals.records_per_day, channels)
    # On time: the system's verdict, else the result date against the due date.
    verdict = pd.Series(pd.NA, index=rec.index, dtype="boolean")
    verdict[status == "on_time"] = True
    verdict[status == "late"] = False
    if "due_at" in rec:
        judged = (status == "completed") & end.notna() & rec["due_at"].notna()
        verdict[judged] = (end[judged] <= rec.loc[judged, "due_at"]).to_numpy()
    rec["_on_time"] = verdict
    observed = _observed(rec, tickets, n)
    return FittedExport(
        options=opts,
        files=records_table.files,
        tickets_file=tickets_table.files[0] if tickets_table is not None else None,
        records_read=records_table.rows_read,
        records_used=n,
        bad_rows=records_table.bad,
        bad_summary=records_table.bad_summary(),
        ticket_bad_summary=tickets_table.bad_summary() if tickets_table is not None else [],
        tickets_used=len(tickets) if tickets is not None else 0,
        first=first,
        as_of=as_of,
        work=work,
        arrivals=arrivals,
        channels=channels,
        priority=priority,
        procedures=procedures,
        desks=desks,
        postal_agents=postal_agents,
        observed=observed,
        notes=notes,
        name=opts.name or "fitted",
        fields=fields,
    )


def infer_cutoff(
    procedure: np.ndarray, deadline: np.ndarray, minute: np.ndarray, calendar: Calendar
) -> str | None:
    """The same-day cut-off (the 15:00 rule) as the due dates show it, or None.

    Per procedure the usual deadline is the most common one among morning filings;
    a filing whose due date is one working day later than that is a late filing.
    The cut-off is the earliest clock time of such filings (to 5 minutes), kept
    only when it separates them cleanly: at least 10 late filings, at most 2 % of
    the filings before it and at least 90 % of those after it are late."""
    frame = pd.DataFrame({"p": procedure, "d": deadline, "m": minute}).dropna()
    if frame.empty:
        return None
    morning = frame[frame["m"] < 12 * 60]
    usual = morning.groupby("p")["d"].agg(lambda s: s.mode().iloc[0])
    rel = frame["d"] - frame["p"].map(usual)
    late = (rel == 1).to_numpy()
    closing = calendar.open_spans_minutes()[-1][1]
    in_hours = (frame["m"] < closing).to_numpy()
    if (late & in_hours).sum() < 10:
        return None
    cut = int(frame["m"].to_numpy()[late & in_hours].min()) // 5 * 5
    m = frame["m"].to_numpy()
    before, after = (m < cut) & rel.notna().to_numpy(), (m >= cut) & in_hours
    if cut >= closing or not after.any() or late[before].sum() > 0.02 * max(1, before.sum()):
        return None
    if late[after].mean() < 0.9:
        return None
    return f"{cut // 60:02d}:{cut % 60:02d}"


def counter_concurrency(starts: np.ndarray, ends: np.ndarray) -> int:
    """The most services in progress at once (a counter label used by several staff
    shows several at a time)."""
    events = np.concatenate(
        [np.stack([starts, np.ones_like(starts)], 1), np.stack([ends, -np.ones_like(ends)], 1)]
    )
    order = np.lexsort((events[:, 1], events[:, 0]))  # ends before starts at the same time
    return int(np.cumsum(events[order, 1]).max(initial=0))


def _staff(
    tickets: pd.DataFrame | None,
    fields: list[str],
    base: Scenario | None,
    opts: FitOptions,
    per_day: float,
    channels: dict[str, Share],
) -> tuple[list[Desk], int]:
    """Desks from the base scenario, else from the ticket log's counters, else one desk."""
    postal = 1 if channels["postal"].count else 0
    if base is not None:
        desks = [
            Desk(d.name, d.count, list(d.fields), "from the base scenario")
            for d in base.staff.desks
        ]
        covered = {f for d in desks for f in d.fields}
        missing = [f for f in fields if f not in covered]
        if missing:
            biggest = max(desks, key=lambda d: d.count)
            biggest.fields += missing
            biggest.note += f"; fields {', '.join(missing)} added (not in the base)"
        return desks, max(base.staff.postal_agents, postal)
    if tickets is not None and "counter" in tickets and tickets["counter"].astype(str).ne("").any():
        t = tickets[tickets["counter"].astype(str) != ""]
        groups: dict[tuple[str, ...], list[tuple[str, int]]] = {}
        for counter, sub in t.groupby(t["counter"].astype(str), observed=True):
            start = sub["service_start"].to_numpy(dtype="datetime64[ns]").astype("int64")
            end = sub["service_end"].to_numpy(dtype="datetime64[ns]").astype("int64")
            staff = max(1, counter_concurrency(start.astype(float), end.astype(float)))
            f = sub["_field"].dropna()
            served = (
                tuple(sorted(f.value_counts(normalize=True).loc[lambda s: s >= 0.1].index))
                if len(f)
                else ()
            )
            groups.setdefault(served or tuple(fields), []).append((counter, staff))
        desks = []
        used = set()
        for served, counters in sorted(groups.items(), key=lambda kv: -sum(c for _, c in kv[1])):
            name = slug("-".join(served) if len(served) <= 3 else f"counters-{len(desks) + 1}")
            while name in used or name in ("back-office", "postal-agents"):
                name += "-x"
            used.add(name)
            count = sum(c for _, c in counters)
            label = ", ".join(f"{c} ({s})" for c, s in counters)
            desks.append(
                Desk(name, count, list(served), f"counters {label}: most services at once")
            )
        covered = {f for d in desks for f in d.fields}
        missing = [f for f in fields if f not in covered]
        if missing:
            desks[0].fields += missing
            desks[0].note += f"; fields {', '.join(missing)} added (no ticket of theirs)"
        return desks, postal
    if opts.staff is not None:
        count, note = opts.staff, "--staff"
    else:
        count = max(1, math.ceil(per_day * 250 / 1600))
        note = "ASSUMED: the urban quota (1,600 records per staff-year) at 250 working days"
    return [Desk("all-fields", count, list(fields), note)], postal


def _observed(rec: pd.DataFrame, tickets: pd.DataFrame | None, n: int) -> list[dict[str, Any]]:
    """The export's own figures, for ``calibration:``."""
    st = rec["status"].astype(str)
    on_time = int((rec["_on_time"] == True).sum())  # noqa: E712 (nullable booleans)
    late = int((rec["_on_time"] == False).sum())  # noqa: E712
    out = [
        {"kpi": "records_filed", "reported": n, "note": "records received in the export window"},
        {
            "kpi": "records_completed",
            "reported": int(st.isin(["on_time", "late", "completed"]).sum()),
            "note": "status on time, late or completed",
        },
        {
            "kpi": "records_rejected",
            "reported": int((st == "rejected").sum()),
            "note": "status rejected",
        },
        {
            "kpi": "records_in_progress",
            "reported": int(st.isin(["in_progress", "supplement"]).sum()),
            "note": "open or waiting for a supplement at the export date",
        },
    ]
    if on_time + late:
        out.append(
            {
                "kpi": "on_time_rate",
                "reported": round(on_time / (on_time + late), 4),
                "note": f"{on_time} on time of {on_time + late} resolved with a verdict",
            }
        )
    if tickets is not None and len(tickets):
        out.append(
            {
                "kpi": "wait_minutes.mean",
                "reported": round(float(tickets["_wait"].mean()), 2),
                "note": f"ticket issued to service start, {len(tickets)} tickets",
            }
        )
        out.append(
            {
                "kpi": "handle_minutes.mean",
                "reported": round(float(tickets["_minutes"].mean()), 2),
                "note": f"service start to end, {len(tickets)} tickets",
            }
        )
    return out
