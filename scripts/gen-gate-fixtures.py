#!/usr/bin/python3
"""Generate reference values for the validation gate's statistics (test/fixtures/scipy-gate.json).

The gate's paired tests (lambdas/domain/stats/paired-*.ts, delong.ts, agreement.ts, student-t.ts) are checked
against these values in test/domain/stats/paired-tests-scipy.test.ts; CI only reads the JSON.

Independent implementations, not transcriptions of the TypeScript:
- Student t: scipy.stats.t.sf / t.ppf.
- Paired proportions (McNemar-type non-inferiority, Tango's score statistic): the restricted maximum likelihood
  under H0 "difference = d0" is found numerically (scipy.optimize.minimize_scalar on the multinomial
  log-likelihood), not by the closed form; the interval inverts the score statistic with scipy.optimize.brentq.
- DeLong: structural components by brute force over every (positive, negative) pair with numpy; the AUCs are
  cross-checked with scipy.stats.mannwhitneyu (U / (m n)).
- Paired t on per-row losses: scipy.stats.ttest_1samp(..., alternative="greater"); the Fieller interval of the
  ratio of mean losses by brentq on the same t statistic.
- Spearman: scipy.stats.spearmanr. Cohen's kappa: numpy (scikit-learn is not available).
- Paired bootstrap (precision, F1, macro F1): scipy.stats.bootstrap(paired=True, method="percentile") with
  20,000 resamples; the TypeScript bootstrap uses its own seeded resamples, so tests compare with a tolerance.
- Holdout sizing: scipy.stats.norm.ppf in the power formulas stated in docs/workflow.md.

statsmodels and scikit-learn are not installed; nothing here needs them.
Run: /usr/bin/python3 scripts/gen-gate-fixtures.py   (needs python3-scipy from apt)
"""
import json
import math
import os

import numpy as np
import scipy
from scipy import optimize, special, stats

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "scipy-gate.json")


def rounded(values, digits=4):
    return [float(round(float(v), digits)) for v in values]


# ---------------------------------------------------------------- Student t


def student_t_cases():
    sf = []
    for df in (1, 2, 5, 29, 199, 5000):
        for t in (-2.5, -0.3, 0.0, 0.7, 1.6449, 3.2, 8.0):
            sf.append({"t": t, "df": df, "sf": float(stats.t.sf(t, df))})
    quantiles = []
    for df in (1, 3, 29, 199, 5000):
        for tail in (0.2, 0.05, 0.025, 0.001):
            quantiles.append({"tail": tail, "df": df, "quantile": float(stats.t.isf(tail, df))})
    return {"sf": sf, "quantiles": quantiles}


# ---------------------------------------------------------------- paired proportions (Tango)


def restricted_mle(n, wins, losses, d0):
    """p_lose (champion right only) maximizing the multinomial likelihood under p_win - p_lose = d0."""
    rest = n - wins - losses
    lo = max(0.0, -d0) + 1e-13
    hi = (1.0 - d0) / 2.0 - 1e-13

    def nll(p):
        return -(special.xlogy(wins, p + d0) + special.xlogy(losses, p) + special.xlogy(rest, 1.0 - 2.0 * p - d0))

    res = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-14, "maxiter": 2000})
    return float(res.x)


def score_statistic(n, wins, losses, d0):
    p_lose = restricted_mle(n, wins, losses, d0)
    variance = (2.0 * p_lose + d0 - d0 * d0) / n
    return (wins - losses - n * d0) / n / math.sqrt(variance)


def paired_proportion_case(name, n, wins, losses, margin, alpha):
    z = stats.norm.isf(alpha)
    statistic = score_statistic(n, wins, losses, -margin)
    estimate = (wins - losses) / n
    eps = 1e-9
    lower = optimize.brentq(lambda d: score_statistic(n, wins, losses, d) - z, -1 + eps, estimate, xtol=1e-13)
    upper = optimize.brentq(lambda d: score_statistic(n, wins, losses, d) + z, estimate, 1 - eps, xtol=1e-13)
    return {
        "name": name,
        "n": n,
        "challengerOnly": wins,
        "championOnly": losses,
        "margin": margin,
        "alpha": alpha,
        "expected": {
            "estimate": estimate,
            "statistic": statistic,
            "pValue": float(stats.norm.sf(statistic)),
            "lower": lower,
            "upper": upper,
        },
    }


def paired_proportion_cases():
    return [
        paired_proportion_case("issue-200-rows-worse", 200, 8, 12, 0.01, 0.05),
        paired_proportion_case("balanced-discordance-500", 500, 30, 25, 0.01, 0.05),
        paired_proportion_case("sized-holdout-as-good", 6183, 309, 309, 0.01, 0.05),
        paired_proportion_case("sized-holdout-better", 6183, 340, 278, 0.01, 0.05),
        paired_proportion_case("sized-holdout-worse", 6183, 278, 340, 0.01, 0.05),
        paired_proportion_case("challenger-wins-only", 100, 5, 0, 0.02, 0.05),
        paired_proportion_case("champion-wins-only", 100, 0, 5, 0.02, 0.05),
        paired_proportion_case("many-discordant", 1000, 220, 180, 0.05, 0.025),
        paired_proportion_case("small-sample", 40, 3, 2, 0.1, 0.1),
    ]


# ---------------------------------------------------------------- DeLong


def delong_components(scores, positive):
    x = scores[positive]
    y = scores[~positive]
    psi = (x[:, None] > y[None, :]).astype(float) + 0.5 * (x[:, None] == y[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def delong_case(name, rng_seed, n, prevalence, noise_challenger, noise_champion, shift, digits, margin, alpha):
    rng = np.random.default_rng(rng_seed)
    labels = (rng.random(n) < prevalence).astype(int)
    latent = rng.normal(1.4 * labels, 1.0)
    challenger = np.array(rounded(1 / (1 + np.exp(-(latent + shift + rng.normal(0, noise_challenger, n)))), digits))
    champion = np.array(rounded(1 / (1 + np.exp(-(latent + rng.normal(0, noise_champion, n)))), digits))
    positive = labels == 1
    v10_h, v01_h = delong_components(challenger, positive)
    v10_c, v01_c = delong_components(champion, positive)
    m, k = positive.sum(), (~positive).sum()
    s10 = np.cov(np.vstack([v10_h, v10_c]), ddof=1)
    s01 = np.cov(np.vstack([v01_h, v01_c]), ddof=1)
    variance = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / k
    auc_h, auc_c = v10_h.mean(), v10_c.mean()
    u = stats.mannwhitneyu(challenger[positive], challenger[~positive]).statistic
    diff = auc_h - auc_c
    sd = math.sqrt(variance)
    z = stats.norm.isf(alpha)
    statistic = (diff + margin) / sd
    return {
        "name": name,
        "labels": labels.tolist(),
        "challenger": challenger.tolist(),
        "champion": champion.tolist(),
        "margin": margin,
        "alpha": alpha,
        "expected": {
            "aucChallenger": float(auc_h),
            "aucChampion": float(auc_c),
            "aucChallengerMannWhitney": float(u / (m * k)),
            "difference": float(diff),
            "variance": float(variance),
            "statistic": float(statistic),
            "pValue": float(stats.norm.sf(statistic)),
            "lower": float(diff - z * sd),
            "upper": float(diff + z * sd),
        },
    }


def delong_cases():
    return [
        delong_case("ties-60-rows", 11, 60, 0.4, 0.6, 0.6, 0.0, 1, 0.01, 0.05),
        delong_case("balanced-400", 12, 400, 0.5, 0.3, 0.5, 0.1, 4, 0.01, 0.05),
        delong_case("rare-positives-1500", 13, 1500, 0.08, 0.4, 0.4, -0.05, 4, 0.02, 0.025),
        delong_case("coarse-scores-800", 14, 800, 0.3, 0.2, 0.8, 0.0, 2, 0.01, 0.05),
    ]


# ---------------------------------------------------------------- paired t on losses, Fieller ratio


def t_of(values):
    return float(stats.ttest_1samp(values, 0.0, alternative="greater").statistic)


def paired_loss_case(name, rng_seed, n, kind, scale_challenger, ratio_margin, alpha):
    rng = np.random.default_rng(rng_seed)
    if kind == "squared":
        base = rng.normal(0, 1, n)
        champion = np.array(rounded(base**2, 6))
        challenger = np.array(rounded((base * scale_challenger + rng.normal(0, 0.3, n)) ** 2, 6))
    elif kind == "absolute":
        base = np.abs(rng.standard_t(4, n))
        champion = np.array(rounded(base, 6))
        challenger = np.array(rounded(np.abs(base * scale_challenger + rng.normal(0, 0.2, n)), 6))
    else:  # log loss of a binary model
        y = rng.random(n) < 0.3
        latent = rng.normal(1.5 * y - 0.5, 1.0)
        p_c = 1 / (1 + np.exp(-latent))
        p_h = 1 / (1 + np.exp(-(latent * scale_challenger + rng.normal(0, 0.3, n))))
        champion = np.array(rounded(-np.log(np.where(y, p_c, 1 - p_c)), 6))
        challenger = np.array(rounded(-np.log(np.where(y, p_h, 1 - p_h)), 6))
    differences = ratio_margin * champion - challenger
    test = stats.ttest_1samp(differences, 0.0, alternative="greater")
    t_crit = stats.t.isf(alpha, n - 1)
    estimate = challenger.mean() / champion.mean()
    lower = optimize.brentq(lambda r: t_of(r * champion - challenger) + t_crit, 1e-6, estimate, xtol=1e-13)
    upper = optimize.brentq(lambda r: t_of(r * champion - challenger) - t_crit, estimate, 100.0, xtol=1e-13)
    return {
        "name": name,
        "challenger": challenger.tolist(),
        "champion": champion.tolist(),
        "ratioMargin": ratio_margin,
        "alpha": alpha,
        "expected": {
            "meanChallenger": float(challenger.mean()),
            "meanChampion": float(champion.mean()),
            "statistic": float(test.statistic),
            "pValue": float(test.pvalue),
            "ratio": float(estimate),
            "lower": float(lower),
            "upper": float(upper),
        },
    }


def paired_loss_cases():
    return [
        paired_loss_case("squared-error-30", 21, 30, "squared", 1.0, 1.05**2, 0.05),
        paired_loss_case("squared-error-600-better", 22, 600, "squared", 0.9, 1.05**2, 0.05),
        paired_loss_case("absolute-error-400", 23, 400, "absolute", 1.0, 1.05, 0.05),
        paired_loss_case("log-loss-2000-worse", 24, 2000, "logloss", 0.8, 1.05, 0.025),
    ]


# ---------------------------------------------------------------- agreement


def cohen_kappa(a, b):
    a = np.asarray(a)
    b = np.asarray(b)
    classes = sorted(set(a.tolist()) | set(b.tolist()))
    observed = float(np.mean(a == b))
    expected = float(sum(np.mean(a == c) * np.mean(b == c) for c in classes))
    return (observed - expected) / (1 - expected)


def agreement_cases():
    rng = np.random.default_rng(31)
    spearman = []
    x = rng.normal(size=300)
    spearman.append({"name": "sharper-scores", "x": rounded(1 / (1 + np.exp(-x))), "y": rounded(1 / (1 + np.exp(-3 * x)))})
    y = x + rng.normal(0, 0.7, 300)
    spearman.append({"name": "noisy-300", "x": rounded(x), "y": rounded(y)})
    spearman.append({"name": "ties-coarse", "x": rounded(x, 0), "y": rounded(y, 1)})
    spearman.append({"name": "binary-predictions", "x": (x > 0).astype(int).tolist(), "y": (y > 0.2).astype(int).tolist()})
    z = rng.normal(size=50)
    spearman.append({"name": "unrelated-50", "x": rounded(z), "y": rounded(rng.normal(size=50))})
    for case in spearman:
        case["rho"] = float(stats.spearmanr(case["x"], case["y"]).statistic)
    kappa = []
    labels = np.array(["a", "b", "c"])
    truth = labels[rng.integers(0, 3, 400)]
    flip = rng.random(400) < 0.25
    other = np.where(flip, labels[rng.integers(0, 3, 400)], truth)
    kappa.append({"name": "three-classes", "a": truth.tolist(), "b": other.tolist()})
    kappa.append({"name": "binary-unbalanced", "a": ["0"] * 90 + ["1"] * 10, "b": ["0"] * 85 + ["1"] * 5 + ["0"] * 3 + ["1"] * 7})
    for case in kappa:
        case["kappa"] = cohen_kappa(case["a"], case["b"])
    return {"spearman": spearman, "kappa": kappa}


# ---------------------------------------------------------------- paired bootstrap


def precision(labels, predictions):
    tp = np.sum((predictions == 1) & (labels == 1))
    return tp / np.sum(predictions == 1)


def f1(labels, predictions):
    tp = np.sum((predictions == 1) & (labels == 1))
    fp = np.sum((predictions == 1) & (labels == 0))
    fn = np.sum((predictions == 0) & (labels == 1))
    return 2 * tp / (2 * tp + fp + fn)


def macro_f1(labels, predictions):
    classes = np.unique(np.concatenate([labels, predictions]))
    total = 0.0
    for c in classes:
        tp = np.sum((predictions == c) & (labels == c))
        denominator = np.sum(predictions == c) + np.sum(labels == c)
        total += 2 * tp / denominator if denominator > 0 else 0.0
    return total / len(classes)


def bootstrap_case(name, rng_seed, n, classes, accuracy_challenger, accuracy_champion, metric, alpha):
    rng = np.random.default_rng(rng_seed)
    labels = rng.integers(0, classes, n)
    def predict(accuracy):
        wrong = rng.random(n) > accuracy
        shifted = (labels + rng.integers(1, classes, n)) % classes
        return np.where(wrong, shifted, labels)
    champion = predict(accuracy_champion)
    # The challenger is correlated with the champion: it keeps most of the champion's predictions.
    keep = rng.random(n) < 0.7
    challenger = np.where(keep, champion, predict(accuracy_challenger))
    fn = {"precision": precision, "f1": f1, "macroF1": macro_f1}[metric]

    def difference(y, h, c):
        return fn(y, h) - fn(y, c)

    result = stats.bootstrap(
        (labels, challenger, champion),
        difference,
        paired=True,
        vectorized=False,
        n_resamples=20000,
        method="percentile",
        confidence_level=1 - 2 * alpha,
        random_state=np.random.default_rng(rng_seed + 1000),
    )
    return {
        "name": name,
        "metric": metric,
        "labels": labels.tolist(),
        "challenger": challenger.tolist(),
        "champion": champion.tolist(),
        "alpha": alpha,
        "expected": {
            "difference": float(difference(labels, challenger, champion)),
            "lower": float(result.confidence_interval.low),
            "upper": float(result.confidence_interval.high),
            "standardError": float(result.standard_error),
        },
    }


def bootstrap_cases():
    return [
        bootstrap_case("precision-binary-1200", 41, 1200, 2, 0.86, 0.84, "precision", 0.05),
        bootstrap_case("f1-binary-1500", 42, 1500, 2, 0.8, 0.82, "f1", 0.05),
        bootstrap_case("macro-f1-three-classes-1000", 43, 1000, 3, 0.75, 0.72, "macroF1", 0.05),
    ]


# ---------------------------------------------------------------- holdout sizing


def sizing_cases():
    cases = []
    for alpha, power, margin, discordance, loss_cv, relative in [
        (0.05, 0.8, 0.01, 0.1, 1.0, 0.05),
        (0.05, 0.9, 0.02, 0.05, 0.5, 0.1),
        (0.025, 0.8, 0.05, 0.2, 2.0, 0.02),
    ]:
        z = stats.norm.isf(alpha) + stats.norm.ppf(power)
        accuracy = z * z * discordance / margin**2
        auc_component = discordance / 5
        per_class_auc = z * z * auc_component / margin**2
        mean_loss = z * z * loss_cv**2 / relative**2
        rmse = z * z * loss_cv**2 / ((1 + relative) ** 2 - 1) ** 2
        cases.append(
            {
                "alpha": alpha,
                "power": power,
                "margin": margin,
                "relativeMargin": relative,
                "assumedDiscordance": discordance,
                "assumedLossCv": loss_cv,
                "expected": {
                    "z": float(z),
                    "accuracyRows": math.ceil(accuracy),
                    "aucRowsPerClassAlone": math.ceil(per_class_auc),
                    "meanLossRows": math.ceil(mean_loss),
                    "rmseRows": math.ceil(rmse),
                },
            }
        )
    return cases


def main():
    fixtures = {
        "generator": "scripts/gen-gate-fixtures.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "studentT": student_t_cases(),
        "pairedProportions": paired_proportion_cases(),
        "delong": delong_cases(),
        "pairedLoss": paired_loss_cases(),
        "agreement": agreement_cases(),
        "bootstrap": bootstrap_cases(),
        "sizing": sizing_cases(),
    }
    with open(OUT, "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
