/**
 * Default scenario: a churn-like binary model on a rotating-hyperplane world with an ABRUPT concept
 * change at 30% of the run (the hyperplane jumps to new weights: realized accuracy collapses, the
 * features' distributions do not move) and a GRADUAL change centred at 75% (MOA-style sigmoid mixture
 * towards a rotated hyperplane, with covariate shift of x1 so feature drift shows). Labels arrive
 * 2 to 12 hours late; traffic follows the day.
 */

import { DAY_MS } from "../../contracts/time";
import { ConceptDriftStream } from "../generators/drift";
import { categorical, WithIgnoredFeatures } from "../generators/extras";
import { RotatingHyperplane } from "../generators/hyperplane";
import { dailyCycle } from "../generators/seasonality";
import { SCENARIO_EPOCH, type Scenario, type ScenarioOptions } from "./types";

export function driftScenario(options: ScenarioOptions = {}): Scenario {
  const days = options.days ?? 30;
  const start = SCENARIO_EPOCH;
  const abrupt = start + Math.round(days * 0.3) * DAY_MS;
  const gradualCentre = start + Math.round(days * 0.75) * DAY_MS;
  const gradualWidth = Math.max(2, Math.round(days * 0.15)) * DAY_MS;
  const shiftFrom = gradualCentre - gradualWidth;

  const conceptA = new RotatingHyperplane({ weights: [0.9, 0.2, 0.6, 0.1, 0.4], noise: 0.03 });
  const conceptB = new RotatingHyperplane({ weights: [0.1, 0.9, 0.1, 0.7, 0.2], noise: 0.03 });
  const x1Shift = (t: number, f: string) =>
    f === "x1" ? 0.35 * Math.min(1, Math.max(0, (t - shiftFrom) / (2 * gradualWidth))) : 0;
  const conceptC = new RotatingHyperplane({
    weights: [0.1, 0.9, 0.1, 0.7, 0.2],
    noise: 0.03,
    featureShift: x1Shift,
    rotation: { from: shiftFrom, to: gradualCentre + gradualWidth, magnitudePerDay: 0.12, driftFeatures: 3 },
  });
  const conceptBShifted = new RotatingHyperplane({
    weights: [0.1, 0.9, 0.1, 0.7, 0.2],
    noise: 0.03,
    featureShift: x1Shift,
  });
  const world = new ConceptDriftStream(
    new ConceptDriftStream(conceptA, conceptB, { position: abrupt, width: 0 }),
    new ConceptDriftStream(conceptBShifted, conceptC, { position: gradualCentre, width: gradualWidth }),
    { position: abrupt + 1, width: 0 },
  );
  const generator = new WithIgnoredFeatures(world, {
    channel: categorical({ web: 5, app: 4, store: 1 }),
  });

  return {
    name: "drift",
    description:
      "rotating hyperplane: abrupt concept change at 30% of the run, gradual change + covariate shift at 75%",
    modelId: "churn",
    seed: options.seed ?? 7,
    start,
    days,
    eventsPerDay: options.eventsPerDay ?? 150,
    features: [
      { name: "x1", kind: "numeric", importance: 0.3 },
      { name: "x2", kind: "numeric", importance: 0.3 },
      { name: "x3", kind: "numeric", importance: 0.15 },
      { name: "x4", kind: "numeric", importance: 0.15 },
      { name: "x5", kind: "numeric", importance: 0.1 },
      { name: "channel", kind: "categorical", importance: 0 },
    ],
    generator,
    traffic: (t) => dailyCycle(t, 0.5),
    labelRate: 0.95,
    labelDelayHours: [2, 12],
    malformedRate: () => 0.002,
    initialTrainingExamples: 1500,
    markers: [
      { at: abrupt, label: "abrupt concept change", kind: "drift" },
      { at: gradualCentre - gradualWidth / 2, label: "gradual change + covariate shift", kind: "drift" },
    ],
    expect: { retrain: true, alert: true },
  };
}
