import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FeatureKind, FeatureValue } from "../../lambdas/domain/events";
import {
  addPrediction,
  addPredictions,
  emptyProfile,
  type ProfiledPrediction,
  type ProfileSpec,
  serializeProfile,
} from "../../lambdas/domain/profile";

const FEATURES = ["age", "income", "clicks", "country", "plan", "active", "constructor"] as const;

/** Built from pairs: a literal `constructor` key does not type as a feature kind. */
function kinds(pairs: Array<[string, FeatureKind]>): Record<string, FeatureKind> {
  return Object.fromEntries(pairs);
}

const specs: Array<{ name: string; spec: ProfileSpec }> = [
  {
    name: "binary",
    spec: {
      task: "binary",
      classes: ["0", "1"],
      features: kinds([
        ["age", "numeric"],
        ["income", "numeric"],
        ["clicks", "numeric"],
        ["country", "categorical"],
        ["plan", "categorical"],
        ["active", "categorical"],
        ["constructor", "numeric"],
      ]),
    },
  },
  {
    name: "regression, small topK",
    spec: {
      task: "regression",
      topK: 3,
      features: kinds([
        ["age", "numeric"],
        ["country", "categorical"],
        ["active", "categorical"],
        ["constructor", "categorical"],
      ]),
    },
  },
  {
    name: "multiclass",
    spec: {
      task: "multiclass",
      classes: ["a", "b", "c"],
      features: { income: "numeric", plan: "categorical" },
    },
  },
];

const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.double(),
  fc.double({ min: -1e3, max: 1e3, noNaN: true }),
  fc.integer({ min: -5, max: 50 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null, undefined, 0, -0),
  fc.constantFrom("FR", "DE", "US", "JP", "BR", "gold", "free", ""),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.constantFrom({}, [], [1], { a: 1 }),
);

const event: fc.Arbitrary<ProfiledPrediction> = fc
  .record({
    present: fc.uniqueArray(fc.constantFrom(...FEATURES, "extra"), { maxLength: FEATURES.length + 1 }),
    values: fc.array(value, { minLength: FEATURES.length + 1, maxLength: FEATURES.length + 1 }),
    prediction: fc.oneof(
      fc.constantFrom("a", "b", "c", "0", "1"),
      fc.double(),
      fc.integer({ min: 0, max: 3 }),
    ),
    score: fc.option(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.double()), { nil: undefined }),
  })
  .map(({ present, values, prediction, score }) => {
    const features: Record<string, unknown> = {};
    present.forEach((name, i) => {
      features[name] = values[i];
    });
    return {
      features: features as Record<string, FeatureValue>,
      prediction,
      ...(score !== undefined ? { score } : {}),
    };
  });

describe("addPredictions", () => {
  it.each(specs)("serializes byte for byte like addPrediction per event ($name)", ({ spec }) => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 300 }), fc.integer({ min: 0, max: 300 }), (events, cut) => {
        const one = emptyProfile(spec);
        for (const e of events) addPrediction(one, e);
        const batched = emptyProfile(spec);
        addPredictions(batched, events.slice(0, cut));
        addPredictions(batched, events.slice(cut));
        expect(serializeProfile(batched)).toBe(serializeProfile(one));
      }),
      { numRuns: 60 },
    );
  });

  it("matches addPrediction on a batch large enough to compact the sketches", () => {
    const spec = specs[0]!.spec;
    const events = fc.sample(event, { numRuns: 5_000 });
    const one = emptyProfile(spec);
    for (const e of events) addPrediction(one, e);
    const batched = emptyProfile(spec);
    addPredictions(batched, events);
    expect(batched.count).toBe(5_000);
    expect(serializeProfile(batched)).toBe(serializeProfile(one));
  });
});
