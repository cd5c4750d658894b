/**
 * The shape every paired non-inferiority test of the validation gate returns. The hypotheses are always
 * stated on the challenger's side: H0 "the challenger is worse than the champion by more than the margin",
 * H1 "it is not". The challenger passes when H0 is rejected at `alpha` (one-sided), which is the same as
 * the two-sided (1 - 2 alpha) interval lying entirely on the acceptable side of the margin, so the
 * interval reported with the verdict explains it.
 */
export interface NonInferiorityTest {
  /** Observed value: a difference challenger - champion in metric units, or a ratio challenger / champion. */
  readonly estimate: number;
  /** Two-sided (1 - 2 alpha) confidence interval of the estimate; its bound on the margin's side decides. */
  readonly interval: readonly [number, number];
  /** Test statistic at the margin (z or t); larger means stronger evidence against H0. */
  readonly statistic: number;
  /** One-sided p-value of H0 "worse by more than the margin". */
  readonly pValue: number;
  /** H0 rejected at alpha: the challenger is shown to be no worse than the margin allows. */
  readonly rejected: boolean;
  /** The test in a few words, for the verdict (e.g. "paired score test (Tango) on 6,183 rows"). */
  readonly method: string;
}
