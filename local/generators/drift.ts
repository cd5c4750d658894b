/**
 * Concept drift between two generators, with MOA's `ConceptDriftStream` semantics: at time t the
 * example comes from the new concept with probability `1 / (1 + exp(-4 (t - position) / width))`.
 * `width = 0` is an abrupt change; a positive width is a gradual change, centred on `position`, over
 * roughly `width` milliseconds. Streams nest, so a run can have an abrupt and then a gradual change.
 */
import type { SeededRandom } from "../prng";
import type { Example, ExampleGenerator } from "./types";

export interface DriftOptions {
  /** Centre of the change, epoch ms. */
  readonly position: number;
  /** Length of the transition in ms; 0 = abrupt. */
  readonly width: number;
}

/** Probability that an example at time t comes from the new concept. */
export function newConceptProbability(t: number, { position, width }: DriftOptions): number {
  if (width <= 0) return t >= position ? 1 : 0;
  return 1 / (1 + Math.exp((-4 * (t - position)) / width));
}

export class ConceptDriftStream implements ExampleGenerator {
  readonly features: readonly string[];

  constructor(
    private readonly before: ExampleGenerator,
    private readonly after: ExampleGenerator,
    private readonly options: DriftOptions,
  ) {
    this.features = [...new Set([...before.features, ...after.features])];
  }

  sample(t: number, rng: SeededRandom): Example {
    const p = newConceptProbability(t, this.options);
    return rng.next() < p ? this.after.sample(t, rng) : this.before.sample(t, rng);
  }
}
