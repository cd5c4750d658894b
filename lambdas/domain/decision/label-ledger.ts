/**
 * Counting new labelled pairs since the champion was trained, without rereading weeks of buckets at
 * every evaluation. The evaluator only reads its window; buckets that leave the window are folded
 * into a running total, with the label count they had when last seen. The ledger keeps the window's
 * per-bucket counts (a few dozen numbers), so re-evaluating the same window (a scheduler retry) gives
 * the same total, and gaps between evaluations lose nothing.
 *
 * Labels that arrive for a bucket after it left the window are not counted: the count is a lower
 * bound, which errs on the side of retraining later, not more often.
 */

export interface LabelLedger {
  /** Labelled pairs of buckets that have left the window (since the champion's training). */
  readonly settled: number;
  /** Label count per bucket start (epoch ms, as string keys) of the last window seen. */
  readonly open: Readonly<Record<string, number>>;
}

export const EMPTY_LEDGER: LabelLedger = { settled: 0, open: {} };

/**
 * Folds the buckets that left the window into `settled` and records the current window's counts.
 * Only buckets starting at or after `trainedAt` count (older labels were in the training data).
 */
export function advanceLedger(
  ledger: LabelLedger,
  buckets: readonly { readonly bucketStart: number; readonly labelled: number }[],
  windowFrom: number,
  trainedAt: number | undefined,
): { ledger: LabelLedger; labelsSinceTraining: number } {
  const since = trainedAt ?? Number.NEGATIVE_INFINITY;
  let settled = ledger.settled;
  const current = new Set(buckets.map((b) => String(b.bucketStart)));
  for (const [start, count] of Object.entries(ledger.open)) {
    if (Number(start) < windowFrom && !current.has(start) && Number(start) >= since) settled += count;
  }
  const open: Record<string, number> = {};
  let inWindow = 0;
  for (const b of buckets) {
    if (b.bucketStart < since) continue;
    open[String(b.bucketStart)] = b.labelled;
    inWindow += b.labelled;
  }
  return { ledger: { settled, open }, labelsSinceTraining: settled + inWindow };
}
