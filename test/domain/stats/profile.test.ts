import { describe, expect, it } from "vitest";
import { compareProfiles, summaryDrift } from "../../../lambdas/domain/stats/drift";
import {
  emptyNumeric,
  emptyProfile,
  missingRate,
  ProfileFormatError,
} from "../../../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { mergeProfiles } from "../../../lambdas/domain/stats/profile-merge";
import { addNumeric, addOutcome, addPrediction } from "../../../lambdas/domain/stats/profile-update";
import { emptySketch, errorBound } from "../../../lambdas/domain/stats/sketch";

const spec = { task: "binary" as const, features: { x: "numeric" as const, c: "categorical" as const } };

describe("profile", () => {
  it("counts values, missing and invalid inputs without poisoning the moments", () => {
    const p = emptyProfile(spec);
    const xs = [1, 2, null, Number.NaN, Number.POSITIVE_INFINITY, 3];
    for (const x of xs) addPrediction(p, { features: { x, c: true }, prediction: 1, score: 0.5 });
    addPrediction(p, { features: {}, prediction: 0 });
    const x = p.features.x!;
    expect(x.kind).toBe("numeric");
    if (x.kind !== "numeric") return;
    expect([x.count, x.missing, x.invalid, x.mean, x.min, x.max]).toEqual([3, 4, 2, 2, 1, 3]);
    expect(x.scaledM2).toBeCloseTo(2, 12);
    expect(x.momentScale).toBe(0);
    expect(missingRate(x)).toBeCloseTo(4 / 7, 12);
    const c = p.features.c!;
    expect(c.kind === "categorical" && c.counts.get("true")).toBe(6);
    expect(p.count).toBe(7);
  });

  it("round-trips through serialization and rejects malformed input", () => {
    const p = emptyProfile(spec);
    for (let i = 0; i < 1000; i++) {
      addPrediction(p, {
        features: { x: (i * 7919) % 1013, c: `k${i % 5}` },
        prediction: i % 2,
        score: (i % 100) / 100,
      });
      addOutcome(p, { prediction: i % 2, score: (i % 100) / 100, label: (i >> 1) % 2 });
    }
    const s = serializeProfile(p);
    expect(serializeProfile(deserializeProfile(s))).toBe(s);
    expect(serializeProfile(mergeProfiles(deserializeProfile(s), emptyProfile(spec)))).toBe(s);
    for (const bad of [
      "",
      "{}",
      '{"v":2}',
      s.replace('"n":1000', '"n":-1'),
      s.replace(/"f":\{"c":\["c",1000/, '"f":{"c":["c",999'),
    ]) {
      expect(() => deserializeProfile(bad)).toThrow(ProfileFormatError);
    }
  });

  it.each([
    ["empty profile", [] as Array<number | null>],
    ["all values missing", [null, null, Number.NaN]],
    ["constant feature", [7, 7, 7, 7]],
  ])("serializes and compares an edge case: %s", (_name, xs) => {
    const p = emptyProfile(spec);
    for (const x of xs) addPrediction(p, { features: { x, c: "only" }, prediction: 0 });
    const q = deserializeProfile(serializeProfile(p));
    expect(serializeProfile(q)).toBe(serializeProfile(p));
    const d = compareProfiles(q, p);
    expect(Object.keys(d)).toEqual(["c", "x"]);
    const x = d.x!;
    if (x.type !== "numeric") throw new Error("x must be numeric");
    if (xs.some((v) => typeof v === "number" && Number.isFinite(v))) {
      expect([x.ks, x.wasserstein, x.wassersteinNormalized, x.psi, x.jensenShannon]).toEqual([0, 0, 0, 0, 0]);
    } else {
      expect(Number.isNaN(x.ks)).toBe(true);
    }
    if (xs.length > 0) expect(d.c).toMatchObject({ chiSquared: 0, chiSquaredPValue: 1, lInfinity: 0 });
  });

  it("tracks at most topK categories, pools the rest in other, and stays exactly mergeable", () => {
    const p = emptyProfile({ ...spec, topK: 5 });
    for (let i = 0; i < 1000; i++)
      addPrediction(p, { features: { x: 1, c: `cat-${i % 50}` }, prediction: 0 });
    const c = p.features.c!;
    if (c.kind !== "categorical") throw new Error("c must be categorical");
    expect(c.counts.size).toBeLessThanOrEqual(5);
    expect(c.level).toBeGreaterThan(0);
    let tracked = 0;
    for (const n of c.counts.values()) tracked += n;
    expect(tracked + c.other).toBe(1000);
  });

  it("profiles a million events in a bounded, compact profile with accurate quantiles", () => {
    const p = emptyProfile({ task: "regression", features: { x: "numeric", c: "categorical" } });
    let seed = 12345;
    const values = new Float64Array(1_000_000);
    for (let i = 0; i < values.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const v = Math.exp((seed / 2 ** 32) * 6 - 3);
      values[i] = v;
      addPrediction(p, { features: { x: v, c: i % 3 === 0 ? "a" : "b" }, prediction: v });
    }
    const x = p.features.x!;
    if (x.kind !== "numeric") throw new Error("x must be numeric");
    expect(x.count).toBe(1_000_000);
    expect(errorBound(x.sketch)).toBeLessThanOrEqual(0.005);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(x.mean).toBeCloseTo(mean, 9);
    const one = emptyProfile({ task: "regression", features: { x: "numeric" } });
    const emptyBytes = serializeProfile(one).length;
    one.features.x = x;
    expect(serializeProfile(one).length - emptyBytes).toBeLessThan(2048);
    // The sketch's distribution against the exact one (a summary whose k keeps every value exact).
    const head = values.subarray(0, 200_000);
    const exact = { ...emptyNumeric(), sketch: emptySketch(1_000_000) };
    const sketched = emptyNumeric();
    for (const v of head) {
      addNumeric(exact, v);
      addNumeric(sketched, v);
    }
    expect(errorBound(exact.sketch)).toBe(0);
    expect(errorBound(sketched.sketch)).toBeGreaterThan(0);
    const error = summaryDrift(sketched, exact);
    if (error.type !== "numeric") throw new Error("numeric drift expected");
    expect(error.ks).toBeLessThanOrEqual(error.bounds.ks);
    expect(error.ks).toBeLessThan(0.002);
    expect(error.wassersteinNormalized).toBeLessThan(0.002);
    // p and p + p have the same exact distribution, but the merged sketch compacts under twice the budget:
    // their CDFs agree within the sum of the two error bounds, not exactly (docs/statistics.md, "Batch splits").
    const doubled = mergeProfiles(p, p);
    expect(doubled.features.x).toMatchObject({ count: 2_000_000, min: x.min, max: x.max });
    const d = compareProfiles(p, doubled).x!;
    if (d.type !== "numeric") throw new Error("numeric drift expected");
    expect(d.bounds.ks).toBeLessThanOrEqual(0.01);
    expect(d.ks).toBeLessThanOrEqual(d.bounds.ks);
  });
});
