/**
 * Sampling noise of the drift statistics: how large a distance two samples of the SAME distribution
 * reach, at sizes (n, m), with probability `alpha`. A drift verdict breaches only when its value passes
 * both the effect-size threshold and this noise floor, so small samples cannot invent drift and large
 * samples cannot turn negligible differences into breaches (the threshold handles that side).
 *
 * Analytic, deterministic and cheap (one evaluation judges every feature):
 * - PSI and Jensen-Shannon over k bins (or categories): both are to first order chi-squared forms of the
 *   proportion differences. With c - r ~ N(0, p(1 - p)(1/n + 1/m)) per bin, sum (c - r)^2 / p follows
 *   (1/n + 1/m) chi2(k - 1); PSI = sum (c - r) ln(c / r) ~ sum (c - r)^2 / p, and the JS divergence (nats)
 *   ~ sum (c - r)^2 / (8 p), so JS distance (base 2) = sqrt(JSD / ln 2).
 * - KS: the Kolmogorov limit distribution at the effective size nm / (n + m), with Stephens' finite-size
 *   correction of the critical value.
 * - L-infinity over K categories: the largest of K normal differences, Bonferroni over the categories.
 * - Wasserstein-1: sqrt(1/n + 1/m) times the integral of |B(F(x))| dx, B a Brownian bridge; its mean and
 *   variance follow from the reference CDF (E|B(u)| = sqrt(2u(1 - u)/pi), and the folded-normal
 *   covariance), and its upper tail from a gamma law with those two moments.
 * The approximations are checked against seeded simulations in the tests.
 */
import gammainc from "@stdlib/math-base-special-gammainc";
import { chiSquaredSf } from "./distributions";

/** P(Z > z) for Z ~ N(0, 1): erfc(z / sqrt 2) / 2, the upper regularized gamma Q(1/2, z^2 / 2). */
export function normalUpperTail(z: number): number {
  if (z === Number.POSITIVE_INFINITY) return 0;
  if (z === Number.NEGATIVE_INFINITY) return 1;
  const upper = 0.5 * gammainc((z * z) / 2, 0.5, true, true);
  return z >= 0 ? upper : 1 - upper;
}

/**
 * Upper quantile of N(0, 1): the z with P(Z > z) = tail. (simple-statistics' `probit` is off by about 1e-2
 * in the tails this project needs; this inverts the exact tail.)
 */
export function normalUpperQuantile(tail: number): number {
  if (tail >= 0.5) return -normalUpperQuantile(1 - tail);
  return invertTail(normalUpperTail, tail, 0, 10);
}

/** Smallest x in [lo, hi] where a decreasing tail function reaches `tail` (bisection, 80 steps). */
function invertTail(tailAt: (x: number) => number, tail: number, lo: number, hi: number): number {
  let low = lo;
  let high = hi;
  while (tailAt(high) > tail) high *= 2;
  for (let step = 0; step < 80; step++) {
    const mid = (low + high) / 2;
    if (tailAt(mid) > tail) low = mid;
    else high = mid;
  }
  return high;
}

/** Upper quantile of chi-squared(df): the x with P(X > x) = tail. */
export function chiSquaredUpperQuantile(tail: number, df: number): number {
  if (!(df > 0)) return 0;
  return invertTail((x) => chiSquaredSf(x, df), tail, 0, df + 10 * Math.sqrt(2 * df) + 10);
}

/** Upper quantile of a gamma law with the given mean and variance (moment matching). */
export function gammaUpperQuantile(tail: number, mean: number, variance: number): number {
  if (!(mean > 0)) return 0;
  if (!(variance > 0)) return mean;
  const shape = (mean * mean) / variance;
  const scale = variance / mean;
  const upperTail = (x: number) => gammainc(x / scale, shape, true, true);
  return invertTail(upperTail, tail, 0, mean + 10 * Math.sqrt(variance));
}

const inverseSizes = (n: number, m: number): number => 1 / n + 1 / m;

/** Noise floor of PSI over `bins` bins (or categories) at sample sizes (n, m). */
export function psiNoiseFloor(n: number, m: number, bins: number, alpha: number): number {
  if (!(n > 0 && m > 0) || bins < 2) return 0;
  return inverseSizes(n, m) * chiSquaredUpperQuantile(alpha, bins - 1);
}

/** Noise floor of the Jensen-Shannon distance (base 2) over `bins` bins (or categories). */
export function jensenShannonNoiseFloor(n: number, m: number, bins: number, alpha: number): number {
  if (!(n > 0 && m > 0) || bins < 2) return 0;
  return Math.sqrt((inverseSizes(n, m) * chiSquaredUpperQuantile(alpha, bins - 1)) / (8 * Math.LN2));
}

/**
 * Noise floor of the two-sample KS statistic: the Kolmogorov critical value sqrt(-ln(alpha / 2) / 2) at
 * the effective size, with Stephens' correction (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)).
 */
export function ksNoiseFloor(n: number, m: number, alpha: number): number {
  if (!(n > 0 && m > 0)) return 0;
  const effective = Math.sqrt((n * m) / (n + m));
  return Math.min(1, Math.sqrt(-Math.log(alpha / 2) / 2) / (effective + 0.12 + 0.11 / effective));
}

/**
 * Noise floor of the largest category-frequency difference: Bonferroni over `categories` two-sided
 * normal tests, the widest category deciding (`maxSd` = max over categories of sqrt(p(1 - p)), p the
 * pooled frequency).
 */
export function lInfinityNoiseFloor(
  n: number,
  m: number,
  categories: number,
  maxSd: number,
  alpha: number,
): number {
  if (!(n > 0 && m > 0) || categories < 2) return 0;
  return normalUpperQuantile(alpha / (2 * categories)) * maxSd * Math.sqrt(inverseSizes(n, m));
}

/** Mean and variance of the integral of |B(F(x))| dx, for the W1 noise floor (per unit sqrt(1/n + 1/m)). */
export interface BridgeIntegralMoments {
  readonly mean: number;
  readonly variance: number;
}

/**
 * Moments of the integral of |B(u(x))| dx over a distribution given by its quantile function: the range
 * is cut at the quantiles j / K (j = 0..K), each slice having width w_j and CDF level u_j = (j + 1/2) / K.
 * E|B(u)| = sqrt(2 / pi) s(u) with s(u) = sqrt(u (1 - u)); for u <= v, B(u) and B(v) have correlation
 * rho = u (1 - v) / (s(u) s(v)) and E|B(u)||B(v)| = (2 / pi) s(u) s(v) (rho asin(rho) + sqrt(1 - rho^2)).
 */
export function bridgeIntegralMoments(quantile: (p: number) => number, slices = 64): BridgeIntegralMoments {
  const widths: number[] = [];
  const levels: number[] = [];
  let previous = quantile(0);
  for (let j = 1; j <= slices; j++) {
    const next = quantile(j / slices);
    widths.push(Math.max(0, next - previous));
    levels.push((j - 0.5) / slices);
    previous = next;
  }
  const sd = levels.map((u) => Math.sqrt(u * (1 - u)));
  let mean = 0;
  for (let i = 0; i < slices; i++) mean += widths[i]! * Math.sqrt(2 / Math.PI) * sd[i]!;
  let second = 0;
  for (let i = 0; i < slices; i++) {
    const wi = widths[i]!;
    if (wi === 0) continue;
    for (let j = 0; j < slices; j++) {
      const wj = widths[j]!;
      if (wj === 0) continue;
      if (i === j) {
        second += wi * wj * sd[i]! * sd[i]!;
        continue;
      }
      const [u, v] = levels[i]! < levels[j]! ? [levels[i]!, levels[j]!] : [levels[j]!, levels[i]!];
      const rho = Math.min(1, (u * (1 - v)) / (Math.sqrt(u * (1 - u)) * Math.sqrt(v * (1 - v))));
      second += wi * wj * (2 / Math.PI) * sd[i]! * sd[j]! * (rho * Math.asin(rho) + Math.sqrt(1 - rho * rho));
    }
  }
  return { mean, variance: Math.max(0, second - mean * mean) };
}

/** Noise floor of W1 at sizes (n, m), from the bridge-integral moments of the reference distribution. */
export function wassersteinNoiseFloor(
  n: number,
  m: number,
  moments: BridgeIntegralMoments,
  alpha: number,
): number {
  if (!(n > 0 && m > 0)) return 0;
  return Math.sqrt(inverseSizes(n, m)) * gammaUpperQuantile(alpha, moments.mean, moments.variance);
}

/**
 * Noise floor of an increase of a rate (e.g. a feature's missing rate) from `baselineRate` on `n`
 * records to a rate on `m` records: the one-sided normal bound of a difference of two proportions.
 */
export function rateIncreaseNoiseFloor(baselineRate: number, n: number, m: number, alpha: number): number {
  if (!(n > 0 && m > 0)) return 0;
  const rate = Math.min(1, Math.max(0, baselineRate));
  const spread = Math.max(rate * (1 - rate), 1 / (n + m));
  return normalUpperQuantile(alpha) * Math.sqrt(spread * inverseSizes(n, m));
}
