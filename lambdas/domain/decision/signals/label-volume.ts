/**
 * `labelVolume`: enough new ground truth has accumulated since the champion was trained to make a
 * retrain worthwhile (a counter, not a noisy measurement).
 */
import type { LabelVolumeSignalConfig } from "../../../../contracts/policy";
import { compare, skipped, type Verdict } from "../verdict";
import type { Signal } from "./signal";

/** New labelled pairs since the champion's training reached the configured volume. */
export function labelVolumeVerdict(config: LabelVolumeSignalConfig, labelsSinceTraining: number): Verdict {
  if (!config.enabled) return skipped("labelVolume", "disabled");
  const v = compare({
    signal: "labelVolume",
    value: labelsSinceTraining,
    threshold: config.minNewLabels,
    direction: "above",
    neutral: 0,
    label: "new labels since training",
    evidence: { labelsSinceTraining },
  });
  // "reached" rather than "exceeded": a volume equal to the target is due.
  const breached = labelsSinceTraining >= config.minNewLabels;
  return breached === v.breached ? v : { ...v, breached, strength: 1, message: `${v.message} (breached)` };
}

export const labelVolumeSignal: Signal = {
  name: "labelVolume",
  deterministic: true,
  measure: (context) => ({
    verdict: labelVolumeVerdict(context.policy.signals.labelVolume, context.inputs.state.labelsSinceTraining),
  }),
};
