/**
 * `performance`: realized performance on labelled pairs of the performance window versus an absolute
 * floor and the baseline's value (the stricter limit applies), optionally with an adaptive limit.
 */
import type { PerformanceSignalConfig } from "../../../../contracts/policy";
import { performanceMetrics } from "../../stats/performance";
import type { Verdict } from "../verdict";
import { type MetricSample, metricVerdict } from "./metric-verdict";
import type { Signal } from "./signal";

/** Realized performance on labelled pairs of the window versus floor and baseline. */
export function realizedPerformanceVerdict(
  config: PerformanceSignalConfig,
  current: MetricSample,
  baseline: MetricSample | undefined,
  thresholdOverride?: number,
): Verdict {
  return metricVerdict({
    signal: "performance",
    metric: config.metric,
    enabled: config.enabled,
    floor: config.floor,
    maxRelativeDrop: config.maxRelativeDrop,
    minSamples: config.minLabels,
    current,
    baseline,
    thresholdOverride,
    unit: "labelled pairs",
  });
}

export const performanceSignal: Signal = {
  name: "performance",
  deterministic: false,
  measure(context) {
    const config = context.policy.signals.performance;
    const stats = context.performanceWindow.profile.performance;
    const current = performanceMetrics(stats) as unknown as Record<string, number | undefined>;
    const currentSample: MetricSample = { value: current[config.metric], n: stats.n };
    const baseline = context.inputs.baseline;
    const baselineSample: MetricSample | undefined =
      baseline === undefined || baseline.profile.performance.n < config.minLabels
        ? undefined
        : {
            value: (
              performanceMetrics(baseline.profile.performance) as unknown as Record<
                string,
                number | undefined
              >
            )[config.metric],
            n: baseline.profile.performance.n,
          };
    let verdict = realizedPerformanceVerdict(config, currentSample, baselineSample);
    if (verdict.threshold !== null) {
      const adaptive = context.adaptiveThreshold("performance", verdict.threshold, verdict.direction);
      if (adaptive !== undefined && adaptive !== verdict.threshold)
        verdict = realizedPerformanceVerdict(config, currentSample, baselineSample, adaptive);
    }
    return { verdict, metrics: { realizedMetric: currentSample.value ?? null } };
  },
};
