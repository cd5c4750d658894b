/**
 * `predictionDrift`: drift of the model's outputs (predicted class or value and, for binary models, the
 * score) against the baseline's, the largest measure counting.
 */
import type { PredictionDriftSignalConfig } from "../../../../contracts/policy";
import { compare, skipped, type Verdict } from "../verdict";
import type { DriftMeasures } from "./drift";
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
  let best: { name: string; value: number; n: DriftMeasures["n"] } | undefined;
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
    if (best === undefined || value > best.value) best = { name, value, n: m.n };
  }
  if (best === undefined) return skipped("predictionDrift", reasons.join("; ") || "no output distribution");
  return compare({
    signal: "predictionDrift",
    value: best.value,
    threshold: thresholdOverride ?? config.threshold,
    direction: "above",
    neutral: 0,
    label: `${best.name} ${config.method}`,
    evidence: { output: best.name, method: config.method, n: best.n },
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
      verdict: predictionDriftVerdict(
        config,
        context.outputDrift(),
        context.adaptiveThreshold("predictionDrift", config.threshold, "above"),
      ),
    };
  },
};
