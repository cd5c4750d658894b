import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FeatureValue } from "../../../contracts/events";
import type { FeatureKind, ProfileSpec } from "../../../contracts/model";
import { columnLayout, FeatureColumns } from "../../../lambdas/domain/stats/feature-columns";
import { emptyProfile } from "../../../lambdas/domain/stats/profile";
import { serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { profileDifferences } from "../../../lambdas/domain/stats/profile-equivalence";
import {
  addPrediction,
  addPredictionRows,
  type RowPrediction,
} from "../../../lambdas/domain/stats/profile-update";
import { errorBound } from "../../../lambdas/domain/stats/sketch";

/** `constructor` checks that feature names are looked up as own keys, not inherited ones. */
const SCHEMA: Array<{ name: string; kind: FeatureKind }> = [
  { name: "age", kind: "numeric" },
  { name: "income", kind: "numeric" },
  { name: "constructor", kind: "numeric" },
  { name: "country", kind: "categorical" },
  { name: "plan", kind: "categorical" },
  { name: "active", kind: "categorical" },
];

const specs: Array<{ name: string; spec: ProfileSpec }> = [
  {
    name: "binary",
    spec: { task: "binary", classes: ["0", "1"], features: featureKinds(SCHEMA) },
  },
  { name: "regression, small topK", spec: { task: "regression", topK: 3, features: featureKinds(SCHEMA) } },
  {
    name: "multiclass, a profile with fewer features than the rows",
    spec: {
      task: "multiclass",
      classes: ["a", "b", "c"],
      features: { income: "numeric", plan: "categorical" },
    },
  },
  {
    name: "binary, a profile feature the rows do not have",
    spec: { task: "binary", features: { ...featureKinds(SCHEMA), extra: "numeric" } },
  },
];

function featureKinds(schema: typeof SCHEMA): Record<string, FeatureKind> {
  return Object.fromEntries(schema.map((f) => [f.name, f.kind]));
}

/** Values validation accepts: finite numbers (any kind), strings and booleans (categorical), null. */
const numericValue: fc.Arbitrary<FeatureValue> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -1e3, max: 1e3, noNaN: true }),
  fc.integer({ min: -5, max: 50 }),
  fc.constantFrom(null, 0, -0),
);
const categoricalValue: fc.Arbitrary<FeatureValue> = fc.oneof(
  fc.constantFrom("FR", "DE", "US", "JP", "BR", "gold", "free", "", "true", "1", null),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.integer({ min: 0, max: 3 }),
);

interface Event {
  features: Record<string, FeatureValue>;
  prediction: number | string;
  score?: number;
}

const event: fc.Arbitrary<Event> = fc
  .record({
    present: fc.subarray(SCHEMA.map((f) => f.name)),
    numeric: fc.array(numericValue, { minLength: SCHEMA.length, maxLength: SCHEMA.length }),
    categorical: fc.array(categoricalValue, { minLength: SCHEMA.length, maxLength: SCHEMA.length }),
    prediction: fc.oneof(fc.constantFrom("a", "b", "c", "0", "1"), fc.integer({ min: 0, max: 3 })),
    score: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  })
  .map(({ present, numeric, categorical, prediction, score }) => {
    const features: Record<string, FeatureValue> = {};
    for (const name of present) {
      const i = SCHEMA.findIndex((f) => f.name === name);
      features[name] = SCHEMA[i]!.kind === "numeric" ? numeric[i]! : categorical[i]!;
    }
    return { features, prediction, ...(score !== undefined ? { score } : {}) };
  });

/** Write events into batch columns the way validation does (absent and null values stay missing). */
function toRows(events: readonly Event[], columns: FeatureColumns): RowPrediction[] {
  const slots = columns.layout.slots;
  return events.map((e) => {
    columns.beginRow();
    for (const [name, v] of Object.entries(e.features)) {
      const slot = slots.get(name)!;
      if (slot >= 0) columns.setNumeric(slot, v === null ? Number.NaN : (v as number));
      else if (v === null) columns.setMissingCategory(~slot);
      else columns.setCategory(~slot, String(v));
    }
    columns.fillMissing(e.features);
    return {
      row: columns.commitRow(),
      prediction: e.prediction,
      ...(e.score !== undefined ? { score: e.score } : {}),
    };
  });
}

describe("addPredictionRows", () => {
  // At most 300 values per sketch: nothing is compacted (fewer than 2 * 200 values, and at most 384 cells),
  // so the sketches (and the bytes) are equal too.
  it.each(specs)("serializes byte for byte like addPrediction per event ($name)", ({ spec }) => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 300 }), fc.integer({ min: 0, max: 300 }), (events, cut) => {
        const one = emptyProfile(spec);
        for (const e of events) addPrediction(one, e);
        const columns = new FeatureColumns(columnLayout(SCHEMA), 4);
        const rows = toRows(events, columns);
        const batched = emptyProfile(spec);
        addPredictionRows(batched, columns, rows.slice(0, cut));
        addPredictionRows(batched, columns, rows.slice(cut));
        expect(serializeProfile(batched)).toBe(serializeProfile(one));
      }),
      { numRuns: 60 },
    );
  });

  it("matches addPrediction on a batch large enough to compact sketches and raise category levels", () => {
    const spec = specs[1]!.spec;
    // About half the events carry an age: 12,000 events put some 5,000 values in its sketch, well past the
    // 400 values below which no collapse fits the budget floor(n / 200).
    const events = fc.sample(event, { numRuns: 12_000 });
    const one = emptyProfile(spec);
    for (const e of events) addPrediction(one, e);
    const columns = new FeatureColumns(columnLayout(SCHEMA));
    const batched = emptyProfile(spec);
    addPredictionRows(batched, columns, toRows(events, columns));
    expect(batched.count).toBe(12_000);
    const age = batched.features.age!;
    if (age.kind !== "numeric") throw new Error("age must be numeric");
    expect(errorBound(age.sketch)).toBeGreaterThan(0);
    expect((batched.features.country as { level: number }).level).toBeGreaterThan(0);
    // Equal in value (docs/statistics.md, "Batch splits"): the column goes into each sketch in one insert,
    // addPrediction 512 values at a time, so the sketches' cells (and bytes) may differ within their bounds.
    expect(profileDifferences(batched, one)).toEqual([]);
  });

  it("reads back each row as the values written, and rejects rows never committed", () => {
    const columns = new FeatureColumns(columnLayout(SCHEMA), 1);
    const rows = toRows(
      [
        { features: { age: 3, plan: "gold", active: true }, prediction: 1 },
        { features: { age: null, income: 2.5, country: "FR" }, prediction: 0 },
      ],
      columns,
    );
    expect(rows.map((r) => r.row)).toEqual([0, 1]);
    expect(columns.valuesOf(0)).toEqual({
      age: 3,
      income: null,
      constructor: null,
      country: null,
      plan: "gold",
      active: "true",
    });
    expect(columns.valuesOf(1)).toMatchObject({ age: null, income: 2.5, country: "FR", plan: null });
    // A row begun and not committed (a rejected record) is overwritten by the next one.
    columns.beginRow();
    columns.setNumeric(0, 99);
    expect(() => columns.valuesOf(2)).toThrow(RangeError);
    toRows([{ features: { income: 1 }, prediction: 1 }], columns);
    expect(columns.valuesOf(2)).toMatchObject({ age: null, income: 1 });
  });
});
