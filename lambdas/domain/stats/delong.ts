/**
 * DeLong, DeLong & Clarke-Pearson (1988): the difference of two correlated AUCs measured on the same rows,
 * with its variance from the structural components. For a model with scores X_i on the m positive rows and
 * Y_j on the k negative rows, psi(x, y) = 1 if x > y, 1/2 if x = y, 0 otherwise, and
 *   V10_i = mean_j psi(X_i, Y_j)   (one per positive row),   V01_j = mean_i psi(X_i, Y_j)   (one per negative),
 * so AUC = mean V10 = mean V01. For two models A and B on the same rows,
 *   Var(AUC_A - AUC_B) = (S10_AA + S10_BB - 2 S10_AB) / m + (S01_AA + S01_BB - 2 S01_AB) / k,
 * S10 and S01 being the sample covariance matrices (n - 1 denominators) of the components across positive
 * and negative rows. The components come from midranks (Sun & Xu 2014), O(n log n) instead of the
 * O(m k) pairs: V10_i = (rank of X_i among all scores - rank among positives) / k.
 *
 * Checked against a brute-force pairwise computation in scripts/gen-gate-fixtures.py.
 */
import { normalUpperQuantile, normalUpperTail } from "./noise";
import type { NonInferiorityTest } from "./non-inferiority";
import { midranks } from "./ranks";

/** Two models' AUCs on the same rows and the variance of their difference. */
export interface PairedAuc {
  readonly challenger: number;
  readonly champion: number;
  /** challenger - champion. */
  readonly difference: number;
  /** DeLong variance of the difference. */
  readonly variance: number;
  readonly positives: number;
  readonly negatives: number;
}

interface Components {
  readonly positive: Float64Array;
  readonly negative: Float64Array;
}

function structuralComponents(scores: readonly number[], isPositive: readonly boolean[]): Components {
  const positives: number[] = [];
  const negatives: number[] = [];
  scores.forEach((score, row) => {
    (isPositive[row] ? positives : negatives).push(score);
  });
  const all = midranks([...positives, ...negatives]);
  const withinPositives = midranks(positives);
  const withinNegatives = midranks(negatives);
  const m = positives.length;
  const k = negatives.length;
  const positive = new Float64Array(m);
  const negative = new Float64Array(k);
  for (let i = 0; i < m; i++) positive[i] = (all[i]! - withinPositives[i]!) / k;
  for (let j = 0; j < k; j++) negative[j] = 1 - (all[m + j]! - withinNegatives[j]!) / m;
  return { positive, negative };
}

const mean = (xs: Float64Array): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Sample variance (n - 1) of the row-wise difference a - b. */
function differenceVariance(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i]! - b[i]!;
  const centre = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (a[i]! - b[i]! - centre) ** 2;
  return squares / (n - 1);
}

/**
 * Paired AUCs of two score vectors on the same labelled rows. Undefined with fewer than two rows of either
 * class (no variance can be estimated).
 */
export function pairedAuc(
  challengerScores: readonly number[],
  championScores: readonly number[],
  isPositive: readonly boolean[],
): PairedAuc | undefined {
  const positives = isPositive.filter(Boolean).length;
  const negatives = isPositive.length - positives;
  if (positives < 2 || negatives < 2) return undefined;
  const challenger = structuralComponents(challengerScores, isPositive);
  const champion = structuralComponents(championScores, isPositive);
  // Var(mean of V10_A - V10_B) + Var(mean of V01_A - V01_B): the same as the covariance-matrix form above.
  const variance =
    differenceVariance(challenger.positive, champion.positive) / positives +
    differenceVariance(challenger.negative, champion.negative) / negatives;
  const aucChallenger = mean(challenger.positive);
  const aucChampion = mean(champion.positive);
  return {
    challenger: aucChallenger,
    champion: aucChampion,
    difference: aucChallenger - aucChampion,
    variance,
    positives,
    negatives,
  };
}

/**
 * H0: AUC_challenger - AUC_champion <= -margin, by the normal approximation of DeLong's statistic
 * z = (difference + margin) / sd; the interval is the Wald interval difference ± z_alpha sd. Identical
 * rankings have zero variance: the challenger then passes exactly when the difference is above -margin.
 */
export function delongNonInferiority(auc: PairedAuc, margin: number, alpha: number): NonInferiorityTest {
  const sd = Math.sqrt(Math.max(0, auc.variance));
  const excess = auc.difference + margin;
  const statistic =
    sd > 0 ? excess / sd : excess > 0 ? Number.POSITIVE_INFINITY : excess < 0 ? Number.NEGATIVE_INFINITY : 0;
  const pValue = normalUpperTail(statistic);
  const z = normalUpperQuantile(alpha);
  return {
    estimate: auc.difference,
    interval: [auc.difference - z * sd, auc.difference + z * sd],
    statistic,
    pValue,
    rejected: pValue < alpha,
    method: `DeLong test of paired AUCs on ${auc.positives} positive and ${auc.negatives} negative rows`,
  };
}
