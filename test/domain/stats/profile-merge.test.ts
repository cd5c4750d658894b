import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FeatureValue } from "../../../contracts/events";
import type { ProfileSpec } from "../../../contracts/model";
import {
  emptyProfile,
  type PerformanceStats,
  type Profile,
  ProfileFormatError,
} from "../../../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { profileDifferences } from "../../../lambdas/domain/stats/profile-equivalence";
import {
  mergePerformance,
  mergePerformanceList,
  mergeProfileList,
  mergeProfiles,
} from "../../../lambdas/domain/stats/profile-merge";
import { addOutcome, addPrediction } from "../../../lambdas/domain/stats/profile-update";

const spec: ProfileSpec = {
  task: "binary",
  features: { x: "numeric", y: "numeric", c: "categorical", flag: "categorical" },
  topK: 4,
};

type Event = { features: Record<string, FeatureValue>; prediction: number; score?: number; label?: number };

const numeric = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, Number.NaN, Number.POSITIVE_INFINITY, "oops") },
);
const event: fc.Arbitrary<Event> = fc.record(
  {
    features: fc.record(
      {
        x: numeric,
        y: numeric,
        c: fc.oneof(
          fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h", null),
          fc.string({ maxLength: 3 }),
        ),
        flag: fc.oneof(fc.boolean(), fc.constant(null)),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Record<string, FeatureValue>>,
    prediction: fc.constantFrom(0, 1),
    score: fc.double({ min: 0, max: 1, noNaN: true }),
    label: fc.constantFrom(0, 1),
  },
  { requiredKeys: ["features", "prediction"] },
);

function profileOf(events: readonly Event[]): Profile {
  const p = emptyProfile(spec);
  for (const e of events) {
    addPrediction(p, e);
    if (e.label !== undefined) addOutcome(p, { prediction: e.prediction, score: e.score, label: e.label });
  }
  return p;
}

/**
 * Equality of serialized profiles: every string (sketch and histogram blobs, categories) and every integer
 * (counts, levels, min/max of integer data) must be identical; other floating-point numbers (mean, M2, loss
 * sums) are sums in a different order and must agree to 1e-9 relative.
 */
function expectEquivalent(a: unknown, b: unknown, path = "profile"): void {
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isInteger(a) && Number.isInteger(b)) expect(a, path).toBe(b);
    else expect(Math.abs(a - b), path).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length, path).toBe(b.length);
    for (let i = 0; i < a.length; i++) expectEquivalent(a[i], b[i], `${path}[${i}]`);
    return;
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    expect(Object.keys(a).sort(), path).toEqual(Object.keys(b).sort());
    for (const k of Object.keys(a)) {
      expectEquivalent((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    }
    return;
  }
  expect(a, path).toBe(b);
}

const doc = (p: Profile): unknown => JSON.parse(serializeProfile(p));

describe("profile merge", () => {
  it("is associative and commutative, and equals profiling all events at once", () => {
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 60 }),
        fc.array(event, { maxLength: 60 }),
        fc.array(event, { maxLength: 60 }),
        (a, b, c) => {
          const [A, B, C] = [profileOf(a), profileOf(b), profileOf(c)];
          const left = doc(mergeProfiles(mergeProfiles(A, B), C));
          expectEquivalent(doc(mergeProfiles(A, mergeProfiles(B, C))), left);
          expectEquivalent(doc(mergeProfiles(C, mergeProfiles(B, A))), left);
          expectEquivalent(doc(profileOf([...a, ...b, ...c])), left);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("does not mutate its inputs", () => {
    const a = profileOf([{ features: { x: 1, c: "a" }, prediction: 1 }]);
    const b = profileOf([{ features: { x: 2, c: "b" }, prediction: 0 }]);
    const before = serializeProfile(a);
    mergeProfiles(a, b);
    expect(serializeProfile(a)).toBe(before);
  });

  it("rejects merging profiles of different tasks", () => {
    expect(() => mergeProfiles(emptyProfile(spec), emptyProfile({ ...spec, task: "regression" }))).toThrow(
      /cannot merge/,
    );
  });
});

describe("merging a list (a window of buckets)", () => {
  it("equals the left fold of pairwise merges: the same sums bit for bit, sketches within their bounds", () => {
    fc.assert(
      fc.property(fc.array(fc.array(event, { maxLength: 40 }), { minLength: 1, maxLength: 8 }), (buckets) => {
        const profiles = buckets.map(profileOf);
        const before = profiles.map(serializeProfile);
        const fold = profiles.reduce((a, b) => mergeProfiles(a, b));
        const list = mergeProfileList(profiles);
        // Counts, categories, extremes, moments and performance as the fold; sketch CDFs within the bounds.
        expect(profileDifferences(list, fold, { relativeTolerance: 0 })).toEqual([]);
        expect(list.performance).toEqual(fold.performance);
        expect(mergePerformanceList(profiles.map((p) => p.performance))).toEqual(fold.performance);
        for (const name of ["x", "y"]) {
          const [a, b] = [list.features[name], fold.features[name]];
          if (a?.kind !== "numeric" || b?.kind !== "numeric") throw new Error(`${name}: numeric expected`);
          expect([a.mean, a.scaledM2, a.count, a.min, a.max]).toEqual([
            b.mean,
            b.scaledM2,
            b.count,
            b.min,
            b.max,
          ]);
        }
        expect(profiles.map(serializeProfile), "inputs untouched").toEqual(before);
      }),
      { numRuns: 100 },
    );
  });

  it("shares nothing with a single input", () => {
    const only = profileOf([{ features: { x: 1, c: "a" }, prediction: 1, score: 0.7, label: 1 }]);
    const before = serializeProfile(only);
    const copy = mergeProfileList([only]);
    addPrediction(copy, { features: { x: 5, c: "b" }, prediction: 0, score: 0.2 });
    addOutcome(copy, { prediction: 0, score: 0.2, label: 1 });
    expect(serializeProfile(only)).toBe(before);
    const perf = mergePerformanceList([only.performance]);
    expect(perf).toEqual(only.performance);
    expect(perf).not.toBe(only.performance);
  });

  it.each([
    ["no profile", () => mergeProfileList([])],
    [
      "two tasks",
      () => mergeProfileList([emptyProfile(spec), emptyProfile({ ...spec, task: "regression" })]),
    ],
    ["no performance", () => mergePerformanceList([])],
    [
      "performance of two tasks",
      () =>
        mergePerformanceList([
          emptyProfile(spec).performance,
          emptyProfile(spec).performance,
          emptyProfile({ ...spec, task: "regression" }).performance,
        ]),
    ],
  ])("rejects %s", (_name, merge) => {
    expect(merge).toThrow(/needs at least one|cannot merge/);
  });

  // A legacy input (format 1) lacks the optional sums: from it on, the merged sum is unknown, wherever it
  // stands in the list.
  const optionalSums: Array<[string, ProfileSpec, string]> = [
    ["regression", { task: "regression", features: {} }, "fourthPowerErrorSum"],
    ["binary", spec, "logLossSquaredSum"],
  ];
  const orders = [
    [0, 1, 2],
    [1, 0, 2],
    [0, 2, 1],
  ];
  it.each(
    optionalSums.flatMap(([task, taskSpec, field]) =>
      orders.map((order) => [task, order.indexOf(1), taskSpec, field] as const),
    ),
  )(
    "%s: an optional sum lacking at position %i is unknown in the result, as in the fold",
    (_t, at, taskSpec, field) => {
      const parts = [1, 2, 3].map((i) => {
        const p = emptyProfile(taskSpec);
        addOutcome(p, { prediction: i % 2, score: 0.3, label: i * 1.5 > 2 ? 1 : 0 });
        return p.performance as unknown as Record<string, unknown>;
      });
      expect(parts[0]).toHaveProperty(field);
      const list = parts.map((p, i) => {
        if (i !== at) return p;
        const legacy = { ...p };
        delete legacy[field];
        return legacy;
      }) as unknown as PerformanceStats[];
      const merged = mergePerformanceList(list);
      expect(merged).toEqual(list.reduce((a, b) => mergePerformance(a, b)));
      expect(merged).not.toHaveProperty(field);
    },
  );
});

describe("deserializeProfile on corrupted input", () => {
  const valid = serializeProfile(
    profileOf([
      { features: { x: 1.5, y: 2, c: "a", flag: true }, prediction: 1, score: 0.7, label: 1 },
      { features: { x: -3, y: null, c: "b", flag: false }, prediction: 0, score: 0.2, label: 1 },
    ]),
  );

  it("either returns a profile that round-trips or throws ProfileFormatError, never anything else", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: valid.length - 1 }),
        fc.nat({ max: 8 }),
        fc.string({ maxLength: 4 }),
        (at, drop, insert) => {
          const corrupted = valid.slice(0, at) + insert + valid.slice(at + drop);
          try {
            const p = deserializeProfile(corrupted);
            expect(deserializeProfile(serializeProfile(p))).toEqual(p);
          } catch (err) {
            expect(err).toBeInstanceOf(ProfileFormatError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
