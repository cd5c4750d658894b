/**
 * How much two models' outputs on the same rows agree, for the validation gate's guardrail. Rankings, not
 * values: a challenger that orders the holdout like the champion but with sharper or softer scores (a
 * monotone transform) agrees fully, where a distance between the two score distributions would call it a
 * large shift.
 * - `spearman`: Pearson correlation of the midranks, as `scipy.stats.spearmanr` (ties averaged).
 * - `cohenKappa`: chance-corrected agreement of two labellings (predicted classes), (p_o - p_e) / (1 - p_e).
 * Both are 1 for full agreement and about 0 for unrelated outputs; undefined when an output is constant.
 */
import { midranks } from "./ranks";

/** Spearman's rank correlation; undefined for fewer than two rows or a constant vector. */
export function spearman(x: readonly number[], y: readonly number[]): number | undefined {
  const n = Math.min(x.length, y.length);
  if (n < 2) return undefined;
  const rx = midranks(x.slice(0, n));
  const ry = midranks(y.slice(0, n));
  const centre = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i]! - centre;
    const dy = ry[i]! - centre;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return undefined;
  return sxy / Math.sqrt(sxx * syy);
}

/** Cohen's kappa of two labellings of the same rows; undefined when both are the same single class. */
export function cohenKappa(
  a: readonly (string | number)[],
  b: readonly (string | number)[],
): number | undefined {
  const n = Math.min(a.length, b.length);
  if (n === 0) return undefined;
  const countsA = new Map<string, number>();
  const countsB = new Map<string, number>();
  let agree = 0;
  for (let i = 0; i < n; i++) {
    const left = String(a[i]);
    const right = String(b[i]);
    if (left === right) agree++;
    countsA.set(left, (countsA.get(left) ?? 0) + 1);
    countsB.set(right, (countsB.get(right) ?? 0) + 1);
  }
  let expected = 0;
  for (const [label, count] of countsA) expected += (count / n) * ((countsB.get(label) ?? 0) / n);
  if (expected >= 1) return undefined;
  return (agree / n - expected) / (1 - expected);
}
