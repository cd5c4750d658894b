/**
 * The judgement core: given a model's trigger policy, the merged profile of the evaluation window,
 * its baseline, the recent decisions and the model's trigger state, decide whether to do nothing,
 * alert, or retrain, and say why. Pure: the clock, the data and the policy are arguments, so the same
 * window always gives the same decision (which is what makes the evaluator idempotent under retries)
 * and every scenario can be replayed on a simulated clock.
 *
 * Order of reasoning:
 * 1. every signal produces a verdict (value, threshold, breached, evidence) - see ./policy/*;
 * 2. the rule tree decides whether the signals call for a retrain;
 * 3. stability controls may suppress that retrain (data-quality gate, an active run, cooldown, budget,
 *    persistence), each suppression recorded with its reason;
 * 4. action: retrain if the rule held and nothing suppressed it; alert if any signal breached or a
 *    retrain was suppressed; none otherwise.
 */
import * as ss from "simple-statistics";
import type { FeatureKind, ProfileSpec } from "../../contracts/model";
import type { AdaptiveSignalName, Severity, SignalName, TriggerPolicy } from "../../contracts/policy";
import { estimatePerformance } from "./cbpe";
import { compareProfiles, summaryDrift } from "./drift";
import { performanceMetrics } from "./performance";
import {
  dataQualityVerdict,
  missingRateVerdict,
  quarantineRateVerdict,
  volumeVerdict,
} from "./policy/data-quality";
import {
  aggregateDriftVerdict,
  type DriftMeasures,
  driftScore,
  featureDriftVerdict,
  predictionDriftVerdict,
  topDrifted,
} from "./policy/drift";
import {
  estimatedPerformanceVerdict,
  type MetricSample,
  realizedPerformanceVerdict,
} from "./policy/performance";
import { evaluateRule, type RuleResult } from "./policy/rules";
import {
  adaptiveLimit,
  budgetCheck,
  cooldownCheck,
  type HistoryEntry,
  persistenceCheck,
  type Suppression,
} from "./policy/stability";
import { labelVolumeVerdict, modelAgeVerdict, scheduleVerdict } from "./policy/triggers";
import { fmt, type Verdict } from "./policy/verdict";
import { emptyProfile, type FeatureSummary, mergeProfiles, missingRate, type Profile } from "./profile";

const HOUR_MS = 3_600_000;

/** The volume check compares with the median event rate of the evaluations of the last 7 days. */
export const RECENT_VOLUME_HOURS = 24 * 7;

/**
 * Hours of decision history an evaluation reads: the volume median's week or the adaptive lookback,
 * whichever is longer. Persistence uses the last n - 1 entries within this span.
 */
export function historyHours(policy: TriggerPolicy): number {
  const adaptive = policy.stability.adaptive.enabled ? policy.stability.adaptive.lookbackHours : 0;
  return Math.max(RECENT_VOLUME_HOURS, adaptive);
}

/** Signals whose breach is a calendar or counter fact, not a noisy measurement: no persistence needed. */
const DETERMINISTIC_SIGNALS: ReadonlySet<SignalName> = new Set(["labelVolume", "modelAge", "schedule"]);

export type Action = "none" | "alert" | "retrain";

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

/** A stored reference profile: the training data or a reference window after a deploy. */
export interface BaselineInput {
  readonly version: string;
  readonly profile: Profile;
  /** Hours of traffic the baseline covers, when it is a window of live traffic (gives a reference event rate). */
  readonly hours?: number;
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

export interface FeatureInfo {
  readonly name: string;
  readonly kind: FeatureKind;
  readonly importance?: number;
}

export interface EvaluationInputs {
  readonly modelId: string;
  /** Profile layout of the model (empty windows still produce a comparable, empty profile). */
  readonly spec: ProfileSpec;
  readonly now: number;
  readonly features: readonly FeatureInfo[];
  readonly window: WindowInput;
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
  d: Pick<Decision, "evaluatedAt" | "ruleSatisfied" | "action" | "values">,
): HistoryEntry {
  return { evaluatedAt: d.evaluatedAt, ruleSatisfied: d.ruleSatisfied, action: d.action, values: d.values };
}

function driftMeasuresOf(d: unknown): DriftMeasures | undefined {
  return d === undefined || d === null ? undefined : (d as DriftMeasures);
}

function adaptiveThreshold(
  policy: TriggerPolicy,
  signal: AdaptiveSignalName,
  inputs: EvaluationInputs,
  staticThreshold: number | undefined,
  direction: "above" | "below",
): number | undefined {
  if (staticThreshold === undefined) return undefined;
  return adaptiveLimit(
    policy.stability.adaptive,
    signal,
    inputs.history,
    inputs.now,
    staticThreshold,
    direction,
  )?.threshold;
}

function median(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : ss.median([...values]);
}

interface MergedWindow {
  readonly from: number;
  readonly to: number;
  readonly profile: Profile;
  readonly received: number;
  readonly quarantined: Readonly<Record<string, number>>;
}

/** Merges the buckets starting in [from, to) (an empty profile when there are none). */
export function mergeWindow(
  spec: ProfileSpec,
  buckets: readonly WindowBucket[],
  from: number,
  to: number,
): MergedWindow {
  let profile = emptyProfile(spec);
  let received = 0;
  const quarantined: Record<string, number> = {};
  for (const b of buckets) {
    if (b.bucketStart < from || b.bucketStart >= to) continue;
    profile = mergeProfiles(profile, b.profile);
    received += b.received ?? b.profile.count;
    for (const [k, v] of Object.entries(b.quarantined ?? {})) quarantined[k] = (quarantined[k] ?? 0) + v;
  }
  return { from, to, profile, received, quarantined };
}

function countsOf(
  buckets: readonly WindowBucket[],
  from: number,
  to: number,
): { received: number; quarantined: Record<string, number> } {
  let received = 0;
  const quarantined: Record<string, number> = {};
  for (const b of buckets) {
    if (b.bucketStart < from || b.bucketStart >= to) continue;
    received += b.received ?? b.profile.count;
    for (const [k, v] of Object.entries(b.quarantined ?? {})) quarantined[k] = (quarantined[k] ?? 0) + v;
  }
  return { received, quarantined };
}

/** Evaluates the policy for one model and window. Pure. */
export function evaluate(policy: TriggerPolicy, inputs: EvaluationInputs): Decision {
  const { baseline, now, state } = inputs;
  const signals = policy.signals;
  const buckets = inputs.window.buckets;
  const windowHours = policy.windowHours;
  const mainFrom = now - windowHours * HOUR_MS;
  const merged = inputs.window.merged;
  const window =
    merged !== undefined && merged.from === mainFrom && merged.to === now
      ? {
          ...mergeWindow(inputs.spec, [], mainFrom, now),
          ...countsOf(buckets, mainFrom, now),
          profile: merged.profile,
        }
      : mergeWindow(inputs.spec, buckets, mainFrom, now);
  const perfWindow =
    signals.performance.windowHours === undefined || signals.performance.windowHours === windowHours
      ? window
      : mergeWindow(inputs.spec, buckets, now - signals.performance.windowHours * HOUR_MS, now);
  const importance: Record<string, number> = {};
  for (const f of inputs.features) importance[f.name] = f.importance ?? 1;

  // --- drift ---
  const featureVerdicts: Verdict[] = [];
  let outputDrift: Record<string, DriftMeasures | undefined> = {};
  if (baseline !== undefined) {
    const drifts = compareProfiles(baseline.profile, window.profile) as Record<string, unknown>;
    for (const f of inputs.features)
      featureVerdicts.push(
        featureDriftVerdict(signals.drift, f.name, driftMeasuresOf(drifts[f.name]), importance[f.name]),
      );
    outputDrift = {
      prediction: driftMeasuresOf(summaryDrift(baseline.profile.prediction, window.profile.prediction)),
    };
    if (baseline.profile.score !== undefined && window.profile.score !== undefined)
      outputDrift.score = driftMeasuresOf(summaryDrift(baseline.profile.score, window.profile.score));
  } else {
    for (const f of inputs.features)
      featureVerdicts.push({
        ...featureDriftVerdict({ ...signals.drift, enabled: false }, f.name, undefined),
        skipped: "no baseline",
        message: `featureDrift:${f.name}: not evaluated (no baseline)`,
      });
  }
  const driftStatic = signals.drift.maxDriftedShare;
  const drift =
    baseline === undefined
      ? aggregateDriftVerdict({ ...signals.drift, enabled: false }, [], importance)
      : aggregateDriftVerdict(
          signals.drift,
          featureVerdicts,
          importance,
          adaptiveThreshold(policy, "drift", inputs, driftStatic, "above"),
        );
  const predictionDrift =
    baseline === undefined
      ? predictionDriftVerdict({ ...signals.predictionDrift, enabled: false }, {})
      : predictionDriftVerdict(
          signals.predictionDrift,
          outputDrift,
          adaptiveThreshold(policy, "predictionDrift", inputs, signals.predictionDrift.threshold, "above"),
        );

  // --- performance ---
  const metricName = signals.performance.metric;
  const current = performanceMetrics(perfWindow.profile.performance) as unknown as Record<
    string,
    number | undefined
  >;
  const currentSample: MetricSample = { value: current[metricName], n: perfWindow.profile.performance.n };
  const baseMetrics =
    baseline === undefined
      ? undefined
      : (performanceMetrics(baseline.profile.performance) as unknown as Record<string, number | undefined>);
  const baselineSample: MetricSample | undefined =
    baseline === undefined ||
    baseMetrics === undefined ||
    baseline.profile.performance.n < signals.performance.minLabels
      ? undefined
      : { value: baseMetrics[metricName], n: baseline.profile.performance.n };
  let performance = realizedPerformanceVerdict(signals.performance, currentSample, baselineSample);
  if (performance.threshold !== null) {
    const direction = performance.direction;
    const adaptive = adaptiveThreshold(policy, "performance", inputs, performance.threshold, direction);
    if (adaptive !== undefined && adaptive !== performance.threshold)
      performance = realizedPerformanceVerdict(signals.performance, currentSample, baselineSample, adaptive);
  }

  const est = signals.estimatedPerformance;
  let estimatedPerformance: Verdict;
  let estimatedValue: number | undefined;
  if (window.profile.task !== "binary") {
    estimatedPerformance = {
      ...estimatedPerformanceVerdict({ ...est, enabled: false }, { value: undefined, n: 0 }, undefined),
      skipped: "label-free estimate only for binary classifiers",
      message: "estimatedPerformance: not evaluated (label-free estimate only for binary classifiers)",
    };
  } else {
    const curEst = estimatePerformance(window.profile.score, est.decisionThreshold);
    estimatedValue = curEst[est.metric];
    const baseEst =
      baseline === undefined ? undefined : estimatePerformance(baseline.profile.score, est.decisionThreshold);
    const baseSample: MetricSample | undefined =
      baseEst === undefined || baseEst.n < est.minSamples
        ? undefined
        : { value: baseEst[est.metric], n: baseEst.n };
    estimatedPerformance = estimatedPerformanceVerdict(
      est,
      { value: estimatedValue, n: curEst.n },
      baseSample,
    );
    const adaptive =
      estimatedPerformance.threshold === null
        ? undefined
        : adaptiveThreshold(policy, "estimatedPerformance", inputs, estimatedPerformance.threshold, "below");
    if (adaptive !== undefined && adaptive !== estimatedPerformance.threshold)
      estimatedPerformance = estimatedPerformanceVerdict(
        est,
        { value: estimatedValue, n: curEst.n },
        baseSample,
        adaptive,
      );
  }

  // --- triggers ---
  const labelVolume = labelVolumeVerdict(signals.labelVolume, state.labelsSinceTraining);
  const modelAge = modelAgeVerdict(signals.modelAge, state.championTrainedAt, now);
  const scheduleSince =
    state.championTrainedAt === undefined && state.lastRetrainAt === undefined
      ? undefined
      : Math.max(state.championTrainedAt ?? 0, state.lastRetrainAt ?? 0);
  const schedule = scheduleVerdict(signals.modelAge, scheduleSince, now);

  // --- data quality (recent sub-window) ---
  const dq = signals.dataQuality;
  const quality = mergeWindow(
    inputs.spec,
    buckets,
    Math.max(window.from, now - dq.windowHours * HOUR_MS),
    now,
  );
  const missingChecks: Verdict[] = [];
  if (baseline !== undefined) {
    for (const f of inputs.features) {
      const cur: FeatureSummary | undefined = quality.profile.features[f.name];
      const base: FeatureSummary | undefined = baseline.profile.features[f.name];
      if (cur === undefined || base === undefined) continue;
      missingChecks.push(
        missingRateVerdict(dq, {
          feature: f.name,
          baselineRate: missingRate(base),
          currentRate: missingRate(cur),
          currentTotal: cur.count + cur.missing,
        }),
      );
    }
  }
  const quarantine = quarantineRateVerdict(dq, quality.received, quality.quarantined);
  const eventsPerHour = window.profile.count / windowHours;
  const baselinePerHour =
    baseline?.hours !== undefined && baseline.hours > 0 ? baseline.profile.count / baseline.hours : undefined;
  const recentRates = inputs.history
    .filter((h) => h.evaluatedAt < now && h.evaluatedAt >= now - RECENT_VOLUME_HOURS * HOUR_MS)
    .map((h) => h.values.eventsPerHour)
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const volume = volumeVerdict(
    dq,
    eventsPerHour,
    baselinePerHour,
    median(recentRates),
    adaptiveThreshold(policy, "volume", inputs, dq.minVolumeRatio, "below"),
  );
  const dataQuality = dq.enabled
    ? dataQualityVerdict([...missingChecks, quarantine, volume])
    : { ...dataQualityVerdict([]), skipped: "disabled", message: "dataQuality: not evaluated (disabled)" };

  // --- rule ---
  const top: Record<SignalName, Verdict> = {
    performance,
    estimatedPerformance,
    drift,
    predictionDrift,
    labelVolume,
    modelAge,
    schedule,
    dataQuality,
  };
  const bySignal = new Map<string, Verdict>(Object.entries(top));
  const rule = evaluateRule(policy.rule, bySignal);
  const deterministicOnly = new Map<string, Verdict>(
    [...bySignal].map(([k, v]) => [
      k,
      DETERMINISTIC_SIGNALS.has(k as SignalName) ? v : { ...v, breached: false, strength: 0 },
    ]),
  );
  const dueByCalendar = evaluateRule(policy.rule, deterministicOnly).satisfied;

  // --- stability ---
  const suppressions: Suppression[] = [];
  if (rule.satisfied) {
    if (policy.stability.dataQualityGate && dataQuality.breached)
      suppressions.push({
        reason: "dataQualityGate",
        message: `data quality breached, not retraining on broken data: ${dataQuality.message}`,
      });
    if (state.runActive)
      suppressions.push({
        reason: "runActive",
        message: "a retraining run is already active for this model",
      });
    const cooldown = cooldownCheck(
      policy.stability.cooldownHours,
      state.lastRetrainAt,
      state.lastDeployAt,
      now,
    );
    if (cooldown) suppressions.push(cooldown);
    const budget = budgetCheck(policy.stability.budget, state.retrainStarts, now);
    if (budget) suppressions.push(budget);
    if (!dueByCalendar) {
      const persistence = persistenceCheck(policy.stability.persistence, true, inputs.history, now);
      if (persistence.suppression) suppressions.push(persistence.suppression);
    }
  }

  const details = [...featureVerdicts, ...missingChecks, quarantine, volume];
  const allVerdicts = [...Object.values(top), ...details];
  const anyBreach = allVerdicts.some((v) => v.breached);
  const action: Action =
    rule.satisfied && suppressions.length === 0 ? "retrain" : anyBreach || rule.satisfied ? "alert" : "none";
  const severity: Severity = action === "retrain" ? "retrain" : action === "alert" ? "warn" : "info";

  const values: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(top)) values[k] = v.value;
  values.volume = volume.value;
  values.eventsPerHour = eventsPerHour;
  const metrics: DecisionMetrics = {
    driftedShare: drift.value,
    driftScore: drift.skipped === undefined ? driftScore(featureVerdicts) : null,
    realizedMetric: currentSample.value ?? null,
    estimatedMetric: estimatedValue ?? null,
    eventsPerHour,
    labelled: perfWindow.profile.performance.n,
  };
  const partial = {
    modelId: inputs.modelId,
    evaluatedAt: now,
    window: { from: window.from, to: window.to },
    baselineVersion: baseline?.version ?? null,
    action,
    severity,
    ruleSatisfied: rule.satisfied,
    rule,
    signals: allVerdicts,
    suppressions,
    metrics,
    values,
  };
  return { ...partial, summary: summarize(partial, policy) };
}

/**
 * The same decision with a retrain turned into an alert because of `suppression` (e.g. the lease
 * was taken by a concurrent run between reading the state and starting the workflow).
 */
export function suppressRetrain(d: Decision, suppression: Suppression, policy: TriggerPolicy): Decision {
  const partial = {
    ...d,
    action: "alert" as const,
    severity: "warn" as const,
    suppressions: [...d.suppressions, suppression],
  };
  return { ...partial, summary: summarize(partial, policy) };
}

/** Builds the human-readable explanation of a decision. */
export function summarize(d: Omit<Decision, "summary">, policy: TriggerPolicy): string {
  const featureVerdicts = d.signals.filter((s) => s.signal.startsWith("featureDrift:"));
  const iso = (ms: number) => new Date(ms).toISOString();
  const get = (name: string) => d.signals.find((s) => s.signal === name);
  const lines: string[] = [];
  const headline =
    d.action === "retrain"
      ? "RETRAIN: retraining started"
      : d.action === "alert"
        ? d.ruleSatisfied
          ? "ALERT: retrain warranted but suppressed"
          : "ALERT: signals breached, no retrain warranted by the rule"
        : "OK: no action";
  lines.push(`[${d.severity}] model ${d.modelId}: ${headline}`);
  lines.push(`Window ${iso(d.window.from)} .. ${iso(d.window.to)}; baseline ${d.baselineVersion ?? "none"}.`);
  lines.push(`Rule: ${d.rule.explanation} -> ${d.ruleSatisfied ? "holds" : "does not hold"}.`);
  if (d.rule.contributions.length > 0)
    lines.push(
      `Contributions: ${d.rule.contributions.map((c) => `${c.signal} ${fmt(c.contribution)}`).join(", ")}.`,
    );
  for (const name of ["performance", "estimatedPerformance"]) {
    const v = get(name);
    if (v) lines.push(`${v.message}.`);
  }
  const drift = get("drift");
  if (drift) lines.push(`${drift.message}.`);
  const top = topDrifted(
    featureVerdicts.filter((v) => v.breached),
    policy.alerting.topFeatures,
  );
  if (top.length > 0) lines.push(`Top drifted features: ${top.join("; ")}.`);
  for (const name of ["predictionDrift", "dataQuality", "labelVolume", "modelAge", "schedule"]) {
    const v = get(name);
    if (v && (v.breached || v.skipped === undefined)) lines.push(`${v.message}.`);
  }
  if (d.suppressions.length > 0)
    lines.push(`Retrain not started: ${d.suppressions.map((s) => `${s.reason}: ${s.message}`).join("; ")}.`);
  else if (d.action === "retrain")
    lines.push("Retrain started: rule held and no stability control objected.");
  return lines.join("\n");
}
