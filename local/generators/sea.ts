/**
 * SEA concepts generator (Street & Kim, "A streaming ensemble algorithm (SEA) for large-scale
 * classification", KDD 2001; as in MOA's `SEAGenerator`). Three numeric attributes uniform in [0, 10];
 * only the first two are relevant: class 1 when `f1 + f2 > threshold` (MOA's convention). The four
 * classic concepts use thresholds 8, 9, 7 and 9.5; drift is a change of threshold. `f3` is noise the
 * concept ignores, which makes it a natural "harmless drift" feature.
 */
import type { FeatureSpec } from "../../contracts/model";
import type { SeededRandom } from "../prng";
import type { Example, ExampleGenerator } from "./types";

/** The classic SEA thresholds, concepts 1 to 4. */
export const SEA_THRESHOLDS = [8, 9, 7, 9.5] as const;

/** Feature schema of a SEA stream: the concept uses f1 and f2 equally and ignores f3 (importance 0). */
export const SEA_FEATURES: readonly FeatureSpec[] = [
  { name: "f1", kind: "numeric", importance: 0.5 },
  { name: "f2", kind: "numeric", importance: 0.5 },
  { name: "f3", kind: "numeric", importance: 0 },
];

export interface SeaOptions {
  /** Threshold of the concept as a function of time; see `SEA_THRESHOLDS`. @default 8 */
  readonly threshold?: (t: number) => number;
  /** Probability of flipping the label (class noise). @default 0.05 */
  readonly noise?: number;
  /** Additive shift of a feature's value at time t (covariate shift, seasonality). @default none */
  readonly featureShift?: (t: number, feature: string) => number;
}

export class SeaGenerator implements ExampleGenerator {
  readonly features = ["f1", "f2", "f3"] as const;
  private readonly threshold: (t: number) => number;
  private readonly noise: number;
  private readonly shift: (t: number, feature: string) => number;

  constructor(options: SeaOptions = {}) {
    this.threshold = options.threshold ?? (() => SEA_THRESHOLDS[0]);
    this.noise = options.noise ?? 0.05;
    this.shift = options.featureShift ?? (() => 0);
  }

  sample(t: number, rng: SeededRandom): Example {
    const f1 = rng.uniform(0, 10) + this.shift(t, "f1");
    const f2 = rng.uniform(0, 10) + this.shift(t, "f2");
    const f3 = rng.uniform(0, 10) + this.shift(t, "f3");
    let label: 0 | 1 = f1 + f2 > this.threshold(t) ? 1 : 0;
    if (rng.bernoulli(this.noise)) label = label === 1 ? 0 : 1;
    return { features: { f1: round(f1), f2: round(f2), f3: round(f3) }, label };
  }
}

/** Emitted values keep 4 decimals: realistic payloads and smaller records. */
export function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
