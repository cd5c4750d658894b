/**
 * What a local-mode scenario is: a synthetic world (generator, traffic, label delay, incidents) and
 * the model that lives in it. Scenarios are data plus a generator so that `npm run local`, the
 * integration test and the benchmark run exactly the same thing at different sizes.
 */
import type { FeatureSpec } from "../../contracts/model";
import type { ExampleGenerator } from "../generators/types";

/** A point in simulated time worth marking on the report. */
export interface ScenarioMarker {
  readonly at: number;
  readonly label: string;
  /** `drift` markers define "before/after the drift" in the summary. */
  readonly kind: "drift" | "incident" | "info";
}

/** Size knobs shared by every scenario. */
export interface ScenarioOptions {
  /** Simulated days. */
  readonly days?: number;
  /** Mean prediction events per simulated day. */
  readonly eventsPerDay?: number;
  /** PRNG seed: same seed, same events. */
  readonly seed?: number;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly modelId: string;
  readonly seed: number;
  /** Simulated start, epoch ms (midnight UTC). */
  readonly start: number;
  readonly days: number;
  readonly eventsPerDay: number;
  readonly features: readonly FeatureSpec[];
  readonly generator: ExampleGenerator;
  /** Traffic intensity multiplier at t (mean about 1); daily seasonality lives here. */
  readonly traffic: (t: number) => number;
  /** Fraction of predictions whose ground truth eventually arrives. */
  readonly labelRate: number;
  /** Label delay drawn uniformly in [min, max] hours. */
  readonly labelDelayHours: readonly [number, number];
  /** Fraction of records emitted malformed at time t (a buggy client). */
  readonly malformedRate: (t: number) => number;
  /** Labelled examples drawn before `start` to train the initial champion. */
  readonly initialTrainingExamples: number;
  readonly markers: readonly ScenarioMarker[];
  /** What the run should show; the integration test and the summary check these. */
  readonly expect: {
    readonly retrain: boolean;
    readonly alert: boolean;
  };
}

/** Fixed simulated epoch: reproducible timestamps and report axes. */
export const SCENARIO_EPOCH = Date.UTC(2026, 0, 5);
