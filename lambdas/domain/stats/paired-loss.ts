/**
 * Non-inferiority of a mean per-row loss (log loss, Brier score, absolute or squared error, absolute
 * percentage error) with a RELATIVE margin: error metrics have the data's units, so "at most 5 % worse" is
 * the portable statement. With per-row losses h_i (challenger) and c_i (champion) on the same rows and the
 * allowed ratio r (1 + margin; (1 + margin)^2 for RMSE, whose square is the mean squared error):
 *   H0: mean(h) >= r mean(c)   against   H1: mean(h) < r mean(c),
 * tested by the paired (one-sample) t test on d_i = r c_i - h_i, rejected when t > t_{1 - alpha, n - 1}.
 * A linear combination of the two means makes the ratio hypothesis exact without a delta method.
 *
 * The interval reported is Fieller's for the ratio mean(h) / mean(c): every ratio r' the two-sided t test
 * at level 2 alpha does not reject, the roots of (mean(h) - r' mean(c))^2 = t^2 Var(h - r' c) / n. When
 * the champion's mean loss is not itself distinguishable from zero the set is unbounded (reported as an
 * infinite bound). The test rejects exactly when r is above the interval's upper bound.
 *
 * Checked against `scipy.stats.ttest_1samp(..., alternative="greater")` in scripts/gen-gate-fixtures.py.
 */
import type { NonInferiorityTest } from "./non-inferiority";
import { studentTSf, studentTUpperQuantile } from "./student-t";

/** Means and sample covariances (n - 1) of paired losses. */
interface PairedMoments {
  readonly n: number;
  readonly meanChallenger: number;
  readonly meanChampion: number;
  readonly varChallenger: number;
  readonly varChampion: number;
  readonly covariance: number;
}

function moments(challenger: readonly number[], champion: readonly number[]): PairedMoments {
  const n = challenger.length;
  let sumH = 0;
  let sumC = 0;
  for (let i = 0; i < n; i++) {
    sumH += challenger[i]!;
    sumC += champion[i]!;
  }
  const meanChallenger = sumH / n;
  const meanChampion = sumC / n;
  let varH = 0;
  let varC = 0;
  let cov = 0;
  for (let i = 0; i < n; i++) {
    const dh = challenger[i]! - meanChallenger;
    const dc = champion[i]! - meanChampion;
    varH += dh * dh;
    varC += dc * dc;
    cov += dh * dc;
  }
  return {
    n,
    meanChallenger,
    meanChampion,
    varChallenger: varH / (n - 1),
    varChampion: varC / (n - 1),
    covariance: cov / (n - 1),
  };
}

/** t statistic of mean(ratio c - h) against 0; infinite when the differences are all equal and non-zero. */
function tAtRatio(m: PairedMoments, ratio: number): number {
  const meanDifference = ratio * m.meanChampion - m.meanChallenger;
  const variance = ratio * ratio * m.varChampion - 2 * ratio * m.covariance + m.varChallenger;
  if (!(variance > 1e-300)) {
    if (meanDifference === 0) return 0;
    return meanDifference > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }
  return meanDifference / Math.sqrt(variance / m.n);
}

/** Fieller's two-sided interval of mean(h) / mean(c) at critical value t (infinite bounds when unbounded). */
function fiellerInterval(m: PairedMoments, t: number): [number, number] {
  const g = (t * t) / m.n;
  const a = m.meanChampion * m.meanChampion - g * m.varChampion;
  const b = m.meanChampion * m.meanChallenger - g * m.covariance;
  const c = m.meanChallenger * m.meanChallenger - g * m.varChallenger;
  const discriminant = b * b - a * c;
  if (!(a > 0) || discriminant < 0) return [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const root = Math.sqrt(discriminant);
  return [(b - root) / a, (b + root) / a];
}

/**
 * Paired t test of H0 "mean(challenger loss) >= ratio x mean(champion loss)" with a Fieller interval of the
 * ratio of means. Needs at least two rows.
 */
export function pairedLossNonInferiority(
  challengerLoss: readonly number[],
  championLoss: readonly number[],
  ratio: number,
  alpha: number,
): NonInferiorityTest | undefined {
  if (challengerLoss.length !== championLoss.length || challengerLoss.length < 2) return undefined;
  const m = moments(challengerLoss, championLoss);
  const df = m.n - 1;
  const statistic = tAtRatio(m, ratio);
  const pValue = studentTSf(statistic, df);
  return {
    estimate: m.meanChampion > 0 ? m.meanChallenger / m.meanChampion : Number.POSITIVE_INFINITY,
    interval: fiellerInterval(m, studentTUpperQuantile(alpha, df)),
    statistic,
    pValue,
    rejected: pValue < alpha,
    method: `paired t test on the ${m.n} rows' losses (${df} degrees of freedom), Fieller interval of the ratio`,
  };
}
