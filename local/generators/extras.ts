/**
 * Wrappers that add what real payloads have besides the concept: features the concept ignores
 * (harmless drift lives there) and data-quality incidents (a feature turning null).
 */
import type { FeatureValue } from "../../contracts/events";
import type { SeededRandom } from "../prng";
import type { Example, ExampleGenerator } from "./types";

/** A feature drawn at time t, independent of the label. */
export type FeatureDraw = (t: number, rng: SeededRandom) => FeatureValue;

/** Adds features that the concept ignores; their drift never changes the right answer. */
export class WithIgnoredFeatures implements ExampleGenerator {
  readonly features: readonly string[];

  constructor(
    private readonly inner: ExampleGenerator,
    private readonly extras: Readonly<Record<string, FeatureDraw>>,
  ) {
    this.features = [...inner.features, ...Object.keys(extras)];
  }

  sample(t: number, rng: SeededRandom): Example {
    const example = this.inner.sample(t, rng);
    const features = { ...example.features };
    for (const [name, draw] of Object.entries(this.extras)) features[name] = draw(t, rng);
    return { features, label: example.label };
  }
}

export interface MissingIncident {
  readonly feature: string;
  readonly from: number;
  readonly to: number;
  /** Fraction of events whose value turns null during the incident. */
  readonly rate: number;
}

/**
 * A data-quality incident: an upstream bug makes a feature null for a fraction of events. The label
 * is unchanged (the world did not change, the pipeline broke), which is why the policy should alert
 * instead of retraining on it.
 */
export class WithMissingFeature implements ExampleGenerator {
  readonly features: readonly string[];

  constructor(
    private readonly inner: ExampleGenerator,
    private readonly incident: MissingIncident,
  ) {
    this.features = inner.features;
  }

  sample(t: number, rng: SeededRandom): Example {
    const example = this.inner.sample(t, rng);
    const { feature, from, to, rate } = this.incident;
    if (t < from || t >= to || !rng.bernoulli(rate)) return example;
    return { features: { ...example.features, [feature]: null }, label: example.label };
  }
}

/** Categorical draw from weighted categories. */
export function categorical(weights: Readonly<Record<string, number>>): FeatureDraw {
  const entries = Object.entries(weights);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  return (_t, rng) => {
    let u = rng.next() * total;
    for (const [name, w] of entries) {
      u -= w;
      if (u < 0) return name;
    }
    return entries[entries.length - 1]?.[0] ?? null;
  };
}

/**
 * Kinds of malformed records an inference service bug can emit; the ingest Lambda must quarantine
 * each of them with a reason code instead of failing the batch.
 */
export const MALFORMED_KINDS = [
  "truncated-json",
  "not-an-object",
  "unknown-schema-version",
  "missing-model-id",
  "bad-timestamp",
  "feature-not-scalar",
] as const;

/** A corrupted payload derived from a valid prediction event (as raw text, like a Kinesis record). */
export function malformedPayload(valid: Record<string, unknown>, rng: SeededRandom): string {
  const kind = rng.pick(MALFORMED_KINDS);
  const text = JSON.stringify(valid);
  switch (kind) {
    case "truncated-json":
      return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    case "not-an-object":
      return JSON.stringify([valid]);
    case "unknown-schema-version":
      return JSON.stringify({ ...valid, schemaVersion: 99 });
    case "missing-model-id": {
      const { modelId: _omitted, ...rest } = valid;
      return JSON.stringify(rest);
    }
    case "bad-timestamp":
      return JSON.stringify({ ...valid, timestamp: "yesterday-ish" });
    case "feature-not-scalar":
      return JSON.stringify({ ...valid, features: { ...(valid.features as object), f1: { nested: true } } });
  }
}
