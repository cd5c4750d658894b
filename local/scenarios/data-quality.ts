/**
 * Data-quality incident: SEA concept 1 throughout; from 40% to 55% of the run an upstream bug makes
 * `f1` null for 70% of events and 5% of records arrive malformed. The world did not change, the
 * pipeline broke: the policy's data-quality gate should ALERT and must not retrain on broken data.
 */

import { DAY_MS } from "../../contracts/time";
import { WithMissingFeature } from "../generators/extras";
import { SEA_FEATURES, SeaGenerator } from "../generators/sea";
import { SCENARIO_EPOCH, type Scenario, type ScenarioOptions } from "./types";

export function dataQualityScenario(options: ScenarioOptions = {}): Scenario {
  const days = options.days ?? 30;
  const start = SCENARIO_EPOCH;
  const from = start + Math.round(days * 0.4) * DAY_MS;
  const to = start + Math.round(days * 0.55) * DAY_MS;
  const generator = new WithMissingFeature(new SeaGenerator({ noise: 0.05 }), {
    feature: "f1",
    from,
    to,
    rate: 0.7,
  });
  return {
    name: "data-quality",
    description:
      "SEA concept 1; f1 turns null for 70% of events and 5% of records are malformed for a while: expect an alert, no retrain",
    modelId: "credit",
    seed: options.seed ?? 17,
    start,
    days,
    eventsPerDay: options.eventsPerDay ?? 160,
    features: SEA_FEATURES,
    generator,
    traffic: () => 1,
    labelRate: 0.8,
    labelDelayHours: [6, 30],
    malformedRate: (t) => (t >= from && t < to ? 0.05 : 0.001),
    initialTrainingExamples: 1500,
    markers: [
      { at: from, label: "f1 null + malformed records", kind: "incident" },
      { at: to, label: "incident fixed", kind: "info" },
    ],
    expect: { retrain: false, alert: true },
  };
}
