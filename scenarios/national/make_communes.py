"""Generate ``communes.csv``: a SYNTHETIC table of Vietnam's 3,321 commune-level units.

Nothing in the output is an observed figure for a real commune. The table has
the country's real shape (34 provinces, 3,321 units [NATIONAL], Hanoi's 126
[HANOI] and Lam Dong's 124 [LAM-DONG]) and everything else is drawn, with a
fixed seed, from the assumptions below, so that planners and benchmarks have
a national-size province file to run. Replace it with real data when you have
them: the province-file format (``simulator/scenario/province.py``) is the same.

Assumptions (each one a choice, not a source):

- **Communes per province.** Hanoi 126 [HANOI], Lam Dong 124 [LAM-DONG]; the
  other 32 provinces share the remaining 3,071 units in proportion to weights
  drawn from a lognormal (median 1, sigma 0.35), at least 40 each.
- **Class mix by region** (urban / rural / disadvantaged): the six centrally
  run cities 55 / 40 / 5 %, lowland and coastal provinces 15 / 75 / 10 %,
  northern mountain and Central Highlands provinces 10 / 45 / 45 %. That makes
  about one unit in five urban, close to the share of wards among the 3,321
  units after the July 2025 reorganisation.
- **Demand** (records per working day, all channels): lognormal with medians
  60 / 25 / 10 by class (the shipped Quang Nam scenarios, themselves
  assumptions) and sigma 0.45, clipped to [3, 250]. Check: the synthetic
  Hanoi averages about 51 records a working day per commune, against about
  35 in [HANOI] (66,000 records in the first 3 weeks over 126 communes): the
  table runs the Quang Nam scenarios' demand, not a calibration to Hanoi's
  first weeks.
- **Current staff**: the quota-implied staff (annual demand / 1,600, 1,200 or
  800 records per staff-year [QN-targets], 250 working days) times a lognormal
  factor (median 0.85, sigma 0.2), at least 2; 45 % of them (at least 1) at
  the civil-status desk, the rest at business-land.
- **Neighbours**: each commune is placed at a random point of its province
  (a square of about 7 km per commune side), and its neighbours are its 3
  nearest communes, made symmetric.

Run from the repository root: ``python scenarios/national/make_communes.py``
(rewrites ``scenarios/national/communes.csv``; same seed, same file).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

SEED = 20250701
TOTAL_UNITS = 3321  # [NATIONAL]
FIXED_COUNTS = {"ha-noi": 126, "lam-dong": 124}  # [HANOI], [LAM-DONG]
MIN_UNITS = 40
WORKING_DAYS_PER_YEAR = 250
QUOTA = {"urban": 1600, "rural": 1200, "disadvantaged": 800}  # [QN-targets]
MEDIAN_RECORDS_PER_DAY = {"urban": 60.0, "rural": 25.0, "disadvantaged": 10.0}
DEMAND_SIGMA = 0.45
STAFF_FACTOR_MEDIAN, STAFF_FACTOR_SIGMA = 0.85, 0.2
CIVIL_STATUS_SHARE = 0.45
NEIGHBOURS = 3
KM_PER_COMMUNE = 7.0
CLASS_MIX = {  # urban, rural, disadvantaged
    "city": (0.55, 0.40, 0.05),
    "lowland": (0.15, 0.75, 0.10),
    "mountain": (0.10, 0.45, 0.45),
}
CLASSES = ("urban", "rural", "disadvantaged")

#: The 34 provincial-level units since July 2025: (slug, name, region).
PROVINCES: tuple[tuple[str, str, str], ...] = (
    ("ha-noi", "Hà Nội", "city"),
    ("ho-chi-minh-city", "Thành phố Hồ Chí Minh", "city"),
    ("hai-phong", "Hải Phòng", "city"),
    ("da-nang", "Đà Nẵng", "city"),
    ("hue", "Huế", "city"),
    ("can-tho", "Cần Thơ", "city"),
    ("tuyen-quang", "Tuyên Quang", "mountain"),
    ("cao-bang", "Cao Bằng", "mountain"),
    ("lai-chau", "Lai Châu", "mountain"),
    ("lao-cai", "Lào Cai", "mountain"),
    ("thai-nguyen", "Thái Nguyên", "mountain"),
    ("dien-bien", "Điện Biên", "mountain"),
    ("lang-son", "Lạng Sơn", "mountain"),
    ("son-la", "Sơn La", "mountain"),
    ("phu-tho", "Phú Thọ", "mountain"),
    ("gia-lai", "Gia Lai", "mountain"),
    ("dak-lak", "Đắk Lắk", "mountain"),
    ("lam-dong", "Lâm Đồng", "mountain"),
    ("quang-ngai", "Quảng Ngãi", "mountain"),
    ("bac-ninh", "Bắc Ninh", "lowland"),
    ("quang-ninh", "Quảng Ninh", "lowland"),
    ("hung-yen", "Hưng Yên", "lowland"),
    ("ninh-binh", "Ninh Bình", "lowland"),
    ("thanh-hoa", "Thanh Hóa", "lowland"),
    ("nghe-an", "Nghệ An", "lowland"),
    ("ha-tinh", "Hà Tĩnh", "lowland"),
    ("quang-tri", "Quảng Trị", "lowland"),
    ("khanh-hoa", "Khánh Hòa", "lowland"),
    ("dong-nai", "Đồng Nai", "lowland"),
    ("tay-ninh", "Tây Ninh", "lowland"),
    ("vinh-long", "Vĩnh Long", "lowland"),
    ("dong-thap", "Đồng Tháp", "lowland"),
    ("ca-mau", "Cà Mau", "lowland"),
    ("an-giang", "An Giang", "lowland"),
)
COLUMNS = (
    "id",
    "name",
    "province",
    "class",
    "records_per_day",
    "staff.civil-status",
    "staff.business-land",
    "neighbours",
)


def province_counts(rng: np.random.Generator) -> dict[str, int]:
    """Units per province: the reported ones fixed, the rest by largest remainder."""
    free = [slug for slug, _, _ in PROVINCES if slug not in FIXED_COUNTS]
    spare = TOTAL_UNITS - sum(FIXED_COUNTS.values()) - MIN_UNITS * len(free)
    weights = rng.lognormal(0.0, 0.35, size=len(free))
    shares = spare * weights / weights.sum()
    counts = {slug: MIN_UNITS + math.floor(s) for slug, s in zip(free, shares, strict=True)}
    rest = TOTAL_UNITS - sum(FIXED_COUNTS.values()) - sum(counts.values())
    by_remainder = sorted(range(len(free)), key=lambda i: shares[i] - math.floor(shares[i]))
    for i in by_remainder[::-1][:rest]:
        counts[free[i]] += 1
    return {slug: FIXED_COUNTS.get(slug, counts.get(slug, 0)) for slug, _, _ in PROVINCES}


def neighbour_ids(ids: list[str], points: np.ndarray) -> list[list[str]]:
    """Each point's ``NEIGHBOURS`` nearest others, made symmetric, in id order."""
    d = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    np.fill_diagonal(d, np.inf)
    near: list[set[int]] = [set() for _ in ids]
    for i in range(len(ids)):
        for j in np.argsort(d[i], kind="stable")[:NEIGHBOURS]:
            near[i].add(int(j))
            near[int(j)].add(i)
    return [[ids[j] for j in sorted(s)] for s in near]


def make_rows(seed: int = SEED) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    counts = province_counts(rng)
    rows: list[dict[str, object]] = []
    for slug, name, region in PROVINCES:
        n = counts[slug]
        ids = [f"{slug}-{k:03d}" for k in range(1, n + 1)]
        side = KM_PER_COMMUNE * math.sqrt(n)
        points = rng.uniform(0.0, side, size=(n, 2))
        neighbours = neighbour_ids(ids, points)
        classes = rng.choice(CLASSES, size=n, p=CLASS_MIX[region])
        for k in range(n):
            cls = str(classes[k])
            demand = rng.lognormal(math.log(MEDIAN_RECORDS_PER_DAY[cls]), DEMAND_SIGMA)
            demand = float(np.clip(demand, 3.0, 250.0))
            quota_staff = demand * WORKING_DAYS_PER_YEAR / QUOTA[cls]
            factor = rng.lognormal(math.log(STAFF_FACTOR_MEDIAN), STAFF_FACTOR_SIGMA)
            staff = max(2, round(quota_staff * factor))
            civil = max(1, round(staff * CIVIL_STATUS_SHARE))
            civil = min(civil, staff - 1)
            rows.append(
                {
                    "id": ids[k],
                    "name": f"{name} #{k + 1:03d} (synthetic)",
                    "province": slug,
                    "class": cls,
                    "records_per_day": round(demand, 1),
                    "staff.civil-status": civil,
                    "staff.business-land": staff - civil,
                    "neighbours": ";".join(neighbours[k]),
                }
            )
    return rows


def main() -> None:
    rows = make_rows()
    out = Path(__file__).with_name("communes.csv")
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    by_class = {c: sum(r["class"] == c for r in rows) for c in CLASSES}
    print(f"{out}: {len(rows)} synthetic communes over {len(PROVINCES)} provinces; {by_class}")


if __name__ == "__main__":
    main()
