/**
 * `estimatedPerformance`: the label-free (CBPE) estimate for binary classifiers, on the window's score
 * distribution, versus the same estimate on the baseline's scores. Reacts within hours when labels take
 * days; skipped for multiclass and regression models.
 */
import type { EstimatedPerformanceSignalConfig } from "../../../../contracts/policy";
import { estimatePerformance } from "../cbpe";
import type { Verdict } from "../verdict";
import { type MetricSample, metricVerdict } from "./metric-verdict";
import type { Signal } from "./signal";

/** Label-free estimate of the window versus the same estimate on the baseline (so calibration bias cancels). */
export function estimatedPerformanceVerdict(
  config: EstimatedPerformanceSignalConfig,
  current: MetricSample,
  baseline: MetricSample | undefined,
  thresholdOverride?: number,
): Verdict {
  return metricVerdict({
    signal: "estimatedPerformance",
    metric: config.metric,
    enabled: config.enabled,
    floor: config.floor,
    maxRelativeDrop: config.maxRelativeDrop,
    minSamples: config.minSamples,
    current,
    baseline,
    thresholdOverride,
    unit: "scored predictions",
  });
}

export const estimatedPerformanceSignal: Signal = {
  name: "estimatedPerformance",
  deterministic: false,
  measure(context) {
    const config = context.policy.signals.estimatedPerformance;
    const window = context.window.profile;
    if (window.task !== "binary") {
      const reason = "label-free estimate only for binary classifiers";
      return {
        verdict: {
          ...estimatedPerformanceVerdict(
            { ...config, enabled: false },
            { value: undefined, n: 0 },
            undefined,
          ),
          skipped: reason,
          message: `estimatedPerformance: not evaluated (${reason})`,
        },
        metrics: { estimatedMetric: null },
      };
    }
    const currentEstimate = estimatePerformance(window.score, config.decisionThreshold);
    const current: MetricSample = { value: currentEstimate[config.metric], n: currentEstimate.n };
    const baseline = context.inputs.baseline;
    const baselineEstimate =
      baseline === undefined
        ? undefined
        : estimatePerformance(baseline.profile.score, config.decisionThreshold);
    const baselineSample: MetricSample | undefined =
      baselineEstimate === undefined || baselineEstimate.n < config.minSamples
        ? undefined
        : { value: baselineEstimate[config.metric], n: baselineEstimate.n };
    let verdict = estimatedPerformanceVerdict(config, current, baselineSample);
    const adaptive =
      verdict.threshold === null
        ? undefined
        : context.adaptiveThreshold("estimatedPerformance", verdict.threshold, "below");
    if (adaptive !== undefined && adaptive !== verdict.threshold)
      verdict = estimatedPerformanceVerdict(config, current, baselineSample, adaptive);
    return { verdict, metrics: { estimatedMetric: current.value ?? null } };
  },
};
