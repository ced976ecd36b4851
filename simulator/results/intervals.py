"""Confidence intervals across independent replications.

Replications are independent and identically distributed by construction
(independent random streams, same scenario), so the across-replication mean of
a KPI has the Student-t interval ``mean ± t(0.975, n-1) · s / √n``. That is an
interval for the *expected* value of the KPI over a horizon of this length; a
*prediction* interval for one more replication (what a single real month could
look like) is wider by a factor √(1 + n), see :func:`t_prediction_interval`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

CONFIDENCE = 0.95


#: ``t_quantile(0.975, df)`` for ``df`` = 1 … 100: the factor of a 95 % interval of up to
#: 101 replications, as ``scipy.special.stdtrit`` computes it, to the last bit (a test
#: checks every one), so that the common case imports no scipy: ``scipy.special`` takes
#: longer to import than ``pasc run`` of a small scenario takes to write its tables.
# fmt: off
_T975 = np.array(
    [
        12.706204736174694, 4.302652729749462, 3.1824463052837078, 2.7764451051977934,
        2.5705818356363146, 2.4469118511449786, 2.364624251592784, 2.306004135204166,
        2.262157162798205, 2.228138851986274, 2.200985160091639, 2.1788128296672284,
        2.1603686564627913, 2.144786687917804, 2.131449545559776, 2.1199052992212546,
        2.1098155778333156, 2.1009220402410382, 2.0930240544083087, 2.085963447265864,
        2.0796138447276795, 2.0738730679040254, 2.0686576104190486, 2.0638985616280245,
        2.0595385527532972, 2.0555294386428735, 2.0518305164802846, 2.0484071417952454,
        2.045229642132703, 2.0422724563012378, 2.039513446396408, 2.0369333434601016,
        2.0345152974493383, 2.0322445093177186, 2.030107928250343, 2.0280940009804502,
        2.0261924630291093, 2.0243941639119694, 2.022690920036761, 2.021075390306273,
        2.019540970441376, 2.0180817028184443, 2.016692199227824, 2.0153675744437636,
        2.014103388880846, 2.012895598919429, 2.0117405137297655, 2.010634757624232,
        2.0095752371292392, 2.008559112100761, 2.007583770315836, 2.006646805061688,
        2.0057459953178687, 2.0048792881880564, 2.0040447832891455, 2.003240718847872,
        2.002465459291007, 2.0017174841452356, 2.000995378088267, 2.0002978220142604,
        1.999623584994939, 1.9989715170333788, 1.998340542520741, 1.997729654317693,
        1.9971379083920038, 1.9965644189523117, 1.996008354025296, 1.9954689314298435,
        1.9949454151072374, 1.994437111771186, 1.9939433678456255, 1.9934635666618719,
        1.992997125889855, 1.992543495180932, 1.9921021540022417, 1.9916726096446642,
        1.9912543953883846, 1.9908470688116906, 1.9904502102301285, 1.990063421254446,
        1.9896863234569029, 1.989318557136572, 1.9889597801751624, 1.9886096669757083,
        1.9882679074772216, 1.98793420623902, 1.9876082815890708, 1.9872898648311692,
        1.986978699506281, 1.9866745407037683, 1.9863771544186177, 1.98608631695113,
        1.9858018143458227, 1.985523441866604, 1.9852510035054978, 1.984984311522457,
        1.9847231860139845, 1.9844674545084815, 1.9842169515864174, 1.9839715185235518,
    ]
)
# fmt: on
_P975 = 0.5 + CONFIDENCE / 2


def t_quantile(probability: float | np.ndarray, df: float | np.ndarray) -> float | np.ndarray:
    """Student's t quantile: ``t_quantile(0.975, n - 1)`` is the factor of a 95 % interval.

    The same numbers as ``scipy.stats.t.ppf`` (which calls this very function,
    ``scipy.special.stdtrit``), without importing ``scipy.stats``: that import
    alone costs most of a second, more than a small run's simulation. A 95 %
    quantile of whole degrees of freedom up to 100 (``df`` a number or an array)
    is read from a table of stdtrit's values, without importing scipy at all.
    """
    if isinstance(probability, float) and probability == _P975:
        d = np.asarray(df)
        if d.size and d.dtype.kind in "iuf" and np.all((d >= 1) & (d <= _T975.size)):
            whole = d.astype(np.intp)
            if np.array_equal(whole, d):
                return _T975[whole - 1]
    from scipy.special import stdtrit

    return stdtrit(df, probability)


def t_interval(
    values: np.ndarray | list[float], confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """``(mean, low, high)`` of the mean; NaN values (KPI undefined in a replication,
    e.g. no walk-in at all) are left out. Fewer than two values give NaN bounds."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(t_quantile(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def t_prediction_interval(
    values: np.ndarray | list[float], confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """``(mean, low, high)`` for one future replication (what one real period may show)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 2:
        return (float(x.mean()) if n else math.nan), math.nan, math.nan
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    half = float(t_quantile(0.5 + confidence / 2, n - 1)) * sd * math.sqrt(1 + 1 / n)
    return mean, mean - half, mean + half


def summarize(kpis: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per KPI: ``kpi, mean, ci_low, ci_high, sd, n`` from per-replication rows."""
    rows = []
    for name in kpis.columns:
        if name == "replication":
            continue
        col = kpis[name].to_numpy(dtype=float)
        mean, low, high = t_interval(col, confidence)
        valid = col[~np.isnan(col)]
        rows.append(
            {
                "kpi": name,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "sd": float(valid.std(ddof=1)) if valid.size > 1 else math.nan,
                "n": int(valid.size),
            }
        )
    return pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high", "sd", "n"])
