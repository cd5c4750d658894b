/**
 * What batch splits must leave equal (docs/statistics.md, "Batch splits"): the same events profiled in one
 * column, one event at a time, in 500-event read-modify-write batches, or bisected and merged in another
 * tree give profiles whose counts, extremes, categories and moments agree (moments within rounding), whose
 * sketches' CDFs agree within the sum of their error bounds, and whose replay digest view is identical.
 */
import { describe, expect, it } from "vitest";
import { compareProfiles } from "../../../lambdas/domain/stats/drift";
import { columnLayout, FeatureColumns } from "../../../lambdas/domain/stats/feature-columns";
import { emptyProfile, type Profile } from "../../../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { invariantView, profileDifferences } from "../../../lambdas/domain/stats/profile-equivalence";
import { mergeProfiles } from "../../../lambdas/domain/stats/profile-merge";
import {
  addOutcome,
  addPrediction,
  addPredictionRows,
  type RowPrediction,
} from "../../../lambdas/domain/stats/profile-update";
import { errorBound } from "../../../lambdas/domain/stats/sketch";
import { canonicalJson } from "../../../local/pipeline";
import { Mulberry32 } from "../../../scripts/scipy-samples";

const spec = {
  task: "binary" as const,
  features: { x: "numeric" as const, y: "numeric" as const, c: "categorical" as const },
};
const N = 30_000;

interface Event {
  features: { x: number; y: number | null; c: string };
  prediction: number;
  score: number;
}

const events: Event[] = (() => {
  const rng = new Mulberry32(12);
  return Array.from({ length: N }, (_, i) => {
    const z = rng.normal();
    return {
      // x: a lognormal with a mass point and outliers over many decades; y: 1e9 + N(0, 1), some missing.
      features: {
        x: i % 7 === 0 ? 1 : i % 101 === 0 ? 10 ** (rng.uniform() * 12) : Math.exp(z),
        y: i % 13 === 0 ? null : 1e9 + rng.normal(),
        c: `k${rng.nextU32() % 40}`,
      },
      prediction: i % 2,
      score: 1 / (1 + Math.exp(-8 * z)),
    };
  });
})();

function rowsOf(list: readonly Event[], columns: FeatureColumns): RowPrediction[] {
  const slots = columns.layout.slots;
  return list.map((e) => {
    columns.beginRow();
    for (const [name, v] of Object.entries(e.features)) {
      const slot = slots.get(name)!;
      if (slot >= 0) columns.setNumeric(slot, v === null ? Number.NaN : (v as number));
      else columns.setCategory(~slot, String(v));
    }
    columns.fillMissing(e.features);
    return { row: columns.commitRow(), prediction: e.prediction, score: e.score };
  });
}

const layout = columnLayout([
  { name: "x", kind: "numeric" },
  { name: "y", kind: "numeric" },
  { name: "c", kind: "categorical" },
]);

/** A batch profiled as the ingest does: columns, then merged into the stored (serialized) profile. */
function ingest(stored: string, batch: readonly Event[]): string {
  const p = emptyProfile(spec);
  const columns = new FeatureColumns(layout, batch.length);
  addPredictionRows(p, columns, rowsOf(batch, columns));
  return serializeProfile(mergeProfiles(deserializeProfile(stored), p));
}

function oneColumn(): Profile {
  const columns = new FeatureColumns(layout, N);
  const p = emptyProfile(spec);
  addPredictionRows(p, columns, rowsOf(events, columns));
  return p;
}

function perEvent(): Profile {
  const p = emptyProfile(spec);
  for (const e of events) addPrediction(p, e);
  return p;
}

function batches500(): Profile {
  let stored = serializeProfile(emptyProfile(spec));
  for (let i = 0; i < N; i += 500) stored = ingest(stored, events.slice(i, i + 500));
  return deserializeProfile(stored);
}

/** Bisection: every 2,000-event batch fails once and is retried as two halves, the halves merged first. */
function bisected(): Profile {
  let stored = serializeProfile(emptyProfile(spec));
  for (let i = 0; i < N; i += 2000) {
    const half = ingest(
      ingest(serializeProfile(emptyProfile(spec)), events.slice(i, i + 1000)),
      events.slice(i + 1000, i + 2000),
    );
    stored = serializeProfile(mergeProfiles(deserializeProfile(half), deserializeProfile(stored)));
  }
  return deserializeProfile(stored);
}

describe("batch splits (exactly once stays exact in value)", () => {
  const splits: Array<[string, Profile]> = [
    ["one column", oneColumn()],
    ["one event at a time", perEvent()],
    ["500-event batches, read-modify-write", batches500()],
    ["bisected 2,000-event batches, merged in another tree", bisected()],
  ];

  it("the sketches compacted (the case where bytes may differ)", () => {
    for (const [, p] of splits) {
      const x = p.features.x!;
      expect(x.kind === "numeric" && errorBound(x.sketch)).toBeGreaterThan(0);
    }
  });

  it.each(splits.slice(1))("%s: equal to one column by the definition, same digest view", (_name, p) => {
    const base = splits[0]![1];
    expect(profileDifferences(p, base)).toEqual([]);
    expect(canonicalJson(invariantView(p))).toBe(canonicalJson(invariantView(base)));
    // Metrics against a fixed reference agree within the two sketches' bounds.
    const reference = perEvent();
    for (const feature of ["x", "y"]) {
      const a = compareProfiles(reference, p)[feature]!;
      const b = compareProfiles(reference, base)[feature]!;
      if (a.type !== "numeric" || b.type !== "numeric") throw new Error("numeric drift expected");
      expect(Math.abs(a.ks - b.ks)).toBeLessThanOrEqual(a.bounds.ks + b.bounds.ks);
    }
  });

  it("a real difference is reported: one event missing, one value moved beyond the bound", () => {
    const base = splits[0]![1];
    const fewer = emptyProfile(spec);
    for (const e of events.slice(1)) addPrediction(fewer, e);
    expect(profileDifferences(fewer, base).join("\n")).toMatch(/count/);
    const moved = emptyProfile(spec);
    // A fifth of the x values doubled: the CDF moves by far more than 0.01.
    for (const [i, e] of events.entries()) {
      addPrediction(moved, i % 5 === 1 ? { ...e, features: { ...e.features, x: e.features.x * 2 } } : e);
    }
    expect(profileDifferences(moved, base).join("\n")).toMatch(/features\.x\.(sketch|mean)/);
    expect(canonicalJson(invariantView(moved))).not.toBe(canonicalJson(invariantView(base)));
  });
});

describe("performance sums compared within rounding, counts exactly", () => {
  const regression = () => {
    const p = emptyProfile({ task: "regression", features: {} });
    // Errors near 8e4 make the fourth-power sum pass 2^53, where every double is an integer.
    for (const [prediction, label] of [
      [1, 80_001],
      [2, 3],
      [5, 90_000],
    ] as const)
      addOutcome(p, { prediction, label });
    return p;
  };
  const withPerf = (change: (perf: Record<string, number>) => void): Profile => {
    const p = regression();
    change(p.performance as unknown as Record<string, number>);
    return p;
  };
  const cases: Array<[string, (perf: Record<string, number>) => void, RegExp | null]> = [
    ["a sum above 2^53 one ulp apart (merge order)", (f) => (f.fourthPowerErrorSum! *= 1 + 2 ** -52), null],
    ["a fractional sum one ulp apart", (f) => (f.absPercentErrorSum! *= 1 + 2 ** -52), null],
    [
      "a sum above 2^53 off by 1e-6 relative",
      (f) => (f.fourthPowerErrorSum! *= 1 + 1e-6),
      /fourthPowerErrorSum/,
    ],
    ["a count off by one", (f) => (f.n! += 1), /performance\.n/],
  ];
  it.each(cases)("%s", (_name, change, expected) => {
    const base = regression();
    expect(base.performance.task === "regression" && base.performance.fourthPowerErrorSum).toBeGreaterThan(
      2 ** 53,
    );
    const differences = profileDifferences(withPerf(change), base).join("\n");
    if (expected === null) expect(differences).toBe("");
    else expect(differences).toMatch(expected);
  });
});
