/**
 * What every signal of one evaluation looks at, computed once and shared: the merged windows (main,
 * performance, data quality), the drift of each feature and output against the baseline, feature
 * importances and the adaptive control limits from the decision history. Pure: built from the policy
 * and the decision inputs only.
 */
import type { AdaptiveSignalName, TriggerPolicy } from "../../../../contracts/policy";
import { HOUR_MS } from "../../../../contracts/time";
import { compareProfiles, summaryDrift } from "../../stats/drift";
import { adaptiveReference, type DecisionInputs, type OutcomeBucket, outcomesOf } from "../decision";
import { type MaturityResult, matureWindow } from "../label-maturity";
import { adaptiveLimit } from "../stability";
import type { Direction, Verdict } from "../verdict";
import { countsOf, type MergedWindow, mergeWindow } from "../window";
import type { DriftMeasures } from "./drift";

const measuresOf = (drift: unknown): DriftMeasures | undefined =>
  drift === undefined || drift === null ? undefined : (drift as DriftMeasures);

/** The window the distribution signals compare with the baseline, widened for low volume if needed. */
export interface DistributionWindow extends MergedWindow {
  /** Set when the evaluation window held too few predictions and older buckets were added. */
  readonly widened?: { readonly hours: number; readonly windowCount: number; readonly needed: number };
  /** Set when the window starts at the last deployment (older buckets were scored by another model). */
  readonly sinceDeploy?: number;
}

/** A verdict with the widening of its window noted in its message and evidence (unchanged if not widened). */
export function withWidening(verdict: Verdict, window: DistributionWindow): Verdict {
  if (window.widened === undefined) return verdict;
  const { hours, windowCount, needed } = window.widened;
  return {
    ...verdict,
    message: `${verdict.message} [window widened to ${Math.round(hours)} h for volume: the evaluation window held ${windowCount} predictions < ${needed}]`,
    evidence: { ...verdict.evidence, widenedWindowHours: hours },
  };
}

/** Predictions the distribution signals need in their window: the largest of their enabled minimums. */
export function distributionMinimum(policy: TriggerPolicy): number {
  const signals = policy.signals;
  return Math.max(
    signals.drift.enabled ? signals.drift.minSamples : 0,
    signals.predictionDrift.enabled ? signals.predictionDrift.minSamples : 0,
    signals.estimatedPerformance.enabled ? signals.estimatedPerformance.minSamples : 0,
  );
}

export class SignalContext {
  /** The evaluation window: `policy.windowHours` ending at `now`. */
  readonly window: MergedWindow;
  /** Importance of each feature (absent = 1). */
  readonly importance: Readonly<Record<string, number>>;
  /** Labelled outcomes per bucket over the label horizon (oldest first). */
  readonly outcomes: readonly OutcomeBucket[];
  private maturity: MaturityResult | undefined;
  private distributionWindow: DistributionWindow | undefined;
  private featureDrifts: Record<string, DriftMeasures | undefined> | undefined;
  private outputDrifts: Record<string, DriftMeasures | undefined> | undefined;

  constructor(
    readonly policy: TriggerPolicy,
    readonly inputs: DecisionInputs,
  ) {
    const { now, spec } = inputs;
    const buckets = inputs.window.buckets;
    const windowHours = policy.windowHours;
    const from = now - windowHours * HOUR_MS;
    const merged = inputs.window.merged;
    this.window =
      merged !== undefined && merged.from === from && merged.to === now
        ? { from, to: now, profile: merged.profile, ...countsOf(buckets, from, now) }
        : mergeWindow(spec, buckets, from, now);
    const importance: Record<string, number> = {};
    for (const feature of inputs.features) importance[feature.name] = feature.importance ?? 1;
    this.importance = importance;
    // Labels judge the serving champion: buckets before its deployment were scored by another model,
    // and judging them would retrain again on the old model's errors (a loop under late labels).
    const servedFrom = this.servedFrom();
    this.outcomes = [...(inputs.outcomes ?? outcomesOf(buckets))]
      .filter((b) => b.bucketStart >= servedFrom)
      .sort((a, b) => a.bucketStart - b.bucketStart);
  }

  /** Start of the buckets scored by the serving champion: its deployment, if known. */
  servedFrom(): number {
    return this.inputs.state.lastDeployAt ?? Number.NEGATIVE_INFINITY;
  }

  /**
   * What drift, prediction drift and the label-free estimate compare with the baseline: the evaluation
   * window, or, when it holds fewer predictions than those signals need, the window widened bucket by
   * bucket into the older buckets given (up to `maxWindowHours`) until it holds enough.
   */
  distribution(): DistributionWindow {
    if (this.distributionWindow !== undefined) return this.distributionWindow;
    const needed = distributionMinimum(this.policy);
    const { now, spec } = this.inputs;
    const buckets = this.inputs.window.buckets;
    // Scores and their estimate belong to the serving champion: the window starts at its deployment.
    const servedFrom = this.servedFrom();
    const base: DistributionWindow =
      servedFrom > this.window.from
        ? { ...mergeWindow(spec, buckets, servedFrom, now), sinceDeploy: servedFrom }
        : this.window;
    let chosen: DistributionWindow = base;
    if (base.profile.count < needed && this.policy.maxWindowHours > this.policy.windowHours) {
      const floor = Math.max(now - this.policy.maxWindowHours * HOUR_MS, servedFrom);
      const starts = buckets
        .map((b) => b.bucketStart)
        .filter((start) => start < base.from && start >= floor)
        .sort((a, b) => b - a);
      let from = base.from;
      let count = base.profile.count;
      for (const start of starts) {
        if (count >= needed) break;
        from = start;
        count += buckets.filter((b) => b.bucketStart === start).reduce((sum, b) => sum + b.profile.count, 0);
      }
      if (from < base.from) {
        const widened = mergeWindow(spec, buckets, from, now);
        chosen = {
          ...widened,
          widened: { hours: (now - from) / HOUR_MS, windowCount: base.profile.count, needed },
          ...(base.sinceDeploy !== undefined ? { sinceDeploy: base.sinceDeploy } : {}),
        };
      }
    }
    this.distributionWindow = chosen;
    return chosen;
  }

  /** The latest window of `signals.performance.windowHours` whose labels are mature (label-maturity.ts). */
  matureLabels(): MaturityResult {
    this.maturity ??= matureWindow({
      buckets: this.outcomes,
      now: this.inputs.now,
      bucketMs: this.inputs.bucketMinutes * 60_000,
      windowHours: this.policy.signals.performance.windowHours ?? this.policy.windowHours,
      labelHorizonHours: this.inputs.labelHorizonHours,
    });
    return this.maturity;
  }

  /** Predictions profiled in the buckets starting in [from, to) (the count `rangeWindow` would merge). */
  rangeCount(from: number, to: number): number {
    let count = 0;
    for (const b of this.inputs.window.buckets)
      if (b.bucketStart >= from && b.bucketStart < to) count += b.profile.count;
    return count;
  }

  /** The buckets starting in [from, to), merged. */
  rangeWindow(from: number, to: number): MergedWindow {
    return mergeWindow(this.inputs.spec, this.inputs.window.buckets, from, to);
  }

  /** Drift of every feature present in both the baseline and the window (empty without a baseline). */
  featureDrift(): Readonly<Record<string, DriftMeasures | undefined>> {
    if (this.featureDrifts === undefined) {
      const baseline = this.inputs.baseline;
      const drifts: Record<string, unknown> =
        baseline === undefined ? {} : compareProfiles(baseline.profile, this.distribution().profile);
      this.featureDrifts = Object.fromEntries(
        Object.entries(drifts).map(([name, drift]) => [name, measuresOf(drift)]),
      );
    }
    return this.featureDrifts;
  }

  /** Drift of the predicted class/value and, for binary models, of the score (empty without a baseline). */
  outputDrift(): Readonly<Record<string, DriftMeasures | undefined>> {
    if (this.outputDrifts === undefined) {
      const baseline = this.inputs.baseline;
      const window = this.distribution().profile;
      const outputs: Record<string, DriftMeasures | undefined> = {};
      if (baseline !== undefined) {
        outputs.prediction = measuresOf(summaryDrift(baseline.profile.prediction, window.prediction));
        if (baseline.profile.score !== undefined && window.score !== undefined)
          outputs.score = measuresOf(summaryDrift(baseline.profile.score, window.score));
      }
      this.outputDrifts = outputs;
    }
    return this.outputDrifts;
  }

  /**
   * The adaptive control limit of a signal from its own history, or undefined when adaptive limits
   * are off for it or the history is too short (the static threshold then applies).
   */
  adaptiveThreshold(
    signal: AdaptiveSignalName,
    staticThreshold: number | undefined,
    direction: Direction,
  ): number | undefined {
    if (staticThreshold === undefined) return undefined;
    return adaptiveLimit(
      this.policy.stability.adaptive,
      signal,
      this.inputs.history,
      this.inputs.now,
      staticThreshold,
      direction,
      adaptiveReference(this.policy, this.inputs.state.lastDeployAt, this.inputs.baseline?.window)?.from,
    )?.threshold;
  }
}
