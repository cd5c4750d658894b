/**
 * The verdict every trigger rule returns, in the shape of a cdk-nag rule result: which signal, the
 * measured value, the threshold it was compared with, whether it breached, and the evidence. Rules
 * are small pure functions so that each can be tested on its own with breaching and non-breaching
 * inputs, and so that a decision record can show exactly why it came out the way it did.
 */

/** Whether a value breaches by exceeding the threshold (drift, age) or by falling below it (accuracy). */
export type Direction = "above" | "below";

export interface Verdict {
  /** Signal name: a rule signal (`drift`, `performance`, ...) or a detail (`featureDrift:age`, `missingRate:age`). */
  readonly signal: string;
  /** Measured value; null when the signal could not be computed. */
  readonly value: number | null;
  /** Threshold the value was compared with (after adaptive adjustment); null when skipped. */
  readonly threshold: number | null;
  readonly direction: Direction;
  readonly breached: boolean;
  /**
   * Strength in [0, 1] for weighted-score rules: 1 when breached, otherwise how far the value has
   * moved toward the threshold from its neutral point (0 = nowhere near).
   */
  readonly strength: number;
  /** Human-readable one-liner, reused verbatim in alerts and decision records. */
  readonly message: string;
  /** Numbers that back the verdict (sample sizes, baseline value, per-feature values...). */
  readonly evidence: Readonly<Record<string, unknown>>;
  /** Set when the signal was not judged (disabled, too few samples, no baseline): never breached. */
  readonly skipped?: string;
  /**
   * Set when the value's error bound from summarizing (stats/drift.ts `bounds`) could flip the verdict:
   * the value is within this bound of the threshold it was judged against. Such a verdict never breaches.
   */
  readonly uncertain?: number;
}

/** A signal that was not judged; it can never breach. */
export function skipped(
  signal: string,
  reason: string,
  evidence: Record<string, unknown> = {},
  direction: Direction = "above",
): Verdict {
  return {
    signal,
    value: null,
    threshold: null,
    direction,
    breached: false,
    strength: 0,
    message: `${signal}: not evaluated (${reason})`,
    evidence,
    skipped: reason,
  };
}

/** Formats a number for messages: 4 significant digits, no exponent for ordinary magnitudes. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "n/a";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Number.isInteger(x)) return String(x);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

/**
 * Compares a value with a threshold and builds the verdict. `neutral` is the value at which the
 * strength is 0 (e.g. 0 for a distance, the baseline for a metric that should not drop).
 */
export function compare(args: {
  signal: string;
  value: number;
  threshold: number;
  direction: Direction;
  neutral: number;
  label?: string;
  evidence?: Record<string, unknown>;
}): Verdict {
  const { signal, value, threshold, direction, neutral } = args;
  const breached = direction === "above" ? value > threshold : value < threshold;
  const span = Math.abs(threshold - neutral);
  const moved = direction === "above" ? value - neutral : neutral - value;
  const strength = breached ? 1 : span > 0 ? Math.min(0.99, Math.max(0, moved / span)) : 0;
  const label = args.label ?? signal;
  const op = direction === "above" ? (breached ? ">" : "<=") : breached ? "<" : ">=";
  return {
    signal,
    value,
    threshold,
    direction,
    breached,
    strength,
    message: `${label} ${fmt(value)} ${op} ${fmt(threshold)}${breached ? " (breached)" : ""}`,
    evidence: args.evidence ?? {},
  };
}
