/**
 * The signal pack: every signal the decision measures, in the order they are reported. A new signal is
 * one file in this folder and one line here (its name in contracts/policy.ts SIGNAL_NAMES and its
 * settings in the policy schema); the decision pipeline itself does not change.
 */
import { dataQualitySignal } from "./data-quality";
import { driftSignal } from "./drift";
import { estimatedPerformanceSignal } from "./estimated-performance";
import { labelVolumeSignal } from "./label-volume";
import { modelAgeSignal } from "./model-age";
import { performanceSignal } from "./performance";
import { predictionDriftSignal } from "./prediction-drift";
import { scheduleSignal } from "./schedule";
import type { Signal } from "./signal";

export const SIGNAL_PACK: readonly Signal[] = [
  performanceSignal,
  estimatedPerformanceSignal,
  driftSignal,
  predictionDriftSignal,
  labelVolumeSignal,
  modelAgeSignal,
  scheduleSignal,
  dataQualitySignal,
];
