/**
 * Shared shapes of the synthetic concept-drift generators. A *concept* labels a feature vector; a
 * *generator* draws feature vectors and labels at a simulated time, so that drift can be a function of
 * time (abrupt switch, gradual mixture, rotation) as in the concept-drift literature (MOA, river).
 */
import type { FeatureValue } from "../../contracts/events";
import type { SeededRandom } from "../prng";

/** One labelled example before the inference service sees it. */
export interface Example {
  readonly features: Record<string, FeatureValue>;
  /** Ground truth, 0 or 1 (binary tasks). */
  readonly label: 0 | 1;
}

/** Draws one labelled example at simulated time `t` (epoch ms). */
export interface ExampleGenerator {
  /** Feature names, in a stable order. */
  readonly features: readonly string[];
  sample(t: number, rng: SeededRandom): Example;
}
