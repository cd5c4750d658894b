import { describe, expect, it } from "vitest";
import {
  addOutcome,
  addPrediction,
  deserializeProfile,
  emptyProfile,
  mergeProfiles,
  missingRate,
  ProfileFormatError,
  serializeProfile,
} from "../../lambdas/domain/profile";

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
    expect(x.m2).toBeCloseTo(2, 12);
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
});
