/**
 * Drift verdicts: one per feature (effect size against a threshold, only with enough samples on both
 * sides) and the aggregate `drift` signal (share of judged features that drifted, optionally weighted
 * by feature importance, so that a feature the model ignores cannot trigger a retrain by itself).
 */
import { type DriftMethod, type DriftSignalConfig, driftThreshold } from "../../../../contracts/policy";
import type { CategoricalNoiseModel, NumericNoiseModel } from "../../stats/drift";
import {
  jensenShannonNoiseFloor,
  ksNoiseFloor,
  lInfinityNoiseFloor,
  psiNoiseFloor,
  wassersteinNoiseFloor,
} from "../../stats/noise";
import { compare, fmt, skipped, type Verdict } from "../verdict";
import { withWidening } from "./context";
import type { Signal } from "./signal";

/** The drift measures of one feature (structurally stats/drift.ts FeatureDrift). */
export interface DriftMeasures {
  readonly type: "numeric" | "categorical";
  readonly n: { readonly reference: number; readonly current: number };
  readonly psi?: number;
  readonly jensenShannon?: number;
  readonly ks?: number;
  readonly wassersteinNormalized?: number;
  readonly lInfinity?: number;
  readonly noise?: NumericNoiseModel | CategoricalNoiseModel;
  /** Each measure's largest error from summarizing (NaN: unknown), as stats/drift.ts reports it. */
  readonly bounds?: Readonly<Partial<Record<DriftMethod, number>>>;
}

/**
 * The sampling-noise floor of a drift measure: what two samples of the same distribution reach at these
 * sizes with probability `alpha` (stats/noise.ts). 0 when the measures carry no noise model.
 */
export function noiseFloor(measures: DriftMeasures, method: DriftMethod, alpha: number): number {
  const { reference: n, current: m } = measures.n;
  const noise = measures.noise;
  if (noise === undefined) return 0;
  if ("categories" in noise) {
    if (method === "psi") return psiNoiseFloor(n, m, noise.categories, alpha);
    if (method === "jensenShannon") return jensenShannonNoiseFloor(n, m, noise.categories, alpha);
    if (method === "lInfinity") return lInfinityNoiseFloor(n, m, noise.categories, noise.maxSd, alpha);
    return 0;
  }
  switch (method) {
    case "psi":
      return psiNoiseFloor(n, m, noise.bins, alpha);
    case "jensenShannon":
      return jensenShannonNoiseFloor(n, m, noise.bins, alpha);
    case "ks":
      return ksNoiseFloor(n, m, alpha);
    case "wassersteinNormalized":
      return noise.referenceSd > 0 ? wassersteinNoiseFloor(n, m, noise.bridge, alpha) / noise.referenceSd : 0;
    default:
      return 0;
  }
}

/**
 * Compares a distance with the larger of its effect-size threshold and its noise floor, and says which
 * one it was judged against. With an error bound (`bound`, from summarizing the data), a value within the
 * bound of that threshold is "uncertain": the exact data could lie on either side, so it does not breach
 * and says so with the bound. An unknown bound (NaN, profiles of format 1/2) judges the value as it is.
 */
export function judgeDistance(args: {
  readonly signal: string;
  readonly label: string;
  readonly value: number;
  readonly threshold: number;
  readonly floor: number;
  readonly n: DriftMeasures["n"];
  readonly evidence: Record<string, unknown>;
  readonly bound?: number;
}): Verdict {
  const effective = Math.max(args.threshold, args.floor);
  const bound = args.bound;
  const verdict = compare({
    signal: args.signal,
    value: args.value,
    threshold: effective,
    direction: "above",
    neutral: 0,
    label: args.label,
    evidence: {
      ...args.evidence,
      threshold: args.threshold,
      noiseFloor: args.floor,
      ...(bound === undefined ? {} : { errorBound: Number.isNaN(bound) ? null : bound }),
    },
  });
  const sizes = `n=${args.n.reference}/${args.n.current}`;
  const noise =
    args.floor > args.threshold
      ? `judged against sampling noise: two samples of the same distribution at ${sizes} reach ${fmt(args.floor)}, above the threshold ${fmt(args.threshold)}`
      : `sampling noise at ${sizes} reaches ${fmt(args.floor)}`;
  if (bound !== undefined && bound > 0 && Math.abs(args.value - effective) <= bound) {
    return {
      ...verdict,
      breached: false,
      strength: Math.min(verdict.strength, 0.99),
      uncertain: bound,
      message: `${args.label} ${fmt(args.value)} +- ${fmt(bound)} vs ${fmt(effective)}: uncertain, the summaries' error bound could flip it (${noise})`,
    };
  }
  return { ...verdict, message: `${verdict.message} (${noise})` };
}

export const featureSignal = (feature: string): string => `featureDrift:${feature}`;

/** Verdict for one feature's drift. */
export function featureDriftVerdict(
  config: DriftSignalConfig,
  feature: string,
  measures: DriftMeasures | undefined,
  importance = 1,
): Verdict {
  const signal = featureSignal(feature);
  if (!config.enabled) return skipped(signal, "disabled");
  if (config.features[feature]?.ignore) return skipped(signal, "ignored by policy");
  if (measures === undefined) return skipped(signal, "feature absent from baseline or window");
  const method: DriftMethod = measures.type === "numeric" ? config.numericMethod : config.categoricalMethod;
  const evidence = { method, type: measures.type, n: measures.n, importance };
  const minN = Math.min(measures.n.reference, measures.n.current);
  if (minN < config.minSamples)
    return skipped(
      signal,
      `samples reference=${measures.n.reference} current=${measures.n.current} < minimum ${config.minSamples}`,
      evidence,
    );
  const value = measures[method];
  if (value === undefined || !Number.isFinite(value))
    return skipped(signal, `${method} not available`, evidence);
  const verdict = judgeDistance({
    signal,
    label: `${feature} ${method}`,
    value,
    threshold: driftThreshold(config, feature, measures.type),
    floor: noiseFloor(measures, method, config.alpha),
    n: measures.n,
    evidence: { ...evidence, alpha: config.alpha },
    ...(measures.bounds?.[method] === undefined ? {} : { bound: measures.bounds[method] }),
  });
  // A feature the model ignores can drift without consequence for it: the drift is measured and
  // recorded, but it does not alert (every evaluation would, for as long as the shift lasts).
  if (importance === 0 && verdict.breached)
    return {
      ...verdict,
      breached: false,
      message: `${verdict.message}; not alerted: the feature has importance 0`,
      evidence: { ...verdict.evidence, driftedWithoutImportance: true },
    };
  return verdict;
}

/**
 * Aggregate drift: weighted share of judged features whose verdict breached. Value in [0, 1];
 * breaches above `maxDriftedShare`. Features with zero importance count for nothing under
 * importance weighting. Also reports the drift score (max value/threshold ratio) as evidence.
 */
export function aggregateDriftVerdict(
  config: DriftSignalConfig,
  features: readonly Verdict[],
  importance: Readonly<Record<string, number>>,
  thresholdOverride?: number,
): Verdict {
  if (!config.enabled) return skipped("drift", "disabled");
  const judged = features.filter((v) => v.skipped === undefined);
  if (judged.length === 0) return skipped("drift", "no feature had enough samples on both sides");
  const weightOf = (v: Verdict): number => {
    if (config.weighting === "uniform") return 1;
    const name = v.signal.slice("featureDrift:".length);
    return Math.max(0, importance[name] ?? 1);
  };
  let total = 0;
  let drifted = 0;
  for (const v of judged) {
    const w = weightOf(v);
    total += w;
    if (v.breached) drifted += w;
  }
  const share = total > 0 ? drifted / total : 0;
  const driftedNames = judged.filter((v) => v.breached).map((v) => v.signal.slice("featureDrift:".length));
  const verdict = compare({
    signal: "drift",
    value: share,
    threshold: thresholdOverride ?? config.maxDriftedShare,
    direction: "above",
    neutral: 0,
    label: `drifted feature share (${config.weighting})`,
    evidence: {
      judged: judged.length,
      drifted: driftedNames,
      uncertain: judged
        .filter((v) => v.uncertain !== undefined)
        .map((v) => v.signal.slice("featureDrift:".length)),
      driftScore: driftScore(judged),
    },
  });
  return {
    ...verdict,
    message: `${verdict.message}: ${driftedNames.length}/${judged.length} features drifted${
      driftedNames.length > 0
        ? ` (${driftedNames.slice(0, 5).join(", ")}${driftedNames.length > 5 ? ", ..." : ""})`
        : ""
    }`,
  };
}

/** Drift score: the largest value/threshold ratio over judged features (>= 1 means at least one breach). */
export function driftScore(features: readonly Verdict[]): number {
  let max = 0;
  for (const v of features) {
    if (v.value === null || v.threshold === null || v.threshold <= 0) continue;
    max = Math.max(max, v.value / v.threshold);
  }
  return max;
}

/** Top drifted features, largest value/threshold first, for alerts. */
export function topDrifted(features: readonly Verdict[], k: number): string[] {
  return features
    .filter((v) => v.skipped === undefined && v.value !== null && v.threshold !== null)
    .sort((a, b) => (b.value! / b.threshold! || 0) - (a.value! / a.threshold! || 0))
    .slice(0, k)
    .map(
      (v) =>
        `${v.signal.slice("featureDrift:".length)} ${String(v.evidence.method ?? "")} ${fmt(v.value)} (threshold ${fmt(v.threshold)})`,
    );
}

export const driftSignal: Signal = {
  name: "drift",
  deterministic: false,
  measure(context) {
    const config = context.policy.signals.drift;
    const features = context.inputs.features;
    if (context.inputs.baseline === undefined) {
      const details = features.map((feature) => ({
        ...featureDriftVerdict({ ...config, enabled: false }, feature.name, undefined),
        skipped: "no baseline",
        message: `${featureSignal(feature.name)}: not evaluated (no baseline)`,
      }));
      const verdict = aggregateDriftVerdict({ ...config, enabled: false }, [], context.importance);
      return { verdict, details, metrics: { driftedShare: verdict.value, driftScore: null } };
    }
    const drifts = context.featureDrift();
    const details = features.map((feature) =>
      featureDriftVerdict(config, feature.name, drifts[feature.name], context.importance[feature.name]),
    );
    const verdict = withWidening(
      aggregateDriftVerdict(
        config,
        details,
        context.importance,
        context.adaptiveThreshold("drift", config.maxDriftedShare, "above"),
      ),
      context.distribution(),
    );
    return {
      verdict,
      details,
      metrics: {
        driftedShare: verdict.value,
        driftScore: verdict.skipped === undefined ? driftScore(details) : null,
      },
    };
  },
};
