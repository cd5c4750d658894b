/**
 * Rotating hyperplane generator (Hulten, Spencer & Domingos, "Mining time-changing data streams",
 * KDD 2001; MOA's `HyperplaneGenerator`). Points uniform in [0, 1]^d; class 1 when
 * `sum_i w_i x_i >= w_0` with `w_0 = 0.5 * sum_i w_i`. Drift rotates the hyperplane: the weights of the
 * first `driftFeatures` attributes move by `magnitude` per simulated day in a fixed direction while
 * `rotation` is active (MOA changes them per instance; per unit of time makes the drift independent
 * of traffic volume). An abrupt change is a new weight vector, see `ConceptDriftStream`.
 */

import { DAY_MS } from "../../contracts/time";
import type { SeededRandom } from "../prng";
import { round } from "./sea";
import type { Example, ExampleGenerator } from "./types";

export interface HyperplaneOptions {
  /** Number of attributes, named x1..xd. @default 5 */
  readonly dims?: number;
  /** Initial weights; @default drawn uniformly from [0, 1] with `weightSeedRng`. */
  readonly weights?: readonly number[];
  /** Probability of flipping the label. @default 0.03 */
  readonly noise?: number;
  /** Gradual rotation of the first `driftFeatures` weights during [from, to). */
  readonly rotation?: {
    readonly from: number;
    readonly to: number;
    readonly magnitudePerDay: number;
    readonly driftFeatures: number;
  };
  /** Additive shift of an attribute at time t, applied before labelling (covariate shift). */
  readonly featureShift?: (t: number, feature: string) => number;
}

export class RotatingHyperplane implements ExampleGenerator {
  readonly features: readonly string[];
  private readonly w: readonly number[];
  private readonly noise: number;
  private readonly rotation: HyperplaneOptions["rotation"];
  private readonly shift: (t: number, feature: string) => number;

  constructor(options: HyperplaneOptions, weightRng?: SeededRandom) {
    const dims = options.dims ?? options.weights?.length ?? 5;
    this.features = Array.from({ length: dims }, (_, i) => `x${i + 1}`);
    const w = options.weights ?? Array.from({ length: dims }, () => weightRng?.next() ?? 0.5);
    if (w.length !== dims) throw new RangeError(`hyperplane: ${w.length} weights for ${dims} dims`);
    this.w = w;
    this.noise = options.noise ?? 0.03;
    this.rotation = options.rotation;
    this.shift = options.featureShift ?? (() => 0);
  }

  /** Weights in force at time t (after the rotation so far). */
  weightsAt(t: number): number[] {
    const r = this.rotation;
    if (!r) return [...this.w];
    const elapsedDays = Math.max(0, Math.min(t, r.to) - r.from) / DAY_MS;
    return this.w.map((wi, i) =>
      i < r.driftFeatures ? wi + (i % 2 === 0 ? 1 : -1) * r.magnitudePerDay * elapsedDays : wi,
    );
  }

  sample(t: number, rng: SeededRandom): Example {
    const w = this.weightsAt(t);
    const features: Record<string, number> = {};
    let dot = 0;
    let total = 0;
    for (let i = 0; i < w.length; i++) {
      const name = this.features[i]!;
      const x = rng.next() + this.shift(t, name);
      features[name] = round(x);
      dot += w[i]! * x;
      total += w[i]!;
    }
    let label: 0 | 1 = dot >= 0.5 * total ? 1 : 0;
    if (rng.bernoulli(this.noise)) label = label === 1 ? 0 : 1;
    return { features, label };
  }
}
