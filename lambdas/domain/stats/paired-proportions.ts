/**
 * Non-inferiority of one paired proportion against another (McNemar-type): both models scored the same
 * rows, so only the discordant rows carry information about their difference, the rows where exactly one
 * of them is right. With W rows won by the challenger (it is right, the champion wrong), L rows lost and
 * n rows in all, the difference of the two proportions is (W - L) / n.
 *
 * The test is Tango's (1998) score test for the difference of paired proportions, and the interval the
 * inversion of the same statistic (the "score interval"). The score statistic at a hypothesized
 * difference d0 uses the variance under d0, from the restricted maximum likelihood estimate of the
 * discordant cell probabilities, which keeps the test close to its nominal level even with few discordant
 * rows (a Wald test on (W - L) / n is anti-conservative there, and undefined when W = L = 0).
 *
 * Checked against a numerical restricted maximum likelihood in scripts/gen-gate-fixtures.py.
 */
import { normalUpperQuantile, normalUpperTail } from "./noise";
import type { NonInferiorityTest } from "./non-inferiority";

/** Counts of a paired comparison of correctness on the same rows. */
export interface DiscordantCounts {
  /** Rows scored by both models. */
  readonly n: number;
  /** Rows the challenger got right and the champion wrong. */
  readonly challengerOnly: number;
  /** Rows the champion got right and the challenger wrong. */
  readonly championOnly: number;
}

/**
 * Restricted MLE of P(champion right only) under "difference = d0": the root in the admissible range of
 * 2n p^2 - B p - L d0 (1 - d0) = 0, B = W (1 + d0) + L (1 - d0) - 2 n d0 (the score equation of the
 * multinomial likelihood with P(challenger right only) = p + d0).
 */
function restrictedChampionOnly(counts: DiscordantCounts, d0: number): number {
  const { n, challengerOnly: wins, championOnly: losses } = counts;
  const b = wins * (1 + d0) + losses * (1 - d0) - 2 * n * d0;
  const discriminant = b * b + 8 * n * losses * d0 * (1 - d0);
  const root = (b + Math.sqrt(Math.max(0, discriminant))) / (4 * n);
  return Math.min(Math.max(root, Math.max(0, -d0)), (1 - d0) / 2);
}

/**
 * Tango's score statistic for H0 "difference (challenger - champion) = d0": positive when the observed
 * difference exceeds d0. Infinite when the restricted variance vanishes (d0 at the edge of [-1, 1]).
 */
export function pairedScoreStatistic(counts: DiscordantCounts, d0: number): number {
  const { n, challengerOnly: wins, championOnly: losses } = counts;
  const pChampionOnly = restrictedChampionOnly(counts, d0);
  const variance = (2 * pChampionOnly + d0 - d0 * d0) / n;
  const excess = (wins - losses) / n - d0;
  if (!(variance > 0))
    return excess === 0 ? 0 : excess > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return excess / Math.sqrt(variance);
}

/** The d0 in (lo, hi) where the decreasing statistic crosses `target` (bisection to 1e-13). */
function crossing(counts: DiscordantCounts, target: number, lo: number, hi: number): number {
  let low = lo;
  let high = hi;
  for (let step = 0; step < 200 && high - low > 1e-13; step++) {
    const mid = (low + high) / 2;
    if (pairedScoreStatistic(counts, mid) > target) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** Two-sided (1 - 2 alpha) score interval of the paired difference challenger - champion. */
export function pairedScoreInterval(counts: DiscordantCounts, alpha: number): [number, number] {
  const z = normalUpperQuantile(alpha);
  const estimate = (counts.challengerOnly - counts.championOnly) / counts.n;
  const edge = 1e-9;
  return [crossing(counts, z, -1 + edge, estimate), crossing(counts, -z, estimate, 1 - edge)];
}

/**
 * H0: p_challenger - p_champion <= -margin; rejected when the score statistic at -margin exceeds the
 * one-sided normal quantile of alpha (equivalently, the interval's lower bound is above -margin).
 */
export function pairedProportionNonInferiority(
  counts: DiscordantCounts,
  margin: number,
  alpha: number,
): NonInferiorityTest {
  const statistic = pairedScoreStatistic(counts, -margin);
  const pValue = normalUpperTail(statistic);
  return {
    estimate: (counts.challengerOnly - counts.championOnly) / counts.n,
    interval: pairedScoreInterval(counts, alpha),
    statistic,
    pValue,
    rejected: pValue < alpha,
    method: `paired score test (McNemar-type, Tango) on ${counts.n} rows: challenger alone right on ${counts.challengerOnly}, champion alone right on ${counts.championOnly}`,
  };
}
