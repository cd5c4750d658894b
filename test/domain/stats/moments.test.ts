import { describe, expect, it } from "vitest";
import { compareProfiles } from "../../../lambdas/domain/stats/drift";
import {
  addMoment,
  MOMENT_LIMIT,
  type Moments,
  mergeMoments,
  momentScaleFor,
  standardDeviation,
} from "../../../lambdas/domain/stats/moments";
import { emptyProfile } from "../../../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { mergeProfiles } from "../../../lambdas/domain/stats/profile-merge";
import { addPrediction } from "../../../lambdas/domain/stats/profile-update";

const empty = (): Moments => ({ count: 0, mean: 0, scaledM2: 0, momentScale: 0 });

function of(values: readonly number[]): Moments {
  const m = empty();
  for (const v of values) addMoment(m, v);
  return m;
}

/** Plain Welford, as the profile computed the moments before scaling existed. */
function welford(values: readonly number[]): { mean: number; m2: number } {
  let mean = 0;
  let m2 = 0;
  let n = 0;
  for (const v of values) {
    const delta = v - mean;
    mean += delta / ++n;
    m2 += delta * (v - mean);
  }
  return { mean, m2 };
}

describe("moments: finite for any finite values", () => {
  // Expected mean and population standard deviation, worked out by hand (exact up to the last ulp).
  it.each([
    { name: "0 and 1e200", values: [0, 1e200], mean: 5e199, sd: 5e199 },
    { name: "1e200 and 0 (other order)", values: [1e200, 0], mean: 5e199, sd: 5e199 },
    { name: "+-1e300 and 0", values: [1e300, -1e300, 0], mean: 0, sd: Math.sqrt(2 / 3) * 1e300 },
    { name: "+-MAX_VALUE", values: [Number.MAX_VALUE, -Number.MAX_VALUE], mean: 0, sd: Number.MAX_VALUE },
    {
      name: "MAX_VALUE three times",
      values: [Number.MAX_VALUE, Number.MAX_VALUE, Number.MAX_VALUE],
      mean: Number.MAX_VALUE,
      sd: 0,
    },
    { name: "small values", values: [5e-324, 0, 3e-150], mean: 1e-150, sd: Math.sqrt(2) * 1e-150 },
    { name: "1e9 + small", values: [1e9 + 1, 1e9 - 1], mean: 1e9, sd: 1 },
  ])("$name: mean and sd finite and right", ({ values, mean, sd }) => {
    const m = of(values);
    expect(m.count).toBe(values.length);
    expect(Number.isFinite(m.mean) && Number.isFinite(m.scaledM2)).toBe(true);
    expect(m.mean).toBeCloseTo(mean, 12 - Math.log10(Math.max(1, Math.abs(mean))));
    if (mean !== 0) expect(Math.abs(m.mean - mean) / Math.abs(mean)).toBeLessThan(1e-15);
    const s = standardDeviation(m);
    if (sd === 0) expect(s).toBe(0);
    else expect(Math.abs(s - sd) / sd).toBeLessThan(1e-14);
    // Merged from single values in reverse order: the same up to rounding, the same scale.
    const merged = [...values].reverse().reduce((acc, v) => mergeMoments(acc, of([v])), empty());
    expect(merged.momentScale).toBe(m.momentScale);
    expect(merged.count).toBe(m.count);
    if (sd > 0) expect(Math.abs(standardDeviation(merged) - sd) / sd).toBeLessThan(1e-14);
  });

  it("ordinary values: the plain Welford arithmetic, bit for bit, scale 0", () => {
    const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e6 + i);
    const m = of(values);
    const plain = welford(values);
    expect(m.momentScale).toBe(0);
    expect(m.mean).toBe(plain.mean);
    expect(m.scaledM2).toBe(plain.m2);
  });

  it("the scale depends only on the largest magnitude", () => {
    expect(momentScaleFor(0)).toBe(0);
    expect(momentScaleFor(1e120)).toBe(0);
    expect(momentScaleFor(MOMENT_LIMIT)).toBe(1);
    expect(momentScaleFor(1e200)).toBeGreaterThan(0);
    expect(momentScaleFor(1e200) * 1).toBe(of([1, 1e200, -3]).momentScale);
    expect(MOMENT_LIMIT * 2 ** -momentScaleFor(Number.MAX_VALUE)).toBeLessThanOrEqual(MOMENT_LIMIT);
    expect(Number.MAX_VALUE * 2 ** -momentScaleFor(Number.MAX_VALUE)).toBeLessThan(MOMENT_LIMIT);
  });
});

describe("a bucket holding 0 and 1e200 (issue 12, item 5)", () => {
  const spec = { task: "regression" as const, features: { x: "numeric" as const } };

  it("serializes, deserializes, takes more values and merges into a window with finite drift", () => {
    const bucket = emptyProfile(spec);
    addPrediction(bucket, { features: { x: 0 }, prediction: 1 });
    addPrediction(bucket, { features: { x: 1e200 }, prediction: 2 });
    const text = serializeProfile(bucket);
    const read = deserializeProfile(text);
    expect(serializeProfile(read)).toBe(text);
    // Ingest keeps working on the stored profile.
    for (let i = 0; i < 100; i++) addPrediction(read, { features: { x: i }, prediction: i });
    const again = deserializeProfile(serializeProfile(read));
    const x = again.features.x!;
    if (x.kind !== "numeric") throw new Error("numeric summary expected");
    expect([x.count, x.min, x.max]).toEqual([102, 0, 1e200]);
    expect(Number.isFinite(x.mean) && Number.isFinite(x.scaledM2)).toBe(true);
    const sd = standardDeviation(x);
    // Population sd of {0, 1e200, 0..99}: 1e200 * sqrt(101) / 102 up to the negligible small values.
    expect(Math.abs(sd - (1e200 * Math.sqrt(101)) / 102) / sd).toBeLessThan(1e-12);
    // A window merging it with an ordinary bucket, and drift against an ordinary baseline.
    const ordinary = emptyProfile(spec);
    for (let i = 0; i < 100; i++) addPrediction(ordinary, { features: { x: i }, prediction: i });
    const window = deserializeProfile(serializeProfile(mergeProfiles(again, ordinary)));
    const d = compareProfiles(ordinary, window).x!;
    if (d.type !== "numeric") throw new Error("numeric drift expected");
    expect(Number.isFinite(d.ks) && Number.isFinite(d.psi) && Number.isFinite(d.wasserstein)).toBe(true);
    expect(d.ks).toBeGreaterThan(0);
    // With the outlier as the reference: a finite sd, a finite normalized W1.
    const back = compareProfiles(window, ordinary).x!;
    expect(back.type === "numeric" && Number.isFinite(back.wassersteinNormalized)).toBe(true);
  });
});
