/**
 * The verdict shared by the performance signals, realized (from joined labels) and estimated
 * (label-free, CBPE): both compare the window's metric with an absolute floor and with a relative drop
 * from the baseline's value; the effective limit is the stricter of the two, so either condition breaches.
 */
import { PERFORMANCE_METRICS, type PerformanceMetricName } from "../../../../contracts/policy";
import { compare, fmt, skipped, type Verdict } from "../verdict";

/** A metric measured on some sample: undefined value when the task does not produce it. */
export interface MetricSample {
  readonly value: number | undefined;
  readonly n: number;
}

/** Limit below which (above which for error metrics) the metric breaches; undefined when neither floor nor baseline exists. */
export function performanceLimit(
  metric: PerformanceMetricName,
  floor: number | undefined,
  maxRelativeDrop: number,
  baseline: number | undefined,
): number | undefined {
  const higherIsBetter = PERFORMANCE_METRICS[metric];
  const relative =
    baseline === undefined
      ? undefined
      : higherIsBetter
        ? baseline * (1 - maxRelativeDrop)
        : baseline * (1 + maxRelativeDrop);
  if (floor === undefined) return relative;
  if (relative === undefined) return floor;
  return higherIsBetter ? Math.max(floor, relative) : Math.min(floor, relative);
}

/** Verdict of a metric against its floor and its baseline (direction from the metric). */
export function metricVerdict(args: {
  signal: string;
  metric: PerformanceMetricName;
  enabled: boolean;
  floor: number | undefined;
  maxRelativeDrop: number;
  minSamples: number;
  current: MetricSample;
  baseline: MetricSample | undefined;
  thresholdOverride?: number;
  unit: string;
}): Verdict {
  const higherIsBetter = PERFORMANCE_METRICS[args.metric];
  const direction = higherIsBetter ? "below" : "above";
  const evidence = {
    metric: args.metric,
    n: args.current.n,
    baseline: args.baseline?.value ?? null,
    baselineN: args.baseline?.n ?? null,
    floor: args.floor ?? null,
    maxRelativeDrop: args.maxRelativeDrop,
  };
  if (!args.enabled) return skipped(args.signal, "disabled", evidence, direction);
  if (args.current.n < args.minSamples)
    return skipped(
      args.signal,
      `${args.current.n} ${args.unit} < minimum ${args.minSamples}`,
      evidence,
      direction,
    );
  if (args.current.value === undefined || !Number.isFinite(args.current.value))
    return skipped(args.signal, `metric ${args.metric} not available for this task`, evidence, direction);
  const limit =
    args.thresholdOverride ??
    performanceLimit(args.metric, args.floor, args.maxRelativeDrop, args.baseline?.value);
  if (limit === undefined)
    return skipped(args.signal, "no baseline metric and no floor", evidence, direction);
  const verdict = compare({
    signal: args.signal,
    value: args.current.value,
    threshold: limit,
    direction,
    neutral: args.baseline?.value ?? args.current.value,
    label: `${args.signal} ${args.metric}`,
    evidence,
  });
  const base = args.baseline?.value;
  if (base === undefined || base === 0) return verdict;
  const change = (args.current.value - base) / Math.abs(base);
  return {
    ...verdict,
    message: `${verdict.message}; baseline ${fmt(base)} (${change >= 0 ? "+" : ""}${fmt(change * 100)} %), n=${args.current.n}`,
    evidence: { ...evidence, relativeChange: change },
  };
}
