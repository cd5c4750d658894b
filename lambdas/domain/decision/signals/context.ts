/**
 * What every signal of one evaluation looks at, computed once and shared: the merged windows (main,
 * performance, data quality), the drift of each feature and output against the baseline, feature
 * importances and the adaptive control limits from the decision history. Pure: built from the policy
 * and the decision inputs only.
 */
import type { AdaptiveSignalName, TriggerPolicy } from "../../../../contracts/policy";
import { HOUR_MS } from "../../../../contracts/time";
import { compareProfiles, summaryDrift } from "../../stats/drift";
import type { DecisionInputs } from "../decision";
import { adaptiveLimit } from "../stability";
import type { Direction } from "../verdict";
import { countsOf, type MergedWindow, mergeWindow } from "../window";
import type { DriftMeasures } from "./drift";

const measuresOf = (drift: unknown): DriftMeasures | undefined =>
  drift === undefined || drift === null ? undefined : (drift as DriftMeasures);

export class SignalContext {
  /** The evaluation window: `policy.windowHours` ending at `now`. */
  readonly window: MergedWindow;
  /** Where labelled pairs are scored: the main window, or `signals.performance.windowHours`. */
  readonly performanceWindow: MergedWindow;
  /** Importance of each feature (absent = 1). */
  readonly importance: Readonly<Record<string, number>>;
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
    const performanceHours = policy.signals.performance.windowHours;
    this.performanceWindow =
      performanceHours === undefined || performanceHours === windowHours
        ? this.window
        : mergeWindow(spec, buckets, now - performanceHours * HOUR_MS, now);
    const importance: Record<string, number> = {};
    for (const feature of inputs.features) importance[feature.name] = feature.importance ?? 1;
    this.importance = importance;
  }

  /** The buckets starting in the last `hours` (never before the main window), merged. */
  recentWindow(hours: number): MergedWindow {
    const now = this.inputs.now;
    return mergeWindow(
      this.inputs.spec,
      this.inputs.window.buckets,
      Math.max(this.window.from, now - hours * HOUR_MS),
      now,
    );
  }

  /** Drift of every feature present in both the baseline and the window (empty without a baseline). */
  featureDrift(): Readonly<Record<string, DriftMeasures | undefined>> {
    if (this.featureDrifts === undefined) {
      const baseline = this.inputs.baseline;
      const drifts: Record<string, unknown> =
        baseline === undefined ? {} : compareProfiles(baseline.profile, this.window.profile);
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
      const window = this.window.profile;
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
    )?.threshold;
  }
}
