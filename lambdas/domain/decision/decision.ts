/**
 * The decision's inputs and output: what the evaluator hands to {@link decide} (./decide.ts) for one model
 * and evaluation time, and the explained decision it gets back, which is recorded, alerted on and (its
 * scalar values) remembered as history for later evaluations.
 */
import type { FeatureSpec, ProfileSpec } from "../../../contracts/model";
import type { Severity, TriggerPolicy } from "../../../contracts/policy";
import { HOUR_MS } from "../../../contracts/time";
import type { PerformanceStats, Profile } from "../stats/profile";
import type { RuleResult } from "./rules";
import type { HistoryEntry, Suppression } from "./stability";
import type { Verdict } from "./verdict";

/** What a decision does: nothing, alert, or start a retrain. */
export type Action = "none" | "alert" | "retrain";

/** The volume check compares with the median event rate of the evaluations of the last 7 days. */
export const RECENT_VOLUME_HOURS = 24 * 7;

/**
 * Hours of recent decision history an evaluation reads: the volume median's week or the data-quality
 * gate's escalation span, whichever is longer. Persistence uses the last n - 1 entries within this span.
 * Adaptive limits read their reference period separately ({@link adaptiveReference}).
 */
export function historyHours(policy: TriggerPolicy): number {
  return Math.max(RECENT_VOLUME_HOURS, policy.signals.dataQuality.maxGateHours + policy.windowHours);
}

/**
 * The reference period of adaptive control limits, [from, to): the first `referenceHours` of
 * evaluations after the last deployment or the end of a reference-window baseline (bootstrapped after
 * a deployment, or a re-baseline), whichever is later.
 * Undefined when adaptive limits are off or there is no start.
 */
export function adaptiveReference(
  policy: TriggerPolicy,
  lastDeployAt: number | undefined,
  baselineWindow: { readonly to: number } | undefined,
): { readonly from: number; readonly to: number } | undefined {
  const adaptive = policy.stability.adaptive;
  const starts = [lastDeployAt, baselineWindow?.to].filter((t): t is number => t !== undefined);
  if (!adaptive.enabled || starts.length === 0) return undefined;
  const from = Math.max(...starts);
  return { from, to: from + adaptive.referenceHours * HOUR_MS };
}

/** One time bucket of the window (all shards merged), as the stats repository returns it. */
export interface WindowBucket {
  readonly bucketStart: number;
  readonly profile: Profile;
  /** Records received for the bucket (valid + quarantined), when known. */
  readonly received?: number;
  readonly quarantined?: Readonly<Record<string, number>>;
}

/**
 * The buckets read for the evaluation: at least the policy's window, longer when the performance
 * signal scores an older window (late labels). The decision merges the sub-windows it needs.
 */
export interface WindowInput {
  readonly buckets: readonly WindowBucket[];
  /**
   * Optional: all buckets in [from, to) already merged (the stats repository merges while reading).
   * Used as the main window when the range matches it, saving a second merge of every bucket.
   */
  readonly merged?: { readonly from: number; readonly to: number; readonly profile: Profile };
}

/**
 * The labelled outcomes of one bucket (all shards): label coverage and the performance statistics. The
 * realized-performance signal reads these over the label horizon, which reaches further back than the
 * drift window; they are cheap to read because they carry no feature statistics.
 */
export interface OutcomeBucket {
  readonly bucketStart: number;
  /** Prediction events profiled in the bucket. */
  readonly predictions: number;
  /** Labelled (prediction, label) pairs joined to the bucket so far. */
  readonly labelled: number;
  readonly performance: PerformanceStats;
}

/** The outcomes of window buckets (when the caller read no separate outcome range). */
export function outcomesOf(buckets: readonly WindowBucket[]): OutcomeBucket[] {
  return buckets.map((b) => ({
    bucketStart: b.bucketStart,
    predictions: b.profile.count,
    labelled: b.profile.labelled,
    performance: b.profile.performance,
  }));
}

/** A stored reference profile: the training data or a reference window after a deploy. */
export interface BaselineInput {
  readonly version: string;
  readonly profile: Profile;
  /** Hours of traffic the baseline covers, when it is a window of live traffic (gives a reference event rate). */
  readonly hours?: number;
  /**
   * The traffic window of a reference-window baseline. Its labels keep arriving after it is stored, so
   * the caller passes its current outcomes, and the performance signal uses them only once they are as
   * mature as the window it judges.
   */
  readonly window?: { readonly from: number; readonly to: number };
}

/** The part of the model's trigger state the policy needs. */
export interface TriggerState {
  readonly championTrainedAt?: number;
  readonly lastRetrainAt?: number;
  readonly lastDeployAt?: number;
  /** Start times of recent retrains (for the budget). */
  readonly retrainStarts: readonly number[];
  /** Labelled pairs accumulated since the champion was trained. */
  readonly labelsSinceTraining: number;
  /** A retraining run currently holds the model's lease. */
  readonly runActive: boolean;
}

/** Everything one decision looks at. The clock is an argument: the same inputs give the same decision. */
export interface DecisionInputs {
  readonly modelId: string;
  /** Profile layout of the model (empty windows still produce a comparable, empty profile). */
  readonly spec: ProfileSpec;
  readonly now: number;
  readonly features: readonly FeatureSpec[];
  readonly window: WindowInput;
  /**
   * Labelled outcomes per bucket over the label horizon plus the widest performance window (oldest first
   * or any order). Default: the outcomes of `window.buckets`.
   */
  readonly outcomes?: readonly OutcomeBucket[];
  /** How long labels may take (the model's label horizon): buckets older than this are settled. */
  readonly labelHorizonHours: number;
  /** Width of a statistics bucket. */
  readonly bucketMinutes: number;
  readonly baseline: BaselineInput | undefined;
  /** Previous decisions (any order); entries at or after `now` are ignored. */
  readonly history: readonly HistoryEntry[];
  readonly state: TriggerState;
}

/** Headline numbers, also published as CloudWatch metrics. */
export interface DecisionMetrics {
  /** Aggregated (weighted) share of drifted features. */
  readonly driftedShare: number | null;
  /** Largest value/threshold ratio over judged features. */
  readonly driftScore: number | null;
  readonly realizedMetric: number | null;
  readonly estimatedMetric: number | null;
  readonly eventsPerHour: number;
  readonly labelled: number;
}

export interface Decision {
  readonly modelId: string;
  readonly evaluatedAt: number;
  readonly window: { readonly from: number; readonly to: number };
  readonly baselineVersion: string | null;
  readonly action: Action;
  readonly severity: Severity;
  /** The rule tree held (before stability controls). */
  readonly ruleSatisfied: boolean;
  readonly rule: RuleResult;
  /** Top-level signals first, then per-feature and per-check details. */
  readonly signals: readonly Verdict[];
  readonly suppressions: readonly Suppression[];
  readonly metrics: DecisionMetrics;
  /** Scalar value per signal: what later evaluations use for persistence and adaptive limits. */
  readonly values: Readonly<Record<string, number | null>>;
  /** Human-readable explanation (SNS message body, decision record). */
  readonly summary: string;
}

/** The history entry a decision leaves behind for later evaluations. */
export function toHistoryEntry(
  d: Pick<Decision, "evaluatedAt" | "ruleSatisfied" | "action" | "values" | "suppressions" | "signals">,
): HistoryEntry {
  const gated = d.suppressions.some((s) => s.reason === "dataQualityGate");
  const breached = d.signals.filter((v) => v.breached).map((v) => v.signal);
  return {
    evaluatedAt: d.evaluatedAt,
    ruleSatisfied: d.ruleSatisfied,
    action: d.action,
    values: d.values,
    ...(gated ? { gated } : {}),
    ...(breached.length > 0 ? { breached } : {}),
  };
}
