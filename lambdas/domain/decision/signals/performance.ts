/**
 * `performance`: realized performance on the latest window of mature labels (label-maturity.ts), judged
 * against an absolute floor and a relative drop from the baseline (the stricter limit applies) by a
 * one-sided test: the window breaches only when it is below the limit by more than its own and the
 * baseline's sampling error allow at `alpha`. Minimum sample sizes apply to the metric's own denominator
 * (positives for recall, predicted positives for precision); a low-volume window widens into older
 * mature buckets, up to `maxWindowHours`, and the verdict says so.
 */
import { PERFORMANCE_METRICS, performanceMetricOf } from "../../../../contracts/policy";
import { HOUR_MS } from "../../../../contracts/time";
import { normalUpperQuantile } from "../../stats/noise";
import { estimateMetric, type MetricEstimate } from "../../stats/performance-estimate";
import type { PerformanceStats } from "../../stats/profile";
import { mergePerformance, mergePerformanceList } from "../../stats/profile-merge";
import type { OutcomeBucket } from "../decision";
import { compare, fmt, skipped } from "../verdict";
import { performanceLimit } from "./performance-limit";
import type { Signal } from "./signal";

/** The performance statistics of the outcome buckets starting in [from, to). */
function mergeOutcomes(
  outcomes: readonly OutcomeBucket[],
  from: number,
  to: number,
): PerformanceStats | undefined {
  const inside = outcomes
    .filter((b) => b.bucketStart >= from && b.bucketStart < to)
    .map((b) => b.performance);
  return inside.length === 0 ? undefined : mergePerformanceList(inside);
}

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");

/**
 * The one-sided test. `limit` is where the metric breaches; when it is the baseline's relative limit its
 * estimate carries the baseline's error, scaled by (1 -/+ maxRelativeDrop). Returns the threshold the
 * window's value is compared with (the limit moved by z * combined error) and the combined error.
 */
export function testedThreshold(args: {
  readonly higherIsBetter: boolean;
  readonly limit: number;
  readonly relativeLimitBinds: boolean;
  readonly maxRelativeDrop: number;
  readonly window: MetricEstimate;
  readonly baseline: MetricEstimate | undefined;
  readonly alpha: number;
}): { threshold: number; se: number | undefined; z: number } {
  const z = normalUpperQuantile(args.alpha);
  const scale = args.higherIsBetter ? 1 - args.maxRelativeDrop : 1 + args.maxRelativeDrop;
  const baselineSe = args.relativeLimitBinds ? (args.baseline?.se ?? 0) * scale : 0;
  if (args.window.se === undefined) return { threshold: args.limit, se: undefined, z };
  const se = Math.sqrt(args.window.se ** 2 + baselineSe ** 2);
  return { threshold: args.higherIsBetter ? args.limit - z * se : args.limit + z * se, se, z };
}

export const performanceSignal: Signal = {
  name: "performance",
  deterministic: false,
  measure(context) {
    const policy = context.policy;
    const config = policy.signals.performance;
    const metric = performanceMetricOf(policy, context.inputs.spec.task);
    const higherIsBetter = PERFORMANCE_METRICS[metric];
    const direction = higherIsBetter ? "below" : "above";
    const baseEvidence = { metric, alpha: config.alpha };
    if (!config.enabled) return { verdict: skipped("performance", "disabled", baseEvidence, direction) };
    const maturity = context.matureLabels();
    if (maturity.window === undefined)
      return {
        verdict: skipped("performance", maturity.reason, baseEvidence, direction),
        metrics: { labelled: 0 },
      };

    // Widen into older mature buckets while the metric's own denominator is below the minimum.
    const to = maturity.window.to;
    const maxFrom = to - policy.maxWindowHours * HOUR_MS;
    let from = maturity.window.from;
    let stats = mergeOutcomes(context.outcomes, from, to);
    let estimate = stats === undefined ? undefined : estimateMetric(stats, metric);
    const older = context.outcomes
      .filter((b) => b.bucketStart < from && b.bucketStart >= maxFrom)
      .sort((a, b) => b.bucketStart - a.bucketStart);
    for (const bucket of older) {
      if (estimate !== undefined && estimate.denominator >= config.minLabels) break;
      from = bucket.bucketStart;
      stats = stats === undefined ? bucket.performance : mergePerformance(stats, bucket.performance);
      estimate = estimateMetric(stats, metric);
    }
    const windowHours = (to - from) / HOUR_MS;
    const widened = from < maturity.window.from;
    const windowText = `labels ${iso(from)} .. ${iso(to)} (${fmt(windowHours)} h${widened ? ", widened for volume" : ""}; mature after ${fmt(maturity.window.lagHours)} h, coverage ${fmt(maturity.window.coverage * 100)} %)`;
    const evidence = {
      ...baseEvidence,
      window: {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        hours: windowHours,
        widened,
      },
      lagHours: maturity.window.lagHours,
      coverage: maturity.window.coverage,
      plateau: maturity.window.plateau,
    };
    const labelled = stats?.n ?? 0;
    if (estimate === undefined)
      return {
        verdict: skipped(
          "performance",
          `metric ${metric} not available (no ${metric} in ${windowText})`,
          evidence,
          direction,
        ),
        metrics: { labelled },
      };
    if (estimate.denominator < config.minLabels)
      return {
        verdict: skipped(
          "performance",
          `${estimate.denominator} ${estimate.denominatorName} < minimum ${config.minLabels} in ${windowText}`,
          { ...evidence, n: estimate.denominator },
          direction,
        ),
        metrics: { realizedMetric: estimate.value, labelled },
      };

    // A reference-window baseline's labels must be as mature as the judged window's, or the comparison
    // would be biased by whichever class's labels come back first.
    const referenceWindow = context.inputs.baseline?.window;
    const baselineMature = referenceWindow === undefined || referenceWindow.to <= to;
    const baselineStats = baselineMature ? context.inputs.baseline?.profile.performance : undefined;
    const baselineEstimate = baselineStats === undefined ? undefined : estimateMetric(baselineStats, metric);
    const baseline =
      baselineEstimate !== undefined && baselineEstimate.denominator >= config.minLabels
        ? baselineEstimate
        : undefined;
    const staticLimit = performanceLimit(metric, config.floor, config.maxRelativeDrop, baseline?.value);
    if (staticLimit === undefined)
      return {
        verdict: skipped(
          "performance",
          baselineMature
            ? "no baseline metric and no floor"
            : "the baseline's labels are not mature yet and no floor is set",
          evidence,
          direction,
        ),
        metrics: { realizedMetric: estimate.value, labelled },
      };
    // Adaptive limits may make the signal more sensitive, never less: the static limit stays a hard bound.
    const adaptive = context.adaptiveThreshold("performance", staticLimit, direction);
    const limit =
      adaptive === undefined
        ? staticLimit
        : higherIsBetter
          ? Math.max(adaptive, staticLimit)
          : Math.min(adaptive, staticLimit);
    const relativeLimitBinds =
      baseline !== undefined &&
      limit === performanceLimit(metric, undefined, config.maxRelativeDrop, baseline.value);
    const tested = testedThreshold({
      higherIsBetter,
      limit,
      relativeLimitBinds,
      maxRelativeDrop: config.maxRelativeDrop,
      window: estimate,
      baseline,
      alpha: config.alpha,
    });
    const verdict = compare({
      signal: "performance",
      value: estimate.value,
      threshold: tested.threshold,
      direction,
      neutral: baseline?.value ?? estimate.value,
      label: `performance ${metric}`,
      evidence: {
        ...evidence,
        n: estimate.denominator,
        se: estimate.se ?? null,
        baseline: baseline?.value ?? null,
        baselineSe: baseline?.se ?? null,
        limit,
        combinedSe: tested.se ?? null,
        floor: config.floor ?? null,
        maxRelativeDrop: config.maxRelativeDrop,
      },
    });
    const limitText =
      tested.se === undefined
        ? `limit ${fmt(limit)}; no standard error for ${metric} in these statistics, compared as is`
        : `limit ${fmt(limit)} ${higherIsBetter ? "-" : "+"} ${fmt(tested.z)} x ${fmt(tested.se)} sampling error (window${relativeLimitBinds ? " and baseline" : ""}, alpha ${fmt(config.alpha)})`;
    const baselineText =
      baseline === undefined
        ? "no baseline metric"
        : `baseline ${fmt(baseline.value)} (${fmt(((estimate.value - baseline.value) / Math.abs(baseline.value || 1)) * 100)} %)`;
    return {
      verdict: {
        ...verdict,
        message: `${verdict.message}: ${limitText}; ${baselineText}; n=${estimate.denominator} ${estimate.denominatorName}; ${windowText}`,
      },
      metrics: { realizedMetric: estimate.value, labelled },
    };
  },
};
