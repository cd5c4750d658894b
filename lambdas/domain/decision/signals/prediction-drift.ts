/**
 * `predictionDrift`: drift of the model's outputs (predicted class or value and, for binary models, the
 * score) against the baseline's, the largest measure counting.
 */
import type { PredictionDriftSignalConfig } from "../../../../contracts/policy";
import { skipped, type Verdict } from "../verdict";
import { withWidening } from "./context";
import { type DriftMeasures, judgeDistance, noiseFloor } from "./drift";
import type { Signal } from "./signal";

/**
 * Prediction drift: the output distribution (predicted class/value and, for binary models, the score)
 * versus the baseline's. Value = the largest measure among the outputs given.
 */
export function predictionDriftVerdict(
  config: PredictionDriftSignalConfig,
  outputs: Readonly<Record<string, DriftMeasures | undefined>>,
  thresholdOverride?: number,
): Verdict {
  if (!config.enabled) return skipped("predictionDrift", "disabled");
  let best: { name: string; value: number; floor: number; n: DriftMeasures["n"]; bound?: number } | undefined;
  const reasons: string[] = [];
  for (const [name, m] of Object.entries(outputs)) {
    if (m === undefined) continue;
    if (Math.min(m.n.reference, m.n.current) < config.minSamples) {
      reasons.push(`${name}: samples ${m.n.reference}/${m.n.current} < ${config.minSamples}`);
      continue;
    }
    const value = m[config.method];
    if (value === undefined || !Number.isFinite(value)) {
      reasons.push(`${name}: ${config.method} n/a`);
      continue;
    }
    const floor = noiseFloor(m, config.method, config.alpha);
    // The output that stands out most from its own noise (and threshold) speaks for the model.
    const threshold = thresholdOverride ?? config.threshold;
    const margin = (v: { value: number; floor: number }) => v.value - Math.max(threshold, v.floor);
    const bound = m.bounds?.[config.method];
    const candidate = { name, value, floor, n: m.n, ...(bound === undefined ? {} : { bound }) };
    if (best === undefined || margin(candidate) > margin(best)) best = candidate;
  }
  if (best === undefined) return skipped("predictionDrift", reasons.join("; ") || "no output distribution");
  return judgeDistance({
    signal: "predictionDrift",
    label: `${best.name} ${config.method}`,
    value: best.value,
    threshold: thresholdOverride ?? config.threshold,
    floor: best.floor,
    n: best.n,
    evidence: { output: best.name, method: config.method, n: best.n, alpha: config.alpha },
    ...(best.bound === undefined ? {} : { bound: best.bound }),
  });
}

export const predictionDriftSignal: Signal = {
  name: "predictionDrift",
  deterministic: false,
  measure(context) {
    const config = context.policy.signals.predictionDrift;
    if (context.inputs.baseline === undefined)
      return { verdict: predictionDriftVerdict({ ...config, enabled: false }, {}) };
    return {
      verdict: withWidening(
        predictionDriftVerdict(
          config,
          context.outputDrift(),
          context.adaptiveThreshold("predictionDrift", config.threshold, "above"),
        ),
        context.distribution(),
      ),
    };
  },
};
