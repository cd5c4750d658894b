/**
 * Control scenario: SEA concept 1 throughout, strong daily seasonality in traffic and in the relevant
 * feature f1 (P(y | x) never changes, so the right answer for a given input is stable). Nothing changes from day to day: a well-tuned policy evaluating whole-day windows must
 * neither retrain nor alert.
 */

import { SEA_FEATURES, SeaGenerator } from "../generators/sea";
import { dailyCycle, dailyOffset } from "../generators/seasonality";
import { SCENARIO_EPOCH, type Scenario, type ScenarioOptions } from "./types";

export function stationarySeasonalScenario(options: ScenarioOptions = {}): Scenario {
  const days = options.days ?? 30;
  const offset = (t: number) => 1.5 * dailyOffset(t, 1);
  const generator = new SeaGenerator({
    noise: 0.05,
    featureShift: (t, f) => (f === "f1" ? offset(t) : 0),
  });
  return {
    name: "stationary-seasonal",
    description:
      "SEA concept 1, strong daily seasonality in traffic and features, no drift: expect no retrain",
    modelId: "fraud",
    seed: options.seed ?? 11,
    start: SCENARIO_EPOCH,
    days,
    eventsPerDay: options.eventsPerDay ?? 160,
    features: SEA_FEATURES,
    generator,
    traffic: (t) => dailyCycle(t, 0.8),
    labelRate: 0.8,
    labelDelayHours: [2, 24],
    malformedRate: () => 0,
    initialTrainingExamples: 1500,
    markers: [],
    expect: { retrain: false, alert: false },
  };
}
