#!/usr/bin/python3
"""Generate SciPy reference values for the drift metrics (test/fixtures/scipy-drift.json).

Samples are NOT stored: each case names a distribution and a seed, and both this script and
scripts/scipy-samples.ts draw the same samples from a 32-bit mulberry32 generator using the same
integer arithmetic and the same transforms (Box-Muller, inverse CDFs). Categorical and discrete
samples come from integer draws only, so they match bit for bit.

Run: /usr/bin/python3 scripts/gen-scipy-fixtures.py   (needs python3-scipy from apt; CI only reads the JSON)
"""
import json
import math
import os
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

M32 = 0xFFFFFFFF


class Mulberry32:
    def __init__(self, seed):
        self.a = seed & M32

    def next_u32(self):
        self.a = (self.a + 0x6D2B79F5) & M32
        t = self.a
        t = ((t ^ (t >> 15)) * (t | 1)) & M32
        t = (((t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32) ^ t) & M32
        return (t ^ (t >> 14)) & M32

    def uniform(self):
        """In (0, 1): never 0 or 1, so logs and inverse CDFs stay finite."""
        return (self.next_u32() + 0.5) / 4294967296.0

    def normal(self):
        u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def draw(spec, rng):
    d = spec["dist"]
    if d == "normal":
        return spec["mu"] + spec["sigma"] * rng.normal()
    if d == "lognormal":
        return math.exp(spec["mu"] + spec["sigma"] * rng.normal())
    if d == "pareto":
        return spec["xm"] * rng.uniform() ** (-1.0 / spec["alpha"])
    if d == "mixture":
        r = rng.next_u32() % spec["total"]
        for c in spec["components"]:
            if r < c["w"]:
                return c["mu"] + c["sigma"] * rng.normal()
            r -= c["w"]
        raise AssertionError("weights")
    if d == "floornormal":
        return float(math.floor(spec["mu"] + spec["sigma"] * rng.normal()))
    if d in ("discrete", "categorical"):
        r = rng.next_u32() % spec["total"]
        for value, w in spec["weights"]:
            if r < w:
                return value
            r -= w
        raise AssertionError("weights")
    if d == "scores":
        # Scores of a binary classifier: the logistic of a normal mixture (confident: most mass within 1e-3
        # of 0 or of 1).
        r = rng.next_u32() % spec["total"]
        for c in spec["components"]:
            if r < c["w"]:
                return 1.0 / (1.0 + math.exp(-(c["mu"] + c["sigma"] * rng.normal())))
            r -= c["w"]
        raise AssertionError("weights")
    if d == "outliers":
        # A normal bulk with outliers spread log-uniformly over [10^lo, 10^hi].
        if rng.next_u32() % spec["total"] < spec["w"]:
            return 10.0 ** (spec["lo"] + (spec["hi"] - spec["lo"]) * rng.uniform())
        return spec["mu"] + spec["sigma"] * rng.normal()
    if d == "masspoint":
        # A mass point (weight w of total) and a lognormal.
        if rng.next_u32() % spec["total"] < spec["w"]:
            return spec["value"]
        return math.exp(spec["mu"] + spec["sigma"] * rng.normal())
    if d == "signedlog":
        # Both signs, magnitudes log-uniform over [10^lo, 10^hi].
        sign = -1.0 if rng.next_u32() % 2 == 1 else 1.0
        return sign * 10.0 ** (spec["lo"] + (spec["hi"] - spec["lo"]) * rng.uniform())
    if d == "cauchy":
        return spec["x0"] + spec["gamma"] * math.tan(math.pi * (rng.uniform() - 0.5))
    if d == "rounded":
        # Lognormal prices rounded to a step (ties at every step).
        return math.floor(math.exp(spec["mu"] + spec["sigma"] * rng.normal()) / spec["step"] + 0.5) * spec["step"]
    raise ValueError(d)


def sample(spec, seed, n):
    rng = Mulberry32(seed)
    return [draw(spec, rng) for _ in range(n)]


def with_totals(spec):
    spec = dict(spec)
    if spec["dist"] in ("mixture", "scores"):
        spec["total"] = sum(c["w"] for c in spec["components"])
    if spec["dist"] in ("discrete", "categorical"):
        spec["total"] = sum(w for _, w in spec["weights"])
    return spec


def binned(ref, cur, bins):
    edges = np.unique(np.quantile(ref, [i / bins for i in range(1, bins)]))
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    return r, c


def psi(r, c):
    r = np.maximum(r, 1e-4)
    c = np.maximum(c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def std(values):
    """np.std (ddof 0), computed on values scaled by a power of two when they reach 2^400 (|x| up to 1e308
    would overflow the squares); for smaller values exactly np.std."""
    top = float(np.max(np.abs(values)))
    if top < 2.0 ** 400:
        return float(np.std(values))
    scale = 2.0 ** (math.frexp(top)[1] - 1)
    return float(np.std(values / scale)) * scale


def numeric_case(name, ref_spec, cur_spec, n_ref, n_cur, seed, bins=10):
    ref_spec, cur_spec = with_totals(ref_spec), with_totals(cur_spec)
    ref = np.array(sample(ref_spec, seed, n_ref))
    cur = np.array(sample(cur_spec, seed + 1, n_cur))
    ks = stats.ks_2samp(ref, cur, method="asymp")
    w = stats.wasserstein_distance(ref, cur)
    r, c = binned(ref, cur, bins)
    return {
        "name": name,
        "type": "numeric",
        "reference": {"spec": ref_spec, "seed": seed, "n": n_ref},
        "current": {"spec": cur_spec, "seed": seed + 1, "n": n_cur},
        "bins": bins,
        "expected": {
            "ks": float(ks.statistic),
            "ksPValue": float(ks.pvalue),
            "wasserstein": float(w),
            "wassersteinNormalized": float(w / std(ref)),
            "psi": psi(r, c),
            "jensenShannon": float(distance.jensenshannon(r, c, base=2)),
        },
    }


def categorical_case(name, ref_spec, cur_spec, n_ref, n_cur, seed):
    ref_spec, cur_spec = with_totals(ref_spec), with_totals(cur_spec)
    ref = sample(ref_spec, seed, n_ref)
    cur = sample(cur_spec, seed + 1, n_cur)
    cats = sorted(set(ref) | set(cur))
    ro = np.array([ref.count(k) for k in cats], dtype=float)
    co = np.array([cur.count(k) for k in cats], dtype=float)
    if len(cats) > 1:
        chi2, p, _, _ = stats.chi2_contingency(np.array([ro, co]), correction=False)
    else:
        chi2, p = 0.0, 1.0
    r, c = ro / n_ref, co / n_cur
    return {
        "name": name,
        "type": "categorical",
        "reference": {"spec": ref_spec, "seed": seed, "n": n_ref},
        "current": {"spec": cur_spec, "seed": seed + 1, "n": n_cur},
        "expected": {
            "chiSquared": float(chi2),
            "chiSquaredPValue": float(p),
            "lInfinity": float(np.max(np.abs(r - c))),
            "jensenShannon": float(distance.jensenshannon(r, c, base=2)),
            "psi": psi(r, c),
        },
    }


def normal(mu, sigma):
    return {"dist": "normal", "mu": mu, "sigma": sigma}


def main():
    cases = []
    seed = 1000
    def nxt():
        nonlocal seed
        seed += 10
        return seed

    # Normal location shifts, 50 to 1,000,000 values.
    for n_ref, n_cur, shift in [(50, 50, 0.5), (50, 80, 0.0), (1000, 1000, 0.1), (10_000, 20_000, 0.05),
                                (100_000, 100_000, 0.0), (100_000, 50_000, 0.2), (1_000_000, 1_000_000, 0.02)]:
        cases.append(numeric_case(f"normal-shift-{shift}-{n_ref}x{n_cur}", normal(0, 1), normal(shift, 1), n_ref, n_cur, nxt()))
    # Scale changes.
    for n, s in [(5000, 1.5), (200_000, 1.1)]:
        cases.append(numeric_case(f"normal-scale-{s}-{n}", normal(0, 1), normal(0, s), n, n, nxt()))
    # A narrow distribution far from zero (the sketch grid must keep enough precision).
    cases.append(numeric_case("normal-offset-1000-100000", normal(1000, 1), normal(1000.2, 1), 100_000, 100_000, nxt()))
    cases.append(numeric_case("normal-negative-20000", normal(-50, 5), normal(-49, 6), 20_000, 20_000, nxt()))
    # Bimodal mixtures with changing weights.
    bi = lambda a, b: {"dist": "mixture", "components": [{"w": a, "mu": -2, "sigma": 1}, {"w": b, "mu": 2, "sigma": 0.7}]}
    for n in (2000, 50_000, 1_000_000):
        cases.append(numeric_case(f"bimodal-{n}", bi(5, 5), bi(3, 7), n, n, nxt()))
    # Heavy tails.
    for n in (1000, 100_000, 1_000_000):
        cases.append(numeric_case(f"lognormal-{n}", {"dist": "lognormal", "mu": 0, "sigma": 1},
                                  {"dist": "lognormal", "mu": 0.2, "sigma": 1.1}, n, n, nxt()))
    for n in (500, 100_000, 1_000_000):
        cases.append(numeric_case(f"pareto-{n}", {"dist": "pareto", "xm": 1, "alpha": 3},
                                  {"dist": "pareto", "xm": 1, "alpha": 2.5}, n, n, nxt()))
    cases.append(numeric_case("pareto-alpha1.2-200000", {"dist": "pareto", "xm": 1, "alpha": 1.2},
                              {"dist": "pareto", "xm": 1, "alpha": 1.2}, 200_000, 200_000, nxt()))
    # Discrete-valued numeric: few distinct values (exact), and many (floor of a normal).
    small = lambda ws: {"dist": "discrete", "weights": [[float(v), w] for v, w in enumerate(ws)]}
    for n in (300, 1_000_000):
        cases.append(numeric_case(f"discrete-small-{n}", small([1, 4, 9, 16, 9, 4, 1, 1, 1]), small([1, 3, 9, 16, 12, 5, 1, 1, 2]), n, n, nxt()))
    cases.append(numeric_case("floornormal-200000", {"dist": "floornormal", "mu": 50, "sigma": 10},
                              {"dist": "floornormal", "mu": 51, "sigma": 10}, 200_000, 150_000, nxt()))
    cases.append(numeric_case("floornormal-wide-100000", {"dist": "floornormal", "mu": 0, "sigma": 1000},
                              {"dist": "floornormal", "mu": 100, "sigma": 1000}, 100_000, 100_000, nxt()))
    # Categorical: shifts, new categories, one category, a category on one side only.
    cat = lambda pairs: {"dist": "categorical", "weights": [[k, w] for k, w in pairs]}
    base = [("a", 50), ("b", 30), ("c", 15), ("d", 5)]
    for n in (50, 10_000, 1_000_000):
        cases.append(categorical_case(f"categorical-shift-{n}", cat(base), cat([("a", 45), ("b", 30), ("c", 18), ("d", 7)]), n, n, nxt()))
    cases.append(categorical_case("categorical-new-category-20000", cat(base), cat(base + [("e", 10)]), 20_000, 30_000, nxt()))
    cases.append(categorical_case("categorical-dropped-category-5000", cat(base + [("z", 2)]), cat(base), 5000, 5000, nxt()))
    cases.append(categorical_case("categorical-one-category-1000", cat([("only", 1)]), cat([("only", 1)]), 1000, 700, nxt()))
    many = [(f"k{i:02d}", 1 + (i * 7) % 13) for i in range(60)]
    cases.append(categorical_case("categorical-60-categories-100000", cat(many), cat(many[5:] + [("new", 20)]), 100_000, 100_000, nxt()))

    # Adversarial shapes (issue 12): where a sketch's error depends on the data, these show it.
    conf = lambda mu: {"dist": "scores", "components": [{"w": 1, "mu": -mu, "sigma": 1.5}, {"w": 1, "mu": mu, "sigma": 1.5}]}
    cases.append(numeric_case("adversarial-scores-confident-same-6720x960", conf(9), conf(9), 6720, 960, nxt()))
    cases.append(numeric_case("adversarial-scores-confident-shift-200000", conf(9), conf(8), 200_000, 200_000, nxt()))
    cases.append(numeric_case("adversarial-offset-1e9-same-100000", normal(1e9, 1), normal(1e9, 1), 100_000, 100_000, nxt()))
    out = lambda mu: {"dist": "outliers", "total": 100, "w": 5, "lo": -2, "hi": 10, "mu": mu, "sigma": 3}
    cases.append(numeric_case("adversarial-bulk-outliers-shift-200000", out(100), out(105), 200_000, 200_000, nxt()))
    mass = lambda v: {"dist": "masspoint", "total": 2, "w": 1, "value": v, "mu": 0, "sigma": 1}
    cases.append(numeric_case("adversarial-masspoint-moving-200000", mass(1.0), mass(1.06), 200_000, 200_000, nxt()))
    cases.append(numeric_case("adversarial-masspoint-same-1000000", mass(1.0), mass(1.0), 1_000_000, 1_000_000, nxt()))
    huge = lambda lo, hi: {"dist": "signedlog", "lo": lo, "hi": hi}
    cases.append(numeric_case("adversarial-huge-range-200000", huge(-300, 300), huge(-300, 290), 200_000, 200_000, nxt()))
    cases.append(numeric_case("adversarial-cauchy-200000", {"dist": "cauchy", "x0": 0, "gamma": 1},
                              {"dist": "cauchy", "x0": 0.1, "gamma": 1}, 200_000, 200_000, nxt()))
    cases.append(numeric_case("adversarial-pareto-alpha1-200000", {"dist": "pareto", "xm": 1, "alpha": 1.0},
                              {"dist": "pareto", "xm": 1, "alpha": 1.0}, 200_000, 200_000, nxt()))
    price = lambda mu: {"dist": "rounded", "mu": mu, "sigma": 1, "step": 0.01}
    cases.append(numeric_case("adversarial-rounded-prices-200000", price(2), price(2.02), 200_000, 200_000, nxt()))

    # Pure function checks of the KS tail: kstwo.sf at the sizes the cases use.
    kstwo = []
    for n, d in [(25, 0.2), (25, 0.6), (140, 0.05), (140, 0.3), (500, 0.03), (5000, 0.02), (50_000, 0.004),
                 (50_000, 0.02), (500_000, 0.002), (500_000, 0.01)]:
        kstwo.append({"n": n, "d": d, "sf": float(stats.kstwo.sf(d, n))})

    out = {
        "generator": "scripts/gen-scipy-fixtures.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "cases": cases,
        "kstwo": kstwo,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "scipy-drift.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
