/**
 * `estimatedPerformance`: the label-free (CBPE) estimate for binary classifiers, with scores calibrated
 * on the baseline's labelled scores (cbpe.ts), on the window's score distribution versus the same
 * estimate on the baseline's scores, judged by the one-sided test of the realized performance signal
 * (binomial standard errors on the expected counts, a conservative bound). Reacts within hours when
 * labels take days; skipped for multiclass and regression models, and when the baseline holds too few
 * labelled scores to calibrate on.
 */
import { type EstimatedPerformanceSignalConfig, PERFORMANCE_METRICS } from "../../../../contracts/policy";
import { estimateMetric, type MetricEstimate } from "../../stats/performance-estimate";
import type { BinaryPerformance } from "../../stats/profile";
import { type Calibration, calibrate, type EstimatedMetrics, estimatePerformance } from "../cbpe";
import { compare, fmt, skipped } from "../verdict";
import { withWidening } from "./context";
import { testedThreshold } from "./performance";
import { performanceLimit } from "./performance-limit";
import type { Signal } from "./signal";

/** The estimate as a metric with a (conservative, binomial) standard error on its expected denominator. */
function estimateOf(
  metrics: EstimatedMetrics,
  metric: EstimatedPerformanceSignalConfig["metric"],
): MetricEstimate | undefined {
  const c = metrics.confusion;
  if (c === undefined) return undefined;
  const expected: BinaryPerformance = {
    task: "binary",
    positive: "1",
    n: c.n,
    tp: c.tp,
    fp: c.fp,
    tn: c.tn,
    fn: c.fn,
    scored: 0,
    logLossSum: 0,
    brierSum: 0,
    positiveScores: new Map(),
    negativeScores: new Map(),
    invalid: 0,
  };
  return estimateMetric(expected, metric);
}

/** Calibration maps by baseline performance object: one per baseline, not one per evaluation. */
const calibrations = new WeakMap<object, { n: number; calibration: Calibration | undefined }>();

function calibrationOf(profile: { performance: { task: string } }): Calibration | undefined {
  if (profile.performance.task !== "binary") return undefined;
  const performance = profile.performance as BinaryPerformance;
  const known = calibrations.get(performance);
  // The count guards against a performance object updated in place since.
  if (known !== undefined && known.n === performance.n) return known.calibration;
  const calibration = calibrate(performance);
  calibrations.set(performance, { n: performance.n, calibration });
  return calibration;
}

export const estimatedPerformanceSignal: Signal = {
  name: "estimatedPerformance",
  deterministic: false,
  measure(context) {
    const config = context.policy.signals.estimatedPerformance;
    const metric = config.metric;
    const distribution = context.distribution();
    const window = distribution.profile;
    const skip = (reason: string, evidence: Record<string, unknown> = {}) => ({
      verdict: skipped("estimatedPerformance", reason, { metric, ...evidence }, "below"),
      metrics: { estimatedMetric: null },
    });
    if (window.task !== "binary") return skip("label-free estimate only for binary classifiers");
    if (!config.enabled) return skip("disabled");
    const baseline = context.inputs.baseline;
    if (baseline === undefined) return skip("no baseline");
    const calibration = calibrationOf(baseline.profile);
    if (calibration === undefined || calibration.labelled < config.minSamples)
      return skip(
        `calibration needs ${config.minSamples} labelled baseline scores, the baseline holds ${calibration?.labelled ?? 0}`,
      );
    const calibrationEvidence = {
      calibrationLabels: calibration.labelled,
      rawCalibrationError: calibration.rawCalibrationError,
    };
    if (calibration.levels < 2)
      return skip(
        "the baseline's scores carry no information about its labels (flat calibration)",
        calibrationEvidence,
      );
    const current = estimatePerformance(window.score, config.decisionThreshold, calibration);
    if (current.n < config.minSamples)
      return skip(`${current.n} scored predictions < minimum ${config.minSamples}`, calibrationEvidence);
    const reference = estimatePerformance(baseline.profile.score, config.decisionThreshold, calibration);
    const windowEstimate = estimateOf(current, metric);
    const baselineEstimate = reference.n >= config.minSamples ? estimateOf(reference, metric) : undefined;
    if (windowEstimate === undefined) return skip(`metric ${metric} not available`, calibrationEvidence);
    const staticLimit = performanceLimit(
      metric,
      config.floor,
      config.maxRelativeDrop,
      baselineEstimate?.value,
    );
    if (staticLimit === undefined) return skip("no baseline estimate and no floor", calibrationEvidence);
    const adaptive = context.adaptiveThreshold("estimatedPerformance", staticLimit, "below");
    const limit = adaptive === undefined ? staticLimit : Math.max(adaptive, staticLimit);
    const relativeLimitBinds =
      baselineEstimate !== undefined &&
      limit === performanceLimit(metric, undefined, config.maxRelativeDrop, baselineEstimate.value);
    const tested = testedThreshold({
      higherIsBetter: PERFORMANCE_METRICS[metric],
      limit,
      relativeLimitBinds,
      maxRelativeDrop: config.maxRelativeDrop,
      window: windowEstimate,
      baseline: baselineEstimate,
      alpha: config.alpha,
    });
    const verdict = compare({
      signal: "estimatedPerformance",
      value: windowEstimate.value,
      threshold: tested.threshold,
      direction: "below",
      neutral: baselineEstimate?.value ?? windowEstimate.value,
      label: `estimatedPerformance ${metric}`,
      evidence: {
        metric,
        n: current.n,
        baseline: baselineEstimate?.value ?? null,
        limit,
        combinedSe: tested.se ?? null,
        alpha: config.alpha,
        ...calibrationEvidence,
      },
    });
    const message = `${verdict.message}: limit ${fmt(limit)} - ${fmt(tested.z)} x ${fmt(tested.se ?? 0)} sampling error; baseline estimate ${fmt(baselineEstimate?.value)}; n=${current.n}; scores calibrated on ${calibration.labelled} baseline labels (raw calibration error ${fmt(calibration.rawCalibrationError)})`;
    return {
      verdict: withWidening({ ...verdict, message }, distribution),
      metrics: { estimatedMetric: windowEstimate.value },
    };
  },
};
